"""End to end: the task pane in headless Debian Chromium (playwright driving /usr/bin/chromium; no
browser is downloaded) against the real uvicorn server: upload a workbook, click a cell, see the
suggestions, insert one; the same with a pasted range; check a workbook with a planted mistake and
apply the repair. Screenshots are saved and their paths printed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.support.paths import SAMPLES
from tests.support.service_support import (  # noqa: F401  (live_server is a fixture)
    PLANTED_CELL,
    PLANTED_REPAIR,
    LiveServer,
    live_server,
    planted_totals_xlsx,
)

pytestmark = pytest.mark.slow

ARTIFACTS = Path(os.environ.get("SPREADSHEETCODER_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "spreadsheetcoder-artifacts"))


@pytest.fixture(scope="module")
def browser(chromium: str | None):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives Chromium")
    if chromium is None:
        pytest.skip("no Chromium: install Debian's package (apt-get install -y chromium) to run the task-pane test")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, headless=True,
                                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server: LiveServer):  # noqa: F811
    context = browser.new_context(viewport={"width": 900, "height": 1000}, locale="de-DE")
    page = context.new_page()
    outside: list[str] = []

    def only_localhost(route) -> None:  # the page must never reach the network (Office.js included)
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_localhost)
    page.outside = outside
    yield page
    context.close()


def open_pane(page, server: LiveServer, query: str = "") -> None:
    page.goto(f"{server.url}/{query}")
    page.wait_for_selector("#key-field:not([hidden])")  # the server wants a key: the pane asks for it
    page.fill("#api-key", server.key)


def insert_first_suggestion(page, address: str) -> str:
    page.click(f'#grid td[data-addr="{address}"]')
    page.wait_for_selector("#suggestions .suggestion", timeout=60_000)
    formula = page.inner_text("#suggestions .suggestion code")
    assert formula.startswith("=")
    assert page.inner_text("#suggestions .suggestion .pct").endswith("%")
    page.click("#suggestions .suggestion")
    cell = page.locator(f'#grid td[data-addr="{address}"]')
    cell.wait_for()
    assert "inserted" in cell.get_attribute("class")
    assert cell.inner_text() == formula
    return formula


def test_upload_click_suggest_insert(page, live_server: LiveServer) -> None:  # noqa: F811
    from spreadsheetcoder.xlsx.reader import read_workbook

    path = SAMPLES / "sales.xlsx"
    sheet = read_workbook(path).sheets[0]
    open_pane(page, live_server)
    page.set_input_files("#file", str(path))
    page.wait_for_selector('#grid td[data-addr="A1"]')
    assert page.locator("#sheet-tabs button").count() == len(read_workbook(path).sheets)
    # The first empty cell below the last column's numbers: where a total goes.
    row = next(r for r in range(sheet.max_row, sheet.max_row + 4) if sheet.get(r, sheet.max_col) is None)
    address = f"{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[sheet.max_col - 1]}{row}"
    formula = insert_first_suggestion(page, address)
    assert "Inserted" in page.inner_text("#status")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "taskpane_upload.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"task pane screenshot ({address} {formula}): {shot}")
    assert shot.stat().st_size > 10_000
    assert page.outside == []


def test_paste_click_suggest_insert(page, live_server: LiveServer) -> None:  # noqa: F811
    open_pane(page, live_server)
    page.click("#input-panel summary")
    rows = ["Item\tQty\tPrice\tAmount", "Pens\t10\t1.5\t15", "Paper\t4\t3.25\t13", "Ink\t2\t12\t24", "Total\t\t\t"]
    page.fill("#paste", "\n".join(rows))
    page.click("#show-paste")
    page.wait_for_selector('#grid td[data-addr="D5"]')
    assert page.inner_text('#grid td[data-addr="C3"]') == "3.25"
    insert_first_suggestion(page, "D5")
    # The inserted formula is part of the grid now: the next request sends it as context.
    page.click('#grid td[data-addr="D6"]')
    page.wait_for_selector("#suggestions .suggestion")
    shot = ARTIFACTS / "taskpane_paste.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    print(f"task pane screenshot (pasted range): {shot}")
    assert page.outside == []


def test_upload_check_apply_repair(page, live_server: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "planted.xlsx"
    path.write_bytes(planted_totals_xlsx())
    open_pane(page, live_server)
    page.set_input_files("#file", str(path))
    page.wait_for_selector(f'#grid td[data-addr="{PLANTED_CELL}"]')
    page.click("#view-check")  # an uploaded workbook is checked when the view opens
    flag = page.locator(f'#flags .flag[data-cell="Sheet1!{PLANTED_CELL}"]')
    flag.wait_for(timeout=60_000)
    text = flag.inner_text()
    assert "range stops one row short" in text and "=SUM(D2:D10)" in text and PLANTED_REPAIR in text
    assert flag.locator(".pct").inner_text().endswith("%")
    assert page.is_hidden("#suggestions-panel") and "Checked" in page.inner_text("#status")
    cell = page.locator(f'#grid td[data-addr="{PLANTED_CELL}"]')
    assert "flagged" in cell.get_attribute("class") and cell.inner_text() == "=SUM(D2:D10)"
    assert "flagged" not in (page.locator('#grid td[data-addr="E12"]').get_attribute("class") or "")
    flag.click()
    assert "selected" in cell.get_attribute("class")
    assert page.is_visible("#flag-detail") and page.inner_text("#flag-repair") == PLANTED_REPAIR
    page.click("#flag-apply")
    page.wait_for_selector(f'#grid td[data-addr="{PLANTED_CELL}"].repaired')
    assert cell.inner_text() == PLANTED_REPAIR and "flagged" not in cell.get_attribute("class")
    assert "applied" in flag.get_attribute("class") and page.is_disabled("#flag-apply")
    assert f"Applied {PLANTED_REPAIR}" in page.inner_text("#status")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "taskpane_check.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"task pane screenshot (check, {PLANTED_CELL} repaired): {shot}")
    assert shot.stat().st_size > 10_000
    assert page.outside == []


def test_office_js_is_loaded_only_inside_office(page, live_server: LiveServer) -> None:  # noqa: F811
    open_pane(page, live_server, "?_host_Info=Excel$Win32$16.01$en-US")
    page.wait_for_function("document.getElementById('status').textContent.includes('Office.js')")
    assert len(page.outside) == 1 and page.outside[0].endswith("/office.js")  # tried, and blocked here
    assert page.is_visible("#input-panel")  # without Office the pane still works on uploads and pastes
