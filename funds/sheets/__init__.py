"""The funds app's Excel registers: 资金下达, 项目库, 项目受益农户, 资金安排, 资金支付 and 村集体经济收入.

Each is a declaration of workbooks.records (its key, its columns, the natural keys its foreign keys
are named by, who may see and change which rows) with the gates of funds.services as `across` rules
checked on the whole file, and checked again on the data as written at the confirmation. The
pipeline checks, stages, confirms, undoes and exports them; nothing here runs by itself.
"""

from __future__ import annotations

from funds.sheets import allocations, collective, fundings, projects
from funds.sheets.base import FundSheet
from workbooks.registers import register

SHEETS: dict[str, FundSheet] = {
    sheet.name: sheet
    for sheet in (
        FundSheet(
            allocations.ALLOCATIONS,
            recheck=allocations.recheck,
            undo_refused="撤销后资金下达的金额将少于已分配到乡镇和已安排到项目的金额，不能整批撤销",
        ),
        projects.ProjectSheet(
            projects.PROJECTS,
            recheck=projects.projects_hold,
            undo_refused="撤销后项目将不符合入库规则，或不在所安排资金的下达范围内，不能整批撤销",
        ),
        FundSheet(
            projects.BENEFICIARIES,
            undone=projects.links_undone,
            undo_refused="撤销后已入库的产业发展项目将没有受益农户，不能整批撤销",
        ),
        FundSheet(
            fundings.FUNDINGS,
            recheck=fundings.fundings_hold,
            undo_refused="撤销后资金安排将超出该笔资金的可安排金额，或少于已支付的金额，不能整批撤销",
        ),
        FundSheet(
            fundings.PAYMENTS,
            recheck=fundings.payments_hold,
            undo_refused="撤销后资金支付将超出该项资金安排的金额，不能整批撤销",
        ),
        FundSheet(collective.COLLECTIVE_INCOMES),
    )
}
for sheet in SHEETS.values():
    register(sheet)
