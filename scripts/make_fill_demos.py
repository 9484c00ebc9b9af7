"""Write the demo workbooks of ``sample_sheets/fill/``: the sample workbooks with formula cells blanked.

For each workbook of ``sample_sheets/`` this blanks, per sheet, the last cell of every vertical run
of at least three copies of one formula (the cell an analyst fills down to), up to
``--per-book`` cells, the longest runs first. Cells are blanked with the lossless writer's
``clear_cells``, so everything else in the package (charts, images, tables, comments, validations)
is untouched and the cell keeps its style. ``expected.json`` beside them lists each blanked cell
with the formula it held, as Excel shows it.

    python scripts/make_fill_demos.py            # writes sample_sheets/fill/*.xlsx + expected.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spreadsheetcoder.errors import FormulaError
from spreadsheetcoder.fill import cell_name, display_formula
from spreadsheetcoder.formula import parse_formula, relative_formula
from spreadsheetcoder.sheet import Sheet
from spreadsheetcoder.xlsx.reader import read_workbook
from spreadsheetcoder.xlsx.writer import clear_cells

ROOT = Path(__file__).resolve().parent.parent


def fill_down_ends(sheet: Sheet) -> list[tuple[int, int, int]]:
    """``(run length, row, col)`` of the last cell of each vertical run of one relative formula."""
    keys: dict[tuple[int, int], str] = {}
    for row, col, cell in sheet.formula_cells():
        if cell.formula_kind is not None or cell.formula is None:
            continue
        try:
            keys[(row, col)] = relative_formula(parse_formula(cell.formula, (row, col)))
        except FormulaError:
            continue
    ends = []
    for (row, col), key in keys.items():
        if keys.get((row - 1, col)) != key or keys.get((row + 1, col)) == key:
            continue
        length = 1
        while keys.get((row - length, col)) == key:
            length += 1
        if length >= 3:
            ends.append((length, row, col))
    return sorted(ends, key=lambda e: (-e[0], e[1], e[2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=str(ROOT / "sample_sheets"), help="folder of sample workbooks")
    parser.add_argument("--out", default=str(ROOT / "sample_sheets" / "fill"), help="where to write the demos")
    parser.add_argument("--per-book", type=int, default=4, help="cells blanked per workbook")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, str]] = {}
    for path in sorted(Path(args.source).glob("*.xlsx")):
        data = path.read_bytes()
        workbook = read_workbook(data)
        chosen: list[tuple[int, Sheet, int, int]] = []
        for sheet in workbook.sheets:
            chosen += [(length, sheet, row, col) for length, row, col in fill_down_ends(sheet)]
        chosen = sorted(chosen, key=lambda c: -c[0])[: args.per_book]
        if not chosen:
            continue
        blanks: dict[str, list[tuple[int, int]]] = {}
        cells: dict[str, str] = {}
        for _, sheet, row, col in sorted(chosen, key=lambda c: (workbook.sheets.index(c[1]), c[2], c[3])):
            blanks.setdefault(sheet.name, []).append((row, col))
            formula = sheet.get(row, col).formula  # type: ignore[union-attr]
            cells[cell_name(sheet, row, col)] = display_formula(formula or "")
        (out / path.name).write_bytes(clear_cells(data, blanks))
        expected[path.name] = cells
        print(f"{path.name}: blanked {', '.join(cells)}")
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
