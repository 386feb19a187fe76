"""Tests of uim_utils.offline: the one fail-fast internet check and its exception."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from uim_utils import offline

_PROXIES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def online_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy and no offline mode: the probe itself decides."""
    for var in (*_PROXIES, "HF_HUB_OFFLINE"):
        monkeypatch.delenv(var, raising=False)


def test_a_silent_or_unknown_host_fails_fast_with_one_sentence(online_env: None) -> None:
    # A port on localhost that accepts connections and never answers: the worst case
    # (a filtering network), which a bare TCP connect check would take for "online".
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    url = f"http://127.0.0.1:{server.getsockname()[1]}/"
    try:
        t0 = time.monotonic()
        with pytest.raises(offline.OfflineError) as info:
            offline.require_internet("A test", url, timeout=0.5)
        assert time.monotonic() - t0 < 3.0
    finally:
        server.close()
    msg = str(info.value)
    assert msg.startswith("A test needs the internet") and url in msg and "TimeoutError" in msg
    assert "\n" not in msg and msg.count(". ") == 0  # one sentence
    t0 = time.monotonic()
    with pytest.raises(offline.OfflineError, match="no-such-host.invalid"):
        offline.require_internet("A test", "https://no-such-host.invalid/", timeout=1.0)
    assert time.monotonic() - t0 < 3.0


def test_the_probe_passes_when_the_host_answers(online_env: None) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(404)  # any answer, even an error, means "online"
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        offline.require_internet("A test", f"http://127.0.0.1:{server.server_address[1]}/", timeout=2.0)
    finally:
        server.server_close()


@pytest.mark.parametrize("value, on", [("1", True), ("True", True), ("0", False), ("", False), ("false", False)])
def test_offline_mode_follows_hf_hub_offline(monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert offline.offline_mode() is on


def test_offline_mode_fails_at_once_without_probing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.monotonic()
    with pytest.raises(offline.OfflineError, match=r"^X needs the internet, but offline mode is on .*; do Y\.$"):
        offline.require_internet("X", "https://no-such-host.invalid/", hint="do Y")
    assert time.monotonic() - t0 < 0.5


@pytest.mark.parametrize("timeout", [0, -1.0, "3", True])
def test_a_bad_timeout_is_named(timeout: object) -> None:
    with pytest.raises(ValueError, match=f"timeout must be .* got {timeout!r}"):
        offline.require_internet("X", timeout=timeout)  # type: ignore[arg-type]
