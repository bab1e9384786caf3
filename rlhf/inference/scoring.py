"""Score texts with a reward model: one float per text, higher is preferred.

Used by the RL stage (rewards for PPO), the ``score`` verb and the app's score box.
"""

from __future__ import annotations

from typing import Sequence


class RewardScorer:
    def __init__(self, model_ref: str, max_length: int = 512, device: str | None = None):
        import torch

        from rlhf.tasks.models import check_is_reward_model, load_reward_model, load_tokenizer, resolve_model_path

        path = resolve_model_path(model_ref, "reward_models")
        check_is_reward_model(path)
        self.path = path
        self.tokenizer = load_tokenizer(path)
        self.model = load_reward_model(path).eval()
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)
        positions = getattr(self.model.config, "max_position_embeddings", None) or getattr(
            self.model.config, "n_positions", None)
        self.max_length = min(max_length, positions) if positions else max_length

    def score(self, texts: Sequence[str], batch_size: int = 16) -> list[float]:
        import torch

        scores: list[float] = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            inputs = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_length,
                                    return_tensors="pt").to(self.device)
            with torch.no_grad():
                logits = self.model(**inputs).logits
            scores += logits[:, 0].float().cpu().tolist()
        return scores

    def __call__(self, prompts: Sequence[str], completions: Sequence[str]) -> list[float]:
        return self.score([p + c for p, c in zip(prompts, completions)])
