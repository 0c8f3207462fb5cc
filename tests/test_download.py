"""The downloader against a real HTTP server on 127.0.0.1 (no internet needed)."""
from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from dlab.data import download
from dlab.data.download import fetch
from dlab.errors import DataError

PAYLOAD = b"dlab test payload\n" * 1000
GOOD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
WRONG_SHA = "0" * 64


class _Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5  # a stuck client cannot hang the server thread for long
    hits: list[str] = []

    def do_GET(self) -> None:
        _Handler.hits.append(self.path)
        if self.path == "/good.bin":
            self._send(PAYLOAD, len(PAYLOAD))
        elif self.path == "/truncated.bin":
            # Promise the whole payload, send a tenth of it, then close the connection.
            self._send(PAYLOAD[: len(PAYLOAD) // 10], len(PAYLOAD))
        else:
            self.send_error(404)

    def _send(self, body: bytes, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    _Handler.hits = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """A private cache, no data dir, no proxy (urllib would send 127.0.0.1 to it), and a
    short timeout so a broken test fails fast instead of hanging."""
    for var in ("DLAB_DATA", "DLAB_OFFLINE", "http_proxy", "HTTP_PROXY", "https_proxy",
                "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(download, "_TIMEOUT", 5.0)
    download._verified.clear()
    return tmp_path / "cache"


def leftovers(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []


def test_good_file_is_downloaded_verified_and_cached(server, isolated_env):
    path = fetch("toy", "good.bin", url=f"{server}/good.bin", sha256=GOOD_SHA)
    assert path == isolated_env / "toy" / "good.bin"
    assert path.read_bytes() == PAYLOAD
    assert leftovers(isolated_env) == [path]  # no *.part left behind

    again = fetch("toy", "good.bin", url=f"{server}/good.bin", sha256=GOOD_SHA)
    assert again == path
    assert _Handler.hits == ["/good.bin"]  # the second call did not touch the network


def test_cached_file_is_reverified_in_a_new_process(server, isolated_env):
    fetch("toy", "good.bin", url=f"{server}/good.bin", sha256=GOOD_SHA)
    download._verified.clear()  # what a fresh process sees
    (isolated_env / "toy" / "good.bin").write_bytes(b"bit rot")
    with pytest.raises(DataError, match="corrupt"):
        fetch("toy", "good.bin", url=f"{server}/good.bin", sha256=GOOD_SHA)


def test_hash_mismatch_leaves_nothing(server, isolated_env):
    with pytest.raises(DataError) as exc:
        fetch("toy", "good.bin", url=f"{server}/good.bin", sha256=WRONG_SHA)
    msg = str(exc.value)
    assert GOOD_SHA in msg and WRONG_SHA in msg and f"{server}/good.bin" in msg
    assert leftovers(isolated_env) == []


def test_404_names_the_url(server, isolated_env):
    with pytest.raises(DataError) as exc:
        fetch("toy", "nope.bin", url=f"{server}/nope.bin", sha256=GOOD_SHA)
    msg = str(exc.value)
    assert f"{server}/nope.bin" in msg and "404" in msg
    assert leftovers(isolated_env) == []


def test_truncated_download_leaves_nothing(server, isolated_env):
    with pytest.raises(DataError) as exc:
        fetch("toy", "truncated.bin", url=f"{server}/truncated.bin", sha256=GOOD_SHA)
    assert f"{server}/truncated.bin" in str(exc.value)
    assert "of 18000 bytes" in str(exc.value)
    assert leftovers(isolated_env) == []


def test_missing_offline_lists_every_place_and_the_fix(monkeypatch, tmp_path, isolated_env):
    monkeypatch.setenv("DLAB_OFFLINE", "1")
    data = tmp_path / "data"
    with pytest.raises(DataError) as exc:
        fetch("toy", "good.bin", url="http://127.0.0.1:9/never", sha256=GOOD_SHA, data_dir=data)
    msg = str(exc.value)
    assert str(data / "toy" / "good.bin") in msg
    assert str(isolated_env / "toy" / "good.bin") in msg
    assert "DLAB_OFFLINE" in msg
    assert "--data-dir" in msg and "DLAB_DATA" in msg
    assert "\n" not in msg  # one paragraph


def test_missing_offline_without_data_dir_says_none_is_set(monkeypatch, isolated_env):
    monkeypatch.setenv("DLAB_OFFLINE", "1")
    with pytest.raises(DataError, match="neither --data-dir nor DLAB_DATA is set"):
        fetch("toy", "good.bin", url="http://127.0.0.1:9/never", sha256=GOOD_SHA)


def test_data_dir_wins_and_env_var_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("DLAB_OFFLINE", "1")
    for name in ("arg", "env"):
        (tmp_path / name / "toy").mkdir(parents=True)
        (tmp_path / name / "toy" / "good.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("DLAB_DATA", str(tmp_path / "env"))
    assert fetch("toy", "good.bin", url=None, sha256=GOOD_SHA) == tmp_path / "env/toy/good.bin"
    got = fetch("toy", "good.bin", url=None, sha256=GOOD_SHA, data_dir=tmp_path / "arg")
    assert got == tmp_path / "arg/toy/good.bin"


def test_corrupt_file_in_data_dir_names_both_hashes(tmp_path):
    bad = tmp_path / "toy" / "good.bin"
    bad.parent.mkdir()
    bad.write_bytes(b"not the payload")
    with pytest.raises(DataError) as exc:
        fetch("toy", "good.bin", url=None, sha256=GOOD_SHA, data_dir=tmp_path)
    msg = str(exc.value)
    assert str(bad) in msg
    assert GOOD_SHA in msg and hashlib.sha256(b"not the payload").hexdigest() in msg
    assert "delete" in msg.lower()
