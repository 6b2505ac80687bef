"""Record registers: an Excel register declared instead of programmed.

Most registers are rows of one model, found by a natural key (统一社会信用代码; 户编号 + 合作社 +
入社日期 …), whose cells fill its fields, whose foreign keys are named by their own natural keys and
whose many-to-many fields are lists of names. For those, an app writes a `Record` in its
`sheets.py` and registers `RecordSheet(record)` (or a subclass that adds masking of previews, or
the URLs of its template and export) from its `AppConfig.ready()`:

    MEMBERSHIPS = Record(
        name="memberships", label="合作社成员户", model=Membership,
        key=("cooperative", "household", "joined_on"),
        columns=(Column("credit_code", "合作社统一社会信用代码", parse_code, required=True,
                        export="cooperative__credit_code"),
                 Column("household_number", "户编号", parse_text, export="household__number"),
                 Column("joined_on", "入社日期", parse_date, field="joined_on", required=True), …),
        references=(Reference("cooperative", (Lookup("credit_code", "credit_code"),), scope=cooperatives_visible),
                    Reference("household", (Lookup("household_number", "number"),
                                            Lookup("id_number", "members__id_number", Q(members__is_active=True))),
                              scope=Household.objects.visible_to), …),
        visible=Membership.objects.visible_to, managed=Membership.objects.visible_to,
        permission="cooperatives.add_membership", undo_permission="cooperatives.change_membership",
        region_code="household__village__code", …)
    register(RecordSheet(MEMBERSHIPS))

What the pipeline then does with a file of that register, row by row (planner.py):

- every cell is read by its column's `parse` (CellError: the cell's error; required and blank: 必填项为空);
- each `Reference` finds its target by the filled lookup cells *in its scope only*: a key the user
  cannot see is reported exactly as one that does not exist; several filled lookups must agree
  (a lookup that `narrows` only settles which of those found is meant: the 年度 beside a 文号);
  `Check` columns (仅供核对) must match the target;
- the key finds the recorded record, whoever's it is: one the user cannot see is `taken`; one the
  file leaves as it is counts as 无变化 and is neither checked further nor written; one it changes
  must be in `managed(user)`;
- the new or changed record passes `writable(user, record)` and the model's own `full_clean()`;
  `Period`s of the file's own rows may not overlap; the register's `across` rules (a sum of the
  file's rows and the recorded ones within a limit) hold;
- any error anywhere: nothing is staged. Otherwise creates and updates are staged with the version
  of every record read (the record, and each versioned target it refers to): a change after the
  preview makes the confirmation refuse the batch (已失效).

On confirmation (sheet.py) the rows are written set-based with history naming the batch, the
many-to-many rows follow, every written record is checked by its model's `clean()` once more against
the data as written (else 已失效, nothing written), and `region_code` tells the figures what changed.
Undo puts it all back while no later change touched the records. The export (export.py) writes
the same columns from `visible(user)`, so export → import is 无变化.
"""

from workbooks.records.declaration import Check, Column, Lookup, Many, Period, Planned, Record, Reference
from workbooks.records.export import record_rows, record_template, record_workbook_write
from workbooks.records.sheet import RecordSheet

__all__ = [
    "Check",
    "Column",
    "Lookup",
    "Many",
    "Period",
    "Planned",
    "Record",
    "RecordSheet",
    "Reference",
    "record_rows",
    "record_template",
    "record_workbook_write",
]
