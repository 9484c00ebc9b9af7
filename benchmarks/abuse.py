"""Abuse probes against a real ``spreadsheetcoder serve`` (default settings, no API key); print JSON.

Replays, in order, the probes that once hurt the service and reports each against its target:

1. **bad text**: lone surrogates and NUL in every text field of ``/v1/suggest`` and in the form
   fields of the upload endpoints. Target: no 500; log lines per refused request.
2. **fills and suggestions**: two ``/v1/fill`` requests of 2,000 cells each (two workbooks) run at
   once while one client asks ``/v1/suggest`` on the sample sheets, one request after another.
   Target: suggestion p99 ≤ 1 s while the fills run.
3. **huge upload**: an .xlsx of about 11 MB with 1.9 M cells to ``/v1/suggest/xlsx``. Target: a
   clear 413, fast, without the memory of the materialised workbook.
4. **stalled connections**: 200 connections that send nothing, half the headers, or the headers and
   part of a body, then stall. Target: every one closed within 10 s.
5. **load**: 64 clients × 30 s of suggestions (``load_suggest.py``'s clients). Target: 0 errors.

The server's resident memory is sampled every 0.25 s throughout (peak target ≤ 1.5 GB) and read
once more a minute after the last probe (target ≤ 800 MB).

    python benchmarks/abuse.py                 # about 5 minutes on 2 cores
    python benchmarks/abuse.py --quick         # smaller fills and load, for a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_suggest import client as load_client
from load_suggest import free_port, percentile, rss_mb, workloads

ROOT = Path(__file__).resolve().parent.parent
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# ------------------------------------------------------------------------------------ server


class Server:
    """``python -m spreadsheetcoder serve`` on a free port, its log in a file, its memory sampled."""

    def __init__(self, log: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = log.open("wb")
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SPREADSHEETCODER_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spreadsheetcoder", "serve", "--port", str(self.port), "--log-level", "info"],
            cwd=ROOT, env={**clean, **env}, stdout=self._log, stderr=subprocess.STDOUT)
        self.samples: list[float] = []
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited:\n{self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).json().get("model_loaded"):
                    self._sampler.start()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit("server did not start in 180 s")

    def _sample(self) -> None:
        while not self._done.wait(0.25):
            self.samples.append(rss_mb(self.process.pid))

    def rss(self) -> float:
        return rss_mb(self.process.pid)

    def log_lines(self) -> int:
        self._log.flush()
        return len(self.log_path.read_bytes().splitlines())

    def stop(self) -> float:
        self._done.set()
        peak = rss_mb(self.process.pid, "VmHWM")
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()
        return peak


# ------------------------------------------------------------------------------------ workbooks


def orders_workbook(rows: int, seed: int) -> bytes:
    """An order table of ``rows`` rows whose Amount column (E) is empty: the cells a fill asks for."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    book = Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["Order", "Item", "Qty", "Price", "Amount", "Region"])
    for r in range(rows):
        sheet.append([f"O-{seed}-{r:05d}", rng.choice(["pen", "pad", "ink", "clip"]), rng.randint(1, 40),
                      round(rng.uniform(0.5, 30), 2), None, rng.choice(["North", "South", "East", "West"])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def huge_workbook(rows: int = 100_000, cols: int = 19) -> bytes:
    """A one-sheet .xlsx of ``rows`` × ``cols`` numbers written as raw XML (1.9 M cells, about 11 MB)."""
    letters = [chr(65 + c) for c in range(cols)]
    rng = random.Random(7)
    body = io.StringIO()
    for r in range(1, rows + 1):
        body.write(f'<row r="{r}">')
        for letter in letters:
            body.write(f'<c r="{letter}{r}"><v>{rng.randint(0, 10**9)}</v></c>')
        body.write("</row>")
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Big" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            '</Relationships>'),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>{body.getvalue()}'
            '</sheetData></worksheet>'),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


# ------------------------------------------------------------------------------------ probes


def bad_text_probe(server: Server, grid: dict[str, Any], sales: bytes) -> dict[str, Any]:
    """Lone surrogates and NUL in each text field; JSON bodies carry them as \\ud800 escapes."""
    base = {"sheet": grid["name"], "address": "A1", "values": grid["values"], "formulas": grid["formulas"],
            "target": "B2", "k": 3}
    bad = ["\ud800", "a\udfffb", "x\x00y", "\x00"]
    bodies = []
    for text in bad:
        values = [row[:] for row in grid["values"]]
        values[0][0] = text
        formulas = [row[:] for row in grid["formulas"]]
        formulas[1][1] = f"=SUM(A1)+\"{text}\""
        bodies += [{**base, "values": values}, {**base, "formulas": formulas, "context": "formulas"},
                   {**base, "sheet": f"S{text}"}, {**base, "target": f"B{text}"},
                   {**base, "number_formats": [[text] * len(row) for row in grid["values"]]}]
    statuses: list[int] = []
    before = server.log_lines()
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for body in bodies:
            raw = json.dumps(body, ensure_ascii=True).encode()  # \ud800 escapes, as a browser's JSON.stringify
            statuses.append(http.post("/v1/suggest", content=raw,
                                      headers={"Content-Type": "application/json"}).status_code)
        for field, text in [("cell", "B\ud800"), ("sheet", "\ud800"), ("cell", "B\x002"), ("locale", "de\x00")]:
            form = {"cell": "B2", field: text}
            files = {"file": ("sales.xlsx", sales, XLSX)}
            encoded = {k: v.encode("utf-8", "surrogatepass") for k, v in form.items()}
            statuses.append(http.post("/v1/suggest/xlsx", files=files, data=encoded).status_code)
        for text in ["A1\ud800", "A1\x00"]:
            statuses.append(http.post("/v1/fill", files={"file": ("sales.xlsx", sales, XLSX)},
                                      data={"cells": text.encode("utf-8", "surrogatepass")}).status_code)
    time.sleep(0.5)
    lines = server.log_lines() - before
    return {"requests": len(statuses), "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
            "server_errors": sum(s >= 500 for s in statuses), "log_lines_per_request": round(lines / len(statuses), 2)}


async def fills_probe(server: Server, grids: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    """Two fills of ``rows`` cells at once; meanwhile one client's suggestions, one after another."""
    books = [orders_workbook(rows, seed) for seed in (1, 2)]
    async with httpx.AsyncClient(base_url=server.url, timeout=httpx.Timeout(600.0)) as http:
        for grid in grids:  # encode the sample sheets first: the probe measures waiting, not first encodings
            await http.post("/v1/suggest", json={"sheet": grid["name"], "address": grid["address"],
                                                 "values": grid["values"], "formulas": grid["formulas"],
                                                 "target": "A1", "k": 5})

        async def fill(data: bytes) -> tuple[int, float, dict[str, Any]]:
            started = time.perf_counter()
            response = await http.post("/v1/fill", files={"file": ("orders.xlsx", data, XLSX)},
                                       data={"cells": f"Orders!E2:E{rows + 1}", "min_confidence": "0"})
            report = json.loads(response.headers.get("x-fill-report", "{}")) if response.status_code == 200 else {}
            return response.status_code, time.perf_counter() - started, report.get("counts", {})

        tasks = [asyncio.create_task(fill(data)) for data in books]
        latencies: list[float] = []
        errors: list[str] = []
        rng = random.Random(0)
        while not all(task.done() for task in tasks):
            grid = rng.choice(grids)
            rows_, cols = len(grid["values"]), len(grid["values"][0])
            target = f"{chr(65 + rng.randrange(min(cols, 26)))}{rng.randint(1, rows_ + 1)}"
            started = time.perf_counter()
            response = await http.post("/v1/suggest", json={
                "sheet": grid["name"], "address": grid["address"], "values": grid["values"],
                "formulas": grid["formulas"], "target": target, "k": 5})
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.text[:200]}")
            else:
                latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
        fills = [task.result() for task in tasks]
    return {"fill_cells": rows, "fills": [{"status": s, "seconds": round(t, 1), "counts": c} for s, t, c in fills],
            "suggestions": len(latencies), "suggest_errors": len(errors), "error_examples": errors[:3],
            "suggest_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "suggest_p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
            "suggest_max_ms": round(max(latencies) * 1000, 1) if latencies else None,
            "server_errors": sum(s >= 500 and s != 504 for s, _, _ in fills) + sum(e.startswith("5") for e in errors)}


def huge_upload_probe(server: Server) -> dict[str, Any]:
    data = huge_workbook()
    rss_before = server.rss()
    started = time.perf_counter()
    with httpx.Client(base_url=server.url, timeout=300) as http:
        response = http.post("/v1/suggest/xlsx", files={"file": ("big.xlsx", data, XLSX)}, data={"cell": "T2"})
    seconds = time.perf_counter() - started
    error = response.json().get("error", {}) if response.headers.get("content-type", "").startswith("application/json") else {}
    return {"upload_mb": round(len(data) / 2**20, 1), "cells": 1_900_000, "status": response.status_code,
            "code": error.get("code"), "message": error.get("message"), "seconds": round(seconds, 2),
            "rss_mb_before": round(rss_before, 1), "rss_mb_after": round(server.rss(), 1),
            "server_errors": int(response.status_code >= 500)}


async def stalled_probe(server: Server, connections: int) -> dict[str, Any]:
    """Connections that stall: each third sends nothing, half a request line and headers, or the
    headers and 10 of 1,000 announced body bytes. Measures how long until the server closes each."""
    head = (f"POST /v1/suggest HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n").encode()
    partial = [b"", head[:40], head + b'{"values":']

    async def one(i: int) -> tuple[float, str]:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        except OSError as exc:
            return time.monotonic() - started, f"connect failed: {exc}"
        writer.write(partial[i % 3])
        await writer.drain()
        sent = time.monotonic()
        try:
            answer = await asyncio.wait_for(reader.read(), 30)
            outcome = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
        except TimeoutError:
            outcome = "still open after 30 s"
        except OSError as exc:
            outcome = f"reset ({type(exc).__name__})"
        finally:
            writer.close()
        return time.monotonic() - sent, outcome

    results = await asyncio.gather(*(one(i) for i in range(connections)))
    times = [t for t, _ in results]
    outcomes: dict[str, int] = {}
    for _, outcome in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {"connections": connections, "closed_within_10s": sum(t <= 10 for t in times),
            "max_close_s": round(max(times), 2), "outcomes": outcomes,
            "server_errors": sum(n for o, n in outcomes.items() if " 5" in o and "503" not in o)}


async def load_probe(server: Server, grids: list[dict[str, Any]], clients: int, duration: float) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=httpx.Timeout(300.0), limits=limits) as http:
        stop_at = time.monotonic() + duration
        await asyncio.gather(*(load_client(http, grids[i % len(grids)], random.Random(i), stop_at, 5, latencies, errors)
                               for i in range(clients)))
    return {"clients": clients, "duration_s": duration, "requests": len(latencies), "errors": len(errors),
            "error_examples": sorted(set(errors))[:3],
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
            "server_errors": sum(e.startswith("5") for e in errors)}


# ------------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200-cell fills, 16 clients × 10 s, 20 s of rest")
    parser.add_argument("--log", type=Path, default=Path("abuse_server.log"), help="the server's log")
    args = parser.parse_args()
    fill_rows, clients, duration, rest = (200, 16, 10.0, 20.0) if args.quick else (2000, 64, 30.0, 60.0)

    grids = workloads(ROOT / "sample_sheets")
    sales = (ROOT / "sample_sheets" / "sales.xlsx").read_bytes()
    server = Server(args.log, {})
    started = time.monotonic()
    server.start()
    rss_start = server.rss()
    report: dict[str, Any] = {"benchmark": "abuse", "quick": args.quick}
    try:
        report["bad_text"] = bad_text_probe(server, grids[0], sales)
        report["fills"] = asyncio.run(fills_probe(server, grids, fill_rows))
        report["huge_upload"] = huge_upload_probe(server)
        report["stalled"] = asyncio.run(stalled_probe(server, 200))
        report["load"] = asyncio.run(load_probe(server, grids, clients, duration))
        burst_end = time.monotonic()
        time.sleep(rest)
        report["rss_mb"] = {"after_start": round(rss_start, 1), "peak_sampled": round(max(server.samples), 1),
                            f"{rest:g}s_after_burst": round(server.rss(), 1)}
        report["probe_seconds"] = round(burst_end - started, 1)
    finally:
        peak = server.stop()
    report["rss_mb"]["peak_vmhwm"] = round(peak, 1)
    server_errors = sum(report[p]["server_errors"] for p in ("bad_text", "fills", "huge_upload", "stalled", "load"))
    report["checks"] = {
        "server_errors": {"value": server_errors, "target": 0, "ok": server_errors == 0},
        "suggest_p99_during_fills_ms": {"value": report["fills"]["suggest_p99_ms"], "target": 1000,
                                        "ok": (report["fills"]["suggest_p99_ms"] or 1e9) <= 1000},
        "peak_rss_mb": {"value": report["rss_mb"]["peak_vmhwm"], "target": 1536,
                        "ok": report["rss_mb"]["peak_vmhwm"] <= 1536},
        "rss_after_burst_mb": {"value": report["rss_mb"][f"{rest:g}s_after_burst"], "target": 800,
                               "ok": report["rss_mb"][f"{rest:g}s_after_burst"] <= 800},
        "stalled_closed_within_10s": {"value": report["stalled"]["closed_within_10s"], "target": 200,
                                      "ok": report["stalled"]["closed_within_10s"] == 200},
        "load_errors": {"value": report["load"]["errors"], "target": 0, "ok": report["load"]["errors"] == 0},
    }
    report["machine"] = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                         "python": platform.python_version()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
