"""The README's promise for the starter: 60 SFT steps with the app's defaults teach it the template, so it answers
questions it has never seen (in the sample's domain) with a few words, greedy and sampled, as the Chat tab shows
them; the starter alone does not answer in the template."""

from __future__ import annotations

import pytest

from rlhf.inference.generation import reply
from rlhf.services.inference import prompt_for

pytestmark = pytest.mark.training  # the fixture trains the README's SFT run

# Not in the sample (neither as instructions nor as rewrites), in the style of its dolly questions.
NEW_QUESTIONS = ("Is a bat a bird?", "Where does the polar bear live?", "What is Rome known for?",
                 "How many legs does a spider have?", "Which river is Cairo on?")
DECODINGS = {"greedy": {"temperature": 0.0}, "sampled": {"temperature": 0.7, "top_p": 0.95, "seed": 0}}


def is_answer(text: str) -> bool:
    return len(text.split()) >= 3 and "###" not in text and not text.startswith("(no text")


def is_one_paragraph_answer(text: str) -> bool:
    """An answer as the template's responses are: a few words in one paragraph."""
    return is_answer(text) and "\n" not in text


@pytest.fixture(autouse=True)
def starter_from_the_session(starter_cache, monkeypatch):
    from rlhf.inference.loading import clear_cache

    monkeypatch.setenv("RLHF_CACHE_DIR", str(starter_cache))
    yield
    clear_cache()


@pytest.mark.parametrize("decoding", DECODINGS)
def test_sixty_sft_steps_answer_four_of_five_new_questions(readme_sft_run, decoding):
    replies = [reply(str(readme_sft_run), prompt_for(q), "template", **DECODINGS[decoding]) for q in NEW_QUESTIONS]
    assert sum(map(is_answer, replies)) >= 4, replies


def test_the_starter_alone_does_not_answer_in_the_template():
    """Before SFT the template's headers are tokens the starter never saw: it runs on across blank lines."""
    replies = [reply("starter", prompt_for(q), "template", temperature=0.0) for q in NEW_QUESTIONS]
    assert sum(map(is_one_paragraph_answer, replies)) <= 1, replies


def test_sixty_sft_steps_answer_in_one_paragraph(readme_sft_run):
    replies = [reply(str(readme_sft_run), prompt_for(q), "template", temperature=0.0) for q in NEW_QUESTIONS]
    assert sum(map(is_one_paragraph_answer, replies)) >= 4, replies
