"""Training loop: one CPU, one GPU, or ``torchrun --nproc_per_node=N`` (DistributedDataParallel).

A run folder holds everything needed to resume or to reuse the run::

    RUN/train_config.json   the resolved training options
    RUN/config.json         the resolved model config (vocabularies included)
    RUN/metrics.jsonl       one JSON object per logged step and per dev evaluation
    RUN/checkpoint/         latest model + trainer_state.pt (optimizer, scheduler, step, RNG)
    RUN/model/              the model with the best dev loss (what evaluate and predict load)

Only rank 0 logs and writes. Resuming (``resume=True``) continues from ``RUN/checkpoint``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from .context import stored_context
from .data.cache import SHEETS_NAME
from .data.dataset import FormulaDataset, ensure_cell_features, make_loader
from .errors import ConfigError
from .model.batching import Batcher, DatasetCollator, to_device
from .model.configuration import PRESETS, SpreadsheetCoderConfig, build_strict, parse_field
from .model.layout import (
    CHECKPOINT_DIR,
    CONFIG_NAME,
    METRICS_NAME,
    MODEL_DIR,
    TRAIN_CONFIG_NAME,
    TRAINER_STATE_NAME,
)
from .model.modeling import SpreadsheetCoder

logger = logging.getLogger(__name__)

__all__ = ["TrainConfig", "train"]


@dataclass
class TrainConfig:
    """Options of a training run.

    Args:
        data: a training cache folder (``spreadsheetcoder cache``).
        out: the run folder.
        preset: model preset (configuration.PRESETS); ``model`` overrides its fields.
        batch_size: examples per step and process.
        lr: peak learning rate of the decoder and grid layers; ``bert_lr`` of the BERT (None: lr).
        weight_decay, warmup_steps, grad_clip: AdamW, linear warmup then cosine decay to 10%.
        max_steps: optimizer steps (``epochs`` bounds them too when set).
        eval_every, log_every, save_every: in steps; eval uses at most ``eval_examples`` dev examples.
        group: ``sheet`` batches neighbouring targets (shared encoder chunks, fast) or ``length``.
        bf16: autocast to bfloat16 (default: on CUDA only).
        covered_only: train on examples whose every target token is in the vocabularies.
        shuffle: draw batches in a seeded random order (off: the cache's order, for exact comparisons).
        limit_examples: train on the first N training examples only (smoke runs, tests).
        max_per_workbook: keep at most N training examples of each workbook (a deterministic sample),
            so one huge workbook cannot dominate (one real workbook holds 70% of the corpus's targets).
        init_from: a model folder whose weights (and config) start this run (fine-tuning).
        seed, num_workers, resume: as named.
    """

    data: str = ""
    out: str = "runs/run"
    preset: str = "tiny"
    model: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 32
    lr: float = 1e-3
    bert_lr: float | None = None
    weight_decay: float = 0.01
    warmup_steps: int = 100
    max_steps: int = 1000
    epochs: float | None = None
    grad_clip: float = 1.0
    eval_every: int = 200
    eval_examples: int = 512
    log_every: int = 10
    save_every: int = 200
    group: str = "sheet"
    bf16: bool | None = None
    covered_only: bool = True
    seed: int = 0
    num_workers: int = 0
    resume: bool = False
    shuffle: bool = True
    limit_examples: int | None = None
    max_per_workbook: int | None = None
    init_from: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return build_strict(cls, data, "training options")


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warmup to 1, then cosine decay to 0.1 at ``total``."""
    if step < warmup:
        return (step + 1) / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def _distributed() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank() if world > 1 else 0
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return world, rank, local


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _cap_per_workbook(dataset: FormulaDataset, cap: int, seed: int) -> np.ndarray:
    """``dataset.indices`` with at most ``cap`` examples per workbook (a seeded sample, order kept)."""
    sheets = json.loads((dataset.dir / SHEETS_NAME).read_text(encoding="utf-8"))
    book_ids: dict[str, int] = {}
    book_of_sheet = np.array([book_ids.setdefault(book, len(book_ids)) for book, _ in sheets], dtype=np.int64)
    books = book_of_sheet[dataset.examples["sheet"][dataset.indices]]
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(books), bool)
    for book in np.unique(books):
        where = np.flatnonzero(books == book)
        keep[where if len(where) <= cap else rng.choice(where, cap, replace=False)] = True
    return dataset.indices[keep]


def _dataset(path: str, split: str, covered_only: bool, radius: int) -> FormulaDataset:
    dataset = FormulaDataset(path, split, window_radius=radius)
    if covered_only:
        dataset.indices = dataset.indices[dataset.examples["covered"][dataset.indices]]
    return dataset


@torch.no_grad()
def evaluate_loss(model: SpreadsheetCoder, dataset: FormulaDataset, batcher: Batcher, *, batch_size: int,
                  limit: int, device: torch.device, bf16: bool) -> dict[str, float]:
    """Teacher-forced dev loss, token accuracy and exact match (every token of the formula right)."""
    model.eval()
    count = min(limit, len(dataset))
    total_loss = total_tokens = correct_tokens = exact = 0.0
    for start in range(0, count, batch_size):
        items = [dataset[i] for i in range(start, min(count, start + batch_size))]
        batch = to_device(batcher.collate(dataset, items), device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out = model(batch)
        mask = batch["out_mask"]
        pred = out.predictions
        right = (pred == batch["out_ids"]) | ~mask
        n = mask.sum().item()
        assert out.loss is not None
        total_loss += out.loss.item() * n
        total_tokens += n
        correct_tokens += ((pred == batch["out_ids"]) & mask).sum().item()
        exact += right.all(dim=1).sum().item()
    model.train()
    return {"dev_loss": total_loss / max(1, total_tokens), "dev_token_accuracy": correct_tokens / max(1, total_tokens),
            "dev_exact": exact / max(1, count), "dev_examples": count}


def _save(model: SpreadsheetCoder, folder: Path, optimizer: torch.optim.Optimizer | None = None,
          scheduler: Any = None, step: int = 0, best: float = math.inf) -> None:
    model.save_pretrained(folder)
    if optimizer is not None:
        state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "step": step, "best": best,
                 "rng": torch.get_rng_state(), "numpy_rng": np.random.get_state()}
        torch.save(state, folder / (TRAINER_STATE_NAME + ".tmp"))
        os.replace(folder / (TRAINER_STATE_NAME + ".tmp"), folder / TRAINER_STATE_NAME)


def _device(local: int) -> torch.device:
    """This process's device (its local GPU, else the CPU), made current on CUDA with TF32 matmuls on."""
    device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
    return device


def _model(options: TrainConfig, checkpoint: Path) -> tuple[SpreadsheetCoder, SpreadsheetCoderConfig]:
    """The model to train: resumed from ``checkpoint``, started from ``init_from``, or new from the
    preset with the cache's vocabularies; checked against the windows the cache stores."""
    probe = FormulaDataset(options.data, "train")
    if options.resume and (checkpoint / CONFIG_NAME).is_file():
        model = SpreadsheetCoder.from_pretrained(checkpoint)
        config = model.config
    elif options.init_from:
        model = SpreadsheetCoder.from_pretrained(options.init_from)
        config = model.config
        if config.sketch_vocab != probe.sketch_vocab.tokens or config.range_vocab != probe.range_vocab.tokens:
            raise ConfigError(f"{options.init_from} was trained with other vocabularies than {options.data}'s")
    else:
        config = SpreadsheetCoderConfig.preset(options.preset, **{
            "sketch_vocab": probe.sketch_vocab.tokens, "range_vocab": probe.range_vocab.tokens,
            "context": stored_context(probe.meta["config"]), **options.model})
        model = SpreadsheetCoder(config)
    if probe.stored_radius < config.stored_radius:
        raise ConfigError(
            f"the cache stores windows of radius {probe.stored_radius}; this model (radius {config.radius}, tile "
            f"{config.tile}) needs {config.stored_radius}: extract with --radius {config.stored_radius}")
    return model, config


def _datasets(options: TrainConfig, config: SpreadsheetCoderConfig, *, world: int, rank: int,
              progress: bool | None) -> tuple[FormulaDataset, FormulaDataset]:
    """The training examples (covered, capped per workbook, limited as ``options`` say) and the dev
    examples, with their cell features for the ``features`` encoder."""
    train_set = _dataset(options.data, "train", options.covered_only, config.radius)
    if options.max_per_workbook is not None:
        train_set.indices = _cap_per_workbook(train_set, options.max_per_workbook, options.seed)
    if options.limit_examples is not None:
        train_set.indices = train_set.indices[: options.limit_examples]
    dev_set = _dataset(options.data, "dev", options.covered_only, config.radius)
    if len(train_set) == 0:
        raise ConfigError(f"{options.data} has no training examples")
    if config.encoder == "features":
        if rank == 0:  # computed once (first run on this cache), then every process maps the files
            ensure_cell_features(options.data, config.cell_features, progress=progress)
        if world > 1:
            dist.barrier()
        train_set.use_features(config.cell_features)
        dev_set.use_features(config.cell_features)
    return train_set, dev_set


def _resume(checkpoint: Path, optimizer: torch.optim.Optimizer, scheduler: Any) -> tuple[int, float]:
    """Step and best dev loss of the run in ``checkpoint``, its optimizer, scheduler and RNG state restored."""
    state = torch.load(checkpoint / TRAINER_STATE_NAME, map_location="cpu", weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    step, best = int(state["step"]), float(state["best"])
    torch.set_rng_state(state["rng"])
    np.random.set_state(state["numpy_rng"])
    logger.info("resumed from %s at step %d", checkpoint, step)
    return step, best


@dataclass
class _Loop:
    """The optimisation loop of one process, from ``step`` to ``total`` (rank 0 logs, evaluates, saves)."""

    options: TrainConfig
    model: SpreadsheetCoder
    wrapped: torch.nn.Module  # the model, or its DistributedDataParallel wrapper
    optimizer: torch.optim.Optimizer
    scheduler: Any
    dev_set: FormulaDataset
    batcher: Batcher
    device: torch.device
    bf16: bool
    world: int
    rank: int
    out: Path
    total: int
    step: int
    best: float

    def run(self, loader: DataLoader[Any], progress: bool | None) -> dict[str, Any]:
        """Train to ``total`` steps; returns the last logged metrics."""
        options, rank = self.options, self.rank
        checkpoint = self.out / CHECKPOINT_DIR
        metrics_file = open(self.out / METRICS_NAME, "a", encoding="utf-8") if rank == 0 else None  # noqa: SIM115 (closed in finally)
        last: dict[str, Any] = {}
        bar = tqdm(total=self.total, initial=self.step, desc="train", unit="step",
                   disable=rank != 0 or (not progress if progress is not None else None))
        self.model.train()
        epoch = self.step // max(1, len(loader))
        examples = 0
        started = time.perf_counter()
        try:
            while self.step < self.total:
                loader.batch_sampler.set_epoch(epoch)  # type: ignore[union-attr]
                for batch in loader:
                    if self.step >= self.total:
                        break
                    batch = to_device(batch, self.device)
                    loss, output, grad_norm = self._optimizer_step(batch)
                    self.step += 1
                    examples += int(batch["out_ids"].shape[0]) * self.world
                    bar.update(1)
                    if rank == 0 and (self.step % options.log_every == 0 or self.step == self.total):
                        assert metrics_file is not None
                        last = self._log(epoch, loss, output, grad_norm, batch, examples / (time.perf_counter() - started))
                        bar.set_postfix(loss=last["loss"], acc=last["token_accuracy"])
                        _write_metrics(metrics_file, last)
                    if rank == 0 and (self.step % options.eval_every == 0 or self.step == self.total) and len(self.dev_set):
                        assert metrics_file is not None
                        last = self._evaluate(metrics_file)
                    if rank == 0 and (self.step % options.save_every == 0 or self.step == self.total):
                        _save(self.model, checkpoint, self.optimizer, self.scheduler, self.step, self.best)
                epoch += 1
        finally:
            bar.close()
            if metrics_file is not None:
                metrics_file.close()
        return last

    def _optimizer_step(self, batch: dict[str, Any]) -> tuple[torch.Tensor, Any, torch.Tensor]:
        """One forward, backward and optimizer step on ``batch``: ``(loss, model output, gradient norm)``."""
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            output = self.wrapped(batch)
        loss = output.loss
        if self.world > 1:
            # Divide by the global token count: DDP averages gradients over processes, so this
            # gives exactly the gradient of one process on the whole batch.
            tokens = output.tokens.detach().clone()
            dist.all_reduce(tokens)
            objective = output.loss_sum * self.world / tokens.clamp(min=1)
            loss = output.loss_sum.detach().clone()
            dist.all_reduce(loss)
            loss = loss / tokens.clamp(min=1)
        else:
            objective = loss
        self.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.options.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        return loss, output, grad_norm

    def _log(self, epoch: int, loss: torch.Tensor, output: Any, grad_norm: torch.Tensor, batch: dict[str, Any],
             examples_per_s: float) -> dict[str, Any]:
        """The metrics line of the step just taken."""
        last = {"step": self.step, "epoch": epoch, "loss": round(loss.item(), 5),
                "token_accuracy": round(float(output.token_accuracy), 4),
                "grad_norm": round(float(grad_norm), 4), "lr": self.scheduler.get_last_lr()[-1],
                "examples_per_s": round(examples_per_s, 2)}
        if "chunk_tokens" in batch:
            last["chunks"] = int(batch["chunk_tokens"].shape[0])
        return last

    def _evaluate(self, metrics_file: IO[str]) -> dict[str, Any]:
        """Log the dev scores of the current model, and save it as the run's model when its dev loss
        is the best yet; returns the scores' metrics line."""
        options = self.options
        scores = evaluate_loss(self.model, self.dev_set, self.batcher, batch_size=options.batch_size,
                               limit=options.eval_examples, device=self.device, bf16=self.bf16)
        last = {"step": self.step, **{k: round(v, 5) for k, v in scores.items()}}
        _write_metrics(metrics_file, last)
        if scores["dev_loss"] < self.best:
            self.best = scores["dev_loss"]
            _save(self.model, self.out / MODEL_DIR)
        return last


def _write_metrics(metrics_file: IO[str], record: dict[str, Any]) -> None:
    metrics_file.write(json.dumps(record) + "\n")
    metrics_file.flush()


def train(options: TrainConfig, *, progress: bool | None = None) -> dict[str, Any]:
    """Run training as ``options`` say; returns the last logged metrics (rank 0)."""
    world, rank, local = _distributed()
    device = _device(local)
    bf16 = device.type == "cuda" if options.bf16 is None else options.bf16
    _seed_all(options.seed)
    out = Path(options.out)
    checkpoint = out / CHECKPOINT_DIR

    model, config = _model(options, checkpoint)
    train_set, dev_set = _datasets(options, config, world=world, rank=rank, progress=progress)
    model.to(device)
    batcher = Batcher(config)
    loader = make_loader(train_set, options.batch_size, shuffle=options.shuffle, distributed=world > 1, seed=options.seed,
                         num_workers=options.num_workers, drop_last=world > 1,
                         collate_fn=DatasetCollator(batcher, train_set), group=options.group,
                         pool_batches=10_000 if options.group == "sheet" else 50)
    total = options.max_steps
    if options.epochs is not None:
        total = min(total, max(1, int(options.epochs * len(loader))))

    optimizer = model.configure_optimizers(lr=options.lr, bert_lr=options.bert_lr, weight_decay=options.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, options.warmup_steps, total))
    step, best = 0, math.inf
    if options.resume and (checkpoint / TRAINER_STATE_NAME).is_file():
        step, best = _resume(checkpoint, optimizer, scheduler)

    wrapped: torch.nn.Module = model
    if world > 1:
        wrapped = DistributedDataParallel(model, device_ids=[local] if device.type == "cuda" else None)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / TRAIN_CONFIG_NAME).write_text(json.dumps(asdict(options), indent=2), encoding="utf-8")
        config.save(out / CONFIG_NAME)
        logger.info("model: %d parameters, %d train / %d dev examples, %d steps", model.num_parameters(),
                    len(train_set), len(dev_set), total)
    loop = _Loop(options=options, model=model, wrapped=wrapped, optimizer=optimizer, scheduler=scheduler,
                 dev_set=dev_set, batcher=batcher, device=device, bf16=bf16, world=world, rank=rank, out=out,
                 total=total, step=step, best=best)
    last = loop.run(loader, progress)
    if rank == 0 and not (out / MODEL_DIR / CONFIG_NAME).is_file():
        _save(model, out / MODEL_DIR)  # no dev split: the last model is the model
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return last


def load_options(config: str | None, overrides: list[str]) -> TrainConfig:
    """Options from a preset name or a JSON file, then ``key=value`` overrides (``model.d_model=128``).

    Each override's value is parsed as the type of the field it sets (``TrainConfig``'s, or with
    ``model.`` ``SpreadsheetCoderConfig``'s; ``model={...}`` takes a JSON object of those): an unknown
    key, a value of the wrong type or an unknown preset is a ``ConfigError``, raised before anything loads.
    """
    data: dict[str, Any] = {}
    if config:
        path = Path(config)
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{config}: not a JSON file of training options ({exc})") from None
            if not isinstance(data, dict):
                raise ConfigError(f"{config}: training options must be a JSON object")
        elif config in PRESETS:
            data = {"preset": config}
        else:
            raise ConfigError(f"{config!r} is neither a JSON file nor a preset; presets: {sorted(PRESETS)}")
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r} is not key=value")
        if key.startswith("model."):
            model = data.setdefault("model", {})
            model[key[6:]] = parse_field(SpreadsheetCoderConfig, key[6:], raw, "model fields", name=key)
        elif key == "model":  # a JSON object of model fields
            given = parse_field(TrainConfig, key, raw, "training options")
            data["model"] = {name: parse_field(SpreadsheetCoderConfig, name, text if isinstance(text, str)
                                               else json.dumps(text), "model fields", name=f"model.{name}")
                             for name, text in given.items()}
        else:
            data[key] = parse_field(TrainConfig, key, raw, "training options")
    options = TrainConfig.from_dict(data)
    if options.preset not in PRESETS:
        raise ConfigError(f"unknown preset {options.preset!r}; presets: {sorted(PRESETS)}")
    return options
