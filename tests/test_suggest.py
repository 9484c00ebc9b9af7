"""The suggestion pipeline: each source on a workbook the test writes, execution on siblings, the
target's value kept out of everything, and the shipped pipeline on a totals row."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from spreadsheetcoder.formula import canonical_formula
from spreadsheetcoder.suggest.check import run_candidate
from spreadsheetcoder.suggest.engine import SheetEngine
from spreadsheetcoder.suggest.features import FEATURES
from spreadsheetcoder.suggest.siblings import find_siblings
from spreadsheetcoder.suggest.sources.references import ValueIndex, constant_cells, reference_candidates
from spreadsheetcoder.suggest.sources.retrieval import RetrievalIndex, context_keys, retrieval_candidates
from spreadsheetcoder.suggest.sources.structure import aggregate_candidates, arithmetic_candidates
from spreadsheetcoder.suggest.suggester import Suggester
from spreadsheetcoder.suggest.target import TargetView
from tests.support.paths import ROOT
from tests.support.suggest_support import priced_table, write_book


def texts(candidates) -> set[str]:
    return {canonical_formula(c.formula) for c in candidates}


def view_of(book, sheet: str, row: int, col: int, context: str = "values") -> TargetView:
    return TargetView(book, book.sheet(sheet), row, col, context)


@pytest.fixture
def sales(tmp_path: Path):
    return write_book(tmp_path / "sales.xlsx", {"Sales": priced_table()})


def test_aggregates_cover_the_block_above(sales):
    view = view_of(sales, "Sales", 8, 4)  # D8: the total under D2:D7
    found = texts(aggregate_candidates(view))
    assert canonical_formula("=SUM(D2:D7)") in found
    assert canonical_formula("=AVERAGE(D2:D7)") in found


def test_arithmetic_finds_the_row_product_and_it_matches_its_siblings(sales):
    view = view_of(sales, "Sales", 3, 4)  # D3 = B3*C3, with copies above and below
    siblings = find_siblings(view)
    candidates = arithmetic_candidates(view, siblings)
    assert canonical_formula("=B3*C3") in texts(candidates)
    run = run_candidate("=B3*C3", view, siblings, SheetEngine(sales))
    assert run.matched[0] == run.checked[0] == 4  # the four cells below hold copies
    assert run.matched[1] == 1  # and the one above
    wrong = run_candidate("=B3+C3", view, siblings, SheetEngine(sales))
    assert sum(wrong.matched) == 0


def test_constants_are_inferred_from_siblings(tmp_path: Path):
    cells = {"A1": "Metres", "B1": "Centimetres", "E1": "Factor", "F1": 100.0}
    for r in range(2, 8):
        cells[f"A{r}"] = float(r * 3)
        cells[f"B{r}"] = (f"=A{r}*$F$1", r * 300.0)
    book = write_book(tmp_path / "units.xlsx", {"Units": cells})
    view = view_of(book, "Units", 2, 2)
    siblings = find_siblings(view)
    found = texts(arithmetic_candidates(view, siblings, constant_cells(view, ValueIndex(book))))
    assert canonical_formula("=A2*100") in found
    assert canonical_formula("=A2*$F$1") in found


def test_references_find_links_to_another_sheet(tmp_path: Path):
    inputs = {"A1": "Year", "B1": "Price"}
    report = {"A1": "Year", "B1": "Price (linked)"}
    for r in range(2, 9):
        inputs[f"A{r}"] = float(2018 + r)
        inputs[f"B{r}"] = 1.5 * r + 0.25
        report[f"A{r}"] = float(2018 + r)
        report[f"B{r}"] = (f"=Inputs!B{r + 0}", 1.5 * r + 0.25)
    book = write_book(tmp_path / "links.xlsx", {"Inputs": inputs, "Report": report})
    view = view_of(book, "Report", 3, 2)
    found = texts(reference_candidates(view, find_siblings(view), ValueIndex(book)))
    assert canonical_formula("=Inputs!B3") in found


def test_retrieval_moves_a_formula_found_under_the_same_labels(tmp_path: Path, sales):
    train = write_book(tmp_path / "train.xlsx", {"Sales": priced_table(rows=3)})
    sheet = train.sheet("Sales")
    items = []
    for (row, col), cell in sheet.cells.items():
        if cell.formula is not None:
            keys = context_keys(TargetView(train, sheet, row, col, "values"))
            items.append((keys, cell.formula, row, col, 0, cell.formula))
    index = RetrievalIndex.build(items)
    index.save(tmp_path / "index.json.gz")
    index = RetrievalIndex.load(tmp_path / "index.json.gz")
    found, info = retrieval_candidates(view_of(sales, "Sales", 8, 4), index)  # the Total row, 3 rows lower
    assert canonical_formula("=SUM(D2:D7)") not in texts(found)  # retrieval copies; it does not re-block
    assert canonical_formula("=SUM(D5:D7)") in texts(found)  # =SUM(D2:D4) one table lower
    assert all(i.hits >= 1 for i in info.values())


def test_candidates_reading_the_target_are_dropped(sales):
    suggester = Suggester(None)
    scored = suggester.gather(sales, sales.sheet("Sales"), [(8, 4)], context="values")[0]
    assert scored
    assert all(not s.execution.reads_target for s in scored)
    assert all(len(s.features) == len(FEATURES) for s in scored)


@pytest.mark.parametrize("context", ["values", "formulas"])
def test_the_target_value_never_reaches_candidates_or_features(tmp_path: Path, context: str):
    """Two workbooks that differ only in the target's cached value give identical suggestions."""
    cells = priced_table()
    books = []
    for k, value in enumerate((784.0, -12345.678)):
        variant = dict(cells)
        variant["D8"] = ("=SUM(D2:D7)", value)
        books.append(write_book(tmp_path / f"b{k}.xlsx", {"Sales": variant}))
    gathered = []
    for book in books:
        scored = Suggester(None).gather(book, book.sheet("Sales"), [(8, 4), (5, 4)], context=context)
        gathered.append([[(s.proposal.text, s.features, repr(s.execution.value)) for s in target] for target in scored])
    assert gathered[0] == gathered[1]


def test_hostile_candidates_finish_quickly(sales):
    view = view_of(sales, "Sales", 8, 4)
    engine = SheetEngine(sales)
    siblings = find_siblings(view)
    hostile = [
        "=SUM(A:XFD)", "=SUM(1:1048576)", "=SUM(A1:XFD1048576)", "=" + "(" * 200 + "1" + ")" * 200,
        "=NOW()", "=RAND()*A2", "=INDIRECT(\"A1\")", "=OFFSET(A1,1,1)", "=SUM(OFFSET(A1,0,0,1000000,1))",
        "=ROUND(B2,400)", "=10^400", "=" + "+".join(["A2"] * 500),
    ]
    for text in hostile:
        started = time.perf_counter()
        run = run_candidate(text, view, siblings, engine)
        assert time.perf_counter() - started < 1.0, text
        assert run.formula is None or run.reason or run.value is not None


def test_the_heuristic_ranker_prefers_what_the_siblings_confirm(sales):
    suggester = Suggester(None)
    best = suggester.predict_targets(sales, sales.sheet("Sales"), [(5, 4)], context="values", k=3)[0]
    assert canonical_formula(best[0].formula) in {canonical_formula("=B5*C5"), canonical_formula("=C5*B5")}
    assert all(0.0 <= c.confidence <= 1.0 for c in best)
    assert [c.confidence for c in best] == sorted((c.confidence for c in best), reverse=True)


@pytest.mark.slow
@pytest.mark.parametrize("context", ["values", "formulas"])
def test_shipped_pipeline_puts_the_sum_under_a_computed_column(tmp_path: Path, context: str):
    from spreadsheetcoder.suggest import load_suggester

    book = write_book(tmp_path / "sales.xlsx", {"Sales": priced_table(rows=8)})
    suggester = load_suggester()
    found = suggester.predict_targets(book, book.sheet("Sales"), [(10, 4)], context=context, k=5)[0]
    assert canonical_formula(found[0].formula) == canonical_formula("=SUM(D2:D9)"), found
    assert found[0].source in ("aggregate", "retrieval")
    assert not math.isnan(found[0].confidence)
    # The row formula above (=B9*C9) continued into the Total row reads only empty cells: not offered.
    assert canonical_formula("=B10*C10") not in texts(found)


def test_inference_does_not_import_research_code():
    """suggest/, fill and the service sit below data/ and evaluation/: no import points up."""
    import ast

    files = [*(ROOT / "spreadsheetcoder" / "suggest").rglob("*.py"), ROOT / "spreadsheetcoder" / "fill.py",
             *(ROOT / "service").rglob("*.py")]
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = ("." * node.level) + (node.module or "")
                parts = module.lstrip(".").split(".")
                if {"data", "evaluation"} & set(parts[:2]) and not module.startswith("spreadsheetcoder.data.synthetic"):
                    offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


def test_parallel_sheets_lend_their_formulas_where_formulas_are_visible(tmp_path: Path):
    from spreadsheetcoder.suggest.sources.retrieval import workbook_candidates

    book = write_book(tmp_path / "regions.xlsx", {"North": priced_table(), "South": priced_table()})
    labels = ValueIndex(book).labels
    view = view_of(book, "South", 8, 4, context="formulas")
    found, info = workbook_candidates(view, labels)
    assert all(i.hits == 1 for i in info.values())
    assert canonical_formula("=SUM(D2:D7)") in texts(found)
    assert workbook_candidates(view_of(book, "South", 8, 4, context="values"), labels)[0] == []


def test_expansions_wrap_what_ran_and_label_what_the_siblings_show(tmp_path: Path):
    from spreadsheetcoder.suggest.sources.expansions import expansion_candidates, labelled_candidates

    cells = {"A1": "Score", "B1": "Weight", "C1": "Points", "D1": "Result"}
    for r in range(2, 9):
        score, weight = 40.0 + 7 * r, 1.0 + r / 7
        cells[f"A{r}"], cells[f"B{r}"] = score, weight
        cells[f"C{r}"] = (f"=ROUND(A{r}*B{r},1)", round(score * weight, 1))
        cells[f"D{r}"] = (f'=IF(A{r}>=60,"Pass","Fail")', "Pass" if score >= 60 else "Fail")
    book = write_book(tmp_path / "scores.xlsx", {"Scores": cells})
    engine = SheetEngine(book)

    view = view_of(book, "Scores", 5, 3)
    run = run_candidate("=A5*B5", view, find_siblings(view), engine)
    assert sum(run.matched) < sum(run.checked)  # unrounded, it misses siblings
    assert canonical_formula("=ROUND(A5*B5,1)") in texts(expansion_candidates("=A5*B5", run, view))

    view = view_of(book, "Scores", 5, 4)
    found = texts(labelled_candidates(view, find_siblings(view)))
    assert canonical_formula('=IF(A5>=60,"Pass","Fail")') in found


def test_a_candidate_reading_only_empty_cells_stays_when_they_are_filled_in_the_same_call(tmp_path: Path):
    cells = priced_table(total=False)
    del cells["B7"], cells["C7"], cells["D7"]  # a new last row, all three cells to fill
    book = write_book(tmp_path / "new_row.xlsx", {"Sales": cells})
    sheet = book.sheet("Sales")
    alone = Suggester(None).gather(book, sheet, [(7, 4)], context="formulas")[0]
    together = Suggester(None).gather(book, sheet, [(7, 2), (7, 3), (7, 4)], context="formulas")[2]
    product = canonical_formula("=B7*C7")
    assert product not in {canonical_formula(s.proposal.text) for s in alone}
    assert product in {canonical_formula(s.proposal.text) for s in together}


def test_formulas_with_external_effects_are_never_suggested(tmp_path: Path):
    """A WEBSERVICE call filled down the sheet is not continued, though the run source finds it."""
    from spreadsheetcoder.suggest.safety import has_external_effect

    cells = {"A1": "City", "B1": "Weather"}
    for r in range(2, 7):
        cells[f"A{r}"] = f"City {r}"
        cells[f"B{r}"] = (f'=WEBSERVICE("http://example.invalid/?q="&A{r})', "sunny")
    cells["A7"] = "City 7"
    book = write_book(tmp_path / "web.xlsx", {"Web": cells})
    found = Suggester(None).predict_targets(book, book.sheet("Web"), [(7, 2)], context="formulas", k=5)[0]
    assert not any("WEBSERVICE" in c.formula.upper() for c in found), found
    assert has_external_effect('=_xlfn.WEBSERVICE("http://x")') and has_external_effect("=HYPERLINK(A1)")
    assert has_external_effect("=[1]Sheet1!A1+1") and has_external_effect("='C:\\d\\[Book.xlsx]S'!A1")
    assert has_external_effect("=cmd|' /c calc'!A0")
    assert not has_external_effect("=SUM(Table1[Qty])+Inputs!B2") and not has_external_effect("=B7*C7")


@pytest.mark.slow
def test_encodings_are_reused_in_either_setting(tmp_path: Path):
    """Asking in the setting that is not the model's own (the service's default) keeps the workbook's
    sources and chunk encodings between calls: a second target of the sheet reuses the chunks of the first."""
    from spreadsheetcoder.suggest import FormulaPredictor
    from spreadsheetcoder.suggest.loading import load_suggester

    book = write_book(tmp_path / "sales.xlsx", {"Sales": priced_table(rows=8)})
    model = load_suggester().predictor
    assert model is not None
    predictor = FormulaPredictor(model.model, neighbour_formulas=False)
    other = "formulas" if predictor.config.context == "values" else "values"
    for context in (other, predictor.config.context):
        first = predictor.predict_targets(book, book.sheet("Sales"), [(10, 4)], context=context, k=3)
        encoded = predictor.stats["chunks_encoded"]
        reused = predictor.stats["chunks_reused"]
        again = predictor.predict_targets(book, book.sheet("Sales"), [(10, 5)], context=context, k=3)
        assert predictor.stats["chunks_reused"] > reused, context
        assert predictor.stats["chunks_encoded"] - encoded < encoded, context  # most chunks came from the cache
        assert first and again
