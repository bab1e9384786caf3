"""Push a finished run to the Hugging Face Hub: create the repo (private by default), upload ``final/`` (or the
adapter merged into full weights) with the model card as ``README.md``, in one commit.

Cheap checks come first (run finished, repo id, token, Hub reachable) so a mistake costs seconds, not an upload.
The token is used for the HTTP calls only: it is never written, logged or put in the card, every message that
could echo it is redacted, and a staged file that contains it stops the push.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlparse

from rlhf.data.sources import HUB_ID, HUB_PROBE_TIMEOUT_S, hub_endpoint, hub_is_offline
from rlhf.errors import ConfigError, HubUnreachableError, RlhfError
from rlhf.hub.card import CURVE_FILE, Artifact, model_card
from rlhf.runs.config import RunConfig
from rlhf.runs.folder import RunFolder

Progress = Callable[[str], None]
TOKEN_ENV = "HF_TOKEN"
# Not published: a pickle of the local TrainingArguments (unsafe to load, full of local paths).
SKIPPED_FILES = {"training_args.bin"}
SCAN_LIMIT_BYTES = 20 * 1024 * 1024  # files up to this size are searched for the token before upload
HTTP_HINTS = {
    400: "the Hub rejected the request; check the repo id and the model card",
    401: "the token was rejected: it is invalid, expired or revoked; create one at "
         "https://huggingface.co/settings/tokens",
    403: "the token may not write there: use a token with write access to that user or organization "
         "(fine-grained tokens need 'write' on its repos)",
    404: "the namespace or repository was not found: check the owner part of the repo id",
    409: "conflict: a repository of another type has that name, or another operation on it is in progress; "
         "try again or choose another name",
    429: "rate limited by the Hub: wait a minute and try again",
}


def push_run(run_dir: str | Path, repo_id: str, token: str | None = None, private: bool = True,
             merge_adapter: bool = False, commit_message: str | None = None, progress: Progress | None = None,
             endpoint: str | None = None) -> str:
    """Upload a finished run; returns the repo URL.

    ``token``: else ``HF_TOKEN``, else the stored ``hf auth login``. ``private`` applies when the repo is created
    (the Hub keeps an existing repo's visibility). ``endpoint``: else ``HF_ENDPOINT``, else huggingface.co.
    """
    say = progress or (lambda message: None)
    folder = finished_run(run_dir)
    repo_id = check_repo_id(repo_id)
    token = resolve_token(token)
    endpoint = (endpoint or hub_endpoint()).rstrip("/")
    check_reachable(endpoint)

    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    with hub_errors(repo_id, token, "creating the repository"):
        say(f"creating {repo_id} ({'private' if private else 'public'}) if it does not exist")
        url = str(api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model"))
    with staged_upload(folder, repo_id, token, merge_adapter, say) as stage:
        files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
        say(f"uploading {len(files)} files: {', '.join(files)}")
        with hub_errors(repo_id, token, "uploading the files"):
            api.upload_folder(repo_id=repo_id, folder_path=stage, repo_type="model",
                              commit_message=commit_message or f"Upload rlhf run {folder.id}")
    say(f"pushed: {url}")
    return url


# -- cheap checks --------------------------------------------------------------------------------------------

def finished_run(run_dir: str | Path) -> RunFolder:
    """The run folder, if it holds a final model; a ConfigError naming the run and its status otherwise."""
    folder = RunFolder.of(run_dir)
    if not folder.config.exists():
        raise ConfigError(f"{run_dir}: not a run folder (no config.yaml).")
    if not folder.final.is_dir() or not any(folder.final.iterdir()):
        status = (folder.recorded_status() or {}).get("status", "not started")
        raise ConfigError(f"Run '{folder.id}' has no final/ model to push (status: {status}): only a finished run "
                          "can be pushed. Wait for it to finish, or resume it.")
    return folder


def check_repo_id(repo_id: str) -> str:
    repo_id = (repo_id or "").strip()
    if not HUB_ID.match(repo_id):
        raise ConfigError(f"repo_id: '{repo_id}' is not a Hub repo id; give it as owner/name, where owner is your "
                          "user name or an organization you can write to.")
    return repo_id


def resolve_token(token: str | None = None) -> str:
    """The explicit token, else ``HF_TOKEN``, else huggingface_hub's stored login; never printed or saved."""
    token = (token or "").strip() or os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        try:
            from huggingface_hub import get_token

            token = (get_token() or "").strip()
        except Exception:  # a broken token file or OIDC setup counts as no token
            token = ""
    if not token:
        raise ConfigError(
            "No Hugging Face token: create a token with write access at https://huggingface.co/settings/tokens, "
            f"then set it in the environment ({TOKEN_ENV}=…), log in once with `hf auth login`, or type it in the "
            "app's password box."
        )
    return token


def check_reachable(endpoint: str, timeout: float = HUB_PROBE_TIMEOUT_S) -> None:
    """Fail in seconds where the HTTP client would retry for minutes: offline mode, or no TCP connection."""
    from huggingface_hub import constants

    if hub_is_offline() or constants.is_offline_mode():
        raise HubUnreachableError("The Hugging Face Hub is unreachable (HF_HUB_OFFLINE is set), so nothing was "
                                  "pushed. Unset HF_HUB_OFFLINE on a machine with network and push again.")
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return
    except (OSError, ValueError):
        raise HubUnreachableError(f"The Hugging Face Hub at {endpoint} cannot be reached from this machine, so "
                                  "nothing was pushed. Check the network (or HF_ENDPOINT) and push again; the "
                                  "run folder is unchanged.") from None


# -- what gets uploaded --------------------------------------------------------------------------------------

@contextmanager
def staged_upload(folder: RunFolder, repo_id: str, token: str, merge_adapter: bool,
                  say: Progress) -> Iterator[Path]:
    """A temporary folder laid out like the repo: the model files (linked, not copied), README.md, loss.png."""
    config = RunConfig.load(folder.config)
    with tempfile.TemporaryDirectory(prefix="rlhf-push-") as tmp:
        stage = Path(tmp) / "repo"
        stage.mkdir()
        merged = merge_adapter and Artifact.of(folder.final, config.task).adapter
        if merge_adapter and not merged:
            say("final/ holds full weights already: nothing to merge")
        source = merge_into(folder.final, config.task, Path(tmp) / "merged", say) if merged else folder.final
        _link_tree(source, stage)
        (stage / "README.md").write_text(model_card(folder.path, repo_id, merged=merged, secrets=[token]),
                                          encoding="utf-8")
        if (folder.path / CURVE_FILE).exists():
            shutil.copyfile(folder.path / CURVE_FILE, stage / CURVE_FILE)
        _refuse_token_in_files(stage, token)
        yield stage


def merge_into(final: Path, task: str, out: Path, say: Progress) -> Path:
    """Full weights from a LoRA run: base plus adapter, ``merge_and_unload()``, saved with the tokenizer."""
    say("merging the LoRA adapter into its base model")
    try:
        from transformers import AutoTokenizer

        if Artifact.of(final, task).classifier:
            from peft import AutoPeftModelForSequenceClassification

            model = AutoPeftModelForSequenceClassification.from_pretrained(str(final), num_labels=1)
        else:
            from peft import AutoPeftModelForCausalLM

            model = AutoPeftModelForCausalLM.from_pretrained(str(final))
        merged = model.merge_and_unload()
        merged.save_pretrained(str(out))
        AutoTokenizer.from_pretrained(str(final)).save_pretrained(str(out))
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise ConfigError(f"merge_adapter: the adapter in {final.name}/ could not be merged into its base model "
                          f"({type(error).__name__}: {str(error)[:300]}). Push the adapter as is instead.") from None
    return out


def _link_tree(source: Path, stage: Path) -> None:
    """Symlink every file (copy where links are not allowed): a multi-GB model is not duplicated on disk."""
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name in SKIPPED_FILES:
            continue
        target = stage / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.symlink_to(path.resolve())
        except OSError:
            shutil.copyfile(path, target)


def _refuse_token_in_files(stage: Path, token: str) -> None:
    needle = token.encode()
    for path in stage.rglob("*"):
        if path.is_file() and path.stat().st_size <= SCAN_LIMIT_BYTES and needle in path.read_bytes():
            raise RlhfError(f"{path.name} contains the Hugging Face token, so nothing was pushed. Remove it from the "
                            "run's final/ folder (and rotate the token if the file was shared).")


# -- Hub errors as messages ----------------------------------------------------------------------------------

@contextmanager
def hub_errors(repo_id: str, token: str, action: str) -> Iterator[None]:
    """Hub failures become one readable RlhfError: the HTTP status, a hint, and never the token."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    try:
        yield
    except RlhfError:
        raise
    except HfHubHTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        hint = HTTP_HINTS.get(status) or ("the Hub had an internal error; try again later" if (status or 0) >= 500
                                          else "see the Hub's message")
        detail = " ".join(str(error).split())[:400]
        raise RlhfError(redact(f"Pushing to '{repo_id}' failed while {action}: HTTP {status}: {hint}. "
                               f"(Hub said: {detail})", token)) from None
    except OfflineModeIsEnabled:
        raise HubUnreachableError("The Hugging Face Hub is unreachable (HF_HUB_OFFLINE is set), so nothing was "
                                  "pushed.") from None
    except _transport_errors() as error:
        raise HubUnreachableError(redact(f"Pushing to '{repo_id}' failed while {action}: the connection to the Hub "
                                         f"failed ({type(error).__name__}: {error}). Try again when the network "
                                         "is back.", token)) from None
    except ValueError as error:  # e.g. the Hub's metadata validation of README.md
        raise RlhfError(redact(f"Pushing to '{repo_id}' failed while {action}: {error}", token)) from None


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level errors of whichever HTTP client huggingface_hub uses."""
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module in ("httpx2", "httpx"):
        try:
            found.append(importlib.import_module(module).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def redact(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text
