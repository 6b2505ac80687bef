"""Pages for the cooperatives registers in Excel: the list of registers, their templates and their
exports (households.excel.register_pages; imports go through the pipeline's own pages)."""

from __future__ import annotations

from cooperatives.sheets import SHEETS
from households.excel.register_pages import RegisterPages

sheet_list, sheet_template, sheet_export = RegisterPages(SHEETS, "cooperatives/excel.html").views()
