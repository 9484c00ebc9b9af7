"""Formulas never suggested: those whose recalculation reaches outside the workbook.

An add-in that inserts ``=WEBSERVICE(...)`` makes Excel call a URL at every recalculation, and a
DDE link starts another program. Such a formula may sit in the sheet (a user wrote it), and the
copy, run and retrieval sources would offer it again; this policy, written once, drops it from
every source before ranking.

Refused:
- functions with external effects: ``EXTERNAL_EFFECT_FUNCTIONS``;
- references into another workbook (``[1]Sheet!A1``, ``'C:\\x\\[Book.xlsx]Sheet'!A1``);
- DDE links (``=app|topic!item``).
"""

from __future__ import annotations

from openpyxl.formula.tokenizer import Token, Tokenizer

__all__ = ["EXTERNAL_EFFECT_FUNCTIONS", "has_external_effect"]

EXTERNAL_EFFECT_FUNCTIONS = frozenset({
    "WEBSERVICE",   # fetches a URL
    "FILTERXML",    # parses fetched text (paired with WEBSERVICE)
    "RTD",          # real-time data server
    "CALL",         # calls a DLL procedure
    "REGISTER",     # registers a DLL procedure
    "REGISTER.ID",
    "EXEC",         # Excel 4 macro: runs a program
    "HYPERLINK",    # a link the user may follow to anywhere
    "IMAGE",        # fetches an image URL
    "STOCKHISTORY",  # online data service
    "SQL.REQUEST",  # external database
})


def has_external_effect(formula: str) -> bool:
    """True when ``formula`` calls a function of ``EXTERNAL_EFFECT_FUNCTIONS``, reads another
    workbook or is a DDE link; a formula that does not tokenise is refused too."""
    try:
        tokens = Tokenizer(formula if formula.startswith("=") else f"={formula}").items
    except Exception:
        return True
    for token in tokens:
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            name = token.value[:-1].upper().removeprefix("_XLFN.").removeprefix("_XLWS.")
            if name in EXTERNAL_EFFECT_FUNCTIONS:
                return True
        elif token.type == Token.OPERAND and token.subtype == Token.RANGE:
            text = token.value
            bang = text.rfind("!")
            if "|" in text or (bang > 0 and "[" in text[:bang]):
                return True
    return False
