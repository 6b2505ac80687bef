"""Functions for the isolated child that misbehave the way a subverted parser could (no Django here)."""

from __future__ import annotations

import os
from collections.abc import Iterator


def huge_frame() -> Iterator[bytes]:
    """Announce an answer of 4 EiB, straight onto the pipe, and send nothing of it."""
    os.write(1, b"a" + (2**62).to_bytes(8, "big"))
    yield from ()
