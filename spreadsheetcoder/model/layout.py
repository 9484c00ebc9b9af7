"""File names of a checkpoint folder and of a training run folder: written and read only through these.

A checkpoint folder (``SpreadsheetCoder.save_pretrained``; the shipped one is ``model/shipped/``)::

    config.json          CONFIG_NAME        the model config (vocabularies included)
    model.safetensors    WEIGHTS_NAME       the weights
    model_card.json      CARD_NAME          training data and figures (scripts/ship_model.py)
    ranker.txt           RANKER_MODEL_NAME  the suggestion pipeline's ranker (suggest/ranker.py)
    ranker.json          RANKER_META_NAME   its features and calibration
    retrieval.json.gz    RETRIEVAL_NAME     the retrieval index (suggest/sources/retrieval.py)
    checker.txt          CHECKER_MODEL_NAME formula checking's scorer (check/checker.py)
    checker.json         CHECKER_META_NAME  its features, calibration and default threshold

A run folder (``training.py``) holds ``TRAIN_CONFIG_NAME``, ``CONFIG_NAME``, ``METRICS_NAME``, the
latest checkpoint in ``CHECKPOINT_DIR`` (plus ``TRAINER_STATE_NAME``) and the best one in ``MODEL_DIR``.

Imports nothing, so that loading a ranker or an index never loads torch.
"""

from __future__ import annotations

__all__ = [
    "CARD_NAME",
    "CHECKER_FILES",
    "CHECKER_META_NAME",
    "CHECKER_MODEL_NAME",
    "CHECKPOINT_DIR",
    "CONFIG_NAME",
    "METRICS_NAME",
    "MODEL_DIR",
    "RANKER_FILES",
    "RANKER_META_NAME",
    "RANKER_MODEL_NAME",
    "RETRIEVAL_NAME",
    "TRAINER_STATE_NAME",
    "TRAIN_CONFIG_NAME",
    "WEIGHTS_NAME",
]

# A checkpoint folder.
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "model_card.json"
RANKER_MODEL_NAME = "ranker.txt"
RANKER_META_NAME = "ranker.json"
RANKER_FILES = (RANKER_MODEL_NAME, RANKER_META_NAME)
RETRIEVAL_NAME = "retrieval.json.gz"
CHECKER_MODEL_NAME = "checker.txt"
CHECKER_META_NAME = "checker.json"
CHECKER_FILES = (CHECKER_MODEL_NAME, CHECKER_META_NAME)

# A run folder.
TRAIN_CONFIG_NAME = "train_config.json"
METRICS_NAME = "metrics.jsonl"
CHECKPOINT_DIR = "checkpoint"
TRAINER_STATE_NAME = "trainer_state.pt"
MODEL_DIR = "model"
