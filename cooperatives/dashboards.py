"""The dashboard group 产业与双绑 (issue 10 §4): its tiles and charts, from this app's and the
industries app's indicators (cooperatives/indicators.py, industries/indicators.py)."""

from figures.dashboards import Chart, ChartKind, DashboardGroup, register_group

INDUSTRY_AND_BINDING = register_group(
    DashboardGroup(
        code="industry_binding",
        title="产业与双绑",
        order=30,
        tiles=(
            "binding_coverage",
            "cooperative_membership_rate",
            "villages_with_cooperative",
            "industry_participation_rate",
            "households_led_per_cooperative",
            "scale_plans_met",
            "enterprise_count",
            "cooperative_count",
            "model_cooperative_count",
            "family_farm_count",
        ),
        charts=(
            Chart(
                code="binding_coverage_by_subregion",
                title="双绑覆盖率（按下级区划）",
                kind=ChartKind.BY_SUBREGION,
                indicators=("binding_coverage", "cooperative_membership_rate"),
                note="期末有劳动力的脱贫户和监测户；入社而所在合作社未绑定龙头企业的，计入入社率、不计入双绑覆盖率。点击柱子查看已双绑的户",
            ),
            Chart(
                code="entities_by_subregion",
                title="经营主体（按下级区划）",
                kind=ChartKind.BY_SUBREGION,
                indicators=("enterprise_count", "cooperative_count", "model_cooperative_count", "family_farm_count"),
                note="期末在册、注册在该区划内的主体个数；县级注册的龙头企业只计入县",
            ),
        ),
    )
)
