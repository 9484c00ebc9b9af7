import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DistributedSampler, SequentialSampler

from spreadsheetcoder.context import ContextWindow
from spreadsheetcoder.data.cache import CacheConfig, build_cache, examples_radius
from spreadsheetcoder.data.dataset import BucketBatchSampler, FormulaDataset, collate, make_loader
from spreadsheetcoder.data.extract import extract
from spreadsheetcoder.data.split import WorkbookSplitter
from spreadsheetcoder.errors import ConfigError, DataError
from spreadsheetcoder.pretrained import CellTokenizer
from tests.support.sheets import sample_books


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ex") / "examples.jsonl"
    extract(sample_books(out.parent), out, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def splits_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("splits") / "SPLITS.tsv"
    rows = {"budget.xlsx": "dev", "gradebook.xlsx": "test", "inventory.xlsx": "train", "sales.xlsx": "train",
            "loan_schedule.xlsx": "train", "timesheet.xlsx": "dev", "kpi_dashboard.xlsx": "train"}
    path.write_text("file\tsplit\n" + "".join(f"{k}\t{v}\n" for k, v in rows.items()))
    return path


@pytest.fixture(scope="module")
def cache(examples, splits_file, tmp_path_factory) -> Path:
    return build_cache([examples], tmp_path_factory.mktemp("cache"), splitter=WorkbookSplitter(splits_file),
                       config=CacheConfig(sketch_min_count=1, range_min_count=1), progress=False)


def test_items_rebuild_the_extracted_window_exactly(examples, cache):
    records = [json.loads(line) for line in examples.read_text().splitlines()]
    dataset = FormulaDataset(cache, split=None, with_cells=True)
    tokenizer = CellTokenizer()
    assert len(dataset) == len(records)
    for i in range(0, len(dataset), 7):
        item = dataset[i]
        window = ContextWindow.from_dict(records[item["index"]]["context"])
        texts = window.headers + [["pad"] * 21] * (2 - len(window.headers)) + window.cells
        expected = np.zeros((23, 21, 12), dtype=np.int64)
        for k, ids in enumerate(tokenizer.encode([t for row in texts for t in row])):
            expected[k // 21, k % 21, :len(ids)] = ids
        assert item["cells"].shape == (23, 21, 12)
        np.testing.assert_array_equal(item["cells"], expected)
        assert item["n_header"] == len(window.header_rows)


def test_target_is_masked_and_targets_decode(cache):
    dataset = FormulaDataset(cache, split="train", with_cells=True)
    mask_ids = CellTokenizer().encode(["mask"])[0]
    item = dataset[0]
    assert list(item["cells"][2 + 10, 10, : len(mask_ids)]) == mask_ids
    assert dataset.sketch_vocab.decode(item["sketch"])[-1] == "<eos>"
    assert len(item["ranges"]) > 0


def test_split_by_workbook_never_shares_a_workbook(cache):
    sheets = json.loads((cache / "sheets.json").read_text())
    seen: dict[str, set[str]] = {}
    for split in ("train", "dev", "test"):
        dataset = FormulaDataset(cache, split=split)
        assert len(dataset) > 0
        for index in dataset.indices:
            seen.setdefault(sheets[dataset.examples[index]["sheet"]][0], set()).add(split)
    assert all(len(s) == 1 for s in seen.values())
    assert seen["budget.xlsx"] == {"dev"} and seen["gradebook.xlsx"] == {"test"}
    with pytest.raises(ConfigError, match="unknown split"):
        FormulaDataset(cache, split="validation")


def test_hash_split_is_deterministic():
    splitter = WorkbookSplitter()
    names = [f"folder/book{i}.xlsx" for i in range(2000)]
    first = [splitter(n) for n in names]
    assert first == [WorkbookSplitter()(n) for n in names]
    shares = {s: first.count(s) / len(first) for s in ("train", "dev", "test")}
    assert 0.75 < shares["train"] < 0.85 and 0.07 < shares["dev"] < 0.13


def test_cache_is_reused_by_key_and_rebuilt_on_config_change(examples, cache, splits_file):
    root = cache.parent
    again = build_cache([examples], root, splitter=WorkbookSplitter(splits_file),
                        config=CacheConfig(sketch_min_count=1, range_min_count=1), progress=False)
    assert again == cache
    other = build_cache([examples], root, splitter=WorkbookSplitter(splits_file),
                        config=CacheConfig(sketch_min_count=1, range_min_count=1, max_cell_tokens=8), progress=False)
    assert other != cache and FormulaDataset(other, None, with_cells=True)[0]["cells"].shape[-1] == 8


def test_examples_radius_is_read_from_the_first_example(examples, tmp_path):
    first = json.loads(examples.read_text(encoding="utf-8").splitlines()[0])
    assert examples_radius(examples) == first["context"]["radius"] == 10
    wide = tmp_path / "wide.jsonl"
    wide.write_text("\n" + json.dumps({**first, "context": {**first["context"], "radius": 16}}) + "\n")
    assert examples_radius(wide) == 16  # blank lines skipped
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert examples_radius(empty) == 10  # WINDOW_RADIUS
    with pytest.raises(FileNotFoundError, match="no such examples file"):
        examples_radius(tmp_path / "missing.jsonl")
    (tmp_path / "other.jsonl").write_text('{"a": 1}\n')
    with pytest.raises(DataError, match=r"no context\.radius"):
        examples_radius(tmp_path / "other.jsonl")
    (tmp_path / "text.jsonl").write_text("not json\n")
    with pytest.raises(DataError, match="line 1: not JSON"):
        examples_radius(tmp_path / "text.jsonl")


def test_a_bad_splits_file_is_a_data_error(tmp_path):
    bad = tmp_path / "SPLITS.tsv"
    bad.write_text("file\tpart\nbook.xlsx\tdev\n")
    with pytest.raises(DataError, match="columns file and split"):
        WorkbookSplitter(bad)
    bad.write_text("file\tsplit\nbook.xlsx\tvalidation\n")
    with pytest.raises(DataError, match="unknown split 'validation'"):
        WorkbookSplitter(bad)


def test_setting_mismatch_is_refused(examples, tmp_path):
    with pytest.raises(ConfigError, match="formulas"):
        build_cache([examples], tmp_path, config=CacheConfig(context="formulas"), progress=False)


def test_bucketing_groups_similar_lengths_and_covers_every_index():
    lengths = np.array([1, 9, 2, 8, 3, 7, 4, 6, 5, 10] * 10)
    sampler = BucketBatchSampler(SequentialSampler(range(100)), lengths, batch_size=10, pool_batches=10)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(100))
    assert all(lengths[b].max() - lengths[b].min() == 0 for b in batches)
    assert len(sampler) == 10


def test_bucketing_works_with_distributed_sampler_shards():
    lengths = np.arange(103)
    shards = []
    for rank in range(2):
        dist = DistributedSampler(range(103), num_replicas=2, rank=rank, shuffle=True, seed=3)
        sampler = BucketBatchSampler(dist, lengths, batch_size=8)
        sampler.set_epoch(1)
        shards.append({i for b in sampler for i in b})
    assert shards[0] | shards[1] == set(range(103))
    assert len(shards[0] & shards[1]) <= 1  # DistributedSampler pads with at most one repeat here


def test_loader_batches_have_padded_targets_and_trimmed_tokens(cache):
    loader = make_loader(FormulaDataset(cache, "train", with_cells=True), batch_size=4, seed=0)
    batch = next(iter(loader))
    b = batch["cells"].shape[0]
    assert batch["cells"].shape[1:3] == (23, 21) and batch["cells"].dtype == torch.int64
    assert batch["sketch"].shape[0] == b and batch["ranges"].shape[0] == b
    assert (batch["sketch"] == 2).sum() == b  # one <eos> per example
    manual = collate([FormulaDataset(cache, "train", with_cells=True)[i] for i in range(2)])
    assert manual["cells"].shape[-1] <= 12
