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
        FundSheet(allocations.ALLOCATIONS, recheck=allocations.recheck),
        projects.ProjectSheet(projects.PROJECTS, recheck=projects.projects_hold),
        FundSheet(projects.BENEFICIARIES),
        FundSheet(fundings.FUNDINGS, recheck=fundings.fundings_hold),
        FundSheet(fundings.PAYMENTS, recheck=fundings.payments_hold),
        FundSheet(collective.COLLECTIVE_INCOMES),
    )
}
for sheet in SHEETS.values():
    register(sheet)
