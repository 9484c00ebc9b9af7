"""The service under hostile input: text that is not valid Unicode (lone surrogates, NUL) is refused
with 422 ``bad_text`` naming the field and cell, and property-based fuzzing of the JSON body of
``/v1/suggest`` and of the form fields of ``/v1/suggest/xlsx`` and ``/v1/fill`` never gets a 500.

One in-process app with the shipped model for the module; hypothesis runs derandomized, without an
example database, with bounded examples, so the file takes about a minute on two cores."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from service.app import create_app
from service.config import Settings
from service.errors import ApiError
from service.text import check_grid_text, check_text
from tests.support.paths import SAMPLES
from tests.support.service_support import assert_error

SETTINGS = Settings(max_grid_cells=400, max_fill_cells=12, max_upload_bytes=512 * 1024, max_k=8)
SALES = (SAMPLES / "sales.xlsx").read_bytes()
BOUNDARY = "fuzz-boundary-7d1f"
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

BASE: dict[str, Any] = {
    "sheet": "Sales",
    "values": [["Region", "Q1", "Q2", "Total"], ["North", 120, 135, 255], ["South", 98, 110, None]],
    "formulas": [["Region", "Q1", "Q2", "Total"], ["North", 120, 135, "=SUM(B2:C2)"], ["South", 98, 110, ""]],
    "target": "D3",
    "k": 2,
}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(SETTINGS), raise_server_exceptions=False) as c:
        yield c


def post_json(client: TestClient, body: Any) -> httpx.Response:
    """``body`` as JSON text: lone surrogates go as ``\\ud800`` escapes, NaN and Infinity as Python writes them."""
    return client.post("/v1/suggest", content=json.dumps(body), headers={"content-type": "application/json"})


def multipart(fields: dict[str, bytes], *, charset: str | None = None, filename: bytes = b"sales.xlsx",
              file: bytes = SALES) -> tuple[bytes, str]:
    """A multipart body built by hand, so field values can be any bytes (httpx encodes text as UTF-8,
    which a lone surrogate has no form in); ``charset`` goes on the Content-Type, where Starlette
    reads it to decode the fields (``utf-7`` turns ``+2AA-`` into U+D800)."""
    parts = [b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n'
             + value + b"\r\n" for name, value in fields.items()]
    parts.append(b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="file"; filename="' + filename
                 + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + file + b"\r\n")
    content_type = f"multipart/form-data; boundary={BOUNDARY}" + (f"; charset={charset}" if charset else "")
    return b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n", content_type


def post_form(client: TestClient, path: str, fields: dict[str, bytes], **options: Any) -> httpx.Response:
    body, content_type = multipart(fields, **options)
    return client.post(path, content=body, headers={"content-type": content_type})


def assert_answer(response: httpx.Response) -> str:
    """No 5xx; an error has the service's one shape; a JSON answer is valid UTF-8 JSON. Returns the
    status and error code (``422 bad_text``), for ``hypothesis.event``."""
    assert response.status_code < 500, response.text
    kind = response.headers.get("content-type", "")
    if response.status_code >= 400:
        assert kind.startswith("application/json"), kind
        error = response.json()["error"]
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"]
        return f"{response.status_code} {error['code']}"
    if kind.startswith("application/json"):
        response.json()
    return str(response.status_code)


# ---------------------------------------------------------------------------------------- service/text.py


@pytest.mark.parametrize(("text", "where"), [
    ("a\ud800", "lone surrogate U+D800 at position 1"),
    ("\udfffz", "lone surrogate U+DFFF at position 0"),
    ("ab\x00", "NUL character at position 2"),
    ("\x0b", "control character U+000B at position 0"),
    ("x\x1f", "control character U+001F at position 1"),
])
def test_check_text_names_field_character_and_position(text: str, where: str) -> None:
    with pytest.raises(ApiError) as caught:
        check_text(text, "sheet")
    assert (caught.value.status, caught.value.code) == (422, "bad_text")
    assert caught.value.message.startswith(f"sheet: {where}")
    caught.value.message.encode("ascii")  # the character itself is never echoed


@pytest.mark.parametrize("text", ["", "plain", "tab\there", "lines\r\nand\nmore", "é€😀\ufffd\uffff", "\U0010ffff"])
def test_check_text_keeps_valid_text(text: str) -> None:
    assert check_text(text, "values") is text


def test_check_grid_text_names_the_cell() -> None:
    check_grid_text(None, "formulas")
    check_grid_text([[1, None, "a\nb", True]], "values")
    with pytest.raises(ApiError) as caught:
        check_grid_text([["ok", 1], [2.5, "ok"], [None, "bad\x00"]], "values")
    assert caught.value.message.startswith("values[2][1]: NUL character at position 3")


# ---------------------------------------------------------------------------------------- /v1/suggest: 422


@pytest.mark.parametrize(("change", "field"), [
    ({"values": [["Region\ud800", "Q1"], ["North", 1]], "formulas": None, "target": "B3"}, "values[0][0]"),
    ({"values": [["Region", "Q1"], ["No\x00rth", 1]], "formulas": None, "target": "B3"}, "values[1][0]"),
    ({"formulas": [["Region", "Q1", "Q2", "Total"], ["North", 120, 135, '="\udc00"'], ["South", 98, 110, ""]],
      "context": "formulas"}, "formulas[1][3]"),
    ({"formulas": [["Region", "Q1", "Q2", "Total"], ["North", 120, 135, "=SUM(B2:C2)\x01"], ["South", 98, 110, ""]],
      "context": "formulas"}, "formulas[1][3]"),
    ({"number_formats": [[None] * 4, [None, "0.00\ud800", None, None], [None] * 4]}, "number_formats[1][1]"),
    ({"sheet": "Sa\ud800les"}, "sheet"),
    ({"sheet": "Sa\x00les"}, "sheet"),
    ({"target": "D\ud8003"}, "target"),
    ({"address": "\x00A1"}, "address"),
    ({"locale": "de-\udfffDE"}, "locale"),
])
def test_suggest_refuses_text_that_is_not_unicode(client: TestClient, change: dict, field: str) -> None:
    response = post_json(client, {**BASE, **change})
    error = assert_error(response, 422, "bad_text")
    assert error["message"].startswith(f"{field}: ")
    assert "surrogate" in error["message"] or "character" in error["message"]


def test_suggest_refuses_a_surrogate_sent_as_raw_bytes(client: TestClient) -> None:
    """Invalid UTF-8 (the 3-byte form of U+D800): Python's json reads it with surrogatepass."""
    body = b'{"values": [["a\xed\xa0\x80", 1], ["b", 2]], "target": "B3"}'
    response = client.post("/v1/suggest", content=body, headers={"content-type": "application/json"})
    assert_error(response, 422, "bad_text")


def test_suggest_takes_tabs_newlines_and_astral_text(client: TestClient) -> None:
    values = [["Re\tgion", "Q1"], ["North\r\nEast 😀", 1], ["Süd \ufffd", 2]]
    response = post_json(client, {**BASE, "values": values, "formulas": None, "target": "B4"})
    assert response.status_code == 200, response.text


def test_suggest_refuses_an_integer_no_cell_can_hold(client: TestClient) -> None:
    response = post_json(client, {**BASE, "values": [["a", 10**400], ["b", 2]], "formulas": None, "target": "B3"})
    assert_error(response, 422, "bad_value")


# ---------------------------------------------------------------------------------------- /v1/suggest: fuzz


def mostly(valid: st.SearchStrategy[Any], odd: st.SearchStrategy[Any], one_in: int = 8) -> st.SearchStrategy[Any]:
    """``valid`` draws, and ``odd`` ones about once in ``one_in``: most requests get past validation
    (odd is the largest integer drawn, since hypothesis favours and shrinks towards 0)."""
    return st.integers(0, one_in - 1).flatmap(lambda n: odd if n == one_in - 1 else valid)


HOSTILE = ["\ud800", "\udbff", "\udc00", "\udfff", "\x00", "\x01", "\x0b", "\x1f", "\x7f", "\t", "\n", "\r",
           "\ufffe", "\uffff", "\ufffd", "\u202e", "\u0301", "é", "€", "😀", "'", '"', "!", "=", "#", "$"]
# Any code point, surrogates included (no filter: st.characters() draws from the whole range).
any_texts = st.text(st.one_of(st.characters(), st.sampled_from(HOSTILE)), max_size=10)
clean_texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=8)
texts = mostly(clean_texts, any_texts, one_in=30)  # a grid of ~15 cells: about 1 in 2 holds an odd one
numbers = st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e9, 1e9), mostly(
    st.floats(allow_nan=False, allow_infinity=False),
    st.one_of(st.integers(-(10**400), 10**400), st.floats(allow_nan=True, allow_infinity=True),
              st.sampled_from([1e308, -5e-324, 2958465.9, 10**309])), one_in=20))
cells = st.one_of(st.none(), st.booleans(), numbers, numbers, texts,
                  st.sampled_from(["", "Total", "North", "#DIV/0!", "#N/A", "TRUE"]))
formula_cells = st.one_of(cells, texts.map(lambda t: "=" + t),
                          st.sampled_from(["=SUM(A1:A3)", "=A1+B1", "=B2*2", "=VLOOKUP(A1,B:C,2,0)", "=", "=((",
                                           '="a\ud800"', "=A1\x00"]))
format_cells = st.one_of(st.none(), st.sampled_from(["General", "0.00", "0%", "yyyy-mm-dd", "[h]:mm", "@"]), texts)
a1 = st.builds(lambda col, row: f"{col}{row}", st.sampled_from(["A", "B", "C", "D", "E", "F"]), st.integers(1, 8))
addresses = mostly(a1, st.one_of(
    st.builds(lambda col, row: f"{col}{row}", st.sampled_from(["$A", "XFD", "XFE", "AAAA"]), st.integers(0, 1_048_577)),
    st.sampled_from(["$A$1", "Sheet1!A1", "A1:B2", "", " A1", "a1"]), any_texts))


@st.composite
def suggest_bodies(draw: st.DrawFn) -> Any:
    """Mostly-valid bodies of /v1/suggest with odd parts: text from the whole code point range
    (lone surrogates, NUL), huge and non-finite numbers, ragged or empty grids, shapes that do not
    match, every optional field present or not and now and then of the wrong type, unknown keys,
    missing required keys, and now and then no object at all."""
    rows, cols = draw(mostly(st.tuples(st.integers(1, 6), st.integers(1, 5)),
                             st.tuples(st.integers(0, 7), st.integers(0, 7)), one_in=10))

    def grid(cell: st.SearchStrategy[Any]) -> st.SearchStrategy[list[list[Any]]]:
        rectangle = st.lists(st.lists(cell, min_size=cols, max_size=cols), min_size=rows, max_size=rows)
        return mostly(rectangle, st.lists(st.lists(cell, max_size=4), max_size=4), one_in=10)

    body: dict[str, Any] = {"values": draw(grid(cells)), "target": draw(addresses)}
    optional = {
        "formulas": mostly(grid(formula_cells), st.none()),
        "number_formats": mostly(grid(format_cells), st.none()),
        "address": addresses,
        "sheet": mostly(st.sampled_from(["Sheet1", "Sales", "Q1 'Plan' v2", "Ümsätze 2024"]),
                        st.one_of(st.sampled_from(["x" * 32, "'a", "a/b"]), any_texts)),
        "k": mostly(st.one_of(st.none(), st.integers(1, 8)), st.one_of(st.integers(-3, 40), st.floats(), any_texts)),
        "context": mostly(st.one_of(st.none(), st.sampled_from(["values", "formulas"])), any_texts),
        "locale": mostly(st.one_of(st.none(), st.sampled_from(["de-DE", "en-US", "fr", "de-CH", "pt_BR", "xx-YY"])),
                         any_texts),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            body[name] = draw(strategy)
    odd = draw(st.integers(0, 19))  # 0 (valid) is what hypothesis favours
    if odd == 19:
        body.update(draw(st.dictionaries(any_texts, cells, min_size=1, max_size=2)))  # unknown keys
    elif odd == 18:
        body.pop(draw(st.sampled_from(["values", "target"])))
    elif odd == 17:
        return draw(st.one_of(cells, st.lists(cells, max_size=3)))  # not an object
    return body


@settings(FUZZ, max_examples=100)
@given(body=suggest_bodies())
def test_fuzz_suggest_json_never_500(client: TestClient, body: Any) -> None:
    event(assert_answer(post_json(client, body)))


# ---------------------------------------------------------------------------------------- multipart: fuzz

field_bytes = st.one_of(
    st.binary(max_size=12),
    texts.map(lambda t: t.encode("utf-8", "surrogatepass")),  # invalid UTF-8 where a surrogate is
    st.sampled_from([b"+2AA-", b"\\ud800", b"\xed\xa0\x80", b"\x00", b"\xff\xfe", b""]),
)
charsets = mostly(st.none(), st.sampled_from(["utf-8", "utf-7", "unicode_escape", "latin-1", "utf-16", "no-such-codec"]),
                  one_in=3)


def form(valid: list[bytes]) -> st.SearchStrategy[bytes]:
    return mostly(st.sampled_from(valid), field_bytes, one_in=5)


@settings(FUZZ, max_examples=40)
@given(cell=mostly(form([b"B13", b"O4", b"Orders!J9", b"'Regional Sales'!N11", b"B+2AA-7", b"+2AA-!B7",
                         b"XFD1048576", b"A0"]), st.none()),
       sheet=st.one_of(st.none(), form([b"Orders", b"Regional Sales", b"orders", b"+2AA-", b"Nope"])),
       k=st.one_of(st.none(), form([b"1", b"3", b"0", b"99", b"1.5", b"+2AA-"])),
       context=st.one_of(st.none(), form([b"values", b"formulas", b"+2AA-"])),
       locale=st.one_of(st.none(), form([b"de-DE", b"fr", b"de+2AA-"])),
       charset=charsets)
def test_fuzz_suggest_xlsx_form_never_500(client: TestClient, cell: bytes | None, sheet: bytes | None,
                                          k: bytes | None, context: bytes | None, locale: bytes | None,
                                          charset: str | None) -> None:
    fields = {name: value for name, value in
              {"cell": cell, "sheet": sheet, "k": k, "context": context, "locale": locale}.items() if value is not None}
    event(assert_answer(post_form(client, "/v1/suggest/xlsx", fields, charset=charset)))


@settings(FUZZ, max_examples=30)
@given(cells=mostly(form([b"Orders!J9", b"'Regional Sales'!B13:D13", b"Orders!J9:J10,B30", b"Orders!+2AA-9",
                          b"A1:XFD1048576", b"Nope!A1"]), st.none()),
       min_confidence=st.one_of(st.none(), form([b"0", b"0.5", b"1", b"2", b"-1", b"nan", b"inf"])),
       context=st.one_of(st.none(), form([b"values", b"formulas"])),
       response=st.one_of(st.none(), form([b"json", b"xlsx", b"pdf"])),
       charset=charsets)
def test_fuzz_fill_form_never_500(client: TestClient, cells: bytes | None, min_confidence: bytes | None,
                                  context: bytes | None, response: bytes | None, charset: str | None) -> None:
    fields = {name: value for name, value in {"cells": cells, "min_confidence": min_confidence,
                                              "context": context, "response": response}.items() if value is not None}
    event(assert_answer(post_form(client, "/v1/fill", fields, charset=charset)))


@pytest.mark.parametrize("path, fields", [
    ("/v1/suggest/xlsx", {"cell": b"B+2AA-7"}),
    ("/v1/suggest/xlsx", {"cell": b"B7", "sheet": b"+2AA-"}),
    ("/v1/suggest/xlsx", {"cell": b"B7", "locale": b"de+2AA-"}),
    ("/v1/fill", {"cells": b"Orders!J+2AA-9"}),
])
def test_form_fields_with_a_surrogate_are_refused(client: TestClient, path: str, fields: dict[str, bytes]) -> None:
    """``charset=utf-7`` on the Content-Type makes Starlette decode ``+2AA-`` to U+D800."""
    response = post_form(client, path, fields, charset="utf-7")
    assert 400 <= response.status_code < 500, response.text
    assert_answer(response)


def test_fill_json_report_with_a_surrogate_filename(client: TestClient) -> None:
    response = post_form(client, "/v1/fill", {"cells": b"Orders!J9", "response": b"json"},
                         charset="utf-7", filename=b"+2AA-.xlsx")
    assert_answer(response)
    assert response.status_code == 200, response.text
    assert response.json()["report"]["input"] == "\ufffd.xlsx"  # the report shows the name, cleaned
