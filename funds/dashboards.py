"""The dashboard groups 衔接资金 and 村集体经济 (issue 11 §4), from funds/indicators."""

from figures.dashboards import Chart, ChartKind, ChartLine, DashboardGroup, register_group

FUNDS = register_group(
    DashboardGroup(
        code="funds",
        title="衔接资金",
        order=40,
        tiles=(
            "fund_allocated",
            "fund_arranged_share",
            "fund_spending_progress",
            "fund_industry_share",
            "fund_industry_share_central",
            "fund_industry_share_provincial",
            "fund_industry_share_vs_last_year",
            "fund_industry_share_paid",
            "fund_binding_support_share",
            "fund_households_linked_per_million",
            "fund_industry_projects_without_linkage",
        ),
        charts=(
            Chart(
                code="industry_share_by_level",
                title="产业发展资金占比（按资金级次，近8个季度）",
                kind=ChartKind.TRENDS,
                indicators=(
                    "fund_industry_share",
                    "fund_industry_share_central",
                    "fund_industry_share_provincial",
                    "fund_industry_share_prefectural",
                    "fund_industry_share_county",
                ),
                note="本年度资金年内累计，第四季度即全年；目标见上方指标卡：中央≥60%、省级≥52%（001），"
                "总体按年度（002、004），且不低于上年（004）",
            ),
            Chart(
                code="spending_progress_trend",
                title="衔接资金安排率和支出进度（近8个季度）",
                kind=ChartKind.TRENDS,
                indicators=("fund_arranged_share", "fund_spending_progress", "fund_industry_share_paid"),
                note="本年度资金年内累计：安排率 = 已安排 ÷ 下达，支出进度 = 已支付 ÷ 已安排",
            ),
            Chart(
                code="industry_share_by_subregion",
                title="产业发展资金占比（按下级区划）",
                kind=ChartKind.BY_SUBREGION,
                indicators=("fund_industry_share", "fund_industry_share_paid", "fund_binding_support_share"),
                note="乡镇只计县分配到本乡镇的资金；点击柱子查看资金安排明细",
                lines=(
                    ChartLine("产业发展目标{value}", indicator="fund_industry_share"),
                    ChartLine("双绑目标{value}", indicator="fund_binding_support_share"),
                ),
            ),
        ),
    )
)

COLLECTIVE = register_group(
    DashboardGroup(
        code="collective_economy",
        title="村集体经济",
        order=50,
        tiles=(
            "collective_income_reported",
            "collective_villages_over_floor_share",
            "collective_operating_income_average",
            "collective_poverty_villages_over_floor_share",
            "collective_party_complex_over_line_share",
            "collective_operating_income_growth",
            "collective_villages_below_floor",
            "collective_floor_gap",
        ),
        charts=(
            Chart(
                code="operating_income_by_subregion",
                title="经营性收入（按下级区划）",
                kind=ChartKind.BY_SUBREGION,
                indicators=("collective_operating_income_average",),
                note="年内累计，元；乡镇看板上每根柱子是一个村的经营性收入，县看板上是乡镇的村均数。"
                "虚线为本年度的底线和年末村均目标（000、002），按所设参数和目标画出",
                lines=(
                    ChartLine(
                        "{value}底线",
                        indicator="collective_villages_over_floor_share",
                        parameter="collective_operating_floor",
                    ),
                    ChartLine("村均目标{value}", indicator="collective_operating_income_average", year_end=True),
                ),
            ),
            Chart(
                code="villages_over_floor_trend",
                title="经营性收入达5万元的村占比（近8个季度）",
                kind=ChartKind.TRENDS,
                indicators=(
                    "collective_villages_over_floor_share",
                    "collective_poverty_villages_over_floor_share",
                    "collective_income_reported",
                ),
                note="年内累计对照全年底线，前三季度自然偏低，第四季度即全年；未填报的村不计入占比",
            ),
        ),
    )
)
