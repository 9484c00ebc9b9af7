"""Suggestions from every source, checked on the sheet, ranked, with calibrated confidence.

``Suggester(predictor, ranker).predict_targets(workbook, sheet, cells, context=..., k=5)``:

1. *Gather* candidates for each target from every source, each tagged with where it came from:
   the model's beam (``FormulaPredictor``), the neighbour formulas (run continuation and nearby
   copies, ``formulas`` setting only), aggregates and arithmetic on the sheet's structure
   (``sources/structure.py``), single-cell links to other sheets (``sources/references.py``) and
   the formulas that cells with the same labels hold in the training corpus
   (``sources/retrieval.py``).
2. *Run* each distinct candidate at the target and at its siblings (``check.run_candidate``): the
   cells a copy of it would fill hold the values it should reproduce.
3. *Filter and cluster*: candidates that do not parse or that read the target itself are dropped;
   of candidates that compute the same values everywhere they were run, only the best-ranked stays.
4. *Rank* with the learned ranker (``ranker.Ranker``); its calibrated confidence is the
   probability that the suggestion is exactly the formula the cell holds.

It implements the evaluation harness's ``Predictor`` protocol, so ``evaluate`` scores it like the
model alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from ..constants import CONTEXT_FORMULAS, ContextSetting
from ..errors import FormulaError
from ..formula import canonical_formula, parse_formula
from ..sheet import Cell, Sheet, Workbook
from ..targets import Target
from .check import Execution, run_candidate
from .engine import SheetEngine
from .features import Proposal, candidate_features, view_facts
from .neighbours import COPY_PRECISION, FormulaIndex, copy_candidates, run_continuation
from .predictor import FormulaPredictor
from .ranker import HeuristicRanker, Ranker
from .safety import has_external_effect
from .siblings import Siblings, find_siblings
from .sources.expansions import expansion_candidates, labelled_candidates
from .sources.references import ValueIndex, constant_cells, reference_candidates
from .sources.retrieval import RetrievalIndex, Retrieved, retrieval_candidates, workbook_candidates
from .sources.structure import aggregate_candidates, arithmetic_candidates
from .target import TargetView
from .types import Candidate

__all__ = ["ALL_SOURCES", "LeaveOut", "Scored", "Suggester"]

ALL_SOURCES = ("model", "run", "copy", "aggregate", "arithmetic", "reference", "retrieval", "expansion")


@dataclass
class LeaveOut:
    """What one training workbook put into the retrieval index (counts by ``(kind, key,
    relative_key)``) and into the sketch prior (its sketches), to be taken out again."""

    retrieval: Counter[tuple[str, str, str]]
    sketches: set[str]


class _LeftOut(Mapping[str, float]):
    """The sketch prior without one workbook: its own sketches count one workbook fewer."""

    def __init__(self, prior: Mapping[str, float], own: set[str]) -> None:
        self.prior, self.own = prior, own

    def __getitem__(self, key: str) -> float:
        return self.prior[key] - (key in self.own)

    def __iter__(self) -> Iterator[str]:
        return iter(self.prior)

    def __len__(self) -> int:
        return len(self.prior)


@dataclass
class Scored:
    """A candidate with what the pipeline learned about it (for ranking, training and reports)."""

    proposal: Proposal
    execution: Execution
    features: list[float]
    confidence: float = 0.0


class Suggester:
    """The suggestion pipeline (see the module doc).

    Args:
        predictor: the model source (its own neighbour formulas are not used: the suggester
            gathers those itself); None runs without the model.
        ranker: a trained ``Ranker``; None ranks by the uncalibrated heuristic.
        retrieval: the index of training formulas by context (``sources/retrieval.py``); None
            turns the retrieval source off.
        model_k: candidates asked of the model's beam per target.
        sources: the sources to use (a subset of ``ALL_SOURCES``), for ablations.
        execute: run candidates on the sheet (off for the ablation without execution: every
            candidate then looks unchecked to the ranker).
    """

    def __init__(self, predictor: FormulaPredictor | None = None, ranker: Ranker | HeuristicRanker | None = None,
                 *, retrieval: RetrievalIndex | None = None, model_k: int = 8, sources: Iterable[str] = ALL_SOURCES,
                 execute: bool = True) -> None:
        self.predictor = predictor
        self.retrieval = retrieval
        self.ranker = ranker if ranker is not None else HeuristicRanker()
        self.model_k = model_k
        self.sources = frozenset(sources)
        unknown = self.sources - set(ALL_SOURCES)
        if unknown:
            raise ValueError(f"unknown sources {sorted(unknown)}; expected a subset of {ALL_SOURCES}")
        self.execute = execute
        self.model_path = predictor.model_path if predictor is not None else ""
        # What fill and the service read of a predictor: targets per call, work counters.
        self.batch_size = predictor.batch_size if predictor is not None else 32
        self.stats = predictor.stats if predictor is not None else {}
        # A live sheet is seen as it is, its formulas visible, unless the caller asks otherwise.
        self.default_context = CONTEXT_FORMULAS
        self._book: tuple[int, SheetEngine, ValueIndex] | None = None

    def _workbook(self, workbook: Workbook) -> tuple[SheetEngine, ValueIndex]:
        if self._book is None or self._book[0] != id(workbook):
            self._book = (id(workbook), SheetEngine(workbook), ValueIndex(workbook))
        return self._book[1], self._book[2]

    def covers(self, workbook: Workbook, sheet: Sheet, target: Target) -> bool:
        if self.predictor is not None:
            return self.predictor.covers(workbook, sheet, target)
        return target.formula is not None

    def _model(self, workbook: Workbook, sheet: Sheet, cells: Sequence[tuple[int, int]],
               context: ContextSetting) -> list[list[Candidate]]:
        if self.predictor is None or "model" not in self.sources:
            return [[] for _ in cells]
        keep = self.predictor.neighbour_formulas
        self.predictor.neighbour_formulas = False
        try:
            return self.predictor.predict_targets(workbook, sheet, cells, context=context, k=self.model_k)
        finally:
            self.predictor.neighbour_formulas = keep

    def gather(self, workbook: Workbook, sheet: Sheet, cells: Sequence[tuple[int, int]], *,
               context: ContextSetting, leave_out: LeaveOut | None = None) -> list[list[Scored]]:
        """Every candidate of every target, run on the sheet and featurised (unranked).

        ``leave_out`` (ranker training only) takes the workbook's own contribution out of the
        retrieval index and the sketch prior, which were built from it.
        """
        engine, values = self._workbook(workbook)
        model = self._model(workbook, sheet, cells, context)
        index = FormulaIndex.from_sheet(sheet) if context == CONTEXT_FORMULAS else None
        pending = set(cells)  # cells asked together: a candidate may read the others (a new row filled at once)
        prior: Mapping[str, float] = self.retrieval.sketch_prior if self.retrieval is not None else {}
        if leave_out is not None:
            prior = _LeftOut(prior, leave_out.sketches)
        out = []
        for (row, col), from_model in zip(cells, model, strict=True):
            view = TargetView(workbook, sheet, row, col, context)
            siblings = find_siblings(view)
            proposals = self._propose(view, siblings, from_model, index, values, context, leave_out)
            tests = siblings if self.execute else find_siblings(view, 0)
            executions = self._run(proposals, view, tests, engine)
            out.append(_checked(proposals, executions, view, tests, pending, prior))
        return out

    def _propose(self, view: TargetView, siblings: Siblings, from_model: list[Candidate], index: FormulaIndex | None,
                 values: ValueIndex, context: ContextSetting, leave_out: LeaveOut | None) -> dict[str, Proposal]:
        """The candidates of every source for one target, merged by canonical form (first round)."""
        proposals: dict[str, Proposal] = {}
        add = partial(_add, proposals)
        for rank, candidate in enumerate(from_model):
            add(Candidate(candidate.formula, candidate.logprob, candidate.confidence, "model"), rank)
        if index is not None:
            self._neighbours(view, index, add)
        aggregates = aggregate_candidates(view)
        if "aggregate" in self.sources:
            for candidate in aggregates:
                add(candidate)
        if "arithmetic" in self.sources:
            for candidate in arithmetic_candidates(view, siblings, constant_cells(view, values)):
                add(candidate)
        if "reference" in self.sources:
            for candidate in reference_candidates(view, siblings, values):
                add(candidate)
        if "retrieval" in self.sources:
            self._retrieve(view, proposals, values, aggregates, context, leave_out)
        if "expansion" in self.sources and self.execute:
            for candidate in labelled_candidates(view, siblings):
                add(candidate)
        return proposals

    def _retrieve(self, view: TargetView, proposals: dict[str, Proposal], values: ValueIndex,
                  aggregates: list[Candidate], context: ContextSetting, leave_out: LeaveOut | None) -> None:
        """Add the formulas of cells with the same labels, in the training corpus (when there is an
        index) and in this workbook (``formulas`` setting), with what retrieval knows of them."""
        if self.retrieval is not None:
            retrieved, infos = retrieval_candidates(view, self.retrieval,
                                                   leave_out.retrieval if leave_out is not None else None)
            blocks = _blocks(aggregates)
            for candidate in retrieved:
                info = infos[candidate.formula]
                # A retrieved aggregate of the cells above is re-pointed at this sheet's block too.
                for text in [candidate.formula, *_reblocked(candidate.formula, view, blocks)]:
                    _add(proposals, Candidate(text, 0.0, 0.0, "retrieval"))
                    _count_retrieval(proposals[canonical_formula(text)], info)
        if context == CONTEXT_FORMULAS:
            retrieved, infos = workbook_candidates(view, values.labels)
            for candidate in retrieved:
                _add(proposals, candidate)
                _count_retrieval(proposals[canonical_formula(candidate.formula)], infos[candidate.formula])

    def _run(self, proposals: dict[str, Proposal], view: TargetView, tests: Siblings,
             engine: SheetEngine) -> dict[str, Execution]:
        """Run every proposal at the target and ``tests``; with expansion on, one more round of
        candidates made from what the first ones computed, run too (added to ``proposals``)."""
        executions = {key: run_candidate(p.text, view, tests, engine) for key, p in proposals.items()}
        if "expansion" in self.sources and self.execute:
            for key in list(executions):
                for candidate in expansion_candidates(proposals[key].text, executions[key], view):
                    _add(proposals, candidate)
            for key, proposal in proposals.items():
                if key not in executions:
                    executions[key] = run_candidate(proposal.text, view, tests, engine)
        return executions

    def _neighbours(self, view: TargetView, index: FormulaIndex, add: Callable[..., None]) -> None:
        if "run" in self.sources:
            run = run_continuation(view.sheet, view.row, view.col)
            if run is not None:
                add(Candidate(run, 0.0, 0.0, "run"))
        if "copy" in self.sources:
            with _emptied(view.sheet, (view.row, view.col)):
                copies = copy_candidates(view.sheet, view.row, view.col, context=CONTEXT_FORMULAS,
                                         k=len(COPY_PRECISION), index=index)
            for rank, text in enumerate(copies):
                add(Candidate(text, 0.0, 0.0, "copy"), rank)

    def rank(self, scored: list[Scored], k: int, context: ContextSetting) -> list[Scored]:
        """Best first, one per behaviour, at most ``k``; each with its confidence."""
        if not scored:
            return []
        confidences = self.ranker.confidences([s.features for s in scored], context)
        for s, p in zip(scored, confidences, strict=True):
            s.confidence = float(p)
        ordered = sorted(scored, key=lambda s: -s.confidence)
        out: list[Scored] = []
        seen: set[tuple[object, ...]] = set()
        for s in ordered:
            signature = s.execution.signature
            informative = signature is not None and sum(s.execution.checked) > 0 and not s.execution.reason
            if informative:
                assert signature is not None
                if signature in seen:
                    continue
                seen.add(signature)
            out.append(s)
            if len(out) == k:
                break
        return out

    def predict_targets(self, workbook: Workbook, sheet: Sheet, cells: Sequence[tuple[int, int]], *,
                        context: ContextSetting | None = None, k: int = 5) -> list[list[Candidate]]:
        context = context or self.default_context
        results = []
        for scored in self.gather(workbook, sheet, cells, context=context):
            ranked = self.rank(scored, k, context)
            results.append([
                Candidate(s.proposal.text, s.proposal.model_logprob if s.proposal.model_logprob is not None else 0.0,
                          s.confidence, _primary(s.proposal.sources))
                for s in ranked
            ])
        return results


def _handles_blanks(execution: Execution) -> bool:
    """A formula written for empty inputs (``IF(D11="",0,…)``, ``ISBLANK``) may read only empty cells."""
    assert execution.formula is not None
    return any(t in ('""', "ISBLANK(") for t in execution.formula.sketch)


def _reads_any(execution: Execution, view: TargetView, cells: set[tuple[int, int]]) -> bool:
    """Whether the candidate reads one of ``cells`` (other than the target) on the target's sheet."""
    assert execution.formula is not None
    origin = (view.row, view.col)
    for ref in execution.formula.ranges:
        if ref.start is None or (ref.sheet is not None and ref.sheet.casefold() != view.sheet.name.casefold()):
            continue
        r1, c1 = ref.start.position(origin)
        r2, c2 = ref.end.position(origin) if ref.end is not None else (r1, c1)
        if None in (r1, c1, r2, c2):
            continue
        assert r1 is not None and c1 is not None and r2 is not None and c2 is not None
        if any(min(r1, r2) <= r <= max(r1, r2) and min(c1, c2) <= c <= max(c1, c2)
               for r, c in cells if (r, c) != origin):
            return True
    return False



def _checked(proposals: dict[str, Proposal], executions: dict[str, Execution], view: TargetView, tests: Siblings,
             pending: set[tuple[int, int]], prior: Mapping[str, float]) -> list[Scored]:
    """The proposals worth ranking, featurised: those that parse, do not read the target, stay in
    the workbook and compute from something (or from cells ``pending`` in the same call)."""
    facts = view_facts(view)
    scored = []
    for key, proposal in proposals.items():
        execution = executions[key]
        if execution.formula is None or execution.reads_target or has_external_effect(proposal.text):
            continue  # unparsable, self-reading, or reaching outside the workbook (safety.py)
        if (execution.empty_reads and not _handles_blanks(execution)
                and not _reads_any(execution, view, pending)):
            continue  # computes from nothing (and no cell it reads is being filled in this call)
        scored.append(Scored(proposal, execution, candidate_features(proposal, execution, tests, view, facts, prior)))
    return scored


def _count_retrieval(proposal: Proposal, info: Retrieved) -> None:
    """Add what retrieval found of a formula to its proposal: hits, workbooks, best kind of key."""
    proposal.retrieval_hits += info.hits
    proposal.retrieval_books = max(proposal.retrieval_books, info.books)
    proposal.retrieval_kind = min(proposal.retrieval_kind, info.best_kind)


_AGGREGATE_SKETCHES = {("SUM(", "RANGE", ")"), ("AVERAGE(", "RANGE", ")"), ("MIN(", "RANGE", ")"),
                       ("MAX(", "RANGE", ")"), ("COUNT(", "RANGE", ")")}


def _blocks(aggregates: list[Candidate]) -> list[str]:
    """The areas the aggregate source sums above the target (``D2:D9``), in its order."""
    areas = []
    for candidate in aggregates:
        text = candidate.formula
        if text.startswith("=SUM(") and ":" in text and "$" not in text:
            areas.append(text[5:-1])
    return areas


def _reblocked(text: str, view: TargetView, blocks: list[str]) -> list[str]:
    """``=SUM(D5:D9)`` found by retrieval, as ``=SUM(D2:D9)`` over this sheet's block above."""
    try:
        formula = parse_formula(text, (view.row, view.col))
    except (FormulaError, ValueError):
        return []
    if formula.sketch not in _AGGREGATE_SKETCHES or formula.ranges[0].end is None:
        return []
    ref = formula.ranges[0]
    assert ref.start is not None and ref.end is not None
    if ref.sheet is not None or ref.start.col != 0 or ref.end.col != 0 or ref.end.row != -1:
        return []
    name = formula.sketch[0]
    out = []
    for area in blocks:
        moved = f"={name}{area})"
        if moved != text:
            out.append(moved)
    return out


def _add(proposals: dict[str, Proposal], candidate: Candidate, rank: int | None = None) -> None:
    """Merge ``candidate`` into the proposals of one target, keyed by its canonical form."""
    try:
        key = canonical_formula(candidate.formula)
    except Exception:  # a candidate that does not even canonicalise is dropped
        return
    p = proposals.setdefault(key, Proposal(candidate.formula))
    p.sources.add(candidate.source)
    if candidate.source == "model" and p.model_logprob is None:
        p.model_logprob, p.model_rank = candidate.logprob, rank
    if candidate.source == "copy" and p.copy_rank is None:
        p.copy_rank = rank


_PRIMARY = ("run", "copy", "retrieval", "reference", "aggregate", "arithmetic", "expansion", "model")


def _primary(sources: set[str]) -> str:
    """The source a candidate is reported under when several proposed it."""
    return next((s for s in _PRIMARY if s in sources), "model") if sources else "model"


class _emptied:
    """``sheet`` with ``cell`` removed while inside, put back on exit (the copy source reads the
    sheet directly; the target must not be one of its own neighbours)."""

    def __init__(self, sheet: Sheet, cell: tuple[int, int]) -> None:
        self.sheet, self.cell = sheet, cell
        self.removed: Cell | None = None

    def __enter__(self) -> Sheet:
        self.removed = self.sheet.cells.pop(self.cell, None)
        return self.sheet

    def __exit__(self, *exc: object) -> None:
        if self.removed is not None:
            self.sheet.cells[self.cell] = self.removed

