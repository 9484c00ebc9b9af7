"""Constrained beam search: top-k complete formulas with log-probabilities.

``Grammar`` keeps every hypothesis a valid formula while it grows: operands and operators
alternate (``RANGE RANGE`` or ``SUM( *`` never appear), parentheses balance before the sketch ends, the range stage emits exactly one range group per ``RANGE`` placeholder, each group
has the shape of its head (``<cell> sheet row col``, ``<area> sheet row col row col``, ``<name>
name:K``, ``<struct> table spec``), pointers stay within the workbook's sheets and names, and an
anchor is only offered when the target has it on the chosen sheet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..constants import RANGE_PLACEHOLDER
from ..vocab import (
    AREA,
    CELL,
    EOS,
    HCOL_PREFIX,
    NAME,
    NAME_PREFIX,
    OWN_SHEET,
    SHEET_PREFIX,
    SPEC_PREFIX,
    SPECIALS,
    STRUCT,
    TABLE_PREFIX,
)
from .batching import BOS_ID
from .decoder import NEG
from .encoder import EncoderOutput
from .modeling import SpreadsheetCoder

__all__ = ["Grammar", "Hypothesis", "beam_search"]

INFIX = {"+", "-", "*", "/", "^", "&", "=", "<", ">", "<=", ">=", "<>", ":", " "}
PREFIX = {"u-", "u+", "u@"}
POSTFIX = {"%"}
SEPARATORS = {",", ";"}
CLOSES = {")", "}"}


def _sketch_class(token: str) -> str:
    if token == EOS:
        return "eos"
    if token in SPECIALS:
        return "special"
    if token.endswith("(") or token == "{":
        return "open"
    if token in CLOSES:
        return "close"
    if token in SEPARATORS:
        return "sep"
    if token in INFIX:
        return "infix"
    if token in PREFIX:
        return "prefix"
    if token in POSTFIX:
        return "postfix"
    return "operand"


GROUP_SHAPES = {CELL: ("sheet", "row", "col"), AREA: ("sheet", "row", "col", "row", "col"),
                NAME: ("name",), STRUCT: ("table", "spec")}


def _range_class(token: str) -> str | None:
    if token in GROUP_SHAPES:
        return "head"
    if token == OWN_SHEET or token.startswith(SHEET_PREFIX):
        return "sheet"
    if token.startswith(NAME_PREFIX):
        return "name"
    if token.startswith(TABLE_PREFIX):
        return "table"
    if token.startswith(SPEC_PREFIX):
        return "spec"
    if token.startswith(HCOL_PREFIX):
        return "hcol"
    if token[:1] in ("r", "R") and (token[1:2] in ("+", "-", "*", "^") or token[1:].isdigit()):
        return "row"
    if token[:1] in ("c", "C") and (token[1:2] in ("+", "-", "*", "^") or token[1:].isdigit()):
        return "col"
    return None


@dataclass
class Hypothesis:
    """A partial or complete formula: token ids, the stage of each, its log-probability."""

    ids: list[int] = field(default_factory=list)
    is_range: list[bool] = field(default_factory=list)
    logprob: float = 0.0
    depth: int = 0
    n_placeholders: int = 0
    in_range_stage: bool = False
    groups_done: int = 0
    expect: tuple[str, ...] = ()
    sheet_key: str = "="
    expect_operand: bool = True
    previous: str = "start"
    done: bool = False

    def score(self, alpha: float) -> float:
        return self.logprob / (((5 + len(self.ids)) / 6) ** alpha)


class Grammar:
    """Allowed next tokens of a hypothesis, as additive masks over each vocabulary."""

    def __init__(self, sketch_vocab: Sequence[str], range_vocab: Sequence[str], max_sketch_tokens: int,
                 max_range_groups: int) -> None:
        self.sketch_vocab, self.range_vocab = list(sketch_vocab), list(range_vocab)
        self.max_sketch, self.max_groups = max_sketch_tokens, max_range_groups
        vs, vr = len(sketch_vocab), len(range_vocab)
        self.eos = self.sketch_vocab.index(EOS)
        self.sketch_class = [_sketch_class(t) for t in sketch_vocab]
        self.sketch_masks = {c: torch.tensor([k == c for k in self.sketch_class])
                             for c in ("open", "close", "sep", "infix", "prefix", "postfix", "operand", "eos")}
        self.placeholder = torch.tensor([t == RANGE_PLACEHOLDER for t in sketch_vocab])
        self._placeholder_id = self.sketch_vocab.index(RANGE_PLACEHOLDER) if RANGE_PLACEHOLDER in self.sketch_vocab else -1
        classes = [_range_class(t) for t in range_vocab]
        self.range_class = {c: torch.tensor([k == c for k in classes]) for c in
                            ("head", "sheet", "row", "col", "name", "table", "spec", "hcol")}
        self.anchor_ids = {t: i for i, t in enumerate(range_vocab) if "^" in t}
        self.sizes = (vs, vr)

    def mask(self, hyp: Hypothesis, anchors: Mapping[str, set[str]] | None) -> torch.Tensor:
        """Additive mask (0 allowed, NEG refused) over the vocabulary of the hypothesis's next token."""
        if not hyp.in_range_stage:
            m = self.sketch_masks
            room = len(hyp.ids) < self.max_sketch - hyp.depth - 2  # else only closing (or ending) is left
            if hyp.expect_operand:
                allowed = m["operand"] | m["open"] | m["prefix"] if room else torch.zeros_like(m["operand"])
                if hyp.previous in ("open", "sep") and hyp.depth > 0:
                    allowed = allowed | m["sep"]  # an empty argument: IF(A1,,1)
                    if hyp.previous == "open":
                        allowed = allowed | m["close"]  # no arguments: TODAY()
            else:
                allowed = (m["infix"] | m["postfix"]) if room else torch.zeros_like(m["operand"])
                if hyp.depth > 0:
                    allowed = allowed | m["close"] | (m["sep"] if room else m["close"])
                else:
                    allowed = allowed | m["eos"]
            if hyp.n_placeholders >= self.max_groups:
                allowed = allowed & ~self.placeholder
        else:
            kind = hyp.expect[0] if hyp.expect else "head"
            allowed = self.range_class[kind].clone()
            if kind in ("row", "col") and anchors is not None:
                have = anchors.get(hyp.sheet_key, set())
                for token, index in self.anchor_ids.items():
                    if token.startswith(kind[0]) and token not in have:
                        allowed[index] = False
        return torch.where(allowed, 0.0, NEG)

    def advance(self, hyp: Hypothesis, token: int, logprob: float) -> Hypothesis:
        new = Hypothesis([*hyp.ids, token], [*hyp.is_range, hyp.in_range_stage], hyp.logprob + logprob, hyp.depth,
                         hyp.n_placeholders, hyp.in_range_stage, hyp.groups_done, hyp.expect, hyp.sheet_key,
                         hyp.expect_operand, hyp.previous)
        if not hyp.in_range_stage:
            kind = self.sketch_class[token]
            new.previous = kind
            new.expect_operand = kind in ("open", "sep", "infix", "prefix")
            if kind == "eos":
                new.in_range_stage = True
                new.done = new.n_placeholders == 0
            elif token == self._placeholder_id:
                new.n_placeholders += 1
            elif kind == "open":
                new.depth += 1
            elif kind == "close":
                new.depth -= 1
            return new
        text = self.range_vocab[token]
        if not hyp.expect:
            new.expect = GROUP_SHAPES[text]
            return new
        kind, new.expect = hyp.expect[0], hyp.expect[1:]
        if kind == "spec":
            new.expect = ("hcol",) * text.count("{}")  # one column pointer per column of the pattern
        if kind == "sheet":
            new.sheet_key = "=" if text == OWN_SHEET else text.removeprefix(SHEET_PREFIX)
        if not new.expect:
            new.groups_done += 1
            new.done = new.groups_done == new.n_placeholders
        return new


def _select(enc: EncoderOutput, index: torch.Tensor) -> EncoderOutput:
    return EncoderOutput(*(t[index] for t in (enc.memory, enc.memory_mask, enc.summary, enc.sheets,
                                             enc.sheets_mask, enc.names, enc.names_mask)))


@torch.no_grad()
def beam_search(model: SpreadsheetCoder, enc: EncoderOutput, grammar: Grammar, *, beam: int = 5, k: int = 5,
                alpha: float = 0.6, anchors: Sequence[Mapping[str, set[str]] | None] | None = None,
                max_steps: int | None = None) -> list[list[Hypothesis]]:
    """The ``k`` best complete hypotheses of each example (best first, by length-penalised score)."""
    decoder = model.decoder
    batch = enc.memory.shape[0]
    max_steps = max_steps or grammar.max_sketch + 6 * grammar.max_groups + 2
    beams: list[list[Hypothesis]] = [[Hypothesis()] for _ in range(batch)]
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    h0, c0 = decoder.initial_state(enc)
    # rows of the running LSTM state, one per live hypothesis
    owner = torch.arange(batch)
    state = (h0, c0)
    last = torch.full((batch, 1), BOS_ID, dtype=torch.long)
    last_range = torch.zeros((batch, 1), dtype=torch.bool)
    device = enc.memory.device
    for _ in range(max_steps):
        live = [(b, hyp) for b in range(batch) for hyp in beams[b]]
        if not live:
            break
        sub = _select(enc, owner.to(device))
        sketch_logits, range_logits, state = decoder.step(sub, last.to(device), last_range.to(device), state)
        sketch_lp = F.log_softmax(sketch_logits[:, -1].float(), dim=-1).cpu()
        range_lp = F.log_softmax(range_logits[:, -1].float(), dim=-1).cpu()
        candidates: list[list[tuple[float, int, int, float]]] = [[] for _ in range(batch)]
        for row, (b, hyp) in enumerate(live):
            lp = range_lp[row] if hyp.in_range_stage else sketch_lp[row]
            masked = lp + grammar.mask(hyp, anchors[b] if anchors is not None else None)
            top = torch.topk(masked, min(beam, masked.numel()))
            for value, token in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                if value > NEG / 2:
                    candidates[b].append((hyp.logprob + value, row, token, value))
        new_rows: list[int] = []
        new_last: list[int] = []
        new_range: list[bool] = []
        new_owner: list[int] = []
        for b in range(batch):
            beams[b] = []
            for _total, row, token, value in sorted(candidates[b], key=lambda c: -c[0]):
                if len(beams[b]) >= beam:
                    break
                hyp = grammar.advance(live[row][1], token, value)
                if hyp.done:
                    finished[b].append(hyp)
                    continue
                beams[b].append(hyp)
                new_rows.append(row)
                new_last.append(token)
                new_range.append(hyp.is_range[-1])  # the vocabulary the token came from
                new_owner.append(b)
            # stop widening an example once its best live hypothesis cannot beat its k-th finished one
            if len(finished[b]) >= k and beams[b]:
                kth = sorted((f.score(alpha) for f in finished[b]), reverse=True)[k - 1]
                if max(h.logprob for h in beams[b]) / (((5 + grammar.max_sketch) / 6) ** alpha) < kth:
                    beams[b] = []
                    keep = [i for i, o in enumerate(new_owner) if o != b]
                    new_rows = [new_rows[i] for i in keep]
                    new_last = [new_last[i] for i in keep]
                    new_range = [new_range[i] for i in keep]
                    new_owner = [new_owner[i] for i in keep]
        if not new_rows:
            break
        index = torch.tensor(new_rows, device=state[0].device)
        state = (state[0][:, index], state[1][:, index])
        last = torch.tensor(new_last, dtype=torch.long)[:, None]
        last_range = torch.tensor(new_range, dtype=torch.bool)[:, None]
        owner = torch.tensor(new_owner)
    return [sorted(f, key=lambda h: -h.score(alpha))[:k] for f in finished]


def confidence(hyp: Hypothesis) -> float:
    """Probability the model gives the whole formula (``exp`` of its log-probability)."""
    return math.exp(hyp.logprob)
