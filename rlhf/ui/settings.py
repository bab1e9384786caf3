"""AppSettings: how the app was started (flags and environment), and what that means for access.

Kept apart from the UI so the rules can be read (and tested) in one place:

- **Public** deployment: a Hugging Face Space (``SPACE_ID`` set), ``--share``, or a host other than loopback
  (``0.0.0.0``, a LAN address). There, editing code and training need authentication: ``--auth user:pass`` /
  ``RLHF_AUTH=user:pass`` (Gradio's login page) or, on a Space with ``hf_oauth: true``, a Hugging Face sign-in.
  Without it the Format editor is read-only and Start is disabled, and the page says why.
- **Single-user** mode: everyone who reaches the app sees every run. It is the default on localhost (the person
  at the keyboard started the app, and runs started from the CLI should show up too) and can be forced with
  ``--single-user``. Otherwise (public, or ``--multi-user`` on localhost) each browser gets a random id kept in
  its localStorage, each run records the id of the visitor who started it, and visitors see only their own runs
  (a signed-in user's runs follow the user name instead, across browsers).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_CHAT_CONCURRENCY = 2


def parse_auth(text: str | None) -> list[tuple[str, str]]:
    """``user:pass`` (several separated by commas) → Gradio's list of (user, password) pairs."""
    pairs = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        user, sep, password = item.partition(":")
        if not sep or not user or not password:
            raise SystemExit("--auth / RLHF_AUTH: expected user:password (several separated by commas).")
        pairs.append((user, password))
    return pairs


def _oauth_installed() -> bool:
    """Gradio's Hugging Face sign-in needs ``gradio[oauth]`` (authlib); without it the app runs without sign-in."""
    import importlib.util

    return importlib.util.find_spec("authlib") is not None


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name}: expected a whole number, got {value!r}.") from None
    if number < 1:
        raise SystemExit(f"{name}: must be at least 1, got {number}.")
    return number


@dataclass
class AppSettings:
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth: list[tuple[str, str]] = field(default_factory=list, repr=False)  # never printed
    runs_dir: Path = field(default_factory=lambda: Path("runs"))
    single_user_flag: bool = False
    multi_user_flag: bool = False
    space_id: str | None = None
    oauth: bool = False  # a Space with hf_oauth: true (Gradio then shows a working "Sign in" button)
    chat_concurrency: int = DEFAULT_CHAT_CONCURRENCY
    score_concurrency: int = DEFAULT_CHAT_CONCURRENCY
    build_starter: bool = True  # build the starter model in the background at startup
    code_timeout_s: int = 120  # a formatting function's wall-clock limit over a whole preview
    code_memory_mb: int = 4096  # and its memory limit
    max_upload_mb: int = 500  # larger datasets come from the Hub, not through the browser

    @property
    def public(self) -> bool:
        return bool(self.space_id) or self.share or self.host not in LOOPBACK_HOSTS

    @property
    def single_user(self) -> bool:
        if self.single_user_flag:
            return True
        if self.multi_user_flag:
            return False
        return not self.public

    @property
    def has_auth(self) -> bool:
        return bool(self.auth)

    @property
    def open_code(self) -> bool:
        """Code editing and training are open to everyone (localhost, or every visitor logged in via --auth)."""
        return not self.public or self.has_auth

    def can_run_code(self, signed_in: bool) -> bool:
        return self.open_code or (self.oauth and signed_in)

    def access_note(self) -> str:
        """Why code editing and training are off, or "" when they are on for everyone."""
        if self.open_code:
            return ""
        if self.oauth:
            return ("This is a public deployment: sign in with Hugging Face (button at the top) to edit formatting "
                    "code and start training. Until then the editor is read-only and Start is disabled.")
        return ("This is a public deployment without authentication, so code editing and training are off: the "
                "editor is read-only and Start is disabled. Whoever runs the app can enable them with "
                "`--auth user:password` (or `RLHF_AUTH`), or Hugging Face sign-in on a Space.")

    @property
    def browser_secret(self) -> str:
        """The key Gradio encrypts each browser's saved state with. Gradio's default is new at every launch, so
        after a restart visitors would lose their saved form and (in multi-user mode) their runs; kept beside the
        runs, readable by the app's user only."""
        return browser_secret(self.runs_dir)

    def mode_note(self) -> str:
        if self.single_user:
            return "single-user: every run in the runs folder is shown"
        return "multi-user: the runs you start are listed for this browser (or your sign-in) only"

    @classmethod
    def from_args(cls, argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> "AppSettings":
        environ = os.environ if environ is None else environ
        parser = build_parser(environ)
        args = parser.parse_args(argv)
        if args.single_user and args.multi_user:
            parser.error("--single-user and --multi-user exclude each other.")
        from rlhf.paths import runs_dir

        space_id = environ.get("SPACE_ID") or None
        return cls(
            host=args.host,
            port=args.port,
            share=args.share,
            auth=parse_auth(args.auth if args.auth is not None else environ.get("RLHF_AUTH")),
            runs_dir=Path(args.runs_dir).expanduser().resolve() if args.runs_dir else runs_dir().resolve(),
            single_user_flag=args.single_user,
            multi_user_flag=args.multi_user,
            space_id=space_id,
            oauth=bool(space_id and environ.get("OAUTH_CLIENT_ID")) and _oauth_installed(),
            chat_concurrency=_positive_int(environ, "RLHF_CHAT_CONCURRENCY", DEFAULT_CHAT_CONCURRENCY),
            score_concurrency=_positive_int(environ, "RLHF_SCORE_CONCURRENCY",
                                            _positive_int(environ, "RLHF_CHAT_CONCURRENCY",
                                                          DEFAULT_CHAT_CONCURRENCY)),
            build_starter=not args.no_starter_build,
            code_timeout_s=_positive_int(environ, "RLHF_CODE_TIMEOUT_S", 120),
            code_memory_mb=_positive_int(environ, "RLHF_CODE_MEMORY_MB", 4096),
            max_upload_mb=_positive_int(environ, "RLHF_MAX_UPLOAD_MB", 500),
        )


def browser_secret(runs_dir: Path) -> str:
    path = Path(runs_dir) / ".browser-state-secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
        return secret


def build_parser(environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="rlhf: from a human-feedback dataset to a trained, tested, published model, in the browser.",
        epilog="Environment: RLHF_AUTH=user:pass (like --auth), RLHF_CHAT_CONCURRENCY (chats and scorings at "
               "once, default 2), RLHF_DATA_DIR (where runs/ lives), RLHF_CACHE_DIR (starter model, prepared "
               "rows), HF_TOKEN (Hub pushes), GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.",
    )
    parser.add_argument("--host", default=environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1, or GRADIO_SERVER_NAME); anything but "
                             "loopback makes the deployment public")
    parser.add_argument("--port", type=int, default=int(environ.get("GRADIO_SERVER_PORT") or 7860),
                        help="port (default: 7860, or GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true", help="also serve through a public gradio.live link")
    parser.add_argument("--auth", default=None, metavar="USER:PASS",
                        help="require a login (several: a:b,c:d); default: RLHF_AUTH")
    parser.add_argument("--runs-dir", default=None, metavar="DIR",
                        help="where runs are kept (default: $RLHF_DATA_DIR/runs, /data/runs on a Space, ./runs)")
    parser.add_argument("--single-user", action="store_true",
                        help="show every run to every visitor (the default on localhost)")
    parser.add_argument("--multi-user", action="store_true",
                        help="keep each browser's runs to itself even on localhost (the default when public)")
    parser.add_argument("--no-starter-build", action="store_true",
                        help="do not build the starter model in the background at startup (it is then built "
                             "on first use)")
    return parser
