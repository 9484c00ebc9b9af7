"""Slow clients and the per-client connection cap (service/protocol.py) over raw sockets: one real uvicorn
server with the shipped model and small limits, a bare ASGI app on both protocol implementations (the
httptools one and the h11 fallback), and the warning of ``spreadsheetcoder serve`` without keys."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.service_support import GRID, LIVE_KEY, uvicorn_server

HEADER_S, BODY_IDLE_S, BODY_S, MAX_CONNECTIONS = 1.0, 1.5, 3.0, 8
GUARD_ENV = {
    "SPREADSHEETCODER_API_KEYS": LIVE_KEY,
    "SPREADSHEETCODER_HEADER_TIMEOUT_S": str(HEADER_S),
    "SPREADSHEETCODER_BODY_IDLE_TIMEOUT_S": str(BODY_IDLE_S),
    "SPREADSHEETCODER_BODY_TIMEOUT_S": str(BODY_S),
    "SPREADSHEETCODER_MAX_CONNECTIONS_PER_CLIENT": str(MAX_CONNECTIONS),
}
# A loaded two-core machine may be late by this much to close, never early.
SLACK_S = 3.0
AUTH = f"Authorization: Bearer {LIVE_KEY}\r\n".encode()


@dataclass
class GuardedServer:
    host: str
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def log_mark(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def wait_for_log(self, mark: int, text: str, count: int = 1, seconds: float = 5.0) -> list[str]:
        """The server's log lines after ``mark`` that contain ``text``, once there are ``count`` of them."""
        deadline = time.monotonic() + seconds
        while True:
            with self.log.open("rb") as f:
                f.seek(mark)
                lines = [line for line in f.read().decode(errors="replace").splitlines() if text in line]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardedServer]:
    """The service under uvicorn with the guard and small limits (GUARD_ENV), its output in a log file."""
    log = tmp_path_factory.mktemp("guarded") / "server.log"
    with uvicorn_server(GUARD_ENV, log) as (port, _):
        yield GuardedServer("127.0.0.1", port, log)


# Raw HTTP/1.1


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and the seconds that took."""
    started, data = time.monotonic(), b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - started


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def read_response(stream: Any) -> tuple[int, dict[str, str], bytes]:
    """One response with a Content-Length body from ``sock.makefile("rb")`` (what the service sends)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline()
        assert line, f"the server closed the connection after {head!r}"
        head += line
    status, headers, _ = parse_response(head)
    return status, headers, stream.read(int(headers["content-length"]))


def assert_refusal(raw: bytes, status: int, code: str) -> str:
    """``raw`` is one ``status`` response with the service's JSON error ``code`` and Connection: close."""
    got, headers, body = parse_response(raw)
    assert got == status, raw
    assert headers["content-type"] == "application/json" and headers["connection"] == "close", headers
    assert len(body) == int(headers["content-length"]), raw
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"], error
    message: str = error["message"]
    return message


def get(path: str = "/healthz") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


def post_head(length: int) -> bytes:
    return (b"POST /v1/suggest HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" + AUTH
            + b"Content-Length: %d\r\n\r\n" % length)


# The service with the shipped model


def test_silent_connection_is_closed(server: GuardedServer) -> None:
    mark = server.log_mark()
    with server.connect() as sock:
        raw, seconds = read_until_closed(sock)
    assert HEADER_S * 0.9 <= seconds <= HEADER_S + SLACK_S
    assert raw == b""  # no request, no answer
    lines = server.wait_for_log(mark, "closed the connection")
    assert len(lines) == 1 and "127.0.0.1:" in lines[0] and "headers did not arrive" in lines[0], lines


def test_partial_headers_then_silence_get_408(server: GuardedServer) -> None:
    mark = server.log_mark()
    with server.connect() as sock:
        sock.sendall(b"POST /v1/suggest HTTP/1.1\r\nHost: test\r\nContent-Ty")
        raw, seconds = read_until_closed(sock)
    assert HEADER_S * 0.9 <= seconds <= HEADER_S + SLACK_S
    assert "headers" in assert_refusal(raw, 408, "request_timeout")
    assert len(server.wait_for_log(mark, "closed the connection")) == 1


def test_stalled_body_gets_408(server: GuardedServer) -> None:
    mark = server.log_mark()
    with server.connect() as sock:
        sock.sendall(post_head(1000) + b'{"sheet": ')
        raw, seconds = read_until_closed(sock)
    assert BODY_IDLE_S * 0.9 <= seconds <= BODY_IDLE_S + SLACK_S
    assert "stalled" in assert_refusal(raw, 408, "request_timeout")
    lines = server.wait_for_log(mark, "closed the connection")
    assert len(lines) == 1 and "stalled" in lines[0], lines


def test_trickled_body_hits_the_total_body_timeout(server: GuardedServer) -> None:
    with server.connect() as sock:
        sock.sendall(post_head(1000))
        started = time.monotonic()
        # a byte every 0.5 s (well within the idle timeout) until the server answers
        while not select.select([sock], [], [], 0.5)[0] and time.monotonic() - started < BODY_S + SLACK_S:
            sock.sendall(b" ")
        raw, _ = read_until_closed(sock)
        seconds = time.monotonic() - started
    assert BODY_S * 0.9 <= seconds <= BODY_S + SLACK_S
    assert f"within {BODY_S:g} s" in assert_refusal(raw, 408, "request_timeout")


def test_connections_beyond_the_cap_are_refused(server: GuardedServer) -> None:
    held = [server.connect() for _ in range(MAX_CONNECTIONS)]
    try:
        for sock in held:  # each answered once, then idle under keep-alive: all open
            sock.sendall(get())
            assert read_response(sock.makefile("rb"))[0] == 200
        mark = server.log_mark()
        for _ in range(2):
            with server.connect() as extra:
                raw, seconds = read_until_closed(extra)
            assert seconds < SLACK_S
            assert f"at most {MAX_CONNECTIONS}" in assert_refusal(raw, 429, "too_many_connections")
        assert len(server.wait_for_log(mark, "refused the connection", count=2)) == 2
    finally:
        for sock in held:
            sock.close()
    # the server counts the closed ones down as it notices them
    deadline = time.monotonic() + SLACK_S
    while True:
        with server.connect() as sock:
            sock.sendall(get())
            raw = sock.recv(65536)
        if raw.startswith(b"HTTP/1.1 200") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert raw.startswith(b"HTTP/1.1 200"), raw


def test_keep_alive_requests_are_never_cut_off(server: GuardedServer) -> None:
    body = json.dumps(GRID).encode()
    with server.connect() as sock, sock.makefile("rb") as stream:
        request = get()
        sock.sendall(request[:10])  # the first request's headers in two parts, within the header timeout
        time.sleep(HEADER_S / 2)
        sock.sendall(request[10:])
        assert read_response(stream)[0] == 200
        for _ in range(2):  # pauses between requests longer than the header timeout (shorter than keep-alive)
            time.sleep(HEADER_S * 1.5)
            sock.sendall(get())
            assert read_response(stream)[0] == 200
        sock.sendall(post_head(len(body)) + body[:20])  # a body in two parts, a pause between
        time.sleep(BODY_IDLE_S / 3)
        sock.sendall(body[20:])
        status, _, answer = read_response(stream)
        assert status == 200, answer
        assert json.loads(answer)["suggestions"]
        time.sleep(HEADER_S * 1.5)
        sock.sendall(get() + get())  # pipelined
        assert read_response(stream)[0] == 200 and read_response(stream)[0] == 200
        sock.sendall(get("/v1/info").replace(b"\r\n\r\n", b"\r\n" + AUTH + b"\r\n"))
        assert read_response(stream)[0] == 200


def test_httpx_client_keeps_its_connection(server: GuardedServer) -> None:
    peers = set()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {LIVE_KEY}"},
                      timeout=httpx.Timeout(120.0)) as client:
        for _ in range(5):
            response = client.get("/healthz")
            assert response.status_code == 200
            peers.add(response.extensions["network_stream"].get_extra_info("client_addr"))
            time.sleep(0.5)
        response = client.post("/v1/suggest", json=GRID)
        assert response.status_code == 200, response.text
        peers.add(response.extensions["network_stream"].get_extra_info("client_addr"))
    assert len(peers) == 1, peers  # one connection throughout


# A bare ASGI app on both implementations (fast; the h11 one is the fallback without httptools)


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, waits ``?wait`` seconds, answers its length."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size, more = size + len(message.get("body", b"")), message.get("more_body", False)
    await asyncio.sleep(float(scope["query_string"] or 0))
    body = json.dumps({"size": size}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(params=["GuardedProtocol", "GuardedH11Protocol"])
def bare_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                tmp_path: Path) -> Iterator[GuardedServer]:
    import uvicorn

    from service import protocol

    for name, value in {"SPREADSHEETCODER_HEADER_TIMEOUT_S": "0.5", "SPREADSHEETCODER_BODY_IDLE_TIMEOUT_S": "0.5",
                        "SPREADSHEETCODER_BODY_TIMEOUT_S": "1.5",
                        "SPREADSHEETCODER_MAX_CONNECTIONS_PER_CLIENT": "3"}.items():
        monkeypatch.setenv(name, value)
    protocol.guard_limits.cache_clear()
    config = uvicorn.Config(echo_app, host="127.0.0.1", port=0, http=getattr(protocol, request.param),
                            lifespan="off", log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = uv.servers[0].sockets[0].getsockname()[1]
    try:
        yield GuardedServer("127.0.0.1", port, tmp_path / "unused.log")
    finally:
        uv.should_exit = True
        thread.join(10)
        protocol.guard_limits.cache_clear()


def test_bare_app_deadlines_and_cap(bare_server: GuardedServer) -> None:
    with bare_server.connect() as sock:
        raw, seconds = read_until_closed(sock)
    assert raw == b"" and 0.45 <= seconds <= 0.5 + SLACK_S
    with bare_server.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
        raw, seconds = read_until_closed(sock)
    assert "stalled" in assert_refusal(raw, 408, "request_timeout") and seconds <= 0.5 + SLACK_S
    # answers slower than every timeout, pauses between requests longer than the header timeout
    with bare_server.connect() as sock, sock.makefile("rb") as stream:
        for wait in (1.6, 0):
            time.sleep(0.8 if wait == 0 else 0)
            sock.sendall(b"POST /?%g HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab" % wait)
            time.sleep(0.25)
            sock.sendall(b"cde")
            assert read_response(stream)[2] == b'{"size": 5}'
    held = [bare_server.connect() for _ in range(3)]
    try:
        for sock in held:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(sock.makefile("rb"))[0] == 200
        with bare_server.connect() as extra:
            assert_refusal(read_until_closed(extra)[0], 429, "too_many_connections")
    finally:
        for sock in held:
            sock.close()


# spreadsheetcoder serve


@pytest.fixture
def fake_uvicorn_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_serve_warns_without_keys_on_a_network_host(host: str, fake_uvicorn_run: list[dict[str, Any]],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from spreadsheetcoder.cli import main

    monkeypatch.delenv("SPREADSHEETCODER_API_KEYS", raising=False)
    assert main(["serve", "--host", host, "--port", "8123"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "without authentication" in err[0] and "SPREADSHEETCODER_API_KEYS" in err[0], err
    [call] = fake_uvicorn_run
    assert call["http"] == "service.protocol:GuardedProtocol" and call["host"] == host and call["port"] == 8123


@pytest.mark.parametrize(("host", "keys"), [("0.0.0.0", "k1"), ("0.0.0.0", '["k1","k2"]'), ("127.0.0.1", ""),
                                            ("localhost", ""), ("::1", ""), ("127.0.0.2", "[]")])
def test_serve_is_quiet_with_keys_or_on_loopback(host: str, keys: str, fake_uvicorn_run: list[dict[str, Any]],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from spreadsheetcoder.cli import main

    monkeypatch.setenv("SPREADSHEETCODER_API_KEYS", keys)
    assert main(["serve", "--host", host]) == 0
    assert capsys.readouterr().err == ""
    assert fake_uvicorn_run[0]["http"] == "service.protocol:GuardedProtocol"


def test_serve_help_shows_the_settings_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    from service.config import Settings
    from spreadsheetcoder.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 127.0.0.1)" in text and "None" not in text
    fields = Settings.model_fields
    for name in ("header_timeout_s", "body_idle_timeout_s", "body_timeout_s", "max_connections_per_client"):
        assert f"{name.upper()} ({fields[name].default:g})" in text, name


def test_serve_without_the_service_extra_names_it(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from spreadsheetcoder.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the extra were not installed
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "'service' extra" in err and "pip install" in err and "Traceback" not in err and len(err.splitlines()) == 1
