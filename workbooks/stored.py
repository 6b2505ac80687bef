"""Stored files (uploads, exports) reach a process only through Django's storage API.

Several web nodes and workers share one storage (a shared filesystem under STORAGE_ROOT, or object
storage through django-storages), so no code may assume a file lies under its own directory.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db.models.fields.files import FieldFile

COPY_CHUNK_BYTES = 1024 * 1024


@contextmanager
def local_copy(file: FieldFile) -> Iterator[Path]:
    """The stored file as a private temporary file a child process can open by path; deleted afterwards.

    Raises OSError when the storage cannot give it (gone, unreachable) or the copy does not fit.
    """
    name = file.name or ""
    with tempfile.TemporaryDirectory(prefix="zhenxing-stored-") as directory:
        copy = Path(directory) / f"stored{Path(name).suffix.lower()[:8]}"
        with file.storage.open(name, "rb") as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target, COPY_CHUNK_BYTES)
        yield copy
