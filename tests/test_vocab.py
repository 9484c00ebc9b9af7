import pytest

from spreadsheetcoder.errors import FormulaError
from spreadsheetcoder.formula import canonical_formula, parse_formula, render_formula
from spreadsheetcoder.vocab import EOS, UNK, RefContext, Vocab, decode_formula, formula_tokens

SHEETS = ["Summary", "Inputs", "My Data"]
NAMES = ["Rate", "Revenue"]
CTX = RefContext("Summary", SHEETS, NAMES)

CASES = [
    ("=SUM(B2:B9)", (10, 2)),
    ("=SUM(B2:B250)*$F$1", (251, 2)),
    ("=Inputs!$B$3*C5", (5, 4)),
    ("='My Data'!A:A", (2, 2)),
    ("=SUM(3:3)", (4, 1)),
    ("=Revenue-rate", (2, 2)),
    ("=[@Qty]*Table1[[#This Row],[Price]]", (3, 4)),
    ("=IF(A1>0,\"yes\",-B$2%)", (1, 3)),
]


@pytest.mark.parametrize(("text", "origin"), CASES)
def test_tokens_decode_back_to_the_same_formula(text, origin):
    formula = parse_formula(text, origin)
    sketch, ranges = formula_tokens(formula, CTX)
    assert sketch[-1] == EOS and UNK not in ranges
    decoded = decode_formula(sketch, ranges, CTX)
    assert canonical_formula(render_formula(decoded, origin), keep_absolute=True) == canonical_formula(text, keep_absolute=True)


def test_token_shapes():
    sketch, ranges = formula_tokens(parse_formula("=SUM(B2:B9)+Inputs!$C4", (10, 2)), CTX)
    assert sketch == ["SUM(", "RANGE", ")", "+", "RANGE", EOS]
    assert ranges == ["<area>", "sheet:=", "r-8", "c+0", "r-1", "c+0", "<cell>", "sheet:1", "r-6", "C3"]


def test_pointer_to_an_unknown_sheet_is_unk_and_does_not_decode():
    sketch, ranges = formula_tokens(parse_formula("=Gone!A1", (1, 1)), CTX)
    assert ranges[1] == UNK
    with pytest.raises(FormulaError, match="undecodable"):
        decode_formula(sketch, ranges, CTX)


def test_malformed_sequences_are_undecodable():
    with pytest.raises(FormulaError):
        decode_formula(["SUM(", "RANGE", ")"], ["<cell>", "sheet:="], RefContext("S"))
    with pytest.raises(FormulaError):
        decode_formula(["RANGE", "+", "RANGE"], ["<cell>", "sheet:=", "r+0", "c-1"], RefContext("S"))


def test_vocab_build_min_count_save_load(tmp_path):
    vocab = Vocab.build([["a", "b", "a"], ["a", "c"]], min_count=2)
    assert vocab.tokens[:5] == ["<pad>", "<bos>", "<eos>", "<unk>", "a"]
    assert vocab.encode(["a", "b"]) == [4, 3]
    assert not vocab.covers(["b"])
    vocab.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json") == vocab
    with pytest.raises(ValueError, match="starts with"):
        Vocab(["a"])


def test_rows_beyond_the_window_use_anchors_and_decode_back():
    origin = (251, 2)
    ctx = RefContext("Summary", SHEETS, NAMES, origin=origin,
                     anchors={"=": {"r^first": 2, "r^top": 2, "r^last": 280}, "1": {"r^label": 40}})
    formula = parse_formula("=SUM(B2:B250)+Inputs!C40+B280+B3", origin)
    sketch, ranges = formula_tokens(formula, ctx)
    assert ranges[:6] == ["<area>", "sheet:=", "r^first", "c+0", "r-1", "c+0"]
    assert ranges[6:10] == ["<cell>", "sheet:1", "r^label", "c+1"]
    assert ranges[10:14] == ["<cell>", "sheet:=", "r^last", "c+0"]
    assert ranges[14:] == ["<cell>", "sheet:=", "r-248", "c+0"]  # no anchor there: the offset stays
    decoded = decode_formula(sketch, ranges, ctx)
    assert canonical_formula(render_formula(decoded, origin)) == canonical_formula("=SUM(B2:B250)+Inputs!C40+B280+B3")


def test_an_anchor_the_target_lacks_is_undecodable():
    ctx = RefContext("Summary", SHEETS, NAMES, origin=(30, 2), anchors={"=": {}})
    with pytest.raises(FormulaError, match="undecodable"):
        decode_formula(["RANGE", EOS], ["<cell>", "sheet:=", "r^top", "c+0"], ctx)


@pytest.mark.parametrize(("text", "pattern", "hcols"), [
    ("=[@Qty]*[@Price]", "[@{}]", ["hcol:-2", "hcol:-1"]),
    ("=SUM(Orders[Qty])", "[{}]", ["hcol:-2"]),
    ("=Orders[[#Totals],[Price]]", "[[#Totals],[{}]]", ["hcol:-1"]),
    ("=SUM(Orders[[Qty]:[Price]])", "[[{}]:[{}]]", ["hcol:-2", "hcol:-1"]),
])
def test_structured_columns_become_pointers_over_the_table_header(text, pattern, hcols):
    origin = (5, 4)  # D5, in table Orders (B1:D9: Qty in B, Price in C, Total in D)
    ctx = RefContext("Summary", SHEETS, NAMES, origin=origin, tables={"orders": (2, ["Qty", "Price", "Total"])},
                     own_table="Orders")
    sketch, ranges = formula_tokens(parse_formula(text, origin), ctx)
    assert f"spec:{pattern}" in ranges and [t for t in ranges if t.startswith("hcol:")] == hcols
    decoded = decode_formula(sketch, ranges, ctx)
    assert canonical_formula(render_formula(decoded, origin)) == canonical_formula(text)


def test_unknown_table_columns_stay_verbatim():
    ctx = RefContext("Summary", SHEETS, NAMES, origin=(5, 4), tables={"orders": (2, ["Qty"])})
    _, ranges = formula_tokens(parse_formula("=Orders[[#This Row],[Gone]]", (5, 4)), ctx)
    assert ranges == ["<struct>", "table:Orders", "spec:[[#This Row],[Gone]]"]
