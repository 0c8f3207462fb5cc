"""Find a dataset file on disk, or download it once; every file is SHA256-verified.

Lookup order for ``<dataset>/<filename>``:

1. the ``data_dir`` argument (the CLI's ``--data-dir``), else the ``DLAB_DATA`` env var;
2. the user cache, ``$DLAB_CACHE`` or ``~/.cache/dlab``;
3. a download from the canonical URL into that cache (skipped when ``DLAB_OFFLINE=1``).
"""
from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

from dlab.errors import DataError

_CHUNK = 1 << 20  # 1 MiB: few syscalls, small memory
_TIMEOUT = 30.0  # seconds without data before a download is given up

# Files already verified in this process, keyed by (path, size, mtime_ns, sha256). Hashing is
# cheap once (~0.1 s for 26 MB) but loaders are called many times in a lab; a stat per call
# notices a file that was replaced. No sidecar files: data dirs are often read-only.
_verified: set[tuple[str, int, int, str]] = set()


class _DownloadFailed(Exception):
    """Network-level failure; turned into the 'file not found' DataError by fetch()."""


def cache_dir() -> Path:
    """Where downloads go: ``$DLAB_CACHE`` or ``~/.cache/dlab``."""
    return Path(os.environ.get("DLAB_CACHE") or Path.home() / ".cache" / "dlab").expanduser()


def fetch(
    dataset: str,
    filename: str,
    *,
    url: str | None,
    sha256: str,
    data_dir: str | Path | None = None,
) -> Path:
    """Return the path of a verified local copy of ``<dataset>/<filename>``.

    ``url=None`` means the file has no public download with this hash: it must be provided
    locally. Raises :class:`DataError` when the file is corrupt, missing offline, or the
    download fails.
    """
    root = data_dir if data_dir is not None else os.environ.get("DLAB_DATA") or None
    looked: list[str] = []
    if root is not None:
        local = Path(root).expanduser() / dataset / filename
        source = "data_dir / --data-dir" if data_dir is not None else "DLAB_DATA"
        looked.append(f"{local} (from {source})")
        if local.is_file():
            return _verify(local, sha256)
    else:
        looked.append("no data folder (neither --data-dir nor DLAB_DATA is set)")

    cached = cache_dir() / dataset / filename
    looked.append(f"{cached} (download cache)")
    if cached.is_file():
        return _verify(cached, sha256)

    if url is None:
        why = "this file has no known download URL"
    elif os.environ.get("DLAB_OFFLINE", "") not in ("", "0"):
        why = f"downloading from {url} is switched off (DLAB_OFFLINE is set)"
    else:
        try:
            return _download(url, cached, sha256)
        except _DownloadFailed as exc:
            why = f"downloading {url} failed ({exc})"
    online = "" if url is None else ", or connect to the internet and run again"
    raise DataError(
        f"Dataset file {dataset}/{filename} was not found. Looked in: {'; '.join(looked)}; "
        f"and {why}. Fix: pass --data-dir DIR or run `export DLAB_DATA=DIR`, where DIR "
        f"contains {dataset}/{filename}{online}."
    )


def _verify(path: Path, sha256: str) -> Path:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, sha256)
    if key in _verified:
        return path
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    actual = h.hexdigest()
    if actual != sha256:
        raise DataError(
            f"Dataset file {path} is corrupt or a different version: its SHA256 is {actual}, "
            f"expected {sha256}. Fix: delete it (rm '{path}') so that dlab downloads it "
            f"again, or replace it with a good copy."
        )
    _verified.add(key)
    return path


def _download(url: str, dest: Path, sha256: str) -> Path:
    """Stream ``url`` into ``dest.parent``/*.part, check size and hash, then rename atomically,
    so an interrupted or bad download never leaves a file that looks complete."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    except OSError as exc:
        raise _DownloadFailed(f"cannot write to the cache {dest.parent}: {exc}") from exc
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        received = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with _progress(dest.name, total) as advance:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    h.update(chunk)
                    received += len(chunk)
                    advance(len(chunk))
        # http.client does not raise when the server closes early, so check the length here.
        if total is not None and received != total:
            raise _DownloadFailed(f"connection closed after {received} of {total} bytes")
        actual = h.hexdigest()
        if actual != sha256:
            raise DataError(
                f"The file downloaded from {url} has SHA256 {actual}, expected {sha256}, so it "
                f"was discarded. The server may serve a changed or broken file. Fix: get a good "
                f"copy of {dest.name} and pass --data-dir DIR or `export DLAB_DATA=DIR`, where "
                f"DIR contains {dest.parent.name}/{dest.name}."
            )
        os.replace(tmp, dest)
    except urllib.error.HTTPError as exc:
        raise _DownloadFailed(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _DownloadFailed(str(exc.reason)) from exc
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, a full disk
        raise _DownloadFailed(str(exc) or type(exc).__name__) from exc
    finally:
        tmp.unlink(missing_ok=True)
    st = dest.stat()
    _verified.add((str(dest.resolve()), st.st_size, st.st_mtime_ns, sha256))
    return dest


@contextlib.contextmanager
def _progress(name: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on an interactive terminal; silent otherwise (logs, CI, tests)."""
    if not sys.stdout.isatty():
        yield lambda n: None
        return
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(),
                  transient=True) as bar:
        task = bar.add_task(f"Downloading {name}", total=total)
        yield lambda n: bar.advance(task, n)
