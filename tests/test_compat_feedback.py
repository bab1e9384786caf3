"""``rlhf.compat``'s in-memory Argilla 1.x datasets, and the rest of ``ArgillaTrainer``'s surface.

Argilla 1.x scripts build ``FeedbackDataset(fields=…, questions=…)`` in Python and ``add_records``; these tests
run the seed page's pre-training block with its import changed, check Argilla's Hub layout (the sample file's),
its checks, the round trip through a (fake) Hub, and port Argilla 1.x's own TRL-integration tests
(``tests/integration/client/feedback/training/test_trl.py`` and the fixtures of its ``conftest.py``), with the
imports and the model id changed only (``sshleifer/tiny-gpt2`` → the starter's folder; Argilla's wrong-return
check, whose message quotes Argilla's return-type classes, is left out, and for the suite's time the SFT port
trains from the objects only, the RM port stops before training and the DPO port before its training loop).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, List

import pytest

import rlhf.compat as rg
from conftest import cli_env, write_jsonl
from rlhf.compat import (ArgillaTrainer, FeedbackDataset, FeedbackRecord, LabelQuestion, MultiLabelQuestion,
                         RankingQuestion, RankingValueSchema, RatingQuestion, TextField, TextQuestion,
                         TrainingTask)
from rlhf.errors import ConfigError, FormattingError

if TYPE_CHECKING:  # the names Argilla's test signatures use
    from rlhf.compat.feedback import TextField as AllowedFieldTypes  # noqa: F401
    from rlhf.compat.feedback import _Question as AllowedQuestionTypes  # noqa: F401

SAMPLE = Path(__file__).resolve().parent.parent / "rlhf" / "data" / "sample" / "records.jsonl"
FRAMEWORK = "trl"

# -- the seed page's pre-training block, its import changed ----------------------------------------------------

PAGE_PRETRAINING = '''\
import rlhf.compat as rg

# create promp-completion dataset
dataset = rg.FeedbackDataset(
    guidelines="Please, complete the following prompt fields with a brief text answer.",
    fields=[
        rg.TextField(name="prompt"),
    ],
    questions=[
        rg.TextQuestion(name="completion", title="Add a brief text answer."),
    ]
)

# create a Feedback Records
record = rg.FeedbackRecord(
    fields={
        "prompt": "The base ingredient of paella is rice."
    }
)

dataset.add_records([record])
'''

# The page then pushes to an Argilla server and loads it back (`from_argilla`); rlhf has no server, so the
# block reads the dataset it built (see test_push_to_argilla_and_from_argilla_say_how_to_export).
PAGE_PRETRAINING_LOAD = '''\
from datasets import Dataset

prompts = {"prompt": [record.fields.get("prompt") for record in dataset.records]}
dataset = Dataset.from_dict(prompts)
'''


def test_the_page_pretraining_block_builds_a_dataset_in_memory():
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(PAGE_PRETRAINING, namespace)
    built = namespace["dataset"]
    assert len(built) == 1 and built.records[0].fields.get("prompt") == "The base ingredient of paella is rice."
    assert built.guidelines.startswith("Please, complete") and built.questions[0].title == "Add a brief text answer."
    exec(PAGE_PRETRAINING_LOAD, namespace)
    assert namespace["dataset"].column_names == ["prompt"] and namespace["dataset"].num_rows == 1


def test_push_to_argilla_and_from_argilla_say_how_to_export():
    dataset = FeedbackDataset(fields=[TextField(name="prompt")], questions=[TextQuestion(name="completion")])
    with pytest.raises(ConfigError, match=r"needs an Argilla server.*push_to_huggingface\('owner/name'\)"):
        dataset.push_to_argilla(name="pre-training")
    with pytest.raises(ConfigError, match=r"needs an Argilla server.*push_to_huggingface.*from_huggingface"):
        FeedbackDataset.from_argilla("pre-training")


# -- Argilla 1.x's test fixtures (its conftest.py), imports changed ----------------------------------------------

@pytest.fixture
def feedback_dataset_guidelines() -> str:
    return "These are the annotation guidelines."


@pytest.fixture
def feedback_dataset_fields() -> List["AllowedFieldTypes"]:
    return [
        TextField(name="text", required=True),
        TextField(name="label", required=True),
    ]


@pytest.fixture
def feedback_dataset_questions() -> List["AllowedQuestionTypes"]:
    return [
        TextQuestion(name="question-1", required=True),
        RatingQuestion(name="question-2", values=[1, 2], required=True),
        LabelQuestion(name="question-3", labels=["a", "b", "c"], required=True),
        MultiLabelQuestion(name="question-4", labels=["a", "b", "c"], required=True),
        RankingQuestion(name="question-5", values=["a", "b"], required=True),
    ]


def _response(answer: str, rating: int, label: str, labels: list[str], ranking: list | None = None) -> dict:
    return {
        "values": {
            "question-1": {"value": answer},
            "question-2": {"value": rating},
            "question-3": {"value": label},
            "question-4": {"value": labels},
            "question-5": {"value": ranking or [{"rank": 1, "value": "a"}, {"rank": 2, "value": "b"}]},
        },
        "status": "submitted",
    }


@pytest.fixture
def feedback_dataset_records() -> List[FeedbackRecord]:
    # Argilla's five records, as its later conftest.py has them (records 3 and 4 rated 2: the version whose counts
    # its TRL tests assert), its span question and per-label suggestion scores left out; _response writes out
    # each response as Argilla's conftest does in full.
    return [
        FeedbackRecord(
            fields={"text": "This is a positive example", "label": "positive"},
            responses=[_response("positive example", 1, "a", ["a", "b"])],
            metadata={"unit": "test"},
            external_id="1",
        ),
        FeedbackRecord(
            fields={"text": "This is a negative example", "label": "negative"},
            metadata={"another unit": "test"},
            external_id="2",
        ),
        FeedbackRecord(
            fields={"text": "This is a negative example", "label": "negative"},
            responses=[_response("negative example", 2, "b", ["b", "c"],
                                 [RankingValueSchema(rank=1, value="a"), RankingValueSchema(rank=2, value="b")])],
            suggestions=[
                {"question_name": "question-1", "value": "This is a suggestion to question 1", "type": "human",
                 "score": 0.0, "agent": "agent-1"},
                {"question_name": "question-2", "value": 1, "type": "human", "score": 0.0, "agent": "agent-1"},
                {"question_name": "question-3", "value": "a", "type": "human", "score": 0.0, "agent": "agent-1"},
                {"question_name": "question-4", "value": ["a", "b"], "type": "human", "score": 0.0,
                 "agent": "agent-1"},
                {"question_name": "question-5",
                 "value": [RankingValueSchema(rank=1, value="a"), RankingValueSchema(rank=2, value="b")],
                 "type": "human", "score": 0.0, "agent": "agent-1"},
            ],
            external_id="3",
        ),
        FeedbackRecord(
            fields={"text": "This is a negative example", "label": "negative"},
            responses=[_response("negative example", 2, "c", ["a", "c"])],
            external_id="4",
        ),
        FeedbackRecord(
            fields={"text": "This is a negative example", "label": "negative"},
            responses=[_response("negative example", 1, "a", ["a"])],
            external_id="5",
        ),
    ]


@pytest.fixture
def argilla_dataset(feedback_dataset_guidelines, feedback_dataset_fields, feedback_dataset_questions,
                    feedback_dataset_records) -> FeedbackDataset:
    dataset = FeedbackDataset(guidelines=feedback_dataset_guidelines, fields=feedback_dataset_fields,
                              questions=feedback_dataset_questions)
    dataset.add_records(records=feedback_dataset_records * 2)
    return dataset


# -- Argilla's Hub layout --------------------------------------------------------------------------------------

NO_SUGGESTION = {"type": None, "score": None, "agent": None}
RANKING = [{"value": "a", "rank": 1}, {"value": "b", "rank": 2}]


def expected_row_3() -> dict:
    """Record "3" as Argilla 1.x's format_as("datasets") wrote it (a ranking as a list of {value, rank})."""
    suggested = {"type": "human", "score": 0.0, "agent": "agent-1"}
    answer = lambda value: [{"user_id": None, "value": value, "status": "submitted"}]  # noqa: E731
    return {
        "text": "This is a negative example", "label": "negative",
        "question-1": answer("negative example"),
        "question-1-suggestion": "This is a suggestion to question 1", "question-1-suggestion-metadata": suggested,
        "question-2": answer(2), "question-2-suggestion": 1, "question-2-suggestion-metadata": suggested,
        "question-3": answer("b"), "question-3-suggestion": "a", "question-3-suggestion-metadata": suggested,
        "question-4": answer(["b", "c"]), "question-4-suggestion": ["a", "b"],
        "question-4-suggestion-metadata": suggested,
        "question-5": answer(RANKING), "question-5-suggestion": RANKING, "question-5-suggestion-metadata": suggested,
        "external_id": "3", "metadata": "{}",
    }


def test_format_as_datasets_is_argillas_hub_layout(argilla_dataset):
    rows = argilla_dataset.format_as("datasets")
    assert len(rows) == 10 and rows.column_names == list(expected_row_3())
    assert rows[2] == expected_row_3()
    assert rows[1]["question-2"] == [] and rows[1]["question-2-suggestion-metadata"] == NO_SUGGESTION
    assert json.loads(rows[0]["metadata"]) == {"unit": "test"}


def test_records_keep_argillas_shape(argilla_dataset):
    record = argilla_dataset[2]
    assert record.fields.get("text") == "This is a negative example" and record.external_id == "3"
    values = record.responses[0].values
    assert values["question-2"].value == 2 and values["question-4"].value == ["b", "c"]
    assert [(r.value, r.rank) for r in values["question-5"].value] == [("a", 1), ("b", 2)]
    assert [s.question_name for s in record.suggestions][:2] == ["question-1", "question-2"]
    assert [r.external_id for r in argilla_dataset][:3] == ["1", "2", "3"]


def sample_records() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def sample_in_memory() -> FeedbackDataset:
    """The bundled sample rebuilt in Python as Argilla 1.x's dolly dataset is defined."""
    dataset = FeedbackDataset(
        fields=[TextField(name="original-instruction"), TextField(name="original-context", required=False),
                TextField(name="original-response")],
        questions=[TextQuestion(name="new-instruction"), TextQuestion(name="new-context", required=False),
                   TextQuestion(name="new-response")])
    loaded = FeedbackDataset.from_huggingface(str(SAMPLE))
    dataset.add_records(loaded.records)
    return dataset


def test_the_sample_rebuilt_in_memory_writes_the_sample_file_byte_for_byte(rlhf_cache):
    dataset = sample_in_memory()
    assert dataset.format_as("datasets").to_list() == sample_records()
    assert Path(dataset.spec).read_bytes() == SAMPLE.read_bytes()  # what a run reads: the same file
    assert Path(dataset.spec).is_relative_to(rlhf_cache)


# -- Argilla's checks, as ValueErrors naming what is wrong ---------------------------------------------------------

def one_record(**changes) -> FeedbackRecord:
    return FeedbackRecord(**{"fields": {"text": "t", "label": "l"}, "external_id": "x", **changes})


@pytest.mark.parametrize("record, message", [
    (one_record(fields={"label": "l"}), "record 0 (external_id 'x'): required field 'text' is missing"),
    (one_record(fields={"text": "t", "label": "l", "other": "o"}), "unknown field 'other'"),
    (one_record(responses=[{"values": {"question-2": {"value": 3}}}]),
     "question 'question-2' (RatingQuestion) expects one of its values [1, 2], got 3"),
    (one_record(responses=[{"values": {"question-9": {"value": "a"}}}]),
     "record 0 (external_id 'x'), response: unknown question 'question-9'"),
    (one_record(suggestions=[{"question_name": "question-3", "value": "z"}]),
     "suggestion: question 'question-3' (LabelQuestion) expects one of its labels ['a', 'b', 'c'], got 'z'"),
    (one_record(responses=[{"values": {"question-5": {"value": [{"rank": 1, "value": "z"}]}}}]),
     "question 'question-5' (RankingQuestion) expects a list of {'value', 'rank'} over its values ['a', 'b']"),
])
def test_a_bad_record_is_a_value_error_naming_it(record, message, feedback_dataset_fields,
                                                  feedback_dataset_questions):
    dataset = FeedbackDataset(fields=feedback_dataset_fields, questions=feedback_dataset_questions)
    with pytest.raises(ValueError, match=re.escape(message)):
        dataset.add_records([record])
    with pytest.raises(ValueError, match=re.escape(message.replace("record 0", "record 1"))):
        dataset.add_records([one_record(), record])  # named by its position
    assert len(dataset) == 0  # all or nothing


def test_metadata_properties_are_checked_and_extra_metadata_can_be_refused(feedback_dataset_fields,
                                                                             feedback_dataset_questions):
    dataset = FeedbackDataset(fields=feedback_dataset_fields, questions=feedback_dataset_questions,
                              metadata_properties=[rg.TermsMetadataProperty(name="group", values=["a", "b"]),
                                                   rg.IntegerMetadataProperty(name="count", min=0, max=10),
                                                   rg.FloatMetadataProperty(name="score", min=0, max=1)],
                              allow_extra_metadata=False)
    dataset.add_records([one_record(metadata={"group": "a", "count": 3, "score": 0.5})])
    for metadata, message in [({"count": 11}, "metadata 'count' expects integer from 0 to 10, got 11"),
                              ({"group": "c"}, "metadata 'group' expects one of ['a', 'b'], got 'c'"),
                              ({"colour": "red"}, "metadata 'colour' is not one of the dataset's metadata")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            dataset.add_records([one_record(metadata=metadata)])
    assert len(dataset) == 1


@pytest.mark.parametrize("build, message", [
    (lambda: RatingQuestion(name="r", values=[1]), "values must be at least two unique integers"),
    (lambda: LabelQuestion(name="l", labels=["a", "a"]), "labels must be at least two unique strings"),
    (lambda: TextField(name="Prompt"), "TextField name 'Prompt' is invalid"),
    (lambda: FeedbackDataset(fields=[TextField(name="a"), TextField(name="a")], questions=[TextQuestion(name="q")]),
     "Expected `fields` to have unique names, got 'a' twice"),
    (lambda: FeedbackDataset(fields=[TextField(name="a", required=False)], questions=[TextQuestion(name="q")]),
     "At least one field in `fields` must be required"),
    (lambda: rg.ResponseSchema(values={"q": {"value": "x"}}, status="maybe"), "status must be one of"),
])
def test_a_bad_schema_is_a_value_error_naming_it(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


# -- ArgillaTrainer's surface ----------------------------------------------------------------------------------

def test_formatting_error_is_also_a_value_error_and_training_task_mapping_warns():
    assert issubclass(FormattingError, ValueError)
    with pytest.warns(DeprecationWarning, match="`TrainingTaskMapping` is deprecated.*use `TrainingTask`"):
        mapping = rg.TrainingTaskMapping
    assert mapping is TrainingTask


def test_trainer_settings_view_is_read_only_and_predict_is_not_implemented(argilla_dataset, rlhf_cache):
    trainer = ArgillaTrainer(argilla_dataset, TrainingTask.for_supervised_fine_tuning(formatting_func_sft),
                             framework=FRAMEWORK, model="starter")
    trainer.update_config(max_steps=3, learning_rate=1e-3)
    view = trainer._trainer
    assert view.training_args_kwargs["max_steps"] == 3 and view.training_args_kwargs["num_train_epochs"] == 1
    assert view.trainer_model == "starter" and view.trainer_tokenizer is None
    with pytest.raises(TypeError):
        view.training_args_kwargs["max_steps"] = 5
    with pytest.raises(AttributeError):
        view.trainer_model = "gpt2"
    assert trainer.run_config().training.max_steps == 3
    with pytest.raises(NotImplementedError, match="cannot be used for label predictions"):
        trainer.predict("a text")


# -- the same records in memory and in a file prepare the same rows -----------------------------------------------

def preference_pairs(sample: Dict[str, Any]) -> Iterator[tuple]:
    """Reads a rating as an int and a ranking as [{value, rank}]: the shapes Argilla handed formatting functions."""
    for answer in sample["question-5"]:
        assert isinstance(answer["value"], list) and set(answer["value"][0]) == {"value", "rank"}
        best = min(answer["value"], key=lambda r: r["rank"])["value"]
        rating = [a["value"] for a in sample["question-2"]][0]
        assert isinstance(rating, int)
        yield f"{sample['text']} {best} {rating}", sample["text"]


@pytest.mark.slow
def test_the_same_records_in_memory_and_in_a_file_prepare_the_same_rows(argilla_dataset, rlhf_cache, tmp_path):
    file = write_jsonl(tmp_path / "records.jsonl", argilla_dataset.format_as("datasets").to_list())
    assert json.loads(file.read_text().splitlines()[2]) == expected_row_3()
    task = TrainingTask.for_reward_modeling(formatting_func=preference_pairs)
    in_memory = argilla_dataset.prepare_for_training(framework=FRAMEWORK, task=task, train_size=0.5, seed=3)
    from_file = FeedbackDataset.from_huggingface(str(file)).prepare_for_training(framework=FRAMEWORK, task=task,
                                                                                 train_size=0.5, seed=3)
    for split in ("train", "test"):
        assert in_memory[split].to_list() == from_file[split].to_list()
    assert len(in_memory["train"]) + len(in_memory["test"]) == 8


# -- through a (fake) Hub -------------------------------------------------------------------------------------------

LOAD_BACK = """
import json, sys
import rlhf.compat as rg
dataset = rg.FeedbackDataset.from_huggingface(sys.argv[1])
print(json.dumps({"rows": dataset.format_as("datasets").to_list(), "guidelines": dataset.guidelines,
                  "questions": [[q.name, type(q).__name__] for q in dataset.questions],
                  "ranking": [[r.value, r.rank] for r in dataset[2].responses[0].values["question-5"].value]}))
"""


@pytest.mark.slow
def test_push_to_huggingface_and_from_huggingface_round_trip(argilla_dataset, tmp_path, monkeypatch):
    import huggingface_hub.constants

    from fake_hub import FakeHub, PushHub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_roundtripsecret")
    with PushHub() as push:
        monkeypatch.setenv("HF_ENDPOINT", push.endpoint)
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", push.endpoint)
        url = argilla_dataset.push_to_huggingface("alice/feedback")
    assert url.endswith("alice/feedback") and push.repos["alice/feedback"]["create"]["type"] == "dataset"
    files = push.files("alice/feedback")
    assert set(files) == {"data/train-00000-of-00001.parquet", "argilla.yaml", "README.md"}
    assert "- argilla" in files["README.md"].decode() and b"hf_roundtripsecret" not in b"".join(files.values())
    for name, data in files.items():
        (tmp_path / "hub" / "alice" / "feedback" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "hub" / "alice" / "feedback" / name).write_bytes(data)
    with FakeHub(tmp_path / "hub") as hub:
        env = cli_env(HF_HOME=str(tmp_path / "hf-home"), HF_DATASETS_CACHE=None, HF_HUB_CACHE=None,
                      HF_HUB_OFFLINE=None, HF_ENDPOINT=hub.endpoint, RLHF_CACHE_DIR=str(tmp_path / "cache"))
        result = subprocess.run([sys.executable, "-c", LOAD_BACK, "alice/feedback"], capture_output=True, text=True,
                                env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["rows"] == argilla_dataset.format_as("datasets").to_list()
    assert loaded["guidelines"] == "These are the annotation guidelines."
    assert loaded["questions"][1] == ["question-2", "RatingQuestion"] and loaded["ranking"] == [["a", 1], ["b", 2]]


# -- Argilla 1.x's TRL-integration tests, ported (imports and model ids changed only) ---------------------------

def formatting_func_sft(sample: Dict[str, Any]) -> Iterator[str]:
    # For example, the sample must be most frequently rated as "1" in question-2 and
    # label "b" from "question-3" must have not been set by any annotator
    ratings = [
        annotation["value"]
        for annotation in sample["question-2"]
        if annotation["status"] == "submitted" and annotation["value"] is not None
    ]
    labels = [
        annotation["value"]
        for annotation in sample["question-3"]
        if annotation["status"] == "submitted" and annotation["value"] is not None
    ]
    if ratings and Counter(ratings).most_common(1)[0][0] == 1 and "b" not in labels:
        return f"### Text\n{sample['text']}"
    return None


def formatting_func_rm(sample: Dict[str, Any]):
    # The FeedbackDataset isn't really set up for RM, so we'll just use an arbitrary example here
    labels = [
        annotation["value"]
        for annotation in sample["question-3"]
        if annotation["status"] == "submitted" and annotation["value"] is not None
    ]
    if labels:
        # Three cases for the tests: None, one tuple and yielding multiple tuples
        if labels[0] == "a":
            return None
        elif labels[0] == "b":
            return sample["text"], sample["text"][:5]
        elif labels[0] == "c":
            return [(sample["text"], sample["text"][5:10]), (sample["text"], sample["text"][:5])]


def formatting_func_dpo(sample: Dict[str, Any]):
    # The FeedbackDataset isn't really set up for DPO, so we'll just use an arbitrary example here
    labels = [
        annotation["value"]
        for annotation in sample["question-3"]
        if annotation["status"] == "submitted" and annotation["value"] is not None
    ]
    if labels:
        # Three cases for the tests: None, one tuple and yielding multiple tuples
        if labels[0] == "a":
            return None
        elif labels[0] == "b":
            return sample["text"][::-1], sample["text"], sample["text"][:5]
        elif labels[0] == "c":
            return [
                (sample["text"], sample["text"][::-1], sample["text"][:5]),
                (sample["text"][::-1], sample["text"], sample["text"][:5]),
            ]


@pytest.fixture
def starter(starter_cache, tmp_path, monkeypatch) -> str:
    """The starter's folder (Argilla's tests load ``sshleifer/tiny-gpt2`` with from_pretrained); runs land in
    this test's own data folder, with a scratch working folder for Argilla's ``tmp`` output."""
    from rlhf.tasks.models import resolve_model_path

    monkeypatch.setenv("RLHF_CACHE_DIR", str(starter_cache))
    monkeypatch.setenv("RLHF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.chdir(tmp_path)
    return resolve_model_path("starter", "model")


def train_with_cleanup(trainer: ArgillaTrainer, output_dir: str) -> None:
    """Argilla's tests/integration/training/helpers.py: train, then remove the output folder."""
    import shutil

    trainer.train(output_dir)
    shutil.rmtree(output_dir, ignore_errors=True)


OUTPUT_DIR = "tmp"


@pytest.mark.training
def test_prepare_for_training_sft(
    feedback_dataset_guidelines: str,
    feedback_dataset_fields: List["AllowedFieldTypes"],
    feedback_dataset_questions: List["AllowedQuestionTypes"],
    feedback_dataset_records: List[FeedbackRecord],
    starter: str,
) -> None:
    from datasets import Dataset, DatasetDict
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dataset = FeedbackDataset(
        guidelines=feedback_dataset_guidelines,
        fields=feedback_dataset_fields,
        questions=feedback_dataset_questions,
    )
    dataset.add_records(records=feedback_dataset_records * 2)

    task = TrainingTask.for_supervised_fine_tuning(formatting_func_sft)
    train_dataset = dataset.prepare_for_training(framework=FRAMEWORK, task=task)
    assert isinstance(train_dataset, Dataset)
    assert len(train_dataset) == 4
    train_dataset_dict = dataset.prepare_for_training(framework=FRAMEWORK, task=task, train_size=0.5)
    assert isinstance(train_dataset_dict, DatasetDict)
    assert tuple(train_dataset_dict.keys()) == ("train", "test")
    assert len(train_dataset_dict["train"]) == 2

    small_model_id = starter
    loaded_model = AutoModelForCausalLM.from_pretrained(small_model_id)
    loaded_tokenizer = AutoTokenizer.from_pretrained(small_model_id)
    loaded_tokenizer.pad_token_id = loaded_tokenizer.eos_token_id
    # Set some values to track and assert later
    loaded_model.test_value = 12
    loaded_tokenizer.test_value = 12
    # Argilla's loop also trains from the model's name (`(small_model_id, None)`): test_compat.py's page scripts
    # do that; this port keeps the objects' pass (two runs), for the suite's time.
    for model, tokenizer in [(loaded_model, loaded_tokenizer)]:
        trainer = ArgillaTrainer(dataset, task, framework=FRAMEWORK, model=model, tokenizer=tokenizer)
        trainer.update_config(max_steps=3)
        assert trainer._trainer.training_args_kwargs["max_steps"] == 3
        trainer.update_config(max_steps=1)
        assert trainer._trainer.training_args_kwargs["max_steps"] == 1
        train_with_cleanup(trainer, OUTPUT_DIR)
        events = (trainer.run_dir / "events.jsonl").read_text(encoding="utf-8")
        assert "the model and tokenizer objects given to ArgillaTrainer, saved for this run to" in events

        eval_trainer = ArgillaTrainer(dataset, task, framework=FRAMEWORK, model=model, train_size=0.5)
        eval_trainer.update_config(max_steps=1)
        train_with_cleanup(eval_trainer, OUTPUT_DIR)

        # Verify that the passed model and tokenizer are used
        if tokenizer is not None:
            assert trainer._trainer.trainer_model.test_value == 12
            assert trainer._trainer.trainer_tokenizer.test_value == 12


def test_prepare_for_training_rm(
    feedback_dataset_guidelines: str,
    feedback_dataset_fields: List["AllowedFieldTypes"],
    feedback_dataset_questions: List["AllowedQuestionTypes"],
    feedback_dataset_records: List[FeedbackRecord],
    starter: str,
) -> None:
    # Argilla's test trains four times, as the SFT test above does; this port stops where the run would start
    # (the SFT test's machinery again, half a minute of the suite): the objects are saved for the run, the
    # two-label classifier `from_pretrained` gives as a one-output reward model (its last label's head).
    from datasets import Dataset, DatasetDict
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    dataset = FeedbackDataset(
        guidelines=feedback_dataset_guidelines,
        fields=feedback_dataset_fields,
        questions=feedback_dataset_questions,
    )
    dataset.add_records(records=feedback_dataset_records * 2)

    task = TrainingTask.for_reward_modeling(formatting_func_rm)
    train_dataset = dataset.prepare_for_training(framework=FRAMEWORK, task=task)
    assert isinstance(train_dataset, Dataset)
    assert len(train_dataset) == 6
    train_dataset_dict = dataset.prepare_for_training(framework=FRAMEWORK, task=task, train_size=0.5)
    assert isinstance(train_dataset_dict, DatasetDict)
    assert tuple(train_dataset_dict.keys()) == ("train", "test")
    assert len(train_dataset_dict["train"]) == 3

    small_model_id = starter
    loaded_model = AutoModelForSequenceClassification.from_pretrained(small_model_id)
    loaded_tokenizer = AutoTokenizer.from_pretrained(small_model_id)
    loaded_tokenizer.pad_token_id = loaded_tokenizer.eos_token_id
    # Set some values to track and assert later
    loaded_model.test_value = 12
    loaded_tokenizer.test_value = 12
    for model, tokenizer in [(loaded_model, loaded_tokenizer)]:
        trainer = ArgillaTrainer(dataset, task, framework=FRAMEWORK, model=model, tokenizer=tokenizer)
        trainer.update_config(max_steps=3)
        assert trainer._trainer.training_args_kwargs["max_steps"] == 3
        trainer.update_config(max_steps=1)
        assert trainer._trainer.training_args_kwargs["max_steps"] == 1
        saved = Path(trainer.run_config(OUTPUT_DIR).model)
        assert json.loads((saved / "config.json").read_text())["architectures"][0].endswith(
            "ForSequenceClassification")
        assert json.loads((saved / "config.json").read_text())["id2label"] == {"0": "LABEL_1"}
        assert (saved / "tokenizer.json").is_file()

        # Verify that the passed model and tokenizer are used
        if tokenizer is not None:
            assert trainer._trainer.trainer_model.test_value == 12
            assert trainer._trainer.trainer_tokenizer.test_value == 12


def test_prepare_for_training_dpo(
    feedback_dataset_guidelines: str,
    feedback_dataset_fields: List["AllowedFieldTypes"],
    feedback_dataset_questions: List["AllowedQuestionTypes"],
    feedback_dataset_records: List[FeedbackRecord],
    rlhf_cache,
) -> None:
    # Argilla's test, up to its training loop (which is the SFT test's above, with a DPO task).
    from datasets import Dataset, DatasetDict

    dataset = FeedbackDataset(
        guidelines=feedback_dataset_guidelines,
        fields=feedback_dataset_fields,
        questions=feedback_dataset_questions,
    )
    dataset.add_records(records=feedback_dataset_records * 2)

    task = TrainingTask.for_direct_preference_optimization(formatting_func_dpo)
    train_dataset = dataset.prepare_for_training(framework=FRAMEWORK, task=task)
    assert isinstance(train_dataset, Dataset)
    assert len(train_dataset) == 6
    train_dataset_dict = dataset.prepare_for_training(framework=FRAMEWORK, task=task, train_size=0.5)
    assert isinstance(train_dataset_dict, DatasetDict)
    assert tuple(train_dataset_dict.keys()) == ("train", "test")
    assert len(train_dataset_dict["train"]) == 3


# -- PPO rewards from a sentiment pipeline; the card and the push -------------------------------------------------

def test_a_two_label_sentiment_pipeline_rewards_with_its_last_labels_score(starter, argilla_dataset):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from rlhf.inference.scoring import RewardScorer

    classifier = AutoModelForSequenceClassification.from_pretrained(starter, num_labels=2)
    tokenizer = AutoTokenizer.from_pretrained(starter)
    sentiment = pipeline("sentiment-analysis", model=classifier, tokenizer=tokenizer)
    trainer = ArgillaTrainer(argilla_dataset, TrainingTask.for_proximal_policy_optimization(
        formatting_func=lambda sample: sample["text"]), framework=FRAMEWORK, model="starter")
    trainer.update_config(reward_model=sentiment)
    saved = trainer.run_config().rl.reward_models[0]
    assert "compat-inputs" in saved and trainer._trainer.trainer_kwargs["reward_model"] is sentiment
    # rlhf's scorer reads a text ending in the EOS token (as a reward model trained on it); the classifier's
    # positive label (its last: Argilla read output[1]["score"], unnormalised) is the reward.
    texts = ["This is a positive example", "This is a negative example"]
    rewards = RewardScorer(saved).score(texts)
    with torch.no_grad():
        logits = classifier(**tokenizer([texts[0] + tokenizer.eos_token], return_tensors="pt")).logits
        second = classifier(**tokenizer([texts[1] + tokenizer.eos_token], return_tensors="pt")).logits
    assert logits.shape[-1] == 2
    assert rewards == pytest.approx([logits[0, -1].item(), second[0, -1].item()], abs=1e-4)


def finished_run_of(trainer: ArgillaTrainer, starter: str, runs: Path) -> None:
    """What trainer.train leaves (a run folder with its config, events and final/ model), without the training:
    the card and the push read only those."""
    import shutil

    from rlhf.runs.events import append_event

    run = runs / "20261203-000000-sft-abcd"
    config = trainer.run_config("sft_model")
    config.output_dir = str(run)
    config.save(run / "config.yaml")
    append_event(run / "events.jsonl", {"status": "started", "task": "sft", "model": "starter"})
    append_event(run / "events.jsonl", {"prepared": {"records": 10, "rows": 4, "dropped": {}, "splits": {}}})
    append_event(run / "events.jsonl", {"step": 1, "epoch": 1.0, "loss": 8.1})
    shutil.copytree(starter, run / "final")
    append_event(run / "events.jsonl", {"status": "finished", "step": 1})
    trainer.run_id, trainer.run_dir = run.name, run


def test_the_trainers_card_and_push_are_the_runs(argilla_dataset, starter, tmp_path, monkeypatch):
    import huggingface_hub.constants

    from fake_hub import PushHub

    trainer = ArgillaTrainer(argilla_dataset, TrainingTask.for_supervised_fine_tuning(formatting_func_sft),
                             framework=FRAMEWORK, model="starter")
    with pytest.raises(ConfigError, match="call trainer.train"):
        trainer.generate_model_card("card_dir")
    finished_run_of(trainer, starter, tmp_path / "data" / "runs")
    assert "compat-datasets" in trainer.run_config().data.dataset  # the in-memory records, as a file
    card = trainer.generate_model_card("card_dir")
    assert (tmp_path / "card_dir" / "README.md").read_text(encoding="utf-8") == card
    assert "`formatting_func_sft` from `test_compat_feedback.py`" in card and "4 rows from 10 records" in card
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_trainerpushsecret")
    with PushHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", hub.endpoint)
        url = trainer.push_to_huggingface("alice/argilla-sft", generate_card=True)
    files = hub.files("alice/argilla-sft")
    assert url.endswith("alice/argilla-sft") and hub.repos["alice/argilla-sft"]["create"]["visibility"] == "private"
    assert {"README.md", "config.json", "model.safetensors"} <= set(files)
    assert "`formatting_func_sft` from `test_compat_feedback.py`" in files["README.md"].decode()
