"""The training loop: run folder, resume, and a real 2-process DDP run (gloo) matching one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spreadsheetcoder.cli import main
from spreadsheetcoder.errors import ConfigError
from spreadsheetcoder.model.configuration import parse_value
from spreadsheetcoder.model.modeling import SpreadsheetCoder
from spreadsheetcoder.training import load_options, lr_factor

SMALL = ["--set", "model.radius=4", "--set", "model.tile=4", "--set", "model.dropout=0.0", "--set", "log_every=1",
         "--no-progress", "--json"]


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_train_writes_a_run_folder_and_resumes(sample_cache, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--config", "tiny", "--data", str(sample_cache), "--out", str(run), *SMALL,
            "--set", "batch_size=8", "--set", "save_every=2"]
    assert main([*args, "--set", "max_steps=3"]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["step"] == 3
    for name in ("train_config.json", "config.json", "metrics.jsonl", "checkpoint/model.safetensors",
                 "checkpoint/trainer_state.pt", "model/config.json"):
        assert (run / name).is_file(), name
    assert [m["step"] for m in _metrics(run)] == [1, 2, 3]
    assert main([*args, "--set", "max_steps=5", "--resume"]) == 0
    assert [m["step"] for m in _metrics(run)] == [1, 2, 3, 4, 5]  # continued, not restarted
    assert SpreadsheetCoder.from_pretrained(run / "model").config.radius == 4


def test_train_refuses_a_cache_with_too_narrow_windows(sample_cache, tmp_path, capsys):
    code = main(["train", "--config", "tiny", "--data", str(sample_cache), "--out", str(tmp_path / "r"),
                 "--set", "model.tile=20", "--no-progress"])
    assert code == 2
    assert "extract with --radius 29" in capsys.readouterr().err


def test_unknown_training_option_is_refused(sample_cache, tmp_path, capsys):
    assert main(["train", "--data", str(sample_cache), "--set", "lrate=1"]) == 2
    assert "unknown training options ['lrate']" in capsys.readouterr().err


@pytest.mark.parametrize(("override", "message"), [
    ("max_steps=abc", "max_steps must be a whole number, got 'abc'"),
    ("lr=fast", "lr must be a number, got 'fast'"),
    ("shuffle=maybe", "shuffle must be true or false, got 'maybe'"),
    ("model.d_model=1.5", "model.d_model must be a whole number, got '1.5'"),
    ("model.context=cells", "model.context must be one of ['values', 'formulas'], got 'cells'"),
    ("model.nope=1", "unknown model fields ['nope']; known: ["),
    ("max_steps", "override 'max_steps' is not key=value"),
])
def test_set_is_checked_against_the_field_type_before_anything_loads(override, message, tmp_path, capsys):
    # --data names no cache: an error about it would mean the data was opened before --set was checked
    assert main(["train", "--data", str(tmp_path / "no-cache"), "--set", override]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spreadsheetcoder train: error: ") and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "no-cache").exists()


def test_load_options_types_every_override(tmp_path):
    options = load_options("tiny", ["max_steps=7", "lr=3e-4", "epochs=2", "bf16=false", "shuffle=off",
                                    "init_from=null", "limit_examples=none", "out=runs/a=b", "model.d_model=96",
                                    "model.use_conv=true", "model.context=formulas", 'model.sketch_vocab=["a", "b"]'])
    assert (options.max_steps, options.lr, options.epochs, options.bf16, options.shuffle) == (7, 3e-4, 2.0, False, False)
    assert options.init_from is None and options.limit_examples is None and options.out == "runs/a=b"
    assert options.model == {"d_model": 96, "use_conv": True, "context": "formulas", "sketch_vocab": ["a", "b"]}
    assert load_options(None, ['model={"d_model": 64, "dropout": 0.2}']).model == {"d_model": 64, "dropout": 0.2}
    with pytest.raises(ConfigError, match=r"model\.d_model must be a whole number"):
        load_options(None, ['model={"d_model": "wide"}'])
    with pytest.raises(ConfigError, match="neither a JSON file nor a preset"):
        load_options("huge", [])
    config = tmp_path / "options.json"
    config.write_text('{"preset": "small", "max_steps": 3}')
    assert (load_options(str(config), []).preset, load_options(str(config), []).max_steps) == ("small", 3)
    config.write_text("{not json")
    with pytest.raises(ConfigError, match="not a JSON file of training options"):
        load_options(str(config), [])


def test_parse_value_by_type():
    assert parse_value("12", int, "n") == 12 and parse_value("1e-3", float, "x") == 0.001
    assert parse_value("YES", bool, "b") is True and parse_value("0", bool, "b") is False
    assert parse_value("null", int | None, "n") is None and parse_value("3", float | None, "x") == 3.0
    assert parse_value("[1, 2]", list[int], "xs") == [1, 2] and parse_value('{"a": 1}', dict, "d") == {"a": 1}
    for text, kind, message in [("inf", float, "must be a number"), ("none", int, "whole number"),
                                ("1,2", list[int], "JSON array"), ('["a"]', list[int], "whole number"),
                                ("[1]", dict, "JSON object")]:
        with pytest.raises(ConfigError, match=message):
            parse_value(text, kind, "field")


def test_learning_rate_warms_up_then_decays():
    assert lr_factor(0, 10, 100) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100) == pytest.approx(1.0)
    assert lr_factor(100, 10, 100) == pytest.approx(0.1)
    assert lr_factor(50, 10, 100) < lr_factor(20, 10, 100)


def _run(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["tiny", "cpu"])
def test_two_process_ddp_matches_one_process(sample_cache, tmp_path, preset):
    """torchrun --nproc_per_node=2 (gloo, CPU) takes the same steps as one process on the same batch,
    with either encoder (the cpu preset's cell features computed once, by rank 0)."""
    common = ["--config", preset, "--data", str(sample_cache), *SMALL, "--set", "limit_examples=32",
              "--set", "shuffle=false", "--set", "max_steps=4", "--set", "warmup_steps=1", "--set", "lr=0.003"]
    _run([sys.executable, "-m", "spreadsheetcoder", "train", "--out", str(tmp_path / "one"), *common,
          "--set", "batch_size=32"], tmp_path)
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "spreadsheetcoder",
          "train", "--out", str(tmp_path / "two"), *common, "--set", "batch_size=16"], tmp_path)
    one = [m["loss"] for m in _metrics(tmp_path / "one") if "loss" in m]
    two = [m["loss"] for m in _metrics(tmp_path / "two") if "loss" in m]
    assert len(one) == len(two) == 4
    assert one[-1] < one[0]
    assert two == pytest.approx(one, rel=2e-3)


def test_init_from_starts_where_a_run_ended_and_caps_apply(sample_cache, tmp_path, capsys):
    base = ["train", "--config", "tiny", "--data", str(sample_cache), *SMALL, "--set", "batch_size=8",
            "--set", "max_steps=6", "--set", "shuffle=false", "--set", "lr=0.003"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--out", str(tmp_path / "b"), "--set", f"init_from={tmp_path / 'a' / 'model'}",
                 "--set", "max_per_workbook=3"]) == 0
    first = _metrics(tmp_path / "a")
    second = _metrics(tmp_path / "b")
    assert second[0]["loss"] < first[0]["loss"]  # it starts from the trained weights
    capsys.readouterr()


def test_cap_per_workbook_keeps_at_most_n_of_each(sample_cache):
    from collections import Counter

    from spreadsheetcoder.data.dataset import FormulaDataset
    from spreadsheetcoder.training import _cap_per_workbook

    data = FormulaDataset(sample_cache, "train")
    sheets = json.loads((Path(sample_cache) / "sheets.json").read_text())
    kept = _cap_per_workbook(data, 5, seed=0)
    per_book = Counter(sheets[s][0] for s in data.examples["sheet"][kept])
    assert max(per_book.values()) == 5 and len(per_book) == len({b for b, _ in sheets})
    assert list(kept) == sorted(kept)
