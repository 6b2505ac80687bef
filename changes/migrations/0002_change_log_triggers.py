"""Install the change-log triggers of changes.tracked on every tracked table (PostgreSQL or SQLite).

The app's post_migrate handler installs them again after every migrate, so a line added to the
declaration, or a table SQLite rebuilt (which drops its triggers), is covered without a new migration.
"""

from django.db import migrations

from changes import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection, apps)


def uninstall(apps, schema_editor):
    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("changes", "0001_change_log"),
        ("regions", "0003_datachange"),
        ("households", "0023_export_kinds_of_funds_registers"),
        ("industries", "0002_seed_reference_lists"),
        ("cooperatives", "0003_seed_reference_lists"),
        ("funds", "0006_payment_unique_voucher"),
        ("assessment", "0006_breakdown_values"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
