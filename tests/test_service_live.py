"""The REST service over real HTTP: uvicorn on a free localhost port (tests/support/service_support.py),
every endpoint, every bad input (4xx with the JSON error body, never a 500, never a hung worker),
and a bounded schemathesis run against /openapi.json."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from spreadsheetcoder.xlsx.reader import read_workbook
from tests.support.paths import ROOT, SAMPLES
from tests.support.service_support import (  # noqa: F401  (live_server is a fixture)
    GRID,
    LIVE_ENV,
    XLSX,
    LiveServer,
    assert_error,
    assert_suggestions,
    free_port,
    hostile_uploads,
    live_server,
    wait_until_loaded,
)

TIMEOUT = httpx.Timeout(120.0)
RSS_LIMIT = 1536 * 1024 * 1024


@pytest.fixture(scope="module")
def http(live_server: LiveServer):  # noqa: F811
    with httpx.Client(base_url=live_server.url, headers=live_server.auth, timeout=TIMEOUT) as client:
        yield client


def sales() -> bytes:
    return (SAMPLES / "sales.xlsx").read_bytes()


# ------------------------------------------------------------------------------------ endpoints


def test_healthz_and_info(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok", "model_loaded": True}
    info = http.get("/v1/info", headers={"Authorization": ""}).json()
    assert info["auth"] is True and info["version"] and info["model"]
    assert info["limits"]["max_upload_bytes"] == int(LIVE_ENV["SPREADSHEETCODER_MAX_UPLOAD_BYTES"])
    assert info["context"] in ("values", "formulas")


def test_suggest(http: httpx.Client) -> None:
    response = http.post("/v1/suggest", json={**GRID, "locale": "fr-FR"})
    assert response.status_code == 200, response.text
    assert_suggestions(response.json(), GRID["k"])
    assert all(s["formula_local"] is not None for s in response.json()["suggestions"])


def test_suggest_xlsx(http: httpx.Client) -> None:
    response = http.post("/v1/suggest/xlsx", files={"file": ("sales.xlsx", sales(), XLSX)},
                         data={"cell": "N6", "k": "4", "context": "formulas"})
    assert response.status_code == 200, response.text
    assert response.json()["context"] == "formulas"
    assert_suggestions(response.json(), 4)


def test_sheets(http: httpx.Client) -> None:
    response = http.post("/v1/sheets", files={"file": ("sales.xlsx", sales(), XLSX)})
    assert response.status_code == 200
    assert [s["name"] for s in response.json()["sheets"]] == read_workbook(sales()).sheet_names


def test_fill(http: httpx.Client) -> None:
    sheet = read_workbook(sales()).sheets[0]
    spec = f"'{sheet.name}'!N21:N22"
    response = http.post("/v1/fill", files={"file": ("sales.xlsx", sales(), XLSX)}, data={"cells": spec})
    assert response.status_code == 200, response.text
    report = json.loads(response.headers["x-fill-report"])
    assert len(report["cells"]) == 2 and sum(report["counts"].values()) == 2
    filled = read_workbook(response.content).sheets[0]
    for item in report["cells"]:
        if item["status"] == "filled":
            from spreadsheetcoder.references import parse_a1

            assert filled.get(*parse_a1(item["cell"].rsplit("!", 1)[1])).formula == item["formula"]
    as_json = http.post("/v1/fill", files={"file": ("sales.xlsx", sales(), XLSX)},
                        data={"cells": spec, "response": "json", "min_confidence": "1"})
    body = as_json.json()
    assert as_json.status_code == 200 and body["report"]["min_confidence"] == 1.0
    assert all(c["status"] != "filled" for c in body["report"]["cells"])  # nothing is that sure
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(body["xlsx_base64"]))) as package:
        assert package.testzip() is None


def test_concurrent_clients_all_answered(http: httpx.Client) -> None:
    targets = [f"D{r}" for r in range(2, 10)]
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda t: http.post("/v1/suggest", json={**GRID, "target": t}), targets))
    assert [r.status_code for r in responses] == [200] * len(targets)


# ------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("name", list(hostile_uploads()))
@pytest.mark.parametrize("path", ["/v1/suggest/xlsx", "/v1/fill", "/v1/sheets"])
def test_hostile_uploads(http: httpx.Client, live_server: LiveServer, path: str, name: str) -> None:  # noqa: F811
    data, status, code = hostile_uploads()[name]
    fields = {"/v1/suggest/xlsx": {"cell": "A1"}, "/v1/fill": {"cells": "A1"}, "/v1/sheets": {}}[path]
    response = http.post(path, files={"file": (f"{name}.xlsx", data, XLSX)}, data=fields)
    assert_error(response, status, code)
    assert live_server.peak_rss_bytes() < RSS_LIMIT  # bombs are refused without inflating them


def test_upload_over_the_limit(http: httpx.Client) -> None:
    big = b"PK" + b"\0" * (int(LIVE_ENV["SPREADSHEETCODER_MAX_UPLOAD_BYTES"]) + 128 * 1024)
    for path in ("/v1/suggest/xlsx", "/v1/fill", "/v1/sheets"):
        assert_error(http.post(path, files={"file": ("big.xlsx", big, XLSX)}, data={"cell": "A1"}), 413, "too_large")


def test_streamed_body_over_the_limit(http: httpx.Client) -> None:
    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    response = http.post("/v1/suggest", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(response, 413, "too_large")


def test_huge_grid(http: httpx.Client) -> None:
    grid = {**GRID, "values": [[1] * 150] * 150, "formulas": None}  # 22,500 cells > 20,000
    assert_error(http.post("/v1/suggest", json=grid), 413, "grid_too_large")


@pytest.mark.parametrize(("body", "status", "code"), [
    (b'{"values": [[1, 2]], "target": ', 400, "malformed_json"),
    (b"\xff\xfe not json", 400, "malformed_json"),
    (b"[]", 422, "invalid_request"),
    (b'{"values": [[1, 2], [3]], "target": "C3"}', 422, "bad_shape"),
    (b'{"values": [1, 2], "target": "C3"}', 422, "invalid_request"),
    (b'{"values": [[{"a": 1}]], "target": "C3"}', 422, "invalid_request"),
    (b'{"values": [[1]], "formulas": [[1], [2]], "target": "C3"}', 422, "bad_shape"),
    (b'{"values": [[1]], "target": "C3", "k": 0}', 422, "k_out_of_range"),
    (b'{"values": [[1]], "target": "C3", "k": 11}', 422, "k_out_of_range"),
    (b'{"values": [[1]], "target": "C3", "context": "vibes"}', 422, "invalid_request"),
    (b'{"values": [[1]], "target": "nowhere"}', 422, "invalid_request"),
    (b'{"values": [[1]], "target": "C3", "sheet": "a/b"}', 422, "invalid_request"),
])
def test_bad_json_bodies(http: httpx.Client, body: bytes, status: int, code: str) -> None:
    assert_error(http.post("/v1/suggest", content=body, headers={"Content-Type": "application/json"}), status, code)


def test_wrong_content_types(http: httpx.Client) -> None:
    assert_error(http.post("/v1/suggest", content=b"values=1", headers={"Content-Type": "text/plain"}),
                 415, "unsupported_media_type")
    assert_error(http.post("/v1/suggest", files={"file": ("a.xlsx", sales(), XLSX)}), 415, "unsupported_media_type")
    for path in ("/v1/suggest/xlsx", "/v1/fill", "/v1/sheets"):
        assert_error(http.post(path, json={"cell": "A1"}), 415, "unsupported_media_type")
    broken = http.post("/v1/suggest/xlsx", content=b"--x\r\nbroken",
                       headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert_error(broken, broken.status_code)  # python-multipart reads it as an empty form: a JSON 4xx
    assert broken.status_code in (400, 422)
    assert_error(http.post("/v1/suggest/xlsx", content=b"x", headers={"Content-Type": "multipart/form-data"}),
                 400, "malformed_multipart")  # no boundary


def test_bad_form_fields(http: httpx.Client) -> None:
    file = {"file": ("sales.xlsx", sales(), XLSX)}
    assert_error(http.post("/v1/suggest/xlsx", files=file, data={"cell": "A1", "k": "99"}), 422, "k_out_of_range")
    assert_error(http.post("/v1/suggest/xlsx", files=file, data={"cell": "A1", "k": "x"}), 422, "invalid_request")
    assert_error(http.post("/v1/suggest/xlsx", files=file, data={"cell": "Q"}), 422, "bad_address")
    assert_error(http.post("/v1/suggest/xlsx", files=file, data={"cell": "A1", "sheet": "Nope"}), 422, "unknown_sheet")
    assert_error(http.post("/v1/suggest/xlsx", files=file), 422, "invalid_request")  # no cell
    assert_error(http.post("/v1/suggest/xlsx", data={"cell": "A1"}, files={"other": ("x", b"x")}), 422, "invalid_request")
    assert_error(http.post("/v1/suggest/xlsx", files={"file": ("e.xlsx", b"", XLSX)}, data={"cell": "A1"}), 422, "empty")
    assert_error(http.post("/v1/fill", files=file, data={"cells": "A1:Z99"}), 422, "bad_cells")  # over 200 cells
    assert_error(http.post("/v1/fill", files=file, data={"cells": "A1", "min_confidence": "2"}), 422, "invalid_request")


def test_api_keys(live_server: LiveServer) -> None:  # noqa: F811
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as anonymous:
        for path in ("/v1/suggest", "/v1/suggest/xlsx", "/v1/fill", "/v1/sheets"):
            assert_error(anonymous.post(path, json=GRID), 401, "missing_api_key")
            assert_error(anonymous.post(path, json=GRID, headers={"Authorization": "Bearer nope"}), 401, "invalid_api_key")
            assert_error(anonymous.post(path, json=GRID, headers={"Authorization": f"Basic {live_server.key}"}),
                         401, "missing_api_key")
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/").status_code == 200


def test_errors_never_hang_the_worker(http: httpx.Client) -> None:
    """After every bad input above (and these, together), the worker still answers quickly."""
    bad = [lambda: http.post("/v1/suggest", content=b"{", headers={"Content-Type": "application/json"}),
           lambda: http.post("/v1/sheets", files={"file": ("b.xlsx", hostile_uploads()["zip_bomb"][0], XLSX)}),
           lambda: http.post("/v1/suggest", json={**GRID, "k": 0})]
    with ThreadPoolExecutor(6) as pool:
        statuses = [f.result().status_code for f in [pool.submit(call) for call in bad * 2]]
    assert all(400 <= s < 500 for s in statuses), statuses
    assert http.get("/healthz", timeout=5).status_code == 200
    assert http.post("/v1/suggest", json=GRID).status_code == 200


# ------------------------------------------------------------------------------------ schemathesis


def test_schemathesis_finds_no_server_error(live_server: LiveServer) -> None:  # noqa: F811
    """Property-based requests built from /openapi.json (valid and invalid), bounded: none is a 5xx."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    failures: list[str] = []
    calls = 0

    def explore(operation, mode) -> None:
        checks = [not_a_server_error]
        if mode is GenerationMode.POSITIVE:  # valid requests must also get documented answers
            checks += [status_code_conformance, response_schema_conformance]

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=20, deadline=None, phases=[Phase.generate], derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        def run(case) -> None:
            nonlocal calls
            calls += 1
            try:
                case.call_and_validate(base_url=live_server.url, headers=live_server.auth, timeout=60, checks=checks)
            except Exception as exc:  # collect all, report together
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:600]}")

        run()

    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                explore(result.ok(), mode)
            except Unsatisfiable:  # GET endpoints without parameters have nothing to make invalid
                assert mode is GenerationMode.NEGATIVE and result.ok().method.upper() == "GET"
    print(f"schemathesis: {calls} requests, {len(failures)} failures")
    assert calls >= 100
    assert not failures, "\n\n".join(failures[:5])


def test_cli_serve_runs_the_service() -> None:
    """``spreadsheetcoder serve`` starts uvicorn with the app: the page, health and a suggestion answer."""
    import os
    import subprocess
    import sys

    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SPREADSHEETCODER_API")}
    process = subprocess.Popen([sys.executable, "-m", "spreadsheetcoder", "serve", "--port", str(port),
                                "--log-level", "warning"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_loaded(process, url, lambda: process.stdout.read().decode() if process.stdout else "", 120)
        assert httpx.get(f"{url}/", timeout=10).status_code == 200
        response = httpx.post(f"{url}/v1/suggest", json=GRID, timeout=60)
        assert response.status_code == 200, response.text
        assert_suggestions(response.json(), GRID["k"])
    finally:
        process.terminate()
        process.wait(timeout=20)
