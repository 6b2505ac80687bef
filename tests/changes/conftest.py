import pytest

from changes.models import Change


@pytest.fixture(autouse=True)
def empty_change_log(transactional_db: None) -> None:
    """Start from an empty log: on SQLite the flush after the previous transactional test deletes rows
    with DELETE, which the triggers log (PostgreSQL truncates, which they do not see)."""
    Change.objects.all().delete()
