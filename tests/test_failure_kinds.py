"""The sandbox's failure kinds and the per-record loop a preparation and the probe share, without a child process."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rlhf.errors import ConfigError, DataError, FormattingError, HubUnreachableError
from rlhf.formatting.failures import FailureKind, error_class
from rlhf.formatting.user_code import UserCode
from rlhf.formatting.worker import WallClockLimit, each_record, job_error
from rlhf.rows import RowTypeError

JOB = {"timeout": 2.5, "memory_limit_mb": 300}


def test_one_mapping_from_kind_to_error():
    assert error_class("data") is DataError and error_class(FailureKind.CONFIG) is ConfigError
    assert all(error_class(kind) is FormattingError for kind in ("code", "exception", "type", "timeout", "memory"))
    assert error_class(FailureKind.TYPE, user_code=False) is DataError  # a plain column's value: the data's fault
    assert error_class(FailureKind.EXCEPTION, user_code=False) is FormattingError
    with pytest.raises(ValueError):
        error_class("nonsense")


def test_a_jobs_own_error_round_trips_through_its_kind():
    for error in (DataError("d"), HubUnreachableError("h"), ConfigError("c"), FormattingError("f")):
        result = json.loads(json.dumps(job_error(error)))
        assert isinstance(result["kind"], str) and FailureKind(result["kind"]).whole_job
        assert isinstance(error, error_class(result["kind"])) and result["detail"] == str(error)


def _work(per_record, records, code=None):
    return SimpleNamespace(records=lambda: iter(records), per_record=per_record, code=code)


def test_each_record_classifies_every_outcome(tmp_path):
    code = UserCode(source="def f(r):\n    return r['x']\n", filename="user_func.py", function="f")

    def per_record(record):
        what = record["what"]
        record.pop("external_id")  # the outcome names the record as it was read
        if what == "rows":
            return [("a",), ("b",)], None
        if what == "drop":
            return [], "formatting function returned None"
        if what == "type":
            raise RowTypeError("returned int 3; task 'sft' expects text")
        if what == "raise":
            raise KeyError("x")
        if what == "exit":
            raise SystemExit(4)
        if what == "memory":
            raise MemoryError()
        raise WallClockLimit()

    whats = ["rows", "drop", "type", "raise", "exit", "memory", "timeout", "rows"]
    records = [{"what": w, "external_id": f"e{i}"} for i, w in enumerate(whats)]
    outcomes = list(each_record(_work(per_record, records, code)))
    assert [o.kind for o in outcomes] == [None, None, FailureKind.TYPE, FailureKind.EXCEPTION, FailureKind.EXCEPTION,
                                          FailureKind.MEMORY, FailureKind.TIMEOUT]  # nothing after the time limit
    assert [o.external_id for o in outcomes] == [f"e{i}" for i in range(7)]
    assert outcomes[0].rows == [("a",), ("b",)] and outcomes[1].dropped == "formatting function returned None"
    messages = [o.message(JOB, code) for o in outcomes]
    assert messages[:3] == [None, None, "returned int 3; task 'sft' expects text"]
    assert messages[3:6] == ["raised KeyError: 'x': this record has no column 'x'", "raised SystemExit: 4",
                             "raised MemoryError: "]
    assert messages[6] == "stopped: the time limit of 2.5 s was reached"
    assert [o.detail(JOB) for o in outcomes[2:]] == [
        "returned int 3; task 'sft' expects text", "KeyError: 'x'", "SystemExit: 4",
        "the memory limit of 300 MB was exceeded", "the time limit of 2.5 s was reached"]
    failure = json.loads(json.dumps(outcomes[3].failure(JOB)))
    assert failure == {"ok": False, "kind": "exception", "index": 3, "external_id": "e3", "detail": "KeyError: 'x'",
                       "line": "", "empty_questions": []}


def test_each_record_stops_at_the_limit():
    seen = []
    outcomes = list(each_record(_work(lambda r: (seen.append(r) or [(r["i"],)], None), [{"i": i} for i in range(9)]),
                                limit=5))
    assert [o.index for o in outcomes] == [0, 1, 2, 3, 4] and len(seen) == 5
