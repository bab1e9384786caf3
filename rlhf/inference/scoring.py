"""Score texts with a reward model: one float per text, higher is preferred.

Used by the RL stage (rewards for PPO), the ``score`` verb and the app's score box. A text is scored as TRL's
``RewardTrainer`` trained on it (:func:`as_trained`): a causal reward model reads its score at the last token, and
in training that token was the EOS token the trainer appends; scored without it, the score comes from a position
the model never learned to rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from rlhf.formatting.templates import fill_template


def reward_texts(texts: Sequence[str], prompt: str = "", context: str = "") -> list[str]:
    """What a reward model is given for each text. With a prompt, each text is a response placed in the seed's
    template after the prompt and context: the text the RM template (``templates/rm.py``) makes of a pair's
    response, so a response scores as the pairs trained. Without a prompt, each text as it is (raw text)."""
    if not (prompt or "").strip():
        return list(texts)
    return [fill_template(prompt.strip(), (context or "").strip(), text.strip()) for text in texts]


def as_trained(text: str, eos_token: str | None) -> str:
    """``text`` as ``RewardTrainer`` tokenizes a non-conversational chosen or rejected text: ending in the EOS
    token (appended unless already there)."""
    return text if not eos_token or text.endswith(eos_token) else text + eos_token


def reward_name(path: str) -> str:
    """What a reward model's rewards are logged as: its run's name (not ``final``), else its folder's or id's."""
    from rlhf.runs.lineage import run_folder_of

    return (run_folder_of(path) or Path(path)).name


class RewardScorer:
    def __init__(self, model_ref: str, max_length: int = 512, device: str | None = None):
        import torch

        from rlhf.tasks.models import check_is_reward_model, load_reward_model, load_tokenizer, resolve_model_path

        path = resolve_model_path(model_ref, "reward_models")
        check_is_reward_model(path)
        self.path = path
        self.__name__ = reward_name(path)  # TRL logs rewards/<name>/mean
        self.tokenizer = load_tokenizer(path)
        self.model = load_reward_model(path).eval()
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)
        positions = getattr(self.model.config, "max_position_embeddings", None) or getattr(
            self.model.config, "n_positions", None)
        self.max_length = min(max_length, positions) if positions else max_length

    def encode(self, texts: Sequence[str]):
        """The padded batch the model scores: each text as the reward model trained on it."""
        return self.tokenizer([as_trained(t, self.tokenizer.eos_token) for t in texts], padding=True,
                              truncation=True, max_length=self.max_length, return_tensors="pt")

    def score(self, texts: Sequence[str], batch_size: int = 16) -> list[float]:
        import torch

        scores: list[float] = []
        for start in range(0, len(texts), batch_size):
            inputs = self.encode(texts[start : start + batch_size]).to(self.device)
            with torch.no_grad():
                logits = self.model(**inputs).logits
            scores += logits[:, 0].float().cpu().tolist()
        return scores

    def __call__(self, prompts: Sequence[str], completions: Sequence[str], **trl_kwargs: Any) -> list[float]:
        """Scores of prompt + completion: our PPO's reward, and a TRL ``reward_funcs`` entry for GRPO and RLOO
        (which pass ``completion_ids``, ``trainer_state`` and the dataset's columns too; a reward model needs none
        of them), so every algorithm scores a text as the Score tab does."""
        return self.score([p + c for p, c in zip(prompts, completions)])
