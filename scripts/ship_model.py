"""Ship a trained checkpoint inside the package: fp16 safetensors + config + model_card.json.

    python scripts/ship_model.py runs/mix_tiny/model --eval dev_values.json \\
        --eval-formulas dev_formulas.json --notes "data mix, steps, wall time, hardware"

The card records where the weights came from and how they scored on the corpus's dev split
(the ``evaluate --json`` results given), and what the README's evaluation section says.
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import date
from pathlib import Path

import torch

from spreadsheetcoder.model.layout import (
    CARD_NAME,
    CONFIG_NAME,
    METRICS_NAME,
    TRAIN_CONFIG_NAME,
    WEIGHTS_NAME,
)
from spreadsheetcoder.model.modeling import SpreadsheetCoder
from spreadsheetcoder.model.shipped import SHIPPED_DIR

KEYS = ("formula_top1", "formula_top5", "sketch_top1", "range_top1", "exec_top1", "coverage")


def figures(path: str | None) -> dict:
    if path is None:
        return {}
    result = json.loads(Path(path).read_text(encoding="utf-8"))
    model = result.get("model", {})
    out = {k: model.get(k) for k in KEYS}
    macro = result.get("macro_by_workbook") or {}
    out["macro_formula_top1"] = (macro.get("model") or {}).get("formula_top1")
    out["macro_formula_top5"] = (macro.get("model") or {}).get("formula_top5")
    out["targets"], out["workbooks"] = result.get("targets"), result.get("workbooks")
    out["baselines_formula_top1"] = {name: m.get("formula_top1") for name, m in result.get("baselines", {}).items()}
    return out


def training_record(run: Path) -> dict:
    """The run's options, steps, wall time and best dev loss (from ``train_config.json`` and
    ``metrics.jsonl``), or {} when the model folder is not inside a run folder."""
    if not (run / TRAIN_CONFIG_NAME).is_file():
        return {}
    options = json.loads((run / TRAIN_CONFIG_NAME).read_text(encoding="utf-8"))
    metrics = [json.loads(line) for line in (run / METRICS_NAME).read_text(encoding="utf-8").splitlines() if line]
    evals = [m for m in metrics if "dev_loss" in m]
    best = min(evals, key=lambda m: m["dev_loss"]) if evals else {}
    steps = [m for m in metrics if "examples_per_s" in m]
    return {"options": {k: options[k] for k in ("preset", "model", "batch_size", "lr", "weight_decay", "warmup_steps",
                                                 "max_steps", "max_per_workbook", "seed") if k in options},
            "steps": steps[-1]["step"] if steps else None,
            "examples_per_s": steps[-1]["examples_per_s"] if steps else None,
            "best_dev_loss": best.get("dev_loss"), "best_step": best.get("step"),
            "last_train_loss": steps[-1]["loss"] if steps else None}


def demo_hits(model_dir: Path) -> dict:
    """Top-1 / top-5 exact matches (canonical form) on the fill demos' blanked cells, per context
    setting, of the suggestion pipeline shipped with the model (as ``predict`` answers)."""
    return {context: _demo_hits(model_dir, context) for context in ("values", "formulas")}


def _demo_hits(model_dir: Path, context: str) -> dict:
    from spreadsheetcoder.fill import predict_cells, resolve_cells
    from spreadsheetcoder.formula import canonical_formula
    from spreadsheetcoder.suggest import load_suggester
    from spreadsheetcoder.xlsx.reader import read_workbook

    demos = Path(__file__).resolve().parent.parent / "sample_sheets" / "fill"
    expected = json.loads((demos / "expected.json").read_text(encoding="utf-8"))
    predictor = load_suggester(model_dir)
    cells = top1 = top5 = 0
    for name, truth in expected.items():
        book = read_workbook(demos / name)
        found = predict_cells(predictor, book, resolve_cells(book, list(truth)), k=5, context=context)
        for formula, candidates in zip(truth.values(), found, strict=True):
            ranked = [canonical_formula(c.formula) for c in candidates]
            cells += 1
            top1 += bool(ranked) and ranked[0] == canonical_formula(formula)
            top5 += canonical_formula(formula) in ranked
    return {"cells": cells, "top1": top1, "top5": top5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a run's model/ folder")
    parser.add_argument("--eval", required=True, help="evaluate --json result on the dev split, values setting")
    parser.add_argument("--eval-formulas", default=None, help="the same in the formulas setting")
    parser.add_argument("--notes", default="", help="training data, steps, wall time, hardware")
    parser.add_argument("--out", default=str(SHIPPED_DIR))
    args = parser.parse_args()
    model = SpreadsheetCoder.from_pretrained(args.model)
    out = Path(args.out)
    # Replace the weights and config only: the pipeline's files (ranker, retrieval index) stay, and
    # so does the card's "pipeline" section.
    previous = json.loads((out / CARD_NAME).read_text(encoding="utf-8")) if (out / CARD_NAME).is_file() else {}
    tmp = out.with_name(out.name + ".new")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, dtype=torch.float16)
    out.mkdir(parents=True, exist_ok=True)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        (tmp / name).replace(out / name)
    shutil.rmtree(tmp)
    params = sum(p.numel() for p in model.parameters())
    config = model.config
    if config.encoder == "features":
        name = f"spreadsheetcoder-features-{config.cell_features}-c{config.cell_dim}-d{config.d_model}"
    else:
        name = f"spreadsheetcoder-{'random' if config.bert == 'random' else 'minilm'}-{config.bert_layers}l-d{config.d_model}"
    card = {
        "name": name,
        "shipped": date.today().isoformat(),
        "parameters": params,
        "bytes": (out / WEIGHTS_NAME).stat().st_size,
        "context": config.context,
        "encoder": config.encoder,
        "bert": config.bert if config.encoder == "chunks" else f"frozen all-MiniLM-L6-v2 ({config.cell_features} cell features)",
        "notes": args.notes,
        "training": training_record(Path(args.model).parent),
        "dev": figures(args.eval),
        "dev_formulas": figures(args.eval_formulas),
        "demo": demo_hits(out),
    }
    if "pipeline" in previous:
        card["pipeline"] = previous["pipeline"]
    (out / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
