"""The ``features`` encoder: MiniLM cell features computed once, trainable row and column views."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spreadsheetcoder.data.dataset import FormulaDataset, ensure_cell_features
from spreadsheetcoder.formula import canonical_formula, parse_formula
from spreadsheetcoder.model.batching import Batcher
from spreadsheetcoder.model.cellfeatures import (
    CELL_TYPES,
    CellFeaturizer,
    MiniLM,
    embedded_text,
    typed_features,
)
from spreadsheetcoder.model.configuration import SpreadsheetCoderConfig
from spreadsheetcoder.model.modeling import SpreadsheetCoder
from spreadsheetcoder.suggest.predictor import FormulaPredictor
from spreadsheetcoder.xlsx.reader import read_workbook
from tests.support.paths import SAMPLES
from tests.support.tiny_model import train_steps

TEXTS = ["Revenue", "Total cost of goods sold", "Q3 2024 — net margin", "=R[-1]C+R[-2]C"]


def features_config(cache, **overrides) -> SpreadsheetCoderConfig:
    """The ``cpu`` preset made tiny (fast on two cores), vocabularies from ``cache``."""
    data = FormulaDataset(cache, None)
    return SpreadsheetCoderConfig.preset("cpu", **{
        "sketch_vocab": data.sketch_vocab.tokens, "range_vocab": data.range_vocab.tokens,
        "radius": 4, "cell_dim": 32, "line_heads": 2, "d_model": 64, "dropout": 0.0, **overrides})


@pytest.fixture(scope="module")
def feature_data(sample_cache) -> FormulaDataset:
    return FormulaDataset(sample_cache, None).use_features("minilm", progress=False)


def test_minilm_vectors_equal_the_reference_implementation():
    """Our plain-torch MiniLM gives what transformers' BertModel + sentence-transformers pooling give."""
    from transformers import AutoModel, AutoTokenizer

    from spreadsheetcoder.pretrained import base_model_dir

    path = str(base_model_dir())
    tokenizer, reference = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = reference(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None].float()
    expected = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    np.testing.assert_allclose(MiniLM().encode(TEXTS), expected, atol=1e-5)


def test_cached_cell_features_equal_minilm_output(sample_cache, feature_data):
    """The vectors stored in the training cache are MiniLM's, for the texts the cache holds."""
    import json

    texts = json.loads((sample_cache / "texts.json").read_text(encoding="utf-8"))
    picked = [k for k, t in enumerate(texts) if t.startswith("str:")][:5]
    assert len(picked) == 5
    stored = feature_data.text_features(np.array(picked)).vectors
    fresh = MiniLM().encode([embedded_text(texts[k]) for k in picked])
    np.testing.assert_allclose(stored, fresh, atol=2e-3)  # float16 storage
    assert ensure_cell_features(sample_cache, "minilm") == sample_cache / "features" / "minilm"  # not recomputed


def test_values_get_typed_features_not_bert():
    number, kind = typed_features("num:2024")
    assert CELL_TYPES[kind] == "num" and number[0] == 1 and number[5] == 1  # a number, year-like
    share, _ = typed_features("num:0.0725")
    assert share[4] == 1 and share[3] == 0  # a fraction, not an integer
    assert CELL_TYPES[typed_features("date:2024-03-31")[1]] == "date"
    assert CELL_TYPES[typed_features("mask")[1]] == "mask"
    assert embedded_text("num:12") == "" and embedded_text("str:Revenue") == "Revenue"
    assert embedded_text("num:12|f:=R[-1]C*2") == "=R[-1]C*2"  # a neighbour's formula is read as text
    featurizer = CellFeaturizer("minilm")
    out = featurizer.cell_features(["num:12", "str:Revenue", "str:Revenue", "empty"])
    assert featurizer.computed == 1  # one distinct embedded text, computed once
    assert not out.vectors[0].any() and np.allclose(np.linalg.norm(out.vectors[1]), 1.0)


def test_random_features_are_fixed_per_text():
    one, two = CellFeaturizer("random"), CellFeaturizer("random")
    np.testing.assert_array_equal(one.vectors(["Revenue"]), two.vectors(["Revenue"]))
    assert not np.allclose(one.vectors(["Revenue"]), one.vectors(["Cost"]))


@pytest.mark.parametrize("switch", [{}, {"use_row_view": False}, {"use_col_view": False}, {"use_conv": False},
                                    {"use_header": False}, {"line_layers": 0}])
def test_each_ablation_of_the_features_encoder_trains_a_step(sample_cache, feature_data, switch):
    losses = train_steps(features_config(sample_cache, **switch), feature_data)
    assert all(np.isfinite(losses)) and losses[1] < losses[0]


def test_random_feature_ablation_trains_a_step(sample_cache):
    data = FormulaDataset(sample_cache, None).use_features("random", progress=False)
    losses = train_steps(features_config(sample_cache, cell_features="random"), data)
    assert all(np.isfinite(losses)) and losses[1] < losses[0]


def test_features_model_overfits_and_predicts_from_the_workbooks(sample_cache, feature_data, tmp_path):
    """Trained on 50 cached examples until teacher forcing is exact, the features model reproduces
    them by beam search from the workbooks themselves: the live source's windows and features are
    the cache's."""
    import json

    chosen = [i for i in range(len(feature_data)) if feature_data[i]["covered"]][:50]
    items = [feature_data[i] for i in chosen]
    torch.manual_seed(0)
    config = features_config(sample_cache)
    model = SpreadsheetCoder(config)
    batch = Batcher(config).collate(feature_data, items)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    exact = 0.0
    for _ in range(400):
        out = model(batch)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        pred = out.predictions
        exact = ((pred == batch["out_ids"]) | ~batch["out_mask"]).all(1).float().mean().item()
        if exact == 1.0:
            break
    assert exact == 1.0
    folder = model.eval().save_pretrained(tmp_path / "model")
    predictor = FormulaPredictor(folder, beam=3)
    sheets = json.loads((sample_cache / "sheets.json").read_text(encoding="utf-8"))
    hits, books = 0, {}
    for item in items:
        name, sheet_name = sheets[item["sheet"]]
        book = books.setdefault(name, read_workbook(SAMPLES / name))
        sheet = book.sheet(sheet_name)
        truth = sheet.get(item["row"], item["col"]).formula
        [candidates] = predictor.predict_targets(book, sheet, [(item["row"], item["col"])], context="values", k=3)
        assert candidates and all(0 < c.confidence <= 1 for c in candidates)
        for candidate in candidates:
            parse_formula(candidate.formula, (item["row"], item["col"]))
        hits += canonical_formula(candidates[0].formula) == canonical_formula(truth)
    assert hits >= 48, hits
