"""How fast is ``python -m rlhf prepare`` next to the plainest possible loop?

Generates 15,015 dolly-sized records in the Argilla 1.x layout (as Parquet, like a Hub download), then times,
side by side in one run, for the seed page's SFT and RM formatting functions:

- ``rlhf``: ``python -m rlhf prepare --dataset F.parquet --task T --formatting-func T.py --output O.jsonl``,
  end to end as a user runs it (process start, isolated worker, validation, atomic write);
- ``plain``: a script doing only pyarrow read → function → json write, also as its own process.

Prints both times (median of 3) and the ratio; the target is rlhf within 1.5× of plain. Argilla 1.x's own
``prepare_for_training`` took about 4.5 s per task on 15k records on these machines.

    python benchmarks/prepare_speed.py [--records 15015] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the page's SFT and RM blocks, verbatim: their text lives there
from seed_functions import SEED_RM, SEED_SFT

WORDS = ("the model answer data river city history science water energy light system animal plant music "
         "language number people country time year world small large early modern common").split()

PLAIN_LOOP = '''
import json, sys, types
import pyarrow.parquet as pq
namespace = {}
exec(open(sys.argv[1]).read(), namespace)
func = namespace[sys.argv[2]]
with open(sys.argv[4], "w", encoding="utf-8") as out:
    n = 0
    for batch in pq.ParquetFile(sys.argv[3]).iter_batches(batch_size=1000):
        for record in batch.to_pylist():
            result = func(record)
            items = result if isinstance(result, (list, types.GeneratorType)) else [result]
            for item in items:
                if item is None:
                    continue
                row = {"id": n, "text": item} if isinstance(item, str) else dict(zip(("chosen", "rejected"), item))
                out.write(json.dumps(row, ensure_ascii=False) + "\\n")
                n += 1
'''


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def make_records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        instruction = sentence(rng, 12)
        context = sentence(rng, 60) if rng.random() < 0.4 else ""
        original = sentence(rng, 55)
        new = sentence(rng, 50) if rng.random() < 0.2 else original
        response = lambda value: [{"user_id": "u1", "value": value, "status": "submitted"}]  # noqa: E731
        record = {"original-instruction": instruction, "original-context": context, "original-response": original,
                  "new-instruction": response(instruction), "new-context": response(context),
                  "new-response": response(new)}
        for q in ("new-instruction", "new-context", "new-response"):
            record[f"{q}-suggestion"] = None
            record[f"{q}-suggestion-metadata"] = {"type": None, "score": None, "agent": None}
        record["external_id"] = f"bench-{i}"
        record["metadata"] = json.dumps({"category": "open_qa"})
        records.append(record)
    return records


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=15015)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "dolly.parquet"
        pq.write_table(pa.Table.from_pylist(make_records(args.records)), data)
        (tmp / "sft.py").write_text(SEED_SFT)
        (tmp / "rm.py").write_text(SEED_RM)
        (tmp / "plain.py").write_text(PLAIN_LOOP)
        print(f"{args.records} records, {data.stat().st_size / 1e6:.1f} MB parquet; median of {args.repeat} runs")
        print(f"{'task':<5} {'rlhf prepare':>13} {'plain loop':>11} {'ratio':>7}")
        for task in ("sft", "rm"):
            ours = [timed([sys.executable, "-m", "rlhf", "prepare", "--dataset", str(data), "--task", task,
                           "--formatting-func", str(tmp / f"{task}.py"),
                           "--output", str(tmp / f"ours-{task}.jsonl")]) for _ in range(args.repeat)]
            plain = [timed([sys.executable, str(tmp / "plain.py"), str(tmp / f"{task}.py"), "formatting_func",
                            str(data), str(tmp / f"plain-{task}.jsonl")]) for _ in range(args.repeat)]
            rows_ours = sum(1 for _ in open(tmp / f"ours-{task}.jsonl"))
            rows_plain = sum(1 for _ in open(tmp / f"plain-{task}.jsonl"))
            assert rows_ours == rows_plain, (rows_ours, rows_plain)
            ours_s, plain_s = statistics.median(ours), statistics.median(plain)
            print(f"{task:<5} {ours_s:>12.2f}s {plain_s:>10.2f}s {ours_s / plain_s:>6.2f}×   ({rows_ours} rows)")


if __name__ == "__main__":
    main()
