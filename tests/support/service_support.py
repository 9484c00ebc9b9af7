"""Shared setup of the service tests: a real uvicorn server on a free localhost port, the hostile
uploads every endpoint must refuse, and small checks of the error shape."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.badfiles import (
    billion_laughs,
    encrypted_xlsx,
    minimal_xlsx,
    random_bytes,
    xls_bytes,
    zip_bomb,
)
from tests.support.paths import ROOT

LIVE_KEY = "live-test-key"
# Limits of the live server: small, so "too large" inputs stay small.
LIVE_ENV = {
    "SPREADSHEETCODER_API_KEYS": LIVE_KEY,
    "SPREADSHEETCODER_MAX_UPLOAD_BYTES": str(1024 * 1024),
    "SPREADSHEETCODER_MAX_GRID_CELLS": "20000",
    "SPREADSHEETCODER_MAX_FILL_CELLS": "200",
    "SPREADSHEETCODER_REQUEST_TIMEOUT_S": "60",
}
# The service as `spreadsheetcoder serve` runs it: one worker, the slow-client guard (service/protocol.py).
UVICORN_ARGS = ["--factory", "service.app:create_app", "--host", "127.0.0.1", "--workers", "1",
                "--http", "service.protocol:GuardedProtocol"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET1 = "xl/worksheets/sheet1.xml"

GRID = {
    "sheet": "Sales",
    "address": "A1",
    "values": [["Region", "Q1", "Q2", "Total"], ["North", 120, 135, 255], ["South", 98, 110, None],
               ["East", 143, 150, 293], ["West", 88, 97, None]],
    "formulas": [["Region", "Q1", "Q2", "Total"], ["North", 120, 135, "=SUM(B2:C2)"], ["South", 98, 110, ""],
                 ["East", 143, 150, "=SUM(B4:C4)"], ["West", 88, 97, ""]],
    "target": "D3",
    "k": 3,
}


PLANTED_CELL = "D12"  # the planted mistake of planted_totals_xlsx: =SUM(D2:D10), one row short
PLANTED_REPAIR = "=SUM(D2:D11)"


def planted_totals_xlsx(sheet: str = "Sheet1", plant: bool = True) -> bytes:
    """A 10-row table of numbers (B2:E11) under a header, with a totals row 12 of ``=SUM(B2:B11)`` ..
    ``=SUM(E2:E11)``, where (``plant``) D12 is ``=SUM(D2:D10)``: a range that stops one row short."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(["Item", "Q1", "Q2", "Q3", "Q4"])
    for row in range(2, 12):
        ws.append([f"Item {row - 1}"] + [10 + (row * 7 + col * 13) % 90 for col in range(2, 6)])
    ws.append(["Total"] + [f"=SUM({c}2:{c}11)" for c in "BCDE"])
    if plant:
        ws[PLANTED_CELL] = "=SUM(D2:D10)"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def hostile_uploads() -> dict[str, tuple[bytes, int, str]]:
    """name -> (file bytes, expected status, expected error code)."""
    bomb_sheet = '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData>'
    return {
        "corrupt": (random_bytes(4096), 422, "corrupt"),
        "truncated": (minimal_xlsx()[:300], 422, "corrupt"),
        "zip_bomb": (zip_bomb(), 413, "zip_bomb"),
        "xml_bomb": (minimal_xlsx(parts={SHEET1: billion_laughs("worksheet", bomb_sheet)}), 422, "hostile_xml"),
        "encrypted": (encrypted_xlsx(), 422, "encrypted"),
        "xls": (xls_bytes(), 415, "unsupported_format"),
    }


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The response is ``status`` with the service's error body (and ``code`` when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"code", "message"} and error["message"], error
    if code is not None:
        assert error["code"] == code, error
    return error


def assert_suggestions(body: dict, k: int) -> None:
    """The shape every suggest response has, whatever the model predicts."""
    from spreadsheetcoder.formula import parse_formula
    from spreadsheetcoder.references import parse_a1

    assert 1 <= len(body["suggestions"]) <= k
    origin = parse_a1(body["target"])
    for s in body["suggestions"]:
        assert s["formula"].startswith("=")
        parsed = parse_formula(s["formula"], origin)  # raises when it does not parse
        assert 0.0 <= s["confidence"] <= 1.0
        assert s["sketch"] == " ".join(parsed.sketch) and len(s["ranges"]) == len(parsed.ranges)
    assert body["version"] and body["model"] and body["elapsed_ms"] >= 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_loaded(process: subprocess.Popen, url: str, output: Callable[[], str], seconds: float = 180) -> None:
    """Poll ``url``/healthz until the server's model is loaded; fail with its ``output`` if it dies or stalls."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{output()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).json().get("model_loaded"):
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the server did not start in {seconds:g} s:\n{output()}")
        time.sleep(0.3)


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    key: str = LIVE_KEY

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def peak_rss_bytes(self) -> int:
        """Peak resident memory of the server process (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM")


@contextlib.contextmanager
def uvicorn_server(env: dict[str, str], log: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """The service as ``serve`` runs it (UVICORN_ARGS) on a free port with ``env`` added, its output
    in ``log``; yields ``(port, process)`` once the model is loaded. On exit the server is stopped,
    and its log must hold no traceback: every bad input was answered, none crashed a handler."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *UVICORN_ARGS, "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_loaded(process, f"http://127.0.0.1:{port}", lambda: log.read_text(errors="replace"))
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-4000:]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``uvicorn --factory service.app:create_app --http service.protocol:GuardedProtocol`` on a free port,
    with API keys and small limits."""
    with uvicorn_server(LIVE_ENV, tmp_path_factory.mktemp("uvicorn") / "server.log") as (port, process):
        yield LiveServer(f"http://127.0.0.1:{port}", process)
