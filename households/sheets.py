"""The households app's Excel registers: 花名册 and 收入表, declared for the import pipeline."""

from households.excel.income import IncomeSheet
from households.excel.roster import RosterSheet
from workbooks.registers import register

ROSTER = register(RosterSheet())
INCOME = register(IncomeSheet())
