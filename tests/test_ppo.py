"""Our PPO trainer (rlhf.tasks.ppo), on a tiny character-level GPT-2 built here: no network, a few seconds.

The reward is the number of "a" characters in the completion; a random tiny model writes about one "a" in nine
characters, so learning shows as a large rise in the mean reward.
"""

from __future__ import annotations

import json
import random

import pytest
import torch

from rlhf.tasks.ppo import PPOSettings, PPOTrainer, compute_gae, generation_settings, response_mask, sample_length

SEED_GENERATION_KWARGS = {"min_length": -1, "top_k": 0.0, "top_p": 1.0, "do_sample": True}  # the seed page's
PROMPTS = ["abc", "hello", "dig a bed", "face", "a bag", "head", "ebb", "cafe"]


def count_a(prompts: list[str], completions: list[str]) -> list[float]:
    return [float(c.count("a")) for c in completions]


def make_tokenizer():
    """One token per character of "abcdefgh " plus "<eos>" (also the padding)."""
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    vocab = {"<eos>": 0, **{c: i + 1 for i, c in enumerate("abcdefgh ")}}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))  # no merges: characters stay single tokens
    backend.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<eos>", pad_token="<eos>")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    """A randomly initialised 2-layer GPT-2 and its tokenizer, saved like a Hub checkpoint."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    tokenizer = make_tokenizer()
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=64, n_layer=2, n_head=2, n_positions=64,
                        bos_token_id=0, eos_token_id=0)
    path = tmp_path_factory.mktemp("tiny-gpt2")
    GPT2LMHeadModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(autouse=True)
def one_thread():
    """Tensors this small gain nothing from threads, and spinning threads crawl on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def settings(**changes) -> PPOSettings:
    fast = dict(learning_rate=1e-3, batch_size=16, mini_batch_size=8, num_ppo_epochs=2, min_new_tokens=8,
                max_new_tokens=9, max_steps=3, generation_kwargs=SEED_GENERATION_KWARGS)
    return PPOSettings(**{**fast, **changes})


def lora():
    from peft import LoraConfig

    return LoraConfig(r=4, lora_alpha=8, target_modules=["c_attn"], fan_in_fan_out=True, task_type="CAUSAL_LM")


def trainer(tiny_model, output_dir, reward_fn=count_a, peft_config=None, **changes) -> PPOTrainer:
    return PPOTrainer(tiny_model, make_tokenizer(), PROMPTS, reward_fn, settings(**changes), str(output_dir),
                      peft_config=peft_config)


def train_logging(tiny_model, output_dir, **changes) -> tuple[list[dict], dict]:
    """Train with ``changes``; the logged metrics and what ``train()`` returned."""
    logs: list[dict] = []
    ppo = trainer(tiny_model, output_dir, **changes)
    ppo.on_log = logs.append
    return logs, ppo.train()


def stop_after(steps: int):
    polls = iter(range(1, 10_000))
    return lambda: next(polls) >= steps


# -- the maths ------------------------------------------------------------------------------------------------

def test_length_sampler_draws_from_min_inclusive_to_max_exclusive():
    rng = random.Random(0)
    assert {sample_length(rng, 3, 6) for _ in range(500)} == {3, 4, 5}
    assert sample_length(rng, 7, 7) == 7


def test_seed_generation_kwargs_become_valid_generate_arguments():
    kwargs = generation_settings(SEED_GENERATION_KWARGS)
    assert kwargs == {"top_k": 0, "top_p": 1.0, "do_sample": True}
    assert type(kwargs["top_k"]) is int


def test_tokens_after_the_first_eos_are_masked():
    responses = torch.tensor([[5, 0, 3, 0], [5, 6, 7, 8], [0, 0, 0, 0]])
    assert response_mask(responses, [0]).tolist() == [
        [True, True, False, False], [True, True, True, True], [True, False, False, False]]


def test_gae_with_gamma_and_lambda_one_is_reward_to_go_minus_value():
    rewards = torch.tensor([[0.1, 0.2, 1.0, 9.0]])
    values = torch.tensor([[0.5, 0.4, 0.3, 9.0]])
    mask = torch.tensor([[True, True, True, False]])
    advantages, returns = compute_gae(rewards, values, mask, gamma=1.0, lam=1.0)
    assert torch.allclose(returns, torch.tensor([[1.3, 1.2, 1.0, 0.0]]))
    assert torch.allclose(advantages, torch.tensor([[0.8, 0.8, 0.7, 0.0]]))


# -- training -------------------------------------------------------------------------------------------------

@pytest.mark.training
def test_training_raises_the_reward(tiny_model, tmp_path):
    logs, _ = train_logging(tiny_model, tmp_path, max_steps=12)
    rewards = [log["reward"] for log in logs]
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    assert last > first + 2.5, rewards


@pytest.mark.training
def test_policy_starts_at_the_reference_model(tiny_model, tmp_path):
    logs, _ = train_logging(tiny_model, tmp_path, max_steps=1)
    assert logs[0]["objective/kl"] == pytest.approx(0.0, abs=1e-5)
    assert logs[0]["val/ratio"] == pytest.approx(1.0, abs=1e-2)


@pytest.mark.training
def test_metrics_are_logged_every_logging_steps_with_trl_names(tiny_model, tmp_path):
    logs, final = train_logging(tiny_model, tmp_path, max_steps=4, logging_steps=2)
    assert [log["step"] for log in logs] == [2, 4]
    assert {"step", "epoch", "reward", "objective/kl", "objective/rlhf_reward", "policy/approxkl",
            "policy/clipfrac", "loss/policy", "loss/value", "val/clipfrac", "val/ratio", "learning_rate",
            "response_length"} <= set(logs[-1])
    assert logs[-1]["epoch"] == 4 * 16 / len(PROMPTS)
    assert final["step"] == 4 and final["stopped"] is False


@pytest.mark.training
def test_completions_respect_the_length_sampler_bounds(tiny_model, tmp_path):
    lengths = []

    def record_lengths(prompts, completions):
        lengths.extend(map(len, completions))  # one character per token
        return count_a(prompts, completions)

    trainer(tiny_model, tmp_path, reward_fn=record_lengths, min_new_tokens=2, max_new_tokens=4,
            max_steps=4).train()
    assert max(lengths) <= 3


@pytest.mark.training
def test_each_prompt_is_used_once_before_any_repeats(tiny_model, tmp_path):
    seen = []

    def record_prompts(prompts, completions):
        seen.extend(prompts)
        return count_a(prompts, completions)

    trainer(tiny_model, tmp_path, reward_fn=record_prompts, batch_size=4, mini_batch_size=4, max_steps=4).train()
    assert sorted(seen[:8]) == sorted(PROMPTS) and sorted(seen[8:]) == sorted(PROMPTS)
    assert seen[:8] != PROMPTS and seen[:8] != seen[8:]  # shuffled, afresh for each pass


# -- stopping, checkpoints, resuming --------------------------------------------------------------------------

@pytest.mark.training
def test_stop_request_saves_a_complete_checkpoint(tiny_model, tmp_path):
    ppo = trainer(tiny_model, tmp_path, max_steps=5)
    ppo.should_stop = stop_after(2)
    result = ppo.train()
    assert result["stopped"] is True and result["global_step"] == 2
    checkpoint = tmp_path / "checkpoint-2"
    assert json.loads((checkpoint / "trainer_state.json").read_text())["global_step"] == 2
    for name in ("model.safetensors", "value_head.safetensors", "optimizer.pt", "rng_state.pth"):
        assert (checkpoint / name).is_file(), name


@pytest.mark.parametrize("peft_config", [None, lora()], ids=["full", "lora"])
@pytest.mark.training
def test_resuming_reaches_max_steps_as_if_never_stopped(tiny_model, tmp_path, peft_config):
    straight = trainer(tiny_model, tmp_path / "straight", peft_config=peft_config, max_steps=4).train()

    first = trainer(tiny_model, tmp_path / "resumed", peft_config=peft_config, max_steps=4)
    first.should_stop = stop_after(2)
    first.train()
    resumed = trainer(tiny_model, tmp_path / "resumed", peft_config=peft_config, max_steps=4)
    result = resumed.train(resume_from_checkpoint=str(tmp_path / "resumed" / "checkpoint-2"))

    assert result["global_step"] == 4 and result["stopped"] is False
    assert result["reward"] == pytest.approx(straight["reward"])
    assert result["loss/policy"] == pytest.approx(straight["loss/policy"], abs=1e-5)
    assert [log["step"] for log in resumed.log_history] == [1, 2, 3, 4]


@pytest.mark.training
def test_a_finished_run_leaves_a_checkpoint_at_max_steps(tiny_model, tmp_path):
    trainer(tiny_model, tmp_path, max_steps=2).train()
    assert json.loads((tmp_path / "checkpoint-2" / "trainer_state.json").read_text())["global_step"] == 2


@pytest.mark.training
def test_only_the_last_two_checkpoints_are_kept(tiny_model, tmp_path):
    trainer(tiny_model, tmp_path, max_steps=4, save_steps=1).train()
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-4"]


# -- the saved policy -----------------------------------------------------------------------------------------

@pytest.mark.training
def test_saved_model_reloads_as_a_plain_causal_lm(tiny_model, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ppo = trainer(tiny_model, tmp_path / "run", max_steps=1)
    ppo.train()
    ppo.save_model(str(tmp_path / "final"))
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "final")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "final")
    assert tokenizer.decode(tokenizer("a bag")["input_ids"]) == "a bag"
    for name, value in model.state_dict().items():
        assert torch.equal(value, ppo.model.state_dict()[name].cpu()), name
    assert not (tmp_path / "final" / "value_head.safetensors").exists()


@pytest.mark.training
def test_lora_trains_only_the_adapter(tiny_model, tmp_path):
    from transformers import AutoModelForCausalLM

    ppo = trainer(tiny_model, tmp_path, peft_config=lora(), max_steps=2)
    trained = {name for name, p in ppo.model.named_parameters() if p.requires_grad}
    assert trained and all("lora_" in name for name in trained)
    ppo.train()
    base = AutoModelForCausalLM.from_pretrained(tiny_model).state_dict()
    merged = ppo.model.get_base_model().state_dict()
    frozen = [n for n in merged if "lora_" not in n]
    assert all(torch.equal(merged[n].cpu(), base[n.replace(".base_layer", "")]) for n in frozen)
    assert any(p.abs().sum() > 0 for n, p in ppo.model.named_parameters() if "lora_B" in n)


def trained_with_layer_calls(tiny_model, output_dir, **changes) -> tuple[dict, int]:
    """One PPO step; the policy's weights after it and how often its first layer's MLP ran with gradients on."""
    ppo = trainer(tiny_model, output_dir, max_steps=1, num_ppo_epochs=1, **changes)
    base = ppo.model.get_base_model() if ppo.is_peft else ppo.model
    mlp, calls = base.transformer.h[0].mlp, []
    forward = mlp.forward  # wrapped, not hooked: torch runs no module hooks when it recomputes a layer
    mlp.forward = lambda *args, **kwargs: (calls.append(torch.is_grad_enabled()), forward(*args, **kwargs))[1]
    ppo.train()
    return {n: p.detach().clone() for n, p in ppo.model.named_parameters()}, sum(calls)


@pytest.mark.training
@pytest.mark.parametrize("use_lora", [False, True], ids=["full", "lora"])
def test_gradient_checkpointing_recomputes_each_layer_in_the_backward_and_trains_the_same(tiny_model, tmp_path,
                                                                                           use_lora):
    peft = {"peft_config": lora()} if use_lora else {}
    kept, kept_calls = trained_with_layer_calls(tiny_model, tmp_path / "kept", **peft)
    recomputed, recomputed_calls = trained_with_layer_calls(tiny_model, tmp_path / "recomputed",
                                                            gradient_checkpointing=True, **peft)
    assert kept_calls > 0 and recomputed_calls == 2 * kept_calls  # each minibatch's forward, again in backward
    assert kept.keys() == recomputed.keys()
    assert all(torch.allclose(kept[n], recomputed[n], atol=1e-6) for n in kept)  # dropout stays off


@pytest.mark.training
def test_saved_adapter_loads_with_peft(tiny_model, tmp_path):
    from peft import AutoPeftModelForCausalLM

    ppo = trainer(tiny_model, tmp_path / "run", peft_config=lora(), max_steps=1)
    ppo.train()
    ppo.save_model(str(tmp_path / "adapter"))
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    assert not (tmp_path / "adapter" / "model.safetensors").exists()
    model = AutoPeftModelForCausalLM.from_pretrained(tmp_path / "adapter")
    saved = {n: p for n, p in model.named_parameters() if "lora_" in n}
    trained = {n: p for n, p in ppo.model.named_parameters() if "lora_" in n}
    assert saved.keys() == trained.keys()
    assert all(torch.equal(saved[n], trained[n].detach().cpu()) for n in saved)
