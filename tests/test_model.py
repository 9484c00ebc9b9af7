"""The model: chunk plans, every ablation switch, checkpoints, constrained beam search, overfitting."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from spreadsheetcoder.constants import MAX_HEADER_ROWS
from spreadsheetcoder.data.cache import CacheConfig, build_cache
from spreadsheetcoder.data.dataset import FormulaDataset
from spreadsheetcoder.data.extract import extract
from spreadsheetcoder.data.split import WorkbookSplitter
from spreadsheetcoder.errors import ConfigError
from spreadsheetcoder.formula import canonical_formula, parse_formula
from spreadsheetcoder.model.batching import Batcher
from spreadsheetcoder.model.beam import Grammar, Hypothesis
from spreadsheetcoder.model.chunks import plan_batch
from spreadsheetcoder.model.configuration import SpreadsheetCoderConfig
from spreadsheetcoder.model.modeling import SpreadsheetCoder
from spreadsheetcoder.suggest.predictor import FormulaPredictor
from spreadsheetcoder.xlsx.reader import read_workbook
from tests.support.paths import SAMPLES
from tests.support.tiny_model import tiny_config, train_steps


def _queries(data: FormulaDataset, indices: list[int]) -> tuple[np.ndarray, ...]:
    ex = data.examples[indices]
    return (ex["sheet"].astype(np.int64), ex["row"].astype(np.int64), ex["col"].astype(np.int64),
            ex["header"].astype(np.int64))


@pytest.mark.parametrize(("radius", "tile"), [(10, 7), (4, 4), (3, 1)])
def test_chunk_plan_gathers_each_window_exactly(sample_cache, radius, tile):
    """Both views give every window cell the text the dataset's window has (target masked)."""
    data = FormulaDataset(sample_cache, None, window_radius=radius)
    indices = list(range(0, len(data), 3))
    sheets, rows, cols, headers = _queries(data, indices)
    plan = plan_batch(data, sheets, rows, cols, headers, radius=radius, tile=tile, cls_id=101, sep_id=102,
                      max_cell_tokens=4)
    flat = plan.texts.reshape(-1)
    for b, index in enumerate(indices):
        expected = data.text_grid(index)
        n_header = int(data.examples[index]["n_header"])
        row_view = np.where(plan.row_cells[b] >= 0, flat[plan.row_cells[b]], -1)
        col_view = np.where(plan.col_cells[b] >= 0, flat[plan.col_cells[b]], -1)
        np.testing.assert_array_equal(row_view[MAX_HEADER_ROWS:], expected[MAX_HEADER_ROWS:])
        np.testing.assert_array_equal(col_view[MAX_HEADER_ROWS:], expected[MAX_HEADER_ROWS:])
        np.testing.assert_array_equal(row_view[:n_header], expected[:n_header])
        np.testing.assert_array_equal(col_view[:n_header], expected[:n_header])
        assert (plan.row_cells[b, n_header:MAX_HEADER_ROWS] == -1).all()


def test_neighbouring_targets_share_chunks(sample_cache):
    """A column of targets needs far fewer chunks than one window each."""
    data = FormulaDataset(sample_cache, None)
    first = data.examples[0]
    n = 30
    sheets = np.full(n, first["sheet"], np.int64)
    rows = first["row"] + np.arange(n, dtype=np.int64)
    cols = np.full(n, first["col"], np.int64)
    headers = np.repeat(first["header"][None, :].astype(np.int64), n, axis=0)
    plan = plan_batch(data, sheets, rows, cols, headers, radius=10, tile=7, cls_id=101, sep_id=102,
                      max_cell_tokens=4)
    alone = plan_batch(data, sheets[:1], rows[:1], cols[:1], headers[:1], radius=10, tile=7, cls_id=101,
                       sep_id=102, max_cell_tokens=4)
    assert len(plan.tokens) < n * len(alone.tokens) / 4
    assert plan.chunks_requested == n * alone.chunks_requested


@pytest.mark.parametrize("switch", [{}, {"use_row_view": False}, {"use_col_view": False}, {"use_conv": False},
                                    {"use_header": False}])
def test_each_ablation_builds_and_trains_a_step(sample_cache, switch):
    data = FormulaDataset(sample_cache, None)
    losses = train_steps(tiny_config(sample_cache, **switch), data)
    assert all(np.isfinite(losses)) and losses[1] < losses[0]


def test_formulas_context_builds_and_trains_a_step(tmp_path):
    extract(SAMPLES / "budget.xlsx", tmp_path / "f.jsonl", context="formulas", radius=16, workers=1,
            progress=False)
    cache = build_cache([tmp_path / "f.jsonl"], tmp_path / "cache", config=CacheConfig(context="formulas", radius=16),
                        splitter=WorkbookSplitter(dev=0.0, test=0.0), progress=False)
    data = FormulaDataset(cache, None)
    config = tiny_config(cache, context="formulas")
    assert data.text_ids(np.array([0]), np.array([15]), np.array([4]))[0] > 2  # a formula cell's text
    losses = train_steps(config, data)
    assert all(np.isfinite(losses)) and losses[1] < losses[0]


def test_no_view_at_all_is_refused():
    with pytest.raises(ConfigError, match="at least one"):
        SpreadsheetCoderConfig(use_row_view=False, use_col_view=False)


def test_unknown_config_keys_are_refused():
    with pytest.raises(ConfigError, match="unknown config keys"):
        SpreadsheetCoderConfig.from_dict({"hiden_size": 3})


def test_save_and_load_give_the_same_outputs(sample_cache, tmp_path):
    data = FormulaDataset(sample_cache, None)
    config = tiny_config(sample_cache)
    torch.manual_seed(1)
    model = SpreadsheetCoder(config).eval()
    batch = Batcher(config).collate(data, [data[i] for i in range(4)])
    model.save_pretrained(tmp_path / "m")
    loaded = SpreadsheetCoder.from_pretrained(tmp_path / "m").eval()
    with torch.no_grad():
        torch.testing.assert_close(model(batch, return_logits=True).sketch_logits,
                                   loaded(batch, return_logits=True).sketch_logits)
    assert json.loads((tmp_path / "m" / "config.json").read_text())["range_vocab"] == config.range_vocab
    model.save_pretrained(tmp_path / "half", dtype=torch.float16)
    size = (tmp_path / "m" / "model.safetensors").stat().st_size
    assert (tmp_path / "half" / "model.safetensors").stat().st_size < 0.6 * size
    with pytest.raises(FileNotFoundError, match="not a SpreadsheetCoder checkpoint"):
        SpreadsheetCoder.from_pretrained(tmp_path)


def test_pretrained_bert_starts_from_the_installed_minilm():
    from spreadsheetcoder.model.encoder import build_bert

    config = SpreadsheetCoderConfig(bert="pretrained", bert_layers=1)
    loaded = build_bert(config, load_weights=True)
    blank = build_bert(config, load_weights=False)
    assert len(loaded.encoder.layer) == 1
    word = "embeddings.word_embeddings.weight"
    assert not torch.equal(loaded.state_dict()[word], blank.state_dict()[word])


def test_grammar_accepts_every_training_formula(sample_cache):
    data = FormulaDataset(sample_cache, None)
    grammar = Grammar(data.sketch_vocab.tokens, data.range_vocab.tokens, 128, 32)
    for i in range(len(data)):
        item = data[i]
        if not item["covered"]:
            continue
        hyp = Hypothesis()
        for token, is_range in [(t, False) for t in item["sketch"]] + [(t, True) for t in item["ranges"]]:
            assert hyp.in_range_stage == is_range
            assert grammar.mask(hyp, None)[token] == 0, (i, token)
            hyp = grammar.advance(hyp, int(token), 0.0)
        assert hyp.done


def test_tiny_model_overfits_50_examples(overfit_checkpoint):
    """Beam search reproduces all 50 training formulas exactly (top-1), from the workbooks themselves."""
    folder, where = overfit_checkpoint
    assert len(where) == 50 and where[0]["teacher_forced_exact"] == 1.0
    predictor = FormulaPredictor(folder, beam=3)
    hits = 0
    by_book: dict[str, list[dict]] = {}
    for item in where:
        by_book.setdefault(item["workbook"], []).append(item)
    for name, items in by_book.items():
        book = read_workbook(SAMPLES / name)
        for item in items:
            sheet = book.sheet(item["sheet"])
            truth = sheet.get(item["row"], item["col"]).formula
            [candidates] = predictor.predict_targets(book, sheet, [(item["row"], item["col"])], context="values", k=3)
            top = candidates[0].formula if candidates else ""
            hits += canonical_formula(top) == canonical_formula(truth)
    assert hits == 50


def test_beam_candidates_are_valid_formulas(overfit_checkpoint):
    folder, _ = overfit_checkpoint
    predictor = FormulaPredictor(folder, beam=5)
    book = read_workbook(SAMPLES / "timesheet.xlsx")
    sheet = book.sheets[0]
    cells = [(r, c) for r in range(2, 12) for c in range(2, 8)]
    results = predictor.predict_targets(book, sheet, cells, context="values", k=5)
    assert len(results) == len(cells)
    # 60 windows share their sheet's chunks: far fewer BERT sequences than one window each
    assert predictor.stats["chunks_encoded"] < predictor.stats["chunks_requested"] / 4
    for (row, col), candidates in zip(cells, results, strict=True):
        scores = [c.logprob for c in candidates]
        assert all(0 < c.confidence <= 1 for c in candidates)
        assert len({c.formula for c in candidates}) == len(candidates)
        for candidate in candidates:
            parse_formula(candidate.formula, (row, col))  # raises if it is not a valid formula
        assert all(np.isfinite(scores))


def test_coverage_gap_names_what_the_vocabulary_lacks(overfit_checkpoint):
    """A target the decoder cannot express is reported with the kind of its first missing token."""
    from spreadsheetcoder.sheet import Cell, CellType
    from spreadsheetcoder.targets import list_targets

    folder, _ = overfit_checkpoint
    predictor = FormulaPredictor(folder, beam=3)
    book = read_workbook(SAMPLES / "timesheet.xlsx")
    sheet = book.sheets[0]
    sheet.set(40, 2, Cell(1.0, CellType.NUMBER, formula="=B2*1.23456789"))  # a literal never seen
    sheet.set(41, 2, Cell(2.0, CellType.NUMBER, formula="=B2+B3"))
    gaps = {(t.row, t.col): predictor.coverage_gap(book, sheet, t) for t in list_targets(sheet)}
    assert gaps[(40, 2)] == "sketch:number"
    assert all(gap is None or ":" in gap or gap == "unrepresentable" for gap in gaps.values())
    assert predictor.covers(book, sheet, next(t for t in list_targets(sheet) if (t.row, t.col) == (41, 2))) \
        == (gaps[(41, 2)] is None)
