"""The real-process fixtures the import pipeline's failure tests use, for the operations tests too."""

from tests.workbooks.test_failures import full_disk, services

__all__ = ["full_disk", "services"]
