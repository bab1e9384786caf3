"""Argilla 1.x's LLM training API, backed by rlhf: scripts run after changing only their imports.

    import argilla as rg                        →  import rlhf.compat as rg
    from argilla.feedback import ArgillaTrainer  →  from rlhf.compat import ArgillaTrainer
    from argilla.feedback import TrainingTask    →  from rlhf.compat import TrainingTask
    from trl import PPOConfig                    →  from rlhf.compat import PPOConfig

``FeedbackDataset(fields=…, questions=…)`` with ``add_records`` builds a dataset in memory, as in Argilla 1.x
(``rlhf.compat.feedback``: the fields, questions, metadata properties and records, with Argilla's checks);
``FeedbackDataset.from_huggingface`` reads rlhf's sources (a Hub id, a local file or folder, ``sample``);
``prepare_for_training(framework="trl", task=…)`` returns the rows Argilla returned (computed by rlhf's
sandboxed formatting, the same rows as ``python -m rlhf prepare``); ``ArgillaTrainer(…).train(output_dir)``
trains in an rlhf run (visible in the app) and leaves the model in ``output_dir``. Only ``framework="trl"`` and
its four tasks (SFT, reward modelling, PPO, DPO) are covered; anything else, and any keyword argument rlhf
cannot honour, is an error that says so. Importing this package is light: torch and TRL load when training.
"""

from __future__ import annotations

from rlhf.compat.arguments import SUPPORTED_FRAMEWORKS, CompatArgumentError
from rlhf.compat.dataset import FeedbackDataset
from rlhf.compat.feedback import (
    FeedbackRecord,
    FloatMetadataProperty,
    IntegerMetadataProperty,
    LabelQuestion,
    MultiLabelQuestion,
    RankingQuestion,
    RankingValueSchema,
    RatingQuestion,
    ResponseSchema,
    SpanQuestion,
    SuggestionSchema,
    TermsMetadataProperty,
    TextField,
    TextQuestion,
    ValueSchema,
)
from rlhf.compat.ppo_config import PPOConfig
from rlhf.compat.tasks import (
    TrainingTask,
    TrainingTaskForDPO,
    TrainingTaskForPPO,
    TrainingTaskForRM,
    TrainingTaskForSFT,
)
from rlhf.compat.trainer import ArgillaTrainer, PredictNotSupportedError, RunFailedError

__all__ = [
    "SUPPORTED_FRAMEWORKS",
    "ArgillaTrainer",
    "CompatArgumentError",
    "FeedbackDataset",
    "FeedbackRecord",
    "FloatMetadataProperty",
    "IntegerMetadataProperty",
    "LabelQuestion",
    "MultiLabelQuestion",
    "PPOConfig",
    "PredictNotSupportedError",
    "RankingQuestion",
    "RankingValueSchema",
    "RatingQuestion",
    "ResponseSchema",
    "RunFailedError",
    "SpanQuestion",
    "SuggestionSchema",
    "TermsMetadataProperty",
    "TextField",
    "TextQuestion",
    "TrainingTask",
    "TrainingTaskForDPO",
    "TrainingTaskForPPO",
    "TrainingTaskForRM",
    "TrainingTaskForSFT",
    "ValueSchema",
]


def __getattr__(name: str):
    """``TrainingTaskMapping``: Argilla's deprecated name for ``TrainingTask``, which warns (as Argilla's did)."""
    from rlhf.compat.tasks import deprecated_alias

    return deprecated_alias(name)
