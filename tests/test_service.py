"""The REST service in process (TestClient): conversion of grids, formulas as the add-in shows them,
the workbook cache, batching, timeouts, keys, fill, the OpenAPI schema and the task pane files."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
import xml.etree.ElementTree as ET
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.errors import ApiError
from service.grid import grid_workbook, local_formula, locale_separators, present
from service.schemas import SuggestRequest
from spreadsheetcoder.sheet import CellType
from spreadsheetcoder.version import __version__
from spreadsheetcoder.xlsx.reader import read_workbook
from tests.support.paths import SAMPLES
from tests.support.service_support import GRID, XLSX, assert_error, assert_suggestions

KEY = "in-process-key"


@pytest.fixture(scope="module")
def client():
    settings = Settings(api_keys=[KEY], max_grid_cells=5000, max_upload_bytes=512 * 1024, max_k=8)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield c


def engine_of(client: TestClient):
    return client.app.state.engine  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------ grid.py


def test_grid_workbook_types_and_placement() -> None:
    request = SuggestRequest(
        sheet="Data", address="C5", target="F9",
        values=[["Name", "When", "Amount", "Ok"], ["a", 45292, 1.5, True], ["#DIV/0!", None, "", False]],
        formulas=[["Name", "When", "Amount", "Ok"], ["a", 45292, "=1.5", True], ["=1/0", None, "", False]],
        number_formats=[["General"] * 4, ["General", "yyyy-mm-dd", "0.00", "General"], ["General"] * 4])
    workbook, target = grid_workbook(request, max_cells=100)
    sheet = workbook.sheets[0]
    assert target == (9, 6) and workbook.sheet_names == ["Data"]
    assert sheet.get(5, 3).value == "Name" and sheet.get(5, 3).type is CellType.STRING
    assert sheet.get(6, 4).type is CellType.DATE and sheet.get(6, 4).value == dt.datetime(2024, 1, 1)
    assert sheet.get(6, 5).formula == "=1.5" and sheet.get(6, 5).number_format == "0.00"
    assert sheet.get(6, 6).type is CellType.BOOL and sheet.get(6, 6).value is True
    assert sheet.get(7, 3).type is CellType.ERROR and sheet.get(7, 3).formula == "=1/0"
    assert sheet.get(7, 4) is None and sheet.get(7, 5) is None  # null and "" are empty cells
    assert (sheet.max_row, sheet.max_col) == (7, 6)


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"values": [[1, 2], [3]]}, 422, "bad_shape"),
    ({"values": [[]]}, 422, "bad_shape"),
    ({"values": []}, 422, "bad_shape"),
    ({"formulas": [[1]]}, 422, "bad_shape"),
    ({"number_formats": [["0"], ["0"]]}, 422, "bad_shape"),
    ({"values": [[0] * 11] * 10}, 413, "grid_too_large"),
    ({"address": "XFD1"}, 422, "bad_address"),
    ({"values": [[float("nan"), 1]]}, 422, "bad_value"),
])
def test_grid_workbook_refuses(change: dict, status: int, code: str) -> None:
    base = {"values": [[1, 2], [3, 4]], "target": "C3"}
    with pytest.raises(ApiError) as caught:
        grid_workbook(SuggestRequest(**{**base, **change}), max_cells=100)
    assert (caught.value.status, caught.value.code) == (status, code)


def test_locale_separators() -> None:
    assert locale_separators(None) == (".", ",")
    assert locale_separators("en-US") == (".", ",")
    assert locale_separators("de-DE") == (",", ";")
    assert locale_separators("fr") == (",", ";")
    assert locale_separators("de-CH") == (".", ";")
    assert locale_separators("es-MX") == (".", ",")
    assert locale_separators("pt_BR") == (",", ";")


def test_local_formula_changes_separators_and_decimals_only() -> None:
    text = '=IF(A1>0.5,ROUND(A1*1.25,2),"a,b 1.5")'
    assert local_formula(text, ",", ";") == '=IF(A1>0,5;ROUND(A1*1,25;2);"a,b 1.5")'
    assert local_formula("=SUM({1,2;3,4})", ",", ";") == "=SUM({1,2;3,4})"  # array constants keep en-US
    assert local_formula(text, ".", ";") == '=IF(A1>0.5;ROUND(A1*1.25;2);"a,b 1.5")'


def test_present_gives_sketch_ranges_and_display_text() -> None:
    shown = present("=_xlfn.CONCAT(B2,Inputs!$C$3:C9)*1.5", (4, 4), "de-DE")
    assert shown["formula"] == "=CONCAT(B2,Inputs!$C$3:C9)*1.5"
    assert shown["formula_local"] == "=CONCAT(B2;Inputs!$C$3:C9)*1,5"
    assert shown["sketch"] == "CONCAT( RANGE , RANGE ) * 1.5"
    assert shown["ranges"] == ["B2", "Inputs!$C$3:C9"]
    assert present("=SUM(B2:B3)", (4, 2), "en-GB")["formula_local"] is None


# ------------------------------------------------------------------------------------ endpoints


def test_suggest_grid(client: TestClient) -> None:
    response = client.post("/v1/suggest", json={**GRID, "locale": "de-DE"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_suggestions(body, 3)
    assert body["sheet"] == "Sales" and body["target"] == "D3" and body["context"] in ("values", "formulas")
    for s in body["suggestions"]:
        assert s["formula_local"] is not None and "," not in s["formula_local"].split('"')[0]


def test_suggest_caches_workbooks_by_content(client: TestClient) -> None:
    stats = engine_of(client).stats
    grid = {**GRID, "sheet": "CacheTest"}
    client.post("/v1/suggest", json=grid).raise_for_status()
    hits, misses = stats["cache_hits"], stats["cache_misses"]
    client.post("/v1/suggest", json={**grid, "target": "D5"}).raise_for_status()  # same sheet, another cell
    assert (stats["cache_hits"], stats["cache_misses"]) == (hits + 1, misses)
    changed = {**grid, "values": [row[:] for row in grid["values"]]}
    changed["values"][1][1] = 121
    client.post("/v1/suggest", json=changed).raise_for_status()  # different content: a new entry
    assert (stats["cache_hits"], stats["cache_misses"]) == (hits + 1, misses + 1)


def test_concurrent_suggestions_on_one_sheet_are_batched(client: TestClient) -> None:
    stats = engine_of(client).stats
    grid = {**GRID, "sheet": "BatchTest"}
    client.post("/v1/suggest", json=grid).raise_for_status()  # cache the sheet first
    batches, served = stats["batches"], stats["suggestions"]
    targets = [f"{col}{row}" for col in "DE" for row in range(2, 8)]
    with ThreadPoolExecutor(len(targets)) as pool:
        responses = list(pool.map(lambda t: client.post("/v1/suggest", json={**grid, "target": t}), targets))
    for target, response in zip(targets, responses, strict=True):
        assert response.status_code == 200 and response.json()["target"] == target
        assert_suggestions(response.json(), 3)
    assert stats["suggestions"] - served == len(targets)
    assert stats["batches"] - batches < len(targets)  # several requests shared a model call


def test_suggest_xlsx_and_sheets(client: TestClient) -> None:
    data = (SAMPLES / "sales.xlsx").read_bytes()
    response = client.post("/v1/sheets", files={"file": ("sales.xlsx", data, XLSX)})
    assert response.status_code == 200, response.text
    sheets = response.json()["sheets"]
    book = read_workbook(data)
    assert [s["name"] for s in sheets] == book.sheet_names
    first = book.sheets[0]
    (row, col), cell = next(((rc, c) for rc, c in sorted(first.cells.items()) if c.formula))
    assert sheets[0]["formulas"][row - 1][col - 1] == cell.formula
    response = client.post("/v1/suggest/xlsx", files={"file": ("sales.xlsx", data, XLSX)},
                           data={"cell": f"'{first.name}'!N5", "k": "2"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sheet"] == first.name and body["target"] == "N5"
    assert_suggestions(body, 2)
    other = client.post("/v1/suggest/xlsx", files={"file": ("sales.xlsx", data, XLSX)},
                        data={"cell": "B3", "sheet": book.sheet_names[1]})
    assert other.status_code == 200 and other.json()["sheet"] == book.sheet_names[1]


def test_fill_returns_the_filled_workbook_and_report(client: TestClient) -> None:
    data = (SAMPLES / "sales.xlsx").read_bytes()
    sheet = read_workbook(data).sheets[0]
    empty = next(f"N{r}" for r in range(2, 40) if sheet.get(r, 14) is None)
    cells = f"'{sheet.name}'!{empty},'{sheet.name}'!A1"
    response = client.post("/v1/fill", files={"file": ("sales.xlsx", data, XLSX)}, data={"cells": cells})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert 'filename="sales_filled.xlsx"' in response.headers["content-disposition"]
    report = json.loads(response.headers["x-fill-report"])
    statuses = {c["cell"]: c["status"] for c in report["cells"]}
    assert statuses[f"'{sheet.name}'!A1"] == "not_empty"
    filled = read_workbook(response.content)
    written = {c["cell"]: c["formula"] for c in report["cells"] if c["status"] == "filled"}
    for name, formula in written.items():
        address = name.rsplit("!", 1)[1]
        from spreadsheetcoder.references import parse_a1

        assert filled.sheets[0].get(*parse_a1(address)).formula == formula
    with zipfile.ZipFile(io.BytesIO(data)) as before, zipfile.ZipFile(io.BytesIO(response.content)) as after:
        assert set(before.namelist()) <= set(after.namelist())
    as_json = client.post("/v1/fill", files={"file": ("sales.xlsx", data, XLSX)},
                          data={"cells": cells, "response": "json"})
    assert as_json.status_code == 200 and as_json.json()["report"]["counts"]["not_empty"] == 1
    assert as_json.json()["filename"] == "sales_filled.xlsx"


@pytest.mark.parametrize(("cells", "code"), [("Nope!A1", "bad_cells"), ("A1:Z999", "bad_cells"), ("A1,,B2", "bad_cells")])
def test_fill_refuses_bad_cells(client: TestClient, cells: str, code: str) -> None:
    data = (SAMPLES / "sales.xlsx").read_bytes()
    response = client.post("/v1/fill", files={"file": ("sales.xlsx", data, XLSX)}, data={"cells": cells})
    assert_error(response, 422, code)


def test_keys(client: TestClient) -> None:
    assert_error(client.post("/v1/suggest", json=GRID, headers={"Authorization": ""}), 401, "missing_api_key")
    response = client.post("/v1/suggest", json=GRID, headers={"Authorization": "Bearer wrong"})
    assert_error(response, 401, "invalid_api_key")
    assert response.headers["www-authenticate"] == "Bearer"
    # The key is checked before the body is parsed: a malformed body without a key is a 401.
    bad = client.post("/v1/suggest", content=b"{", headers={"Authorization": "", "Content-Type": "application/json"})
    assert_error(bad, 401, "missing_api_key")
    assert client.get("/healthz", headers={"Authorization": ""}).status_code == 200
    info = client.get("/v1/info", headers={"Authorization": ""})
    assert info.status_code == 200 and info.json()["auth"] is True and info.json()["limits"]["max_k"] == 8


@pytest.mark.parametrize(("k", "status", "code"), [(0, 422, "k_out_of_range"), (9, 422, "k_out_of_range"),
                                                   (-3, 422, "k_out_of_range"), ("many", 422, "invalid_request")])
def test_k_out_of_range(client: TestClient, k: object, status: int, code: str) -> None:
    assert_error(client.post("/v1/suggest", json={**GRID, "k": k}), status, code)


def test_validation_errors_have_the_error_shape(client: TestClient) -> None:
    error = assert_error(client.post("/v1/suggest", json={"values": [[1]]}), 422, "invalid_request")
    assert "target" in error["message"] and error["details"]
    assert_error(client.post("/v1/suggest", json={**GRID, "surprise": 1}), 422, "invalid_request")
    assert_error(client.post("/v1/suggest", json={**GRID, "target": "A0"}), 422, "bad_address")
    assert_error(client.post("/v1/suggest", json={**GRID, "locale": "not a locale"}), 422, "invalid_request")
    assert_error(client.post("/v1/suggest", content=b"[1,", headers={"Content-Type": "application/json"}),
                 400, "malformed_json")
    assert_error(client.get("/v1/suggest"), 405, "method_not_allowed")
    assert_error(client.get("/v1/nothing"), 404, "not_found")


def test_request_timeout_answers_504_and_the_worker_goes_on() -> None:
    with TestClient(create_app(Settings(request_timeout_s=0.001))) as c:
        assert_error(c.post("/v1/suggest", json=GRID), 504, "timeout")
        assert c.get("/healthz").status_code == 200
        engine = c.app.state.engine  # type: ignore[attr-defined]
        engine.settings = Settings(request_timeout_s=60)  # the same engine answers once there is time
        c.app.state.settings = engine.settings  # type: ignore[attr-defined]
        response = c.post("/v1/suggest", json=GRID)
        assert response.status_code == 200, response.text
        assert_suggestions(response.json(), 3)


def _empty_column(data: bytes, rows: int) -> tuple[str, int]:
    """A fill request of ``rows`` empty cells (a column right of the first sheet's data) and its size."""
    sheet = read_workbook(data).sheets[0]
    col = sheet.max_col + 2
    from spreadsheetcoder.references import column_letter, quote_sheet

    letter = column_letter(col)
    return f"{quote_sheet(sheet.name)}!{letter}2:{letter}{rows + 1}", rows


def test_timed_out_fill_frees_the_worker() -> None:
    """A fill that runs out of time answers 504 and queues no further work; suggestions answer after it."""
    data = (SAMPLES / "sales.xlsx").read_bytes()
    cells, _ = _empty_column(data, 600)
    with TestClient(create_app(Settings(fill_timeout_s=3, fill_slice_s=0.05, max_fill_cells=2000))) as c:
        engine = engine_of(c)
        response = c.post("/v1/fill", files={"file": ("sales.xlsx", data, XLSX)}, data={"cells": cells})
        assert_error(response, 504, "timeout")
        assert 0 < engine.stats["bulk_cells"] < 600  # the fill had started and was stopped part way
        c.post("/v1/suggest", json=GRID).raise_for_status()  # answered: the slice in progress has finished
        slices = engine.stats["bulk_slices"]
        c.post("/v1/suggest", json={**GRID, "target": "D5"}).raise_for_status()
        assert engine.stats["bulk_slices"] == slices and engine.describe()["queued_bulk"] == 0


def test_suggestions_are_answered_between_the_slices_of_a_fill() -> None:
    """While a long fill runs, a suggestion on another workbook is answered before the fill ends."""
    data = (SAMPLES / "sales.xlsx").read_bytes()
    cells, _ = _empty_column(data, 60)
    with TestClient(create_app(Settings(fill_slice_s=0.05, max_fill_cells=2000))) as c:
        engine = engine_of(c)
        with ThreadPoolExecutor(1) as pool:
            fill = pool.submit(c.post, "/v1/fill", files={"file": ("sales.xlsx", data, XLSX)},
                               data={"cells": cells, "min_confidence": 0.0})
            while engine.stats["bulk_slices"] == 0 and not fill.done():
                time.sleep(0.05)
            response = c.post("/v1/suggest", json={**GRID, "sheet": "Between"})
            assert response.status_code == 200, response.text
            assert not fill.done()  # the fill was still running when the suggestion came back
            assert fill.result().status_code == 200
        assert engine.stats["bulk_cells"] == 60


def test_workbook_cache_is_bounded_by_memory() -> None:
    """Cells and encodings count against ``cache_mb``: the least recently used workbook goes first, and
    one that alone is over the budget answers its request and is not kept."""
    with TestClient(create_app(Settings(cache_mb=64))) as c:
        engine = engine_of(c)
        c.post("/v1/suggest", json={**GRID, "sheet": "One"}).raise_for_status()
        one = engine.describe()["cached_mb"]
        assert engine.describe()["cached_workbooks"] == 1 and one > 0  # cells and encodings are counted
        engine.settings = Settings(cache_mb=one * 1.5)
        c.post("/v1/suggest", json={**GRID, "sheet": "Two"}).raise_for_status()  # the first one is dropped
        assert engine.describe()["cached_workbooks"] == 1 and engine.stats["cache_evictions"] == 1
        assert engine.describe()["cached_mb"] <= one * 1.5
        engine.settings = Settings(cache_mb=one / 2)
        response = c.post("/v1/suggest", json={**GRID, "sheet": "Three"})  # over the whole budget alone
        assert response.status_code == 200, response.text
        assert engine.describe()["cached_workbooks"] == 0 and engine.describe()["cached_mb"] == 0


def test_idle_workbooks_leave_the_cache() -> None:
    with TestClient(create_app(Settings(cache_idle_s=0.4))) as c:
        engine = engine_of(c)
        c.post("/v1/suggest", json={**GRID, "sheet": "Idle"}).raise_for_status()
        deadline = time.monotonic() + 10
        while engine.describe()["cached_workbooks"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert engine.describe()["cached_workbooks"] == 0 and engine.stats["cache_evictions"] == 1


def test_errors_are_logged_once_with_the_request_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="service.requests")
    response = client.post("/v1/suggest", json={**GRID, "k": 99}, headers={"X-Request-ID": "probe-1"})
    assert_error(response, 422, "k_out_of_range")
    assert response.headers["x-request-id"] == "probe-1"
    lines = [r.getMessage() for r in caplog.records if "probe-1" in r.getMessage()]
    assert len(lines) == 1 and "422 k_out_of_range" in lines[0] and not caplog.records[-1].exc_info
    fresh = client.get("/healthz", headers={"X-Request-ID": "not a token!"}).headers["x-request-id"]
    assert fresh != "not a token!" and len(fresh) == 16  # a new id when the client's is not a plain token


def test_a_bug_is_a_json_500_with_one_traceback(client: TestClient, caplog: pytest.LogCaptureFixture,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from spreadsheetcoder.suggest import Suggester

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the pipeline")

    with monkeypatch.context() as patch:
        patch.setattr(Suggester, "predict_targets", broken)  # the per-workbook views are Suggesters
        caplog.clear()
        response = client.post("/v1/suggest", json={**GRID, "sheet": "Bug"}, headers={"X-Request-ID": "bug-1"})
    error = assert_error(response, 500, "internal_error")
    assert "bug-1" in error["message"] and response.headers["x-request-id"] == "bug-1"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "bug-1" in tracebacks[0].getMessage()
    assert client.post("/v1/suggest", json={**GRID, "sheet": "Bug"}).status_code == 200  # the service goes on


def test_openapi_schema_documents_endpoints_examples_and_errors(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/v1/suggest", "/v1/suggest/xlsx", "/v1/fill", "/v1/sheets"):
        assert "post" in paths[path] and "401" in paths[path]["post"]["responses"], path
    assert "get" in paths["/healthz"] and "get" in paths["/v1/info"]
    components = schema["components"]["schemas"]
    assert components["SuggestRequest"]["examples"][0]["target"] == "D3"
    assert "ErrorResponse" in components
    assert any("HTTPBearer" in s for s in schema["components"]["securitySchemes"])


def test_task_pane_and_manifest(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script src=\"https://" not in page.text  # Office.js is never loaded by the page itself
    assert 'data-office-js="https://appsforoffice.microsoft.com/' in page.text
    script = client.get("/static/taskpane.js")
    assert script.status_code == 200 and "_host_Info" in script.text and "range.formulas" not in script.text.split("//")[0]
    manifest = client.get("/addin/manifest.xml")
    assert manifest.status_code == 200
    root = ET.fromstring(manifest.content)
    ns = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1"}
    source = root.find("o:DefaultSettings/o:SourceLocation", ns)
    assert source is not None and source.get("DefaultValue", "").endswith("/?host=office")
    assert root.find("o:Hosts/o:Host", ns).get("Name") == "Workbook"
    # The manifest is sideloaded as a file, so it writes the version itself: pyproject.toml's, plus a 4th part.
    assert root.findtext("o:Version", namespaces=ns) == f"{__version__}.0"
