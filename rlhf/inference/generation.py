"""Text generation from a finished model: streamed for the chat (growing text as tokens arrive) or in one piece.

``prompt`` is either a plain string, used as is, or a chat (a list of ``{"role", "content"}`` messages) rendered
with the tokenizer's chat template and ``add_generation_prompt=True``. Streaming runs ``model.generate`` in a
background thread feeding transformers' ``TextIteratorStreamer``; when the consumer stops reading (the chat's
Stop button, a closed tab) generation is cancelled at the next token instead of running to ``max_new_tokens``.

``stream_reply``/``reply`` give what a person reads: for the instruction template, the answer alone (ended by a
stop sequence at the next template header); the Chat tab and ``rlhf generate`` both print them, so they agree.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator, Sequence, Union

from rlhf.errors import ConfigError
from rlhf.formatting.replies import answer_ended, answer_text, nothing_said

Messages = Sequence[dict]
Prompt = Union[str, Messages]


def generate(model_ref: str, prompt: Prompt, max_new_tokens: int = 64, temperature: float = 0.7,
             top_p: float = 0.95, top_k: int = 0, do_sample: bool = True, repetition_penalty: float = 1.0,
             seed: int | None = None) -> str:
    """The whole completion (without the prompt); the same text ``stream_generate`` ends with for one seed."""
    import torch

    from rlhf.inference.loading import load_for_generation

    loaded = load_for_generation(model_ref)
    inputs = encode_prompt(loaded.tokenizer, prompt, loaded.device)
    kwargs = generation_kwargs(loaded.tokenizer, max_new_tokens, temperature, top_p, top_k, do_sample,
                               repetition_penalty)
    if seed is not None:
        torch.manual_seed(seed)
    with torch.no_grad():
        output = loaded.model.generate(**inputs, **kwargs)
    new_tokens = output[0, inputs["input_ids"].shape[1]:]
    return loaded.tokenizer.decode(new_tokens, skip_special_tokens=True)


def stream_generate(model_ref: str, prompt: Prompt, max_new_tokens: int = 64, temperature: float = 0.7,
                    top_p: float = 0.95, top_k: int = 0, do_sample: bool = True, repetition_penalty: float = 1.0,
                    seed: int | None = None) -> Iterator[str]:
    """Yield the completion so far, growing as tokens arrive (what a chat box displays at each update)."""
    yield from _Generation(model_ref, prompt, dict(
        max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k, do_sample=do_sample,
        repetition_penalty=repetition_penalty), seed).stream()


def stream_reply(model_ref: str, prompt: Prompt, prompt_format: str = "raw", max_new_tokens: int = 64,
                 temperature: float = 0.7, top_p: float = 0.95, top_k: int = 0, do_sample: bool = True,
                 repetition_penalty: float = 1.0, seed: int | None = None) -> Iterator[str]:
    """The reply so far, as the chat shows it and ``rlhf generate --template/--chat`` prints it.

    For the ``"template"`` format the reply is the answer only (see :mod:`rlhf.formatting.replies`), and
    generation stops at the first template header after it. Other formats show the completion, stripped. A reply
    that ends empty is replaced by a note with what the model emitted, end-of-text tokens included, so an empty
    answer is never mistaken for a lost one.
    """
    template = prompt_format == "template"
    run = _Generation(model_ref, prompt, dict(
        max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k, do_sample=do_sample,
        repetition_penalty=repetition_penalty), seed, stop_after_answer=template)
    completion = ""
    for completion in run.stream():
        yield answer_text(completion) if template else completion.strip()
    reply = answer_text(completion) if template else completion.strip()
    yield reply or nothing_said(run.emitted)


def reply(model_ref: str, prompt: Prompt, prompt_format: str = "raw", **settings: Any) -> str:
    """The whole reply: the last text :func:`stream_reply` yields."""
    text = ""
    for text in stream_reply(model_ref, prompt, prompt_format, **settings):
        pass
    return text


class _Generation:
    """One streamed ``model.generate`` in a background thread; ``emitted`` holds all its new tokens as text
    (special tokens included) once the stream has ended."""

    def __init__(self, model_ref: str, prompt: Prompt, settings: dict[str, Any], seed: int | None,
                 stop_after_answer: bool = False):
        from rlhf.inference.loading import load_for_generation

        self.loaded = load_for_generation(model_ref)
        self.inputs = encode_prompt(self.loaded.tokenizer, prompt, self.loaded.device)
        self.kwargs = generation_kwargs(self.loaded.tokenizer, **settings)
        self.seed = seed
        self.stop_after_answer = stop_after_answer
        self.emitted = ""

    def stream(self) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        tokenizer, start = self.loaded.tokenizer, self.inputs["input_ids"].shape[1]
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancel = threading.Event()
        criteria = [_Cancelled(cancel)] + ([_AnswerEnded(tokenizer, start)] if self.stop_after_answer else [])
        failure: list[BaseException] = []
        output: list[Any] = []

        def work() -> None:
            try:
                if self.seed is not None:
                    torch.manual_seed(self.seed)
                with torch.no_grad():
                    output.append(self.loaded.model.generate(**self.inputs, **self.kwargs, streamer=streamer,
                                                             stopping_criteria=StoppingCriteriaList(criteria)))
            except BaseException as error:  # re-raised in the consumer; end() unblocks its iteration
                failure.append(error)
                streamer.end()

        thread = threading.Thread(target=work, name="rlhf-generate", daemon=True)
        thread.start()
        text = ""
        try:
            for chunk in streamer:
                if chunk:
                    text += chunk
                    yield text
        finally:
            cancel.set()
            thread.join()
        if failure:
            raise failure[0]
        if output:
            self.emitted = tokenizer.decode(output[0][0, start:], skip_special_tokens=False)


def encode_prompt(tokenizer, prompt: Prompt, device: str) -> dict[str, Any]:
    """Token ids for a string as is, or for a chat through the chat template (with the assistant's turn open)."""
    if isinstance(prompt, str):
        encoded = tokenizer(prompt, return_tensors="pt")
    else:
        messages = _check_messages(prompt)
        if getattr(tokenizer, "chat_template", None):
            encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                    return_dict=True, return_tensors="pt")
        else:  # a base model without a template: the conversation as plain text, one turn per paragraph
            encoded = tokenizer("\n\n".join(m["content"] for m in messages), return_tensors="pt")
    encoded = {k: v for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
    if encoded["input_ids"].shape[1] == 0:  # generate needs at least one token to condition on
        import torch

        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        encoded = {"input_ids": torch.tensor([[start]]), "attention_mask": torch.ones(1, 1, dtype=torch.long)}
    return {k: v.to(device) for k, v in encoded.items()}


def generation_kwargs(tokenizer, max_new_tokens: int, temperature: float, top_p: float, top_k: int,
                      do_sample: bool, repetition_penalty: float) -> dict[str, Any]:
    """``generate`` arguments; a temperature of 0 means greedy, and greedy drops the sampling knobs."""
    if max_new_tokens < 1:
        raise ConfigError(f"max_new_tokens: must be at least 1, got {max_new_tokens}.")
    if temperature < 0 or not 0 < top_p <= 1 or top_k < 0 or repetition_penalty <= 0:
        raise ConfigError(f"sampling settings out of range: temperature={temperature} (>= 0), top_p={top_p} "
                          f"(in (0, 1]), top_k={top_k} (>= 0), repetition_penalty={repetition_penalty} (> 0).")
    sample = do_sample and temperature > 0
    kwargs: dict[str, Any] = dict(max_new_tokens=max_new_tokens, do_sample=sample,
                                  repetition_penalty=repetition_penalty, pad_token_id=tokenizer.pad_token_id)
    if sample:
        kwargs.update(temperature=temperature, top_p=top_p, top_k=top_k)
    else:  # the model's generation_config may carry sampling values that would warn under greedy decoding
        kwargs.update(temperature=None, top_p=None, top_k=None)
    return kwargs


def _check_messages(messages: Any) -> list[dict]:
    if not isinstance(messages, (list, tuple)) or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
            for m in messages):
        raise ConfigError('prompt: give a string, or a list of {"role": …, "content": …} messages.')
    if not messages:
        raise ConfigError("prompt: the message list is empty.")
    return list(messages)


class _AnswerEnded:
    """A stop sequence for the template: ends generation once a template header follows the answer's text."""

    def __init__(self, tokenizer, prompt_length: int):
        self.tokenizer, self.prompt_length = tokenizer, prompt_length

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length:], skip_special_tokens=True)
        return torch.tensor([answer_ended(text) for text in texts], dtype=torch.bool, device=input_ids.device)


class _Cancelled:
    """A stopping criterion that ends generation once the stream's consumer has gone away."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)
