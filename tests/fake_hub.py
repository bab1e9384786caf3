"""A tiny stand-in for the Hugging Face Hub's HTTP API, enough for ``datasets.load_dataset("owner/name")``.

It serves dataset repositories from a local folder (``root/owner/name/<files>``) at one fixed revision, and
answers the calls ``huggingface_hub`` makes for a dataset of data files: the repo info
(``/api/datasets/{repo}[/revision/{rev}]``), the tree listing (``/api/datasets/{repo}/tree/{rev}/{path}``) and
file downloads (``/datasets/{repo}/resolve/{rev}/{path}``, HEAD and GET). Anything else is a 404. Each request
is recorded (method, path, Authorization header) so tests can see what reached the "Hub".

``PushHub`` is the other half: the calls ``create_repo`` + ``upload_folder`` make (see ``test_hub_push.py``),
for model and dataset repos, keeping each repo's uploaded files.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
import urllib.parse
from pathlib import Path

REVISION = "0123456789abcdef0123456789abcdef01234567"


class LocalServer:
    """An HTTP server on 127.0.0.1 (a free port) in a thread, for the length of a ``with`` block.

    Subclasses give the request handler class through ``_handler()``.
    """

    def __init__(self) -> None:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        raise TypeError(f"{type(self).__name__} must define _handler()")

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeHub(LocalServer):
    def __init__(self, root: Path):
        self.root = Path(root)
        self.requests: list[tuple[str, str, str | None]] = []
        super().__init__()

    def _handler(self):
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def send(self, status: int, body: bytes = b"", headers: dict | None = None,
                     content_type: str = "application/json") -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self):  # noqa: N802 (http.server's naming)
                hub.requests.append((self.command, self.path, self.headers.get("Authorization")))
                url = urllib.parse.urlparse(self.path)
                parts = url.path.strip("/").split("/")
                if parts[:2] == ["api", "datasets"] and len(parts) >= 4:
                    return self.api(parts[2] + "/" + parts[3], parts[4:], urllib.parse.parse_qs(url.query))
                if parts[0] == "datasets" and len(parts) >= 6 and parts[3] == "resolve":
                    return self.resolve(parts[1] + "/" + parts[2], "/".join(parts[5:]))
                return self.send(404, b"{}")

            do_HEAD = do_GET

            def do_POST(self):  # noqa: N802
                hub.requests.append((self.command, self.path, self.headers.get("Authorization")))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                return self.send(404, b"{}")

            def api(self, repo: str, rest: list[str], query: dict) -> None:
                files = hub.files(repo)
                if files is None:
                    return self.send(404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"})
                if not rest or rest[0] == "revision":
                    info = {"id": repo, "sha": REVISION, "private": False, "disabled": False, "gated": False,
                            "tags": [], "cardData": {}, "siblings": [{"rfilename": f} for f in files]}
                    return self.send(200, json.dumps(info).encode())
                if rest[0] == "tree":
                    folder = "/".join(rest[2:])
                    recursive = query.get("recursive", ["false"])[0].lower() == "true"
                    return self.send(200, json.dumps(hub.tree(repo, files, folder, recursive)).encode())
                return self.send(404, b"{}")

            def resolve(self, repo: str, path: str) -> None:
                files = hub.files(repo)
                if files is None:
                    return self.send(404, b"", {"X-Error-Code": "RepoNotFound"})
                if path not in files:
                    return self.send(404, b"", {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": REVISION})
                data = (hub.root / repo / path).read_bytes()
                return self.send(200, data, {"X-Repo-Commit": REVISION, "ETag": f'"{hashlib.sha1(data).hexdigest()}"'},
                                 "application/octet-stream")

        return Handler

    def files(self, repo: str) -> list[str] | None:
        base = self.root / repo
        if not base.is_dir():
            return None
        return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())

    def tree(self, repo: str, files: list[str], folder: str, recursive: bool) -> list[dict]:
        prefix = f"{folder}/" if folder else ""
        entries: dict[str, dict] = {}
        for name in files:
            if not name.startswith(prefix):
                continue
            parts = name[len(prefix):].split("/")
            for depth in range(1, len(parts)):  # the folders on the way
                path = prefix + "/".join(parts[:depth])
                if recursive or depth == 1:
                    entries.setdefault(path, {"type": "directory", "path": path, "oid": REVISION, "size": 0})
            if recursive or len(parts) == 1:
                data = (self.root / repo / name).read_bytes()
                entries[name] = {"type": "file", "path": name, "size": len(data),
                                 "oid": hashlib.sha1(data).hexdigest()}
        return sorted(entries.values(), key=lambda e: e["path"])


class PushHub(LocalServer):
    """Enough of the Hub's HTTP API for create_repo + upload_folder; records every request (with its body)
    and keeps each repo's uploaded files."""

    def __init__(self):
        self.requests: list[dict] = []
        self.client_fetches: list[dict] = []  # huggingface_hub's own, not push_run's: kept apart
        self.repos: dict[str, dict] = {}  # repo_id -> {"create": payload, "files": {path: bytes}}
        super().__init__()

    def routes(self) -> list[str]:
        return [f"{r['method']} {r['route']}" for r in self.requests]

    def files(self, repo_id: str) -> dict[str, bytes]:
        return self.repos.get(repo_id, {}).get("files", {})

    def _handler(self):
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def reply(self, status: int, payload: dict, headers: dict | None = None) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                request = {"method": "GET", "route": self.path.split("?")[0], "auth": self.headers.get("Authorization")}
                if request["route"] == "/api/agent-harnesses":  # the client's own once-a-day registry fetch
                    hub.client_fetches.append(request)
                else:
                    hub.requests.append(request)
                self.reply(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})

            def do_POST(self):  # noqa: N802
                path = self.path.split("?")[0]
                parts = path.strip("/").split("/")
                raw = self.body()
                record = {"method": "POST", "route": path, "auth": self.headers.get("Authorization"), "raw": raw}
                hub.requests.append(record)
                if path == "/api/repos/create":
                    payload = json.loads(raw)
                    record["json"] = payload
                    repo_id = f"{payload['organization']}/{payload['name']}"
                    if payload["organization"] == "forbidden":  # echoes the token, as a careless server might
                        return self.reply(403, {"error": f"token {self.headers.get('Authorization')} cannot "
                                                         f"create repos in 'forbidden'"})
                    if repo_id in hub.repos:
                        return self.reply(409, {"error": "You already created this model repo"})
                    hub.repos[repo_id] = {"create": payload, "files": {}}
                    return self.reply(200, {"url": f"{hub.endpoint}/{repo_id}"})
                if path == "/api/validate-yaml":
                    record["json"] = json.loads(raw)
                    return self.reply(200, {"errors": [], "warnings": []})
                if len(parts) == 6 and parts[:2] in (["api", "models"], ["api", "datasets"]) and \
                        parts[4] == "preupload":
                    files = json.loads(raw)["files"]
                    record["json"] = files
                    return self.reply(200, {"files": [{"path": f["path"], "uploadMode": "regular",
                                                       "shouldIgnore": False, "oid": None} for f in files]})
                if len(parts) == 6 and parts[:2] in (["api", "models"], ["api", "datasets"]) and \
                        parts[4] == "commit":
                    repo_id = f"{parts[2]}/{parts[3]}"
                    lines = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
                    record["json"] = lines
                    for line in lines:
                        if line["key"] == "file":
                            value = line["value"]
                            hub.repos[repo_id]["files"][value["path"]] = base64.b64decode(value["content"])
                    return self.reply(200, {"commitUrl": f"{hub.endpoint}/{repo_id}/commit/{'a' * 40}",
                                            "commitOid": "a" * 40, "pullRequestUrl": None})
                return self.reply(404, {"error": "not found"})

        return Handler
