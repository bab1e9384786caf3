"""The deployment contract: the Docker image, the Space front matter, and the README's commands.

These read the files as a Space or a newcomer would; the Docker build itself runs only where a Docker daemon
with network is available.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
README = (ROOT / "README.md").read_text()


def front_matter() -> dict:
    match = re.match(r"^---\n(.*?)\n---\n", README, re.S)
    assert match, "README.md must start with YAML front matter (the Space's config)"
    return yaml.safe_load(match.group(1))


def readme_command(marker: str) -> str:
    block = README.split(f"<!-- {marker} -->", 1)[1]
    return block.split("```bash\n", 1)[1].split("\n```", 1)[0].strip()


def test_the_space_is_a_docker_space_on_the_apps_port():
    config = front_matter()
    assert config["sdk"] == "docker"
    assert config["app_port"] == 7860
    assert config["title"] and config["emoji"]


def test_the_space_asks_for_sign_in_with_the_scope_to_push():
    config = front_matter()
    assert config["hf_oauth"] is True
    assert "write-repos" in config["hf_oauth_scopes"]
    assert config["suggested_hardware"]


def test_the_image_runs_as_uid_1000_with_a_writable_home():
    assert re.search(r"useradd\b.*--uid 1000 user", DOCKERFILE)
    assert re.search(r"^USER user$", DOCKERFILE, re.M)
    assert "HOME=/home/user" in DOCKERFILE and "chown -R user:user /home/user" in DOCKERFILE


def test_the_image_serves_the_app_on_port_7860_on_all_interfaces():
    assert re.search(r"^EXPOSE 7860$", DOCKERFILE, re.M)
    assert DOCKERFILE.strip().splitlines()[-1] == 'CMD ["python", "app.py", "--host", "0.0.0.0"]'


def test_the_image_installs_what_the_readme_installs_and_builds_the_starter():
    assert "pip install -r requirements.txt" in DOCKERFILE
    assert "pip install -r requirements.txt" in readme_command("app-command")
    assert "ARG DEVICE=cpu" in DOCKERFILE and "torch==${TORCH_VERSION}" in DOCKERFILE
    assert "RUN python -m rlhf.starter" in DOCKERFILE


def test_runs_go_to_slash_data_when_it_exists(monkeypatch, tmp_path):
    from rlhf import paths

    monkeypatch.delenv("RLHF_DATA_DIR", raising=False)
    monkeypatch.setattr(paths.os.path, "isdir", lambda p: p == "/data")
    monkeypatch.setattr(paths.os, "access", lambda p, mode: p == "/data")
    assert paths.runs_dir() == Path("/data/runs")
    monkeypatch.setenv("RLHF_DATA_DIR", str(tmp_path))
    assert paths.runs_dir() == tmp_path / "runs"


def test_ci_runs_exactly_the_readme_test_command():
    ci = subprocess.run(["bash", "-c", f"source <(sed -n '/^cmd=/p' {ROOT / '.ci/run'}); echo \"$cmd\""],
                        cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert ci == readme_command("test-command")
    assert "pytest" in ci and "[ $? -eq 5 ]" in ci


def test_the_readme_starts_with_the_two_setup_commands():
    body = README.split("---\n", 2)[2]
    blocks = re.findall(r"```bash\n(.*?)\n```", body, re.S)
    assert blocks[0].strip() == readme_command("app-command") and "python app.py" in blocks[0]
    assert blocks[1].strip() == readme_command("test-command")
    assert all("pip install torch==2.13.0" in block for block in blocks[:2])


def _docker_daemon() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _docker_daemon(), reason="no Docker daemon here (the docker client alone cannot build)")
def test_the_image_builds(tmp_path):
    built = subprocess.run(["docker", "build", "-t", "rlhf-test", str(ROOT)], capture_output=True, text=True,
                           timeout=3600)
    assert built.returncode == 0, built.stderr[-3000:]
