from django.db import migrations


class Migration(migrations.Migration):
    """ImportBatch and StagedRow now belong to the workbooks app; their tables stay where they are."""

    dependencies = [
        ('households', '0012_export_jobs'),
        ('workbooks', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name='stagedrow', name='batch'),
                migrations.DeleteModel(name='ImportBatch'),
                migrations.DeleteModel(name='StagedRow'),
            ],
        ),
    ]
