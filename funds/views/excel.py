"""Pages for the funds registers in Excel: the list of registers, their templates and their exports
(households.excel.register_pages; imports go through the pipeline's own pages)."""

from __future__ import annotations

from funds.sheets import SHEETS
from households.excel.register_pages import RegisterPages, may_view

__all__ = ["may_view", "sheet_export", "sheet_list", "sheet_template"]

sheet_list, sheet_template, sheet_export = RegisterPages(SHEETS, "funds/excel.html", {"tab": "excel"}).views()
