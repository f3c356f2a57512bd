"""A kept file of the cache folder (scenegen.cache) spoilt as the cache tests spoil it:
each way must read as missing, so the result is worked out again and kept whole."""

from pathlib import Path
from typing import Callable

import numpy as np

from scenegen.cache import pack_arrays

SPOILS = ("torn", "garbage", "foreign", "other-arrays")


def spoil(kept_file: Path, how: str, other_arrays: Callable[[], dict[str, np.ndarray]]) -> None:
    """Spoil ``kept_file`` (``store_bytes``'s: the key on its first line, then the bytes):
    ``torn`` (its last 40 bytes gone), ``garbage`` (other bytes under its key),
    ``foreign`` (another key's file), ``other-arrays`` (arrays of the right names under its
    key, but ``other_arrays()``: another size's, say)."""
    data = kept_file.read_bytes()
    head = data[:data.index(b"\n") + 1]  # the key the file is kept under
    if how == "torn":
        kept_file.write_bytes(data[:-40])
    elif how == "garbage":
        kept_file.write_bytes(head + b"not packed arrays at all")
    elif how == "foreign":
        kept_file.write_bytes(b"0" * 64 + data[64:])
    elif how == "other-arrays":
        kept_file.write_bytes(head + pack_arrays(**other_arrays()))
    else:
        raise ValueError(f"unknown spoil {how!r}; valid: {', '.join(SPOILS)}")
