"""``spreadsheetcoder serve``: the REST service and the task pane (service/)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from .common import Subparsers, add_command, add_model_flag

DEFAULT_PORT = 8000


def add_serve_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "serve",
        help="run the REST service and the task pane (FastAPI on uvicorn)",
        description=(
            "Serve POST /v1/suggest, /v1/suggest/xlsx, /v1/fill and /v1/check, GET /healthz and /v1/info, the task pane at / "
            "and the Office add-in manifest at /addin/manifest.xml. Each worker loads the model once. Settings "
            "come from SPREADSHEETCODER_* environment variables (API_KEYS, CORS_ORIGINS, MAX_UPLOAD_BYTES, "
            "MAX_GRID_CELLS, MAX_K, REQUEST_TIMEOUT_S, ...; see service/config.py). Needs the 'service' extra. "
            "Slow clients are cut off: a request's line and headers must arrive within HEADER_TIMEOUT_S (5), "
            "its body may pause at most BODY_IDLE_TIMEOUT_S (5) and must arrive within BODY_TIMEOUT_S (60), "
            "else 408 and the connection is closed; one client address may hold MAX_CONNECTIONS_PER_CLIENT "
            "(128) connections per worker, more are refused with 429 (behind a reverse proxy every client has "
            "the proxy's address: raise it). Without API_KEYS on a non-loopback --host, a warning is printed."
        ),
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to listen on (0.0.0.0: all; set SPREADSHEETCODER_API_KEYS before opening it "
                        "to the network)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port")
    p.add_argument("--workers", type=int, default=1, help="worker processes, each with its own model")
    add_model_flag(p, default=argparse.SUPPRESS)  # suppressed: the help names the real default
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level")
    p.set_defaults(func=cmd_serve)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from service.config import Settings
    except ModuleNotFoundError as exc:
        print(f"spreadsheetcoder serve: needs the 'service' extra ({exc.name} is not installed): "
              "pip install 'spreadsheetcoder[service]' (from a clone: pip install -e '.[service]')", file=sys.stderr)
        return 2

    model = getattr(args, "model", None)  # suppressed default: absent unless given
    if model is not None:  # every worker process reads it (service/config.py)
        os.environ["SPREADSHEETCODER_MODEL"] = str(model)
    if not Settings().api_keys and not is_loopback(args.host):
        print(f"spreadsheetcoder serve: warning: {args.host}:{args.port} is reachable from the network without "
              "authentication; set SPREADSHEETCODER_API_KEYS (e.g. '[\"a-long-random-key\"]') to require "
              "'Authorization: Bearer <key>'", file=sys.stderr)
    # GuardedProtocol: deadlines for slow clients and a per-client connection cap (service/protocol.py)
    uvicorn.run("service.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, http="service.protocol:GuardedProtocol")
    return 0
