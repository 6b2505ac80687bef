"""The household app's dashboard groups: 收入 and 监测帮扶 (the seeds' first two groups)."""

from figures.dashboards import Chart, ChartKind, DashboardGroup, register_group

INCOME = register_group(
    DashboardGroup(
        code="income",
        title="收入",
        order=10,
        tiles=(
            "income_per_capita_lifted",
            "income_per_capita_monitored",
            "income_per_capita_all",
            "income_per_capita_lifted_ytd",
            "income_growth_lifted",
            "operating_income_growth_lifted",
            "property_income_growth_lifted",
            "operating_fall_share",
        ),
        charts=(
            Chart(
                code="four_wheels",
                title="四个轮子：人均收入构成",
                kind=ChartKind.STACKED,
                indicators=(
                    "composition_wages",
                    "composition_operating",
                    "composition_property",
                    "composition_transfers",
                ),
                negative=("composition_costs",),
                note="近四季度，元/人；生产经营性支出画在零线以下，四项收入减去它即人均纯收入",
            ),
            Chart(
                code="per_capita_distribution",
                title="农户人均纯收入分布",
                kind=ChartKind.DISTRIBUTION,
                breakdown="per_capita_bands",
                note="近四季度人均纯收入，每1,000元一档；标出本年度监测标准和1万元线",
            ),
            Chart(
                code="income_trends",
                title="人均纯收入近8个季度",
                kind=ChartKind.TRENDS,
                indicators=("income_per_capita_lifted", "income_per_capita_monitored", "income_per_capita_all"),
            ),
        ),
    )
)

MONITORING = register_group(
    DashboardGroup(
        code="monitoring",
        title="监测帮扶",
        order=20,
        tiles=(
            "lifted_below_threshold_unmonitored",
            "below_key_line",
            "zero_employment_with_labour",
            "monitoring_open_twelve_months",
            "monitored_population_share",
            "villages_over_monitored_share",
            "entry_progress",
        ),
        charts=(
            Chart(
                code="monitoring_matrix",
                title="监测对象：类别 × 风险类型",
                kind=ChartKind.MATRIX,
                breakdown="monitoring_matrix",
                note="期末前识别的监测户；未消除与已消除分列，一户多个风险类型时各计一次",
            ),
            Chart(
                code="entry_progress",
                title="本季度收入填报进度",
                kind=ChartKind.PROGRESS,
                indicators=("entry_progress",),
                note="已录入 / 未录入户数，点击未录入查看名单",
            ),
        ),
    )
)
