"""``trlx.train``: TRLX's one entry point, training in an rlhf run.

Which training, by the arguments given (as TRLX chose): ``reward_fn`` → PPO (rlhf's own PPO, the reward function
scoring in the run's sandboxed process); ``samples`` alone → SFT; ``samples`` + ``rewards`` → offline training,
which TRLX did with ILQL and rlhf does with KTO (see the package docstring for why). The run is an ordinary rlhf
run: it trains in its own process, shows in the app's Train tab, and the script prints its log as it goes.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from rlhf.compat.arguments import CompatArgumentError
from rlhf.compat.trlx.data.configs import TRLConfig
from rlhf.compat.trlx.data.default_configs import (
    default_ilql_config,
    default_ppo_config,
    default_sft_config,
)
from rlhf.compat.trlx.mapping import Method, copy_config, run_config


def train(  # noqa: C901 (TRLX's signature and defaults)
    model_path: Optional[str] = None,
    reward_fn: Optional[Callable[..., List[float]]] = None,
    dataset: Optional[Iterable[Tuple[str, float]]] = None,
    samples: Optional[List[str]] = None,
    rewards: Optional[List[float]] = None,
    prompts: Optional[List[str]] = None,
    eval_prompts: Optional[List[str]] = None,
    metric_fn: Optional[Callable[..., Dict[str, List[float]]]] = None,
    config: Optional[TRLConfig] = None,
    stop_sequences: Optional[List[str]] = [],  # noqa: B006 (TRLX's default)
) -> "TrainedRun":
    """Train as TRLX's ``trlx.train`` did, in an rlhf run; returns the finished run (``save_pretrained(dir)``)."""
    if config is None:
        warnings.warn("Passing the `config` argument implicitly is depreciated, use or"
                      "adapt some from `trlx/data/default_configs.py` instead")
        config = default_ppo_config() if reward_fn else default_ilql_config() if rewards else default_sft_config()
    if not isinstance(config, TRLConfig):
        raise CompatArgumentError(f"trlx.train: config must be a TRLConfig (from rlhf.compat.trlx.data."
                                  f"default_configs), got {type(config).__name__}.")
    if dataset:
        warnings.warn("the `dataset` argument is being depreciated, split it into `samples` and `rewards` instead")
        samples, rewards = dataset
    if model_path:
        config.model.model_path = model_path  # as TRLX: the config given records the model trained
    if metric_fn is not None:
        raise CompatArgumentError("trlx.train: metric_fn is not supported: rlhf runs no periodic evaluation; PPO "
                                  "logs a sample with its reward every few steps.")
    if eval_prompts is not None:
        raise CompatArgumentError("trlx.train: eval_prompts is not supported: rlhf runs no periodic evaluation; "
                                  "PPO logs a sample with its reward every few steps.")
    if stop_sequences:
        raise CompatArgumentError(f"trlx.train: stop_sequences={list(stop_sequences)!r} is not supported: rlhf's "
                                  "PPO ends a rollout at the model's end-of-text token or gen_kwargs' "
                                  "max_new_tokens.")
    run = _plan(config, reward_fn, samples, rewards, prompts)
    return _train(run, config)


def _plan(config: TRLConfig, reward_fn, samples, rewards, prompts):
    from rlhf.compat.trlx.samples import (
        kto_rows,
        prompt_rows,
        sft_rows,
        with_prompt,
        write_rows,
    )

    config = copy_config(config)
    if reward_fn:
        from rlhf.compat.trlx.reward_code import pickle_reward_fn, reward_source

        pickled = pickle_reward_fn(reward_fn)  # first: a function that cannot travel fails before anything loads
        folder = _tokenizer_path(config.model.model_path)
        # TRLX's default prompts: the BOS token, which its reward_fn saw decoded without special tokens, as ""
        bos = None if prompts is not None else _bos_token(folder, config.model.model_path)
        rows = prompt_rows(prompts if prompts is not None else [bos] * config.train.batch_size)
        code = reward_source(reward_fn, folder, hidden_prompt=bos, pickled=pickled)
        return run_config(config, Method.PPO, write_rows(rows, "prompts"), len(rows), reward_code=code)
    if samples:
        if prompts is not None:
            raise CompatArgumentError("trlx.train: prompts are for training with a reward_fn; with samples, give "
                                      "[prompt, completion] pairs instead.")
        if rewards is not None:
            rows, median = kto_rows(samples, rewards)
            if any(row["prompt"] is None for row in rows):
                model = config.model.model_path
                rows = with_prompt(rows, _bos_token(_tokenizer_path(model), model))
            _say(f"offline training with KTO: {sum(r['label'] for r in rows)} of {len(rows)} samples have a reward "
                 f"above the median {median:g} (desirable), the rest are undesirable")
            return run_config(config, Method.OFFLINE, write_rows(rows, "rewarded"), len(rows))
        rows = sft_rows(samples)
        return run_config(config, Method.SFT, write_rows(rows, "samples"), len(rows))
    raise ValueError("Either `samples` or `reward_fn` should be given for training")  # TRLX's own message


def _tokenizer_path(model: str) -> str | None:
    """The model's folder, for the reward function's ``tokenizer=`` (loaded only if the function uses it)."""
    from rlhf.errors import ConfigError
    from rlhf.starter import is_starter
    from rlhf.tasks.models import resolve_model_path

    if is_starter(model):
        from rlhf.starter.cache import starter_dir

        return str(starter_dir())
    try:
        return resolve_model_path(str(Path(model).expanduser().resolve()) if Path(model).exists() else model)
    except ConfigError:
        return None


def _bos_token(folder: str | None, model: str) -> str:
    from rlhf.tasks.models import load_tokenizer

    try:
        tokenizer = load_tokenizer(folder or model)
    except (OSError, ValueError) as error:
        raise CompatArgumentError(f"trlx.train: without prompts, TRLX's default prompts are the model's BOS token, "
                                  f"but its tokenizer does not load ({error}); give prompts=[…].") from None
    token = tokenizer.bos_token or tokenizer.eos_token
    if not token:
        raise CompatArgumentError("trlx.train: without prompts, TRLX's default prompts are the model's BOS token, "
                                  "and its tokenizer has none; give prompts=[…].")
    return token


def _train(config, trlx_config: TRLConfig) -> "TrainedRun":
    from rlhf.compat.trainer import RunFailedError, follow_run
    from rlhf.paths import runs_dir
    from rlhf.runs.manager import RunManager
    from rlhf.runs.status import RunStatus

    manager = RunManager(runs_dir())
    run_id = manager.submit(config)
    run = TrainedRun(trlx_config, run_id, manager.runs_dir / run_id)
    _say(f"rlhf run {run_id} in {run.run_dir} (follow it in the app's Train tab)")
    try:
        info = follow_run(manager, run_id, _say)
    except KeyboardInterrupt:
        _say(f"stopping run {run_id} (it saves a checkpoint; resume it from the app)")
        manager.stop(run_id)
        manager.wait(run_id, timeout=120)
        raise
    if info["status"] != RunStatus.FINISHED:
        raise RunFailedError(f"run {run_id} {info['status']}: {info.get('error') or 'no reason recorded'} "
                             f"(its log: {run.run_dir / 'stdout.log'})", run_id, info["status"])
    # As TRLX, the trained model is also under checkpoint_dir (TRLX's last and best checkpoints: here the final one).
    run.save_pretrained(Path(trlx_config.train.checkpoint_dir) / "best_checkpoint" / "hf_model")
    return run


class TrainedRun:
    """What ``trlx.train`` returns: the finished rlhf run, with TRLX's trainer's ``save_pretrained``."""

    def __init__(self, config: TRLConfig, run_id: str, run_dir: Path):
        self.config, self.run_id, self.run_dir = config, run_id, Path(run_dir)
        self._model = self._tokenizer = None

    @property
    def model_dir(self) -> Path:
        """The run's trained model (or LoRA adapter) with its tokenizer."""
        return self.run_dir / "final"

    def save_pretrained(self, directory: str | Path | None = None, **kwargs: Any) -> None:
        """Copy the trained model and its tokenizer into ``directory`` (TRLX's default: checkpoint_dir/hf_model)."""
        if kwargs:
            raise CompatArgumentError(f"save_pretrained: unknown argument '{next(iter(kwargs))}'; accepted: "
                                      "directory.")
        directory = Path(directory or Path(self.config.train.checkpoint_dir) / "hf_model")
        shutil.copytree(self.model_dir, directory, dirs_exist_ok=True)

    save = save_pretrained

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from rlhf.tasks.models import load_tokenizer

            self._tokenizer = load_tokenizer(str(self.model_dir))
        return self._tokenizer

    @property
    def model(self):
        if self._model is None:
            from rlhf.tasks.models import load_causal_lm

            self._model = load_causal_lm(str(self.model_dir))
        return self._model

    def __repr__(self) -> str:
        return f"TrainedRun(run_id={self.run_id!r}, run_dir='{self.run_dir}')"


def _say(line: str) -> None:
    print(line, flush=True)
