"""manage.py import_income FILE [--dry-run]: check and import a 收入表 from the command line."""

from households.excel.models import ImportKind
from workbooks.command import ImportCommand


class Command(ImportCommand):
    help = "导入季度收入表（.xlsx/.csv）；--dry-run 只校验不写入；有错误时以非零状态退出"
    kind = ImportKind.INCOME
