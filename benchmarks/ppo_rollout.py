"""PPO rollout speed on the starter: completion tokens per second of ``PPOTrainer._rollout``'s generation.

    python benchmarks/ppo_rollout.py [--batch 8] [--tokens 32] [--repeats 5]

Prints the median tokens/s of the generation call alone and of the whole rollout (generation, reward, the
policy's and reference's forward passes). Printed, not asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-cache", action="store_true", help="generate without the KV cache (for comparison)")
    args = parser.parse_args()

    import torch

    from rlhf.tasks.models import load_tokenizer, resolve_model_path
    from rlhf.tasks.ppo import PPOSettings, PPOTrainer

    torch.set_num_threads(max(1, torch.get_num_threads()))
    path = resolve_model_path("starter", "model")
    tokenizer = load_tokenizer(path)
    prompts = [f"### Instruction: Tell me about item {i} of the list.\n\n### Response:" for i in range(64)]
    settings = PPOSettings(batch_size=args.batch, mini_batch_size=args.batch, min_new_tokens=args.tokens,
                           max_new_tokens=args.tokens, generation_kwargs={"min_new_tokens": args.tokens, "use_cache": not args.no_cache})
    with tempfile.TemporaryDirectory() as out:
        trainer = PPOTrainer(str(path), tokenizer, prompts, lambda p, c: [0.0] * len(c), settings, out)
        trainer._rollout(prompts[:args.batch])  # warm-up
        whole, generation = [], []
        for step in range(args.repeats):
            started = time.perf_counter()
            batch = trainer._rollout(prompts[step * args.batch:(step + 1) * args.batch])
            seconds = time.perf_counter() - started
            tokens = int(batch["mask"].sum())
            whole.append(tokens / seconds)
            if "rollout_tokens_per_second" in batch:
                generation.append(batch["rollout_tokens_per_second"])
    cache = "without" if args.no_cache else "with"
    print(f"PPO rollout on the starter, batch {args.batch}, {args.tokens} new tokens, {cache} the KV cache, "
          f"median of {args.repeats}")
    print(f"  whole rollout: {statistics.median(whole):8.1f} completion tokens/s")
    if generation:
        print(f"  generation:    {statistics.median(generation):8.1f} completion tokens/s")


if __name__ == "__main__":
    main()
