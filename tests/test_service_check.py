"""``POST /v1/check`` in process (TestClient): a planted mistake found and repaired, the answer the
library gives, formulas as the service shows them, and every bad input answered like ``/v1/fill``."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.routes.check import _public
from spreadsheetcoder.check import CheckFlag, load_checker
from spreadsheetcoder.xlsx.reader import read_workbook
from tests.support.service_support import (
    PLANTED_CELL,
    PLANTED_REPAIR,
    XLSX,
    assert_error,
    hostile_uploads,
    planted_totals_xlsx,
)

KEY = "check-key"
MAX_UPLOAD = 512 * 1024


@pytest.fixture(scope="module")
def client():
    settings = Settings(api_keys=[KEY], max_upload_bytes=MAX_UPLOAD)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield c


def upload(data: bytes, name: str = "book.xlsx") -> dict:
    return {"file": (name, data, XLSX)}


def test_check_flags_the_planted_range_end(client: TestClient) -> None:
    response = client.post("/v1/check", files=upload(planted_totals_xlsx()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"cells_checked", "min_confidence", "flags", "seconds"}
    assert body["cells_checked"] >= 4 and body["seconds"] >= 0
    assert body["min_confidence"] == load_checker().default_min_confidence
    flagged = {f["cell"]: f for f in body["flags"]}
    flag = flagged[f"Sheet1!{PLANTED_CELL}"]
    assert flag == {"cell": "Sheet1!D12", "sheet": "Sheet1", "row": 12, "col": 4, "formula": "=SUM(D2:D10)",
                    "value": None,  # openpyxl writes no cached values
                    "kind": "range_end", "confidence": flag["confidence"], "repair": PLANTED_REPAIR}
    assert body["min_confidence"] <= flag["confidence"] <= 1.0
    assert body["flags"][0]["cell"] == "Sheet1!D12"  # highest confidence first
    assert not {"Sheet1!B12", "Sheet1!C12", "Sheet1!E12"} & set(flagged)  # the right totals are left alone


def test_check_answers_what_the_library_finds_sheet_by_sheet(client: TestClient) -> None:
    """Sheets are checked one at a time on the inference thread; the answer is the library's whole-book check."""
    book = openpyxl.load_workbook(io.BytesIO(planted_totals_xlsx("Totals")))
    clean = openpyxl.load_workbook(io.BytesIO(planted_totals_xlsx("Clean", plant=False)))
    copy = book.create_sheet("Clean")
    for row in clean["Clean"].iter_rows(values_only=True):
        copy.append(row)
    second = book.create_sheet("Again")  # the planted mistake once more, on a third sheet
    for row in book["Totals"].iter_rows(values_only=True):
        second.append(row)
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    expected = load_checker().check(read_workbook(data), min_confidence=0.05).to_dict()
    response = client.post("/v1/check", files=upload(data), data={"min_confidence": "0.05"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["min_confidence"] == 0.05 and body["cells_checked"] == expected["cells_checked"]
    assert [{k: f[k] for k in expected["flags"][0]} for f in body["flags"]] == expected["flags"]
    assert {"Totals!D12", "Again!D12"} <= {f["cell"] for f in body["flags"]}
    only = client.post("/v1/check", files=upload(data), data={"sheets": " again , CLEAN", "min_confidence": "0.05"})
    assert only.status_code == 200, only.text
    assert {f["sheet"] for f in only.json()["flags"]} <= {"Again", "Clean"}
    assert "Again!D12" in {f["cell"] for f in only.json()["flags"]}
    assert only.json()["cells_checked"] < body["cells_checked"]


def test_formulas_are_shown_without_xlfn_prefixes() -> None:
    flag = CheckFlag(sheet="My Sheet", row=9, col=2, cell="'My Sheet'!B9", formula="=_xlfn.STDEV.S(B2:B7)",
                     value=1.5, kind="range_end", confidence=0.91234567, repair='=_xlfn.STDEV.S(B2:B8)&"_xlfn."')
    shown = _public(flag).model_dump()
    assert shown["formula"] == "=STDEV.S(B2:B7)" and shown["repair"] == '=STDEV.S(B2:B8)&"_xlfn."'
    assert shown["confidence"] == 0.9123 and (shown["sheet"], shown["row"], shown["col"]) == ("My Sheet", 9, 2)
    typed = _public(CheckFlag(sheet="S", row=3, col=3, cell="S!C3", formula=None, value=42, kind="hardcoded",
                              confidence=0.5, repair="=C1+C2"))
    assert typed.formula is None and typed.value == 42


@pytest.mark.parametrize("name", sorted(hostile_uploads()))
def test_bad_uploads_are_refused_like_fill(client: TestClient, name: str) -> None:
    data, status, code = hostile_uploads()[name]
    refused = assert_error(client.post("/v1/check", files=upload(data)), status, code)
    as_fill = assert_error(client.post("/v1/fill", files=upload(data), data={"cells": "A1"}), status, code)
    assert refused["code"] == as_fill["code"]


def test_empty_large_and_mistyped_uploads(client: TestClient) -> None:
    assert_error(client.post("/v1/check", files=upload(b"")), 422, "empty")
    assert_error(client.post("/v1/check", files=upload(b"\0" * (MAX_UPLOAD + 100 * 1024))), 413, "too_large")
    assert_error(client.post("/v1/check", json={"file": "x"}), 415, "unsupported_media_type")
    no_file = client.post("/v1/check", data={"min_confidence": "0.5"}, files={"note": ("n.txt", b"x", "text/plain")})
    assert "file" in assert_error(no_file, 422, "invalid_request")["message"]
    assert_error(client.post("/v1/check", files=upload(planted_totals_xlsx()), headers={"Authorization": ""}),
                 401, "missing_api_key")


@pytest.mark.parametrize("value", ["2", "-0.1", "abc", "nan"])
def test_bad_min_confidence_is_422(client: TestClient, value: str) -> None:
    error = assert_error(client.post("/v1/check", files=upload(planted_totals_xlsx()), data={"min_confidence": value}),
                         422, "invalid_request")
    assert "min_confidence" in error["message"]


def test_unknown_sheet_and_bad_text(client: TestClient) -> None:
    error = assert_error(client.post("/v1/check", files=upload(planted_totals_xlsx()), data={"sheets": "Sheet1,Nope"}),
                         422, "unknown_sheet")
    assert "Nope" in error["message"]
    assert_error(client.post("/v1/check", files=upload(planted_totals_xlsx()), data={"sheets": "Sheet\x001"}),
                 422, "bad_text")


def test_no_checker_is_503(client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    monkeypatch.setattr(engine, "_checker", None)
    monkeypatch.setattr(engine, "model_dir", tmp_path)  # a model folder without checker.txt/checker.json
    error = assert_error(client.post("/v1/check", files=upload(planted_totals_xlsx())), 503, "checker_unavailable")
    assert "checker" in error["message"]


def test_timeout_is_504_and_the_next_check_answers(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    settings = state.settings
    state.settings = settings.model_copy(update={"check_timeout_s": 1e-6})
    try:
        assert_error(client.post("/v1/check", files=upload(planted_totals_xlsx())), 504, "timeout")
    finally:
        state.settings = settings
    response = client.post("/v1/check", files=upload(planted_totals_xlsx()))
    assert response.status_code == 200 and response.json()["flags"][0]["cell"] == "Sheet1!D12"


def test_info_and_openapi_list_the_check(client: TestClient) -> None:
    assert client.get("/v1/info").json()["limits"]["check_timeout_s"] == 300.0
    schema = client.get("/openapi.json").json()
    post = schema["paths"]["/v1/check"]["post"]
    assert {"401", "413", "422", "503"} <= set(post["responses"])
    assert "CheckResponse" in schema["components"]["schemas"]
