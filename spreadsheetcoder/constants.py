"""Constants shared across the package: Excel limits, cell-type tags, window size, special tokens."""

from __future__ import annotations

from typing import Literal

# Excel's grid limits (1-based, inclusive).
MAX_ROW = 1_048_576
MAX_COL = 16_384

# Context window: rows r-10..r+10 and columns c-10..c+10 around the target (21 x 21).
WINDOW_RADIUS = 10
WINDOW_SIZE = 2 * WINDOW_RADIUS + 1
# At most this many header rows are prepended to a window.
MAX_HEADER_ROWS = 2
# How far above the target the header search looks before giving up.
HEADER_SEARCH_ROWS = 500

# Cell-type tags of the typed cell text (`num:1250.5`, `str:Revenue`, ...).
TAG_NUMBER = "num"
TAG_STRING = "str"
TAG_DATE = "date"
TAG_BOOL = "bool"
TAG_ERROR = "err"
TAG_EMPTY = "empty"
# Outside the sheet (row or column < 1): windows at edges are padded, never shifted.
TAG_PAD = "pad"
# The target cell itself, whatever it holds.
TAG_MASK = "mask"
# The texts every text table (a cache's texts.npy, a live sheet's) starts with, and their rows.
SPECIAL_TEXTS = (TAG_EMPTY, TAG_PAD, TAG_MASK)
EMPTY_TEXT, PAD_TEXT, MASK_TEXT = range(len(SPECIAL_TEXTS))
# In the `formulas` setting a formula cell's text is `<value text>|f:<relative formula>`.
FORMULA_SEPARATOR = "|f:"
# Long cell texts are cut to this many characters in the context (the token budget comes later),
# and a neighbour's relative formula in the `formulas` setting to MAX_FORMULA_CHARS_SHOWN.
MAX_CELL_CHARS = 64
MAX_FORMULA_CHARS_SHOWN = 96

# Context settings (DESIGN.md): cached values only, or neighbouring formulas visible too.
# Named `context` from the CLI flag (`--context`) to the service's field; checked by
# `context.check_context` only.
ContextSetting = Literal["values", "formulas"]
CONTEXT_VALUES: ContextSetting = "values"
CONTEXT_FORMULAS: ContextSetting = "formulas"
CONTEXT_SETTINGS: tuple[ContextSetting, ...] = (CONTEXT_VALUES, CONTEXT_FORMULAS)
# The paper's setting, and the default wherever a context is not given.
DEFAULT_CONTEXT: ContextSetting = CONTEXT_VALUES

# Placeholder of a range in a formula sketch.
RANGE_PLACEHOLDER = "RANGE"

# Reference kinds (DESIGN.md, "Reference kinds"), reported by extract and evaluate.
KIND_IN_WINDOW = "in_window"
KIND_BEYOND_WINDOW = "beyond_window"
KIND_OTHER_SHEET = "other_sheet"
KIND_DEFINED_NAME = "defined_name"
KIND_STRUCTURED = "structured"
REFERENCE_KINDS = (KIND_IN_WINDOW, KIND_BEYOND_WINDOW, KIND_OTHER_SHEET, KIND_DEFINED_NAME, KIND_STRUCTURED)

# Workbook reading limits (defaults of reader.ReadLimits).
DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
DEFAULT_MAX_COMPRESSION_RATIO = 200.0
DEFAULT_MAX_CELLS = 5_000_000

# WordPiece tokens kept per sheet view or defined name (the pointer texts of the decoder).
POINTER_TOKENS = 24

# fill's default --min-confidence: the smallest calibrated confidence at which the shipped pipeline's
# top-1 suggestions are right at least 90% of the time on the corpus's dev split, formulas setting
# (scripts/calibration_report.py "threshold_90"; README, Evaluation). Cells below it stay empty.
DEFAULT_MIN_CONFIDENCE = 0.85
