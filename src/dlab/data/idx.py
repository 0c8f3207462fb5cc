"""Read the gzip'd IDX files of MNIST and Fashion-MNIST with numpy (no torchvision needed).

IDX layout: a big-endian header ``0x00 0x00 <type> <ndim>`` + one uint32 size per dimension,
then the raw values. Only unsigned-byte data is used here: magic 2049 = labels (1-D),
magic 2051 = images (3-D: count, rows, cols).
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from dlab.errors import DataError

_NDIM_BY_MAGIC = {2049: 1, 2051: 3}


def read_idx(path: str | Path) -> np.ndarray:
    """Return the uint8 array stored in a gzip'd IDX file (read-only: it views the buffer)."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:  # not gzip, truncated, or bad CRC
        raise _bad(path, f"it is not a complete gzip file ({exc})") from exc
    if len(raw) < 4:
        raise _bad(path, f"it holds only {len(raw)} bytes, too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in _NDIM_BY_MAGIC:
        raise _bad(path, f"its magic number is {magic}, expected 2049 (labels) or 2051 (images)")
    ndim = _NDIM_BY_MAGIC[magic]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise _bad(path, "its IDX header is cut short")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise _bad(path, f"the header promises {shape} = {expected} values but the file holds "
                         f"{len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _bad(path: Path, why: str) -> DataError:
    return DataError(f"Cannot read IDX file {path}: {why}. Delete it and let dlab download it "
                     f"again, or replace it with a good copy.")
