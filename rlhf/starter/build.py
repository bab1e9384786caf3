"""Build the starter: train a byte-level BPE tokenizer, then pre-train a tiny GPT-2 on the sample.

torch, tokenizers and transformers are imported inside the functions so that
importing this module (and `rlhf.starter`) stays cheap.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import time
from typing import Callable, Optional

from rlhf.formatting.replies import TEMPLATE_HEADERS
from rlhf.starter import corpus
from rlhf.starter.recipe import RECIPE, Recipe, version

Progress = Callable[[float, str], None]

EOS = "<|endoftext|>"
PAD = "<|pad|>"

# Renders chats in the layout the model is pre-trained on: a user turn followed by the
# generation prompt is exactly the project template with an empty context and response.
# Assistant turns end in EOS, as the training documents do.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}### System: {{ message['content'] }}\n\n"
    "{% elif message['role'] == 'user' %}### Instruction: {{ message['content'] }}\n\n### Context: \n\n"
    "{% elif message['role'] == 'assistant' %}### Response: {{ message['content'] }}{{ eos_token }}\n\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}### Response:{% endif %}"
)


# Text the tokenizer must reproduce exactly, beyond the corpus itself.
ROUND_TRIP_PROBES = (
    "Hello, world!",
    "  two leading spaces, two trailing  ",
    "line one\nline two\n\n\tindented after a blank line\n",
    "Unicode: café, naïve, 東京, emoji 🙂.",
    "### Instruction: Is a toad a frog?\n\n### Context: \n\n### Response: Yes.",
)


def _report(progress: Optional[Progress], fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


def train_tokenizer(texts: list[str], vocab_size: int, max_length: int):
    """A byte-level BPE: every string encodes (no unknowns) and decodes back unchanged.

    Shaped for the instruction template, so that 60 SFT steps teach a 1M-parameter model to answer in it:
    each template header is one token, never seen in pre-training (the starter does not know the template: that
    is what SFT teaches); an empty field (``"### Context: \\n\\n"``) is one whitespace token; and an answer's
    first word has a token with its leading space, as it follows ``"### Response:"``. Otherwise the model must
    tell a header from another across a lone space token, and greedy decoding after ``"### Response:"`` repeats
    headers instead of answering.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    answers = [" " + text.rsplit("\n\n", 1)[-1] for text in texts]  # the last paragraph of each is its answer
    empty_fields = [" \n\n"] * 100
    backend.train_from_iterator(texts + answers + empty_fields, trainer=trainer)
    backend.add_tokens([AddedToken(header, normalized=False, special=False) for header in TEMPLATE_HEADERS])
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=EOS,
        eos_token=EOS,
        unk_token=EOS,
        pad_token=PAD,
        model_max_length=max_length,
        clean_up_tokenization_spaces=False,
        chat_template=CHAT_TEMPLATE,
    )


def check_round_trip(tokenizer, texts: list[str]) -> None:
    """Fail the build rather than ship a tokenizer that mangles spaces or newlines."""
    for text in [*ROUND_TRIP_PROBES, *texts]:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        decoded = tokenizer.decode(ids)
        if decoded != text:
            raise RuntimeError(f"starter tokenizer does not round-trip {text!r}: got {decoded!r}")


def token_stream(tokenizer, texts: list[str], min_length: int) -> list[int]:
    """All documents packed end to end, each followed by EOS, so the model learns where answers stop."""
    stream: list[int] = []
    for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]:
        stream.extend(ids)
        stream.append(tokenizer.eos_token_id)
    if not stream:
        raise ValueError("starter model: the training sample produced no text")
    while len(stream) < min_length:  # a tiny corpus still fills a window
        stream = stream + stream
    return stream


class ThreadPicker:
    """Chooses one or all of torch's threads by timing real training steps.

    Extra intra-op threads help on idle cores but collapse when other processes keep
    the cores busy (2 cores, batch of 8: 0.05 s/step with two threads when idle,
    up to 1.5 s/step under load, against a steady 0.09 s/step with one). So: time two
    steps each way, keep the faster, and fall back to one thread for good once two
    multi-threaded steps in a row run three times slower than they did.
    """

    def __init__(self, most: int):
        self.most = most
        self.trials = [most, most, 1, 1] if most > 1 else []  # the first of each warms up
        self.seconds: dict[int, float] = {}
        self.slow = 0

    def before(self, step: int) -> None:
        import torch

        if step < len(self.trials):
            torch.set_num_threads(self.trials[step])
        elif step == len(self.trials) and self.seconds:
            torch.set_num_threads(min(self.seconds, key=self.seconds.get))

    def after(self, step: int, seconds: float) -> None:
        import torch

        if step < len(self.trials):
            self.seconds[self.trials[step]] = seconds
        elif torch.get_num_threads() > 1:
            self.slow = self.slow + 1 if seconds > 3 * self.seconds[self.most] else 0
            if self.slow == 2:
                torch.set_num_threads(1)


def build_starter(
    out_dir,
    seed: int = 0,
    progress: Optional[Progress] = None,
    steps: Optional[int] = None,
    recipe: Recipe = RECIPE,
) -> pathlib.Path:
    """Build the tokenizer and model into `out_dir`; `build.json` is written last and marks it complete.

    `steps` overrides the recipe's training length (tests use a few steps).
    """
    start = time.perf_counter()
    import torch
    from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    recipe = dataclasses.replace(recipe, seed=seed, steps=recipe.steps if steps is None else steps)

    _report(progress, 0.0, "reading the training sample")
    texts = corpus.training_texts()

    _report(progress, 0.02, "training the tokenizer")
    tokenizer = train_tokenizer(texts, recipe.vocab_size, recipe.n_positions)
    check_round_trip(tokenizer, texts)
    stream = torch.tensor(token_stream(tokenizer, texts, recipe.seq_len + 1), dtype=torch.long)

    _report(progress, 0.08, "pre-training the model")
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=recipe.n_positions,
        n_embd=recipe.n_embd,
        n_layer=recipe.n_layer,
        n_head=recipe.n_head,
        # No dropout: a few hundred steps on a tiny model underfit; dropout only slows them.
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    # Seed and thread our own run without changing the caller's random state or thread count.
    caller_threads = torch.get_num_threads()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(recipe.seed)
            model = GPT2LMHeadModel(config)
            stats = _pretrain(model, stream, recipe, progress)
    finally:
        torch.set_num_threads(caller_threads)
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
    )

    _report(progress, 0.97, "saving")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    seconds = time.perf_counter() - start
    build = {
        "version": version(recipe, corpus.text_hash(texts)),
        "seed": recipe.seed,
        "steps": recipe.steps,
        "seconds": round(seconds, 2),
        **stats,
        "documents": len(texts),
        "tokens": int(stream.numel()),
        "vocab_size": len(tokenizer),
        "parameters": sum(p.numel() for p in model.parameters()),
        "recipe": dataclasses.asdict(recipe),
    }
    (out / "build.json").write_text(json.dumps(build, indent=2) + "\n", encoding="utf-8")
    _make_readable(out)
    _report(progress, 1.0, f"built in {seconds:.1f} s")
    return out


def _make_readable(out: pathlib.Path) -> None:
    """Let every user read the model: an image built as root is often run as another user,
    and temporary folders and safetensors files start out private to their owner."""
    out.chmod(0o755)
    for path in out.iterdir():
        path.chmod(0o755 if path.is_dir() else 0o644)


def _pretrain(model, stream, recipe: Recipe, progress: Optional[Progress]) -> dict:
    """Next-token training on random windows of the packed stream (AdamW, warmup then cosine)."""
    import torch

    windows = stream.numel() - recipe.seq_len
    sampler = torch.Generator().manual_seed(recipe.seed)

    def batch(generator):
        starts = torch.randint(0, windows, (recipe.batch_size,), generator=generator)
        return torch.stack([stream[s : s + recipe.seq_len] for s in starts.tolist()])

    # A fixed evaluation set, drawn from its own generator, makes before/after comparable.
    eval_batches = [batch(torch.Generator().manual_seed(recipe.seed + 1)) for _ in range(2)]

    def next_token_loss(ids):
        logits = model(input_ids=ids).logits[:, :-1]
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))

    def evaluate() -> float:
        model.eval()
        with torch.no_grad():
            losses = [next_token_loss(ids).item() for ids in eval_batches]
        model.train()
        return sum(losses) / len(losses)

    def lr_scale(step: int) -> float:
        if step < recipe.warmup_steps:
            return (step + 1) / recipe.warmup_steps
        done = (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(done, 1.0)))

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_scale)
    threads = ThreadPicker(torch.get_num_threads())
    initial_loss = evaluate()
    curve = []
    model.train()
    for step in range(recipe.steps):
        threads.before(step)
        started = time.perf_counter()
        ids = batch(sampler)
        loss = next_token_loss(ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        threads.after(step, time.perf_counter() - started)
        if step % 25 == 0 or step == recipe.steps - 1:
            curve.append([step, round(loss.item(), 4)])
            _report(
                progress,
                0.08 + 0.88 * (step + 1) / recipe.steps,
                f"step {step + 1}/{recipe.steps}, loss {loss.item():.3f}",
            )
    model.eval()
    return {
        "initial_loss": round(initial_loss, 4),
        "final_loss": round(evaluate(), 4),
        "loss_curve": curve,
        "threads": torch.get_num_threads(),
        "thread_trials": {str(n): round(t, 3) for n, t in threads.seconds.items()},  # seconds per step
    }
