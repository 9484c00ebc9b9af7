"""Load on ``POST /v1/suggest``: N concurrent clients for D seconds against one uvicorn worker; print JSON.

Each client plays an add-in on one sheet of ``sample_sheets/`` (clients spread over the sheets): it
sends that sheet's used range, as Office.js reads it, with a random target cell (a cell of the
block or of the row below it), waits for the answer and asks again. Recorded: requests, errors
(any status but 200, any transport error), latency percentiles, throughput, and the server's
resident memory (sampled every 0.25 s, plus the kernel's peak, VmHWM).

    python benchmarks/load_suggest.py                     # 32 clients, 60 s, starts its own server
    python benchmarks/load_suggest.py --clients 8 --duration 20
    python benchmarks/load_suggest.py --url http://127.0.0.1:8000 --key KEY   # an existing server
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from service.grid import sheet_grids
from spreadsheetcoder.xlsx.reader import read_workbook

ROOT = Path(__file__).resolve().parent.parent


def workloads(folder: Path) -> list[dict[str, Any]]:
    """One grid per sheet of the sample workbooks (used range from A1, at most 200 x 40)."""
    out = []
    for path in sorted(folder.glob("*.xlsx")):
        for grid in sheet_grids(read_workbook(path), max_rows=200, max_cols=40):
            if any(v is not None for row in grid["values"] for v in row):
                out.append({"book": path.name, **grid})
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", "--log-level", "warning",
         "--http", "service.protocol:GuardedProtocol"],  # as `spreadsheetcoder serve` runs it
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json().get("model_loaded"):
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise SystemExit("server did not start in 180 s")


async def client(http: httpx.AsyncClient, grid: dict[str, Any], rng: random.Random, stop_at: float, k: int,
                 latencies: list[float], errors: list[str]) -> None:
    rows, cols = len(grid["values"]), len(grid["values"][0])
    body = {"sheet": grid["name"], "address": grid["address"], "values": grid["values"], "formulas": grid["formulas"],
            "k": k}
    while time.monotonic() < stop_at:
        row, col = rng.randint(1, rows + 1), rng.randint(1, cols)
        target = f"{''.join(_letters(col))}{row}"
        started = time.perf_counter()
        try:
            response = await http.post("/v1/suggest", json={**body, "target": target})
            if response.status_code != 200 or "suggestions" not in response.json():
                errors.append(f"{response.status_code} {response.text[:200]}")
        except httpx.HTTPError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        latencies.append(time.perf_counter() - started)


def _letters(col: int) -> str:
    text = ""
    while col:
        col, rem = divmod(col - 1, 26)
        text = chr(65 + rem) + text
    return text


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def run(url: str, key: str | None, grids: list[dict[str, Any]], clients: int, duration: float, k: int,
              seed: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=httpx.Timeout(300.0), limits=limits) as http:
        warm_started = time.perf_counter()
        for grid in grids:  # the first request on each sheet encodes it: measured apart
            response = await http.post("/v1/suggest", json={"sheet": grid["name"], "address": grid["address"],
                                                            "values": grid["values"], "formulas": grid["formulas"],
                                                            "target": "A1", "k": k})
            response.raise_for_status()
        warm_s = time.perf_counter() - warm_started
        latencies: list[float] = []
        errors: list[str] = []
        started = time.monotonic()
        stop_at = started + duration
        await asyncio.gather(*(client(http, grids[i % len(grids)], random.Random(seed + i), stop_at, k, latencies, errors)
                               for i in range(clients)))
        elapsed = time.monotonic() - started
    return {"latencies": latencies, "errors": errors, "elapsed_s": elapsed, "warmup_s": warm_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--url", default=None, help="an existing server (default: start one uvicorn worker)")
    parser.add_argument("--key", default=None, help="API key of --url")
    parser.add_argument("--model", default=None, help="checkpoint folder for the started server")
    parser.add_argument("--samples", type=Path, default=ROOT / "sample_sheets")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    grids = workloads(args.samples)
    process = None
    url = args.url
    if url is None:
        env = {"SPREADSHEETCODER_MODEL": args.model} if args.model else {}
        # every client connects from 127.0.0.1: room for all of them under the per-client connection cap
        env["SPREADSHEETCODER_MAX_CONNECTIONS_PER_CLIENT"] = str(max(128, args.clients + 8))
        port = free_port()
        process = start_server(port, env)
        url = f"http://127.0.0.1:{port}"
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while process is not None and not done.wait(0.25):
            samples.append(rss_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = asyncio.run(run(url, args.key, grids, args.clients, args.duration, args.k, args.seed))
    finally:
        done.set()
        sampler.join()
        peak = rss_mb(process.pid, "VmHWM") if process is not None else None
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    latencies = result["latencies"]
    report = {
        "benchmark": "load_suggest",
        "clients": args.clients,
        "duration_s": round(result["elapsed_s"], 1),
        "k": args.k,
        "sheets": len(grids),
        "requests": len(latencies),
        "errors": len(result["errors"]),
        "error_examples": sorted(set(result["errors"]))[:5],
        "throughput_rps": round(len(latencies) / result["elapsed_s"], 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p90_ms": round(percentile(latencies, 90) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "warmup_s": round(result["warmup_s"], 2),
        "server_rss_mb_max_sampled": round(max(samples), 1) if samples else None,
        "server_rss_mb_peak": round(peak, 1) if peak is not None else None,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version()},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
