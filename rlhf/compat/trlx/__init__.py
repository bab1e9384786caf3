"""TRLX's API (``import trlx``) over rlhf's engine: ``import rlhf.compat.trlx as trlx``.

    import trlx                                        →  import rlhf.compat.trlx as trlx
    from trlx.data.default_configs import …            →  from rlhf.compat.trlx.data.default_configs import …
    from trlx.data.configs import TRLConfig, …         →  from rlhf.compat.trlx.data.configs import …

``trlx.train(…)`` chooses the training from its arguments as TRLX did and trains in an ordinary rlhf run (its
own process, listed in the app's Train tab):

- ``samples`` alone: supervised fine-tuning; strings train whole, ``[prompt, completion]`` pairs on the completion.
- ``reward_fn`` (with ``prompts``, else TRLX's default empty prompts): rlhf's PPO. The function is called as TRLX
  called it (``samples``, ``prompts``, ``outputs``, ``tokenizer``), in the run's sandboxed reward process.
- ``samples`` + ``rewards``: offline training. TRLX used ILQL, an offline RL method rlhf does not have; rlhf
  trains KTO instead, labelling a sample desirable when its reward is above the median. KTO needs no pairs
  (TRLX's reward-labelled samples seldom come in pairs), learns from the same signal a reward ranking gives, and
  keeps the model close to where it started, as ILQL's conservative loss did; it uses the rewards' order around
  the median, not their size.

Config fields left at the default config's values mean TRLX's defaults; changed ones are honoured or refused
by name (:mod:`rlhf.compat.trlx.mapping`). Importing this package is light: torch loads in the run.
"""

from __future__ import annotations

from rlhf.compat.trlx.trlx import TrainedRun, train

__all__ = ["TrainedRun", "train"]
