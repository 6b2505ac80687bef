"""manage.py import_roster FILE [--dry-run]: check and import a 花名册 from the command line."""

from households.excel.models import ImportKind
from workbooks.command import ImportCommand


class Command(ImportCommand):
    help = "导入花名册（.xlsx/.csv）；--dry-run 只校验不写入；有错误时以非零状态退出"
    kind = ImportKind.ROSTER
