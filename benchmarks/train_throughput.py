"""Training throughput of a preset on this machine's device; print one JSON object.

    python benchmarks/train_throughput.py --data cache/KEY --preset tiny --preset cpu --preset real [--steps 30]

For each preset, in turn (one heavy job at a time): runs ``--warmup`` steps, then times ``--steps``
optimizer steps (forward, backward, AdamW) on batches of neighbouring targets (``group=sheet``, as
training does), with bf16 autocast on CUDA. Reports examples/s, BERT chunks per batch (chunk
encoder) and peak GPU memory, one JSON object per preset. The ``cpu`` preset's cell features are
computed first if the cache lacks them (not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from spreadsheetcoder.data.dataset import FormulaDataset, make_loader
from spreadsheetcoder.model.batching import Batcher, DatasetCollator, to_device
from spreadsheetcoder.model.configuration import PRESETS, SpreadsheetCoderConfig
from spreadsheetcoder.model.modeling import SpreadsheetCoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="training cache folder")
    parser.add_argument("--preset", action="append", metavar="NAME[:STEPS]",
                        help=f"preset to time, of {sorted(PRESETS)}, optionally with its own step count "
                             "(real:3 on a CPU); repeat for several (default: cpu)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="model config override for every preset, e.g. cell_dim=48 (JSON values)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4, help="DataLoader worker processes")
    args = parser.parse_args()

    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    for item in args.preset or ["cpu"]:
        preset, _, steps = item.partition(":")
        if preset not in PRESETS:
            parser.error(f"unknown preset {preset!r}; presets: {sorted(PRESETS)}")
        print(json.dumps(measure(args, preset, overrides, int(steps) if steps else args.steps)), flush=True)


def measure(args: argparse.Namespace, preset: str, overrides: dict[str, object], steps: int) -> dict[str, object]:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    bf16 = device.type == "cuda"
    torch.manual_seed(0)
    data = FormulaDataset(args.data, "train")
    data.indices = data.indices[data.examples["covered"][data.indices]]
    config = SpreadsheetCoderConfig.preset(preset, sketch_vocab=data.sketch_vocab.tokens,
                                           range_vocab=data.range_vocab.tokens, **overrides)
    data = FormulaDataset(args.data, "train", window_radius=config.radius)
    data.indices = data.indices[data.examples["covered"][data.indices]]
    if config.encoder == "features":
        data.use_features(config.cell_features)
    model = SpreadsheetCoder(config).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loader = make_loader(data, args.batch_size, collate_fn=DatasetCollator(Batcher(config), data), group="sheet",
                         pool_batches=10_000, num_workers=args.workers if device.type == "cuda" else 0)
    batches = iter(loader)
    chunks = []
    examples = 0
    start = 0.0
    for step in range(args.warmup + steps):
        if step == args.warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            examples = 0
        batch = to_device(next(batches), device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = model(batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        examples += int(batch["out_ids"].shape[0])
        if "chunk_tokens" in batch:
            chunks.append(int(batch["chunk_tokens"].shape[0]))
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {
        "preset": preset, "overrides": overrides, "parameters": model.num_parameters(), "device": torch.cuda.get_device_name()
        if device.type == "cuda" else f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "batch_size": args.batch_size, "steps": steps, "examples_per_s": round(examples / seconds, 2),
        "seconds_per_step": round(seconds / steps, 3), "chunks_per_batch": round(sum(chunks) / len(chunks)) if chunks else None,
        "peak_gpu_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.type == "cuda" else None,
        "bf16": bf16, "torch_threads": torch.get_num_threads(),
    }


if __name__ == "__main__":
    main()
