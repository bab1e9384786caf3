"""What the chat shows of a completion of the instruction template: the answer, from its first words to the next
template header, never cut to nothing; and a note with what the model emitted when there was no answer."""

from rlhf.formatting.replies import TEMPLATE_HEADERS, answer_ended, answer_text, nothing_said
from rlhf.formatting.templates import TEMPLATE


def test_headers_are_read_off_the_template():
    assert TEMPLATE_HEADERS == ("### Instruction:", "### Context:", "### Response:")
    assert all(header in TEMPLATE for header in TEMPLATE_HEADERS)


def test_the_answer_ends_at_the_next_header():
    assert answer_text(" Yes.\n\n### Instruction: Is a frog a toad?") == "Yes."


def test_a_repeated_response_header_before_the_answer_is_dropped():
    assert answer_text("\n\n### Response: \n### Response: Yes, it is.\n### Context: x") == "Yes, it is."


def test_empty_sections_before_the_answer_are_skipped():
    assert answer_text(" \n### Context: \n\n### Response: Rome is a city.") == "Rome is a city."


def test_hashes_that_are_not_a_header_stay():
    assert answer_text(" Use C# or F#, not ### Notes: more") == "Use C# or F#, not ### Notes: more"


def test_a_header_still_arriving_is_not_shown():
    assert answer_text("Yes.\n\n### Instr") == "Yes."


def test_headers_alone_are_no_answer():
    assert answer_text(" \n### Response: \n### Response:") == ""


def test_generation_stops_only_after_the_answer_started():
    assert not answer_ended(" \n### Response: \n### Response:")
    assert not answer_ended(" Yes, it")
    assert answer_ended(" Yes, it is.\n### Instruction:")


def test_no_answer_says_what_was_emitted():
    assert nothing_said(" \n### Response:<|endoftext|>") == \
        "(no text: the model emitted only ' \\n### Response:<|endoftext|>')"
    assert nothing_said("") == "(no text: the model emitted no tokens)"
    assert nothing_said("x" * 500).endswith("…')")
