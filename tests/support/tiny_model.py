"""The tiny model of the training tests: its configuration on a cache, and a few training steps."""

from __future__ import annotations

from pathlib import Path


def tiny_config(cache: Path, **overrides):
    """The tiny preset on a small window (fast on two cores), vocabularies from ``cache``."""
    from spreadsheetcoder.data.dataset import FormulaDataset
    from spreadsheetcoder.model.configuration import SpreadsheetCoderConfig

    data = FormulaDataset(cache, None)
    return SpreadsheetCoderConfig.preset("tiny", **{
        "sketch_vocab": data.sketch_vocab.tokens, "range_vocab": data.range_vocab.tokens,
        "radius": 4, "tile": 4, **overrides})


def train_steps(config, data, steps: int = 2) -> list[float]:
    """Losses of ``steps`` AdamW steps of a fresh model (seed 0) on the first 8 examples of ``data``."""
    import torch

    from spreadsheetcoder.model.batching import Batcher
    from spreadsheetcoder.model.modeling import SpreadsheetCoder

    torch.manual_seed(0)
    model = SpreadsheetCoder(config)
    batch = Batcher(config).collate(data, [data[i] for i in range(8)])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        out = model(batch)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        losses.append(out.loss.item())
    return losses
