"""``FeedbackDataset.push_to_huggingface``: an in-memory dataset to a Hub dataset repo, as Argilla 1.x laid it out.

The repo gets what Argilla 1.x's push left there: the records in the ``format_as("datasets")`` layout (one Parquet
file, where ``datasets.push_to_hub`` puts a single split: ``data/train-00000-of-00001.parquet``), ``argilla.yaml``
(fields, questions, metadata properties, guidelines; ``from_huggingface`` rebuilds the dataset from it) and a
README card. One commit through ``huggingface_hub`` (``create_repo`` + ``upload_folder``), with the app's push
checks: the token (never printed), the repo id, a Hub that answers, and Hub errors as one readable message.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

DATA_FILE = "data/train-00000-of-00001.parquet"


def push_dataset(dataset: Any, repo_id: str, generate_card: bool = True, private: bool = False,
                 token: str | None = None, commit_message: str | None = None) -> str:
    import yaml

    from rlhf.compat.dataset import ARGILLA_CONFIG
    from rlhf.data.sources import hub_endpoint
    from rlhf.hub.push import check_reachable, check_repo_id, hub_errors, resolve_token

    repo_id = check_repo_id(repo_id)
    token = resolve_token(token)
    endpoint = hub_endpoint()
    check_reachable(endpoint)
    rows = dataset.format_as("datasets")
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    with tempfile.TemporaryDirectory(prefix="rlhf-dataset-push-") as tmp:
        stage = Path(tmp)
        (stage / DATA_FILE).parent.mkdir(parents=True)
        rows.to_parquet(str(stage / DATA_FILE))
        config = dataset._schema.to_config(dataset.guidelines) if dataset._schema else {}
        (stage / ARGILLA_CONFIG).write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                                            encoding="utf-8")
        if generate_card:
            (stage / "README.md").write_text(dataset_card(dataset, repo_id, rows), encoding="utf-8")
        with hub_errors(repo_id, token, "creating the dataset repository"):
            url = str(api.create_repo(repo_id, private=private, exist_ok=True, repo_type="dataset"))
        with hub_errors(repo_id, token, "uploading the dataset"):
            api.upload_folder(repo_id=repo_id, folder_path=stage, repo_type="dataset",
                              commit_message=commit_message or "Upload a FeedbackDataset with rlhf.compat")
    return url


def size_category(count: int) -> str:
    """The Hub's ``size_categories`` tag, as Argilla's ``size_categories_parser``."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M")):
        if count < limit:
            return name
    return "n>1M"


def dataset_card(dataset: Any, repo_id: str, rows: Any) -> str:
    """A short card: the Hub tags Argilla used, the schema, how to load it, and one record as stored."""
    fields = "\n".join(f"| {f.name} | {f.title} | {f.type} | {f.required} |" for f in dataset.fields)
    questions = "\n".join(f"| {q.name} | {q.title} | {q.type} | {q.required} |" for q in dataset.questions)
    example = json.dumps(rows[0], ensure_ascii=False, indent=2, default=str) if len(rows) else "{}"
    guidelines = f"\n## Guidelines\n\n{dataset.guidelines}\n" if dataset.guidelines else ""
    return f"""---
size_categories: {size_category(len(dataset))}
tags:
- rlfh
- argilla
- human-feedback
---

# Dataset card for {repo_id.split('/')[-1]}

An Argilla 1.x `FeedbackDataset` ({len(dataset)} records) pushed with rlhf's `rlhf.compat`: `argilla.yaml` holds
its fields and questions, `{DATA_FILE}` its records in Argilla's `format_as("datasets")` layout.

## Load it

```python
import rlhf.compat as rg  # or: import argilla as rg (Argilla 1.x)

dataset = rg.FeedbackDataset.from_huggingface("{repo_id}")
```

or with `datasets`: `datasets.load_dataset("{repo_id}", split="train")`.

## Fields

| Name | Title | Type | Required |
|---|---|---|---|
{fields}

## Questions

| Name | Title | Type | Required |
|---|---|---|---|
{questions}
{guidelines}
## A record as stored

```json
{example}
```
"""
