"""Ship the suggestion pipeline's files beside the shipped model and record its figures in the card.

    python scripts/ship_suggester.py --ranker runs/ranker --retrieval runs/retrieval.json.gz \\
        --eval runs/eval/dev_values.json --eval-formulas runs/eval/dev_formulas.json \\
        --calibration runs/eval/calibration.json

Copies ``ranker.txt``, ``ranker.json`` and ``retrieval.json.gz`` into ``spreadsheetcoder/model/shipped/``
and adds to ``model_card.json``: the full pipeline's dev figures in both settings (``evaluate -o``
results), its calibration (``scripts/calibration_report.py``), how the ranker and the index were
made, and the fill demos answered by the pipeline (``demo``, which ``tests/test_fill.py`` recomputes).
The model's own figures (``dev``, ``dev_formulas``) stay as they are.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
from datetime import date
from pathlib import Path

from spreadsheetcoder.model.layout import CARD_NAME, RANKER_FILES, RANKER_META_NAME, RETRIEVAL_NAME
from spreadsheetcoder.model.shipped import SHIPPED_DIR
from spreadsheetcoder.suggest.sources.retrieval import RetrievalIndex

KEYS = ("formula_top1", "formula_top5", "sketch_top1", "range_top1", "exec_top1", "coverage")


def figures(path: Path, system: str) -> dict:
    result = json.loads(path.read_text(encoding="utf-8"))
    metrics = result[system]
    macro = result["macro_by_workbook"][system]
    return {**{k: metrics.get(k) for k in KEYS}, "macro_formula_top1": macro.get("formula_top1"),
            "macro_formula_top5": macro.get("formula_top5"), "targets": result["targets"],
            "workbooks": result["workbooks"], "sources_right_top1": result.get("sources", {}).get(system, {}).get("right_top1")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranker", type=Path, required=True, help="folder with ranker.txt and ranker.json")
    parser.add_argument("--retrieval", type=Path, required=True, help="retrieval.json.gz")
    parser.add_argument("--eval", type=Path, required=True, help="evaluate -o result, dev split, values setting")
    parser.add_argument("--eval-formulas", type=Path, required=True, help="the same in the formulas setting")
    parser.add_argument("--calibration", type=Path, default=None, help="calibration_report.py output")
    parser.add_argument("--out", type=Path, default=SHIPPED_DIR)
    args = parser.parse_args()
    for name in RANKER_FILES:
        shutil.copyfile(args.ranker / name, args.out / name)
    shutil.copyfile(args.retrieval, args.out / RETRIEVAL_NAME)
    ranker = json.loads((args.ranker / RANKER_META_NAME).read_text(encoding="utf-8"))
    index = RetrievalIndex.load(args.retrieval)
    card_path = args.out / CARD_NAME
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["pipeline"] = {
        "shipped": date.today().isoformat(),
        "dev_values": figures(args.eval, "full"),
        "dev_formulas": figures(args.eval_formulas, "full"),
        "calibration": json.loads(args.calibration.read_text(encoding="utf-8")) if args.calibration else None,
        "ranker": {k: ranker.get(k) for k in ("trained", "recipe", "data", "calibration_top1_accuracy", "rounds")},
        "retrieval": {k: index.meta.get(k) for k in ("built", "recipe", "workbooks", "formulas", "sources")},
    }
    spec = importlib.util.spec_from_file_location("ship_model", Path(__file__).with_name("ship_model.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    card["demo"] = module.demo_hits(args.out)
    card_path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: card["pipeline"][k] for k in ("dev_values", "dev_formulas")} | {"demo": card["demo"]}, indent=1))


if __name__ == "__main__":
    main()
