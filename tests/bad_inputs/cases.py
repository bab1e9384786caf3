"""The bad-input corpus: every kind of broken dataset, user code and setting a user may hand the app.

Each :class:`Case` names what it is, which entry point it enters by (a data ``file``, a formatting ``function``,
a ``reward`` function, or run ``config`` settings) and the message a person must get (a regular expression).
``test_bad_inputs.py`` runs each case through the CLI and through the app's API. Files are written when the
tests run (``Case.write``): the large ones (1 GB, 600 MB, 100,000 columns) are sparse or generated, so the
corpus itself stays small. To add a case, append one line to the list that fits; nothing else changes.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Union

Content = Union[bytes, str, Callable[[Path], None]]
SECRET_TOKEN = "hf_badInputsCorpusToken0123456789"  # what HF_TOKEN holds while the corpus runs
CODE_TIMEOUT_S = 3  # the sandbox's wall-clock limit for the corpus (the app's default is 120 s)
CODE_MEMORY_MB = 1024


@dataclass
class Case:
    name: str
    kind: str  # "file" | "function" | "reward" | "config"
    expect: str  # regular expression the error message must match
    task: str = "sft"
    content: Content = b""  # file cases: the file's bytes/text, or a writer; function/reward cases: the code
    filename: str = ""  # file cases: the name (its extension picks the reader)
    settings: dict[str, Any] = field(default_factory=dict)  # config cases: RunConfig fields by TRL name
    model: str = "starter"
    succeeds: bool = False  # handled without an error (e.g. megabytes of prints): bounded output instead

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.name}"

    def write(self, folder: Path) -> Path:
        """The file (or code file) this case feeds in, written under ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (self.filename or ("reward_func.py" if self.kind == "reward" else "formatting_func.py"))
        if callable(self.content):
            self.content(path)
        else:
            data = self.content.encode("utf-8") if isinstance(self.content, str) else self.content
            path.write_bytes(data)
        return path


# -- writers for the files too big or too odd to spell out ---------------------------------------------------

def sparse(size: int, head: bytes = b"") -> Callable[[Path], None]:
    """``head`` then zeros up to ``size`` bytes, without using the disk space (a sparse file)."""
    def write(path: Path) -> None:
        with open(path, "wb") as handle:
            handle.write(head)
            handle.truncate(size)
    return write


def long_line(size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with open(path, "wb") as handle:
            handle.write(b'{"text": "')
            chunk = b"a" * (1 << 20)
            for _ in range(size >> 20):
                handle.write(chunk)
    return write


def wide_csv(columns: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("x" * columns) + "\n")
    return write


def parquet(rows: list[dict] | None = None, truncate_to: float = 1.0, schema_only: bool = False):
    def write(path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({"text": pa.array([], pa.string())}) if schema_only else pa.Table.from_pylist(rows or [])
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        data = buffer.getvalue()
        path.write_bytes(data[: int(len(data) * truncate_to)])
    return write


def deep(depth: int, lines: bool) -> str:
    nested = "[" * depth + "]" * depth
    return f'{{"text": {nested}}}\n' if lines else nested


def empty_folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
ROWS = [{"text": f"row {i}"} for i in range(20)]

FILES = [
    Case("empty", "file", r"empty\.jsonl: the file is empty", filename="empty.jsonl"),
    Case("blank-lines", "file", r"holds no records", content="\n\n   \n", filename="blank.jsonl"),
    Case("truncated-jsonl", "file", r"cut\.jsonl, line 2: invalid JSON", content='{"text": "ok"}\n{"text": "cu',
         filename="cut.jsonl"),
    Case("truncated-json", "file", r"cut\.json, line 1: invalid JSON", content='[{"text": "a"}, {"te',
         filename="cut.json"),
    Case("truncated-parquet", "file", r"not a valid parquet file", content=parquet(ROWS, truncate_to=0.5),
         filename="cut.parquet"),
    Case("latin-1", "file", r"line 1: not UTF-8 text \(byte 0xe9", content='{"text": "café"}\n'.encode("latin-1"),
         filename="latin1.jsonl"),
    Case("lone-surrogate", "file", r"surrogate\.jsonl, line 2: the escape \\ud800 \(column 13\) is half of a UTF-16 "
         r"surrogate pair", content='{"text": "a"}\n{"text": "b \\ud800 c"}\n', filename="surrogate.jsonl"),
    Case("semicolon-csv", "file", r"", succeeds=True, filename="semicolon.csv",
         content="prompt;completion\n" + "".join(f"{n}+{n}=;{2 * n}\n" for n in range(1, 11))),
    Case("utf-16", "file", r"UTF-16 text; re-save the file as UTF-8", content="text\nhello\n".encode("utf-16"),
         filename="utf16.csv"),
    Case("gzip-named-jsonl", "file", r"gzip-compressed data, not JSONL text",
         content=gzip.compress(b'{"text": "a"}\n'), filename="packed.jsonl"),
    Case("png-named-csv", "file", r"binary data, not CSV text", content=PNG, filename="image.csv"),
    Case("csv-named-parquet", "file", r"not a valid parquet file", content="text\nhello\n", filename="fake.parquet"),
    Case("wrong-extension", "file", r"unknown file type '\.txt'", content="hello", filename="notes.txt"),
    Case("arrays-per-line", "file", r"line 1: expected a JSON object per line, got list", content="[1, 2]\n",
         filename="arrays.jsonl"),
    Case("json-scalar", "file", r"expected a list of JSON objects", content="42", filename="scalar.json"),
    Case("json-two-lists", "file", r"expected a list of records", content='{\n  "a": [],\n  "b": []\n}\n',
         filename="two.json"),
    Case("csv-missing-value", "file", r"line 2: 1 values for 2 header columns \(missing column\(s\) 'label'\)",
         content="text,label\nhello\n", filename="ragged.csv"),
    Case("csv-extra-value", "file", r"more values than columns", content="text\nhello,world\n",
         filename="extra.csv"),
    Case("csv-bom-only", "file", r"has no header row", content=b"\xef\xbb\xbf", filename="bom.csv"),
    Case("wrong-layout", "file", r"needs a formatting function .*columns: foo, bar",
         content='{"foo": "a", "bar": "b"}\n', filename="foobar.jsonl"),
    Case("missing-column", "file", r"needs a formatting function .*columns: prompt, chosen", task="rm",
         content='{"prompt": "p", "chosen": "c"}\n', filename="no_rejected.jsonl"),
    Case("mixed-types", "file", r"has int 5 in column 'text'.*record 1",
         content='{"text": "a"}\n{"text": 5}\n{"text": ["x"]}\n', filename="mixed.jsonl"),
    Case("messages-not-a-list", "file", r"in column 'messages', which must hold a list",
         content='{"messages": "hello"}\n', filename="messages.jsonl"),
    Case("deeply-nested-json", "file", r"JSON nested too deeply", content=deep(100_000, lines=False),
         filename="deep.json"),
    Case("deeply-nested-jsonl", "file", r"deep\.jsonl, line 1: JSON nested too deeply",
         content=deep(100_000, lines=True), filename="deep.jsonl"),
    Case("100k-columns", "file", r"needs a formatting function .*c19, … \(99,980 more\)",
         content=wide_csv(100_000), filename="wide.csv"),
    Case("1gb-sparse", "file", r"binary data, not JSONL text|exceeds the maximum file size",
         content=sparse(1 << 30), filename="huge.jsonl"),
    Case("65mb-line", "file", r"line 1: longer than 64 MB without a line break|exceeds the maximum file size",
         content=long_line(65 << 20),
         filename="oneline.jsonl"),
    Case("600mb-json-document", "file", r"too large to parse as one JSON document|exceeds the maximum file size",
         content=sparse(600 << 20, b"[" + b'{"text": "x"}, ' * 1000), filename="big.json"),
    Case("parquet-without-rows", "file", r"holds no records", content=parquet(schema_only=True),
         filename="empty.parquet"),
    Case("empty-folder", "file", r"holds no \.jsonl, \.json, \.csv or \.parquet files", content=empty_folder,
         filename="empty_folder"),
    Case("missing-file", "file", r"not found", filename="missing.jsonl"),  # never written: see test
    Case("hub-id-offline", "file", r"[Uu]nreachable|offline", filename="someone/feedback-dataset"),
]

FUNCTIONS = [
    Case("raises", "function", r"raised ValueError: bad record on record 0 \(external_id 'sample-0001'\) at "
         r"formatting_func\.py, line 2",
         content="def formatting_func(sample):\n    raise ValueError('bad record')\n"),
    Case("raises-on-record-3", "function",
         r"raised KeyError: 'missing' on record 3 \(line 4, external_id 'sample-0004'\)",
         content="def formatting_func(sample):\n    if sample['external_id'] == 'sample-0004':\n"
                 "        return sample['missing']\n    return 'ok'\n"),
    Case("returns-int", "function", r"returned int 42; task 'sft' expects a str",
         content="def formatting_func(sample):\n    return 42\n"),
    Case("returns-dict", "function", r"returned dict .*task 'sft' expects",
         content="def formatting_func(sample):\n    return {'text': 'x'}\n"),
    Case("rm-three-tuple", "function", r"returned a tuple of 3 \(str, str, str\); task 'rm' expects", task="rm",
         content="def formatting_func(sample):\n    return ('a', 'b', 'c')\n"),
    Case("rm-str-and-int", "function", r"returned a tuple of 2 \(str, int\); task 'rm' expects", task="rm",
         content="def formatting_func(sample):\n    return ('a', 1)\n"),
    Case("dpo-pair", "function", r"task 'dpo' expects", task="dpo",
         content="def formatting_func(sample):\n    return ('chosen', 'rejected')\n"),
    Case("none-everywhere", "function", r"No rows: all 400 records were dropped \(400 × formatting function "
         r"returned None\)",
         content="def formatting_func(sample):\n    return None\n"),
    Case("list-of-ints", "function", r"returned int 1",
         content="def formatting_func(sample):\n    return [1, 2]\n"),
    Case("infinite-loop", "function", rf"time limit of {CODE_TIMEOUT_S} s",
         content="def formatting_func(sample):\n    while True:\n        pass\n"),
    Case("loop-swallowing-the-timeout", "function", r"did not finish within the time limit",
         content="def formatting_func(sample):\n    while True:\n        try:\n            while True:\n"
                 "                pass\n        except BaseException:\n            pass\n"),
    Case("sleeps-forever", "function", rf"time limit of {CODE_TIMEOUT_S} s",
         content="import time\n\ndef formatting_func(sample):\n    time.sleep(10**6)\n"),
    Case("loop-at-import", "function", rf"time limit of {CODE_TIMEOUT_S} s|loading",
         content="while True:\n    pass\n\ndef formatting_func(sample):\n    return 'x'\n"),
    Case("fork-bomb", "function", r"raised PermissionError",
         content="import os\n\ndef formatting_func(sample):\n    while True:\n        os.fork()\n"),
    Case("subprocess-bomb", "function", r"raised PermissionError",
         content="import subprocess\n\ndef formatting_func(sample):\n    while True:\n"
                 "        subprocess.Popen(['sleep', '100'])\n"),
    Case("20gb-allocation", "function", rf"memory limit of {CODE_MEMORY_MB} MB",
         content="def formatting_func(sample):\n    return 'x' * (20 * 2**30)\n"),
    # The limit is on address space, so the creep reserves 50 MB a step (bytes(n) is calloc'd, untouched) rather
    # than filling it: filling a gigabyte on a loaded CI box outlasted the 3 s time limit, which then fired first.
    Case("memory-creep", "function", rf"memory limit (of|is) {CODE_MEMORY_MB} MB",
         content="hoard = []\n\ndef formatting_func(sample):\n    while True:\n"
                 "        hoard.append(bytes(50 * 2**20))\n"),
    Case("reads-hf-token", "function", r"raised KeyError: 'HF_TOKEN'",
         content="import os\n\ndef formatting_func(sample):\n    return os.environ['HF_TOKEN']\n"),
    Case("reads-parent-environ", "function", r"raised PermissionError",
         content="import os\n\ndef formatting_func(sample):\n"
                 "    return open(f'/proc/{os.getppid()}/environ', 'rb').read().decode()\n"),
    Case("writes-outside-temp", "function", r"raised PermissionError",
         content="import os, tempfile\n\ndef formatting_func(sample):\n"
                 "    open(os.path.join(os.path.dirname(os.getcwd()), 'rlhf-bad-input-write.txt'), 'w')\n"),
    Case("kills-its-parent", "function", r"raised PermissionError",
         content="import os, signal\n\ndef formatting_func(sample):\n    os.kill(os.getppid(), signal.SIGKILL)\n"),
    Case("opens-a-socket", "function", r"raised PermissionError",
         content="import socket\n\ndef formatting_func(sample):\n"
                 "    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"),
    Case("prints-megabytes", "function", r"", succeeds=True,
         content="def formatting_func(sample):\n    print('x' * 2**20)\n    return 'text'\n"),
    Case("sys-exit", "function", r"raised SystemExit",
         content="import sys\n\ndef formatting_func(sample):\n    sys.exit(1)\n"),
    Case("os-exit", "function", r"exited with status 0 before reporting a result",
         content="import os\n\ndef formatting_func(sample):\n    os._exit(0)\n"),
    Case("segfault", "function", r"killed by signal SIGSEGV",
         content="import ctypes\n\ndef formatting_func(sample):\n    return ctypes.string_at(0)\n"),
    Case("syntax-error", "function", r"formatting_func\.py, line 1: syntax error \(expected ':'\)",
         content="def formatting_func(sample)\n    return 'x'\n"),
    Case("no-such-function", "function", r"no function|not defined|defines: one, two",
         content="def one(sample):\n    return 'x'\n\ndef two(sample):\n    return 'y'\n"),
    Case("not-callable", "function", r"'formatting_func' is int 5, not a function",
         content="formatting_func = 5\n"),
    Case("wrong-signature", "function", r"raised TypeError",
         content="def formatting_func():\n    return 'x'\n"),
    Case("infinite-recursion", "function", r"raised RecursionError",
         content="def formatting_func(sample):\n    return formatting_func(sample)\n"),
    Case("waits-for-input", "function", r"raised EOFError",
         content="def formatting_func(sample):\n    return input()\n"),
    Case("imports-missing-module", "function", r"ModuleNotFoundError",
         content="import not_a_module_rlhf\n\ndef formatting_func(sample):\n    return 'x'\n"),
]

REWARDS = [
    Case("raises", "reward", r"raised ZeroDivisionError",
         content="def reward_func(completions, **kwargs):\n    return [1 / 0 for _ in completions]\n"),
    Case("wrong-length", "reward", r"expected a list of 5 floats",
         content="def reward_func(completions, **kwargs):\n    return [1.0]\n"),
    Case("returns-strings", "reward", r"containing str",
         content="def reward_func(completions, **kwargs):\n    return ['good' for _ in completions]\n"),
    Case("returns-a-float", "reward", r"returned float",
         content="def reward_func(completions, **kwargs):\n    return 1.0\n"),
    Case("infinite-loop", "reward", rf"took longer than the limit of {CODE_TIMEOUT_S} s",
         content="def reward_func(completions, **kwargs):\n    while True:\n        pass\n"),
    Case("20gb-allocation", "reward", r"memory limit",
         content="def reward_func(completions, **kwargs):\n    return [len('x' * (20 * 2**30))]\n"),
    Case("fork-bomb", "reward", r"raised PermissionError",
         content="import os\n\ndef reward_func(completions, **kwargs):\n    while True:\n        os.fork()\n"),
    Case("reads-hf-token", "reward", r"raised KeyError: 'HF_TOKEN'",
         content="import os\n\ndef reward_func(completions, **kwargs):\n"
                 "    return [float(len(os.environ['HF_TOKEN']))] * len(completions)\n"),
]

CONFIGS = [
    Case("negative-learning-rate", "config", r"learning_rate: must be positive", settings={"learning_rate": -1.0}),
    Case("zero-steps", "config", r"would train for zero steps", settings={"max_steps": 0}),
    Case("zero-batch", "config", r"per_device_train_batch_size: must be at least 1",
         settings={"per_device_train_batch_size": 0}),
    Case("zero-max-length", "config", r"max_length: must be at least 1", settings={"max_length": 0}),
    Case("train-size-above-one", "config", r"train_size: must be in \(0, 1\]", settings={"train_size": 1.5}),
    Case("lora-rank-zero", "config", r"lora_r: the LoRA rank must be at least 1",
         settings={"use_peft": True, "lora_r": 0}),
    Case("unknown-model", "config", r"model: 'nobody/no-such-model' .*cannot be downloaded",
         model="nobody/no-such-model", settings={"max_steps": 1}),
    Case("reward-model-not-a-classifier", "config", r"not a reward model", task="rl",
         settings={"algorithm": "grpo", "reward_models": ["starter"], "max_steps": 1}),
    Case("lora-target-missing", "config", r"lora_target_modules: q_proj not found in starter",
         settings={"use_peft": True, "lora_target_modules": ["q_proj"], "max_steps": 1}),
    Case("rl-without-reward", "config", r"RL needs at least one reward model or reward function", task="rl",
         settings={"algorithm": "grpo", "max_steps": 1}),
    Case("unknown-rl-algorithm", "config", r"algorithm|invalid choice: 'ppo2'", task="rl",
         settings={"algorithm": "ppo2", "max_steps": 1}),
    Case("misspelt-setting", "config", r"settings\.lerning_rate: unknown|unrecognized arguments: --lerning-rate",
         settings={"lerning_rate": 0.001}),
    Case("text-for-a-number", "config", r"settings\.learning_rate: expected float|invalid float value: 'fast'",
         settings={"learning_rate": "fast"}),
    Case("unknown-task", "config", r"task: choose one of|invalid choice: 'ppo3'", task="ppo3"),
]

CASES: list[Case] = FILES + FUNCTIONS + REWARDS + CONFIGS


def settings_as_flags(case: Case) -> list[str]:
    """A config case's settings as ``python -m rlhf train`` flags (as a user would type them)."""
    from rlhf.runs.cli_args import _flag

    flags: list[str] = []
    for name, value in case.settings.items():
        flag = _flag(name)
        if isinstance(value, bool):
            flags += [flag] if value else []
        elif isinstance(value, list):
            if name == "reward_models":
                for item in value:
                    flags += [flag, str(item)]
            else:
                flags += [flag, *map(str, value)]
        else:
            flags += [flag, str(value)]
    return flags


__all__ = ["CASES", "CODE_MEMORY_MB", "CODE_TIMEOUT_S", "Case", "SECRET_TOKEN", "settings_as_flags"]
