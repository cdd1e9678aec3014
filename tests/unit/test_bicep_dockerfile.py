"""deployment/Dockerfile, the image main.bicep runs, checked offline (no Docker daemon or base
image needed): what it copies, who it runs as, and that its health check and its refusal to run
anonymously on 0.0.0.0 really work, by running the same commands against the real app."""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import Lines

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deployment" / "Dockerfile"
DOCKERIGNORE = REPO / "deployment" / "Dockerfile.dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def env_values() -> dict[str, str]:
    values = {}
    for keyword, rest in instructions():
        if keyword == "ENV":
            values.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
    return values


def copied_sources() -> list[str]:
    sources = []
    for keyword, rest in instructions():
        if keyword == "COPY":
            parts = rest.split()
            sources.extend(part.rstrip("/") for part in parts[:-1] if not part.startswith("--"))
    return sources


def healthcheck_command() -> list[str]:
    (rest,) = [rest for keyword, rest in instructions() if keyword == "HEALTHCHECK"]
    return json.loads(rest[rest.index("CMD") + 3 :].strip())


def test_slim_python_311_base():
    froms = [rest for keyword, rest in instructions() if keyword == "FROM"]
    assert froms == ["python:3.11-slim"]


def test_runs_as_a_non_root_user_from_before_the_command():
    steps = instructions()
    users = [(index, rest) for index, (keyword, rest) in enumerate(steps) if keyword == "USER"]
    assert users, "a USER instruction"
    index, user = users[-1]
    assert user.split(":")[0] not in ("root", "0")
    cmd_index = max(i for i, (keyword, _) in enumerate(steps) if keyword == "CMD")
    assert index < cmd_index


def test_installs_runtime_requirements_only():
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    assert "-r requirements.txt" in runs
    assert "requirements-dev" not in runs


def test_copies_every_first_party_package_the_app_imports():
    """Walk app.py's imports through the repository: every local module must be in the image."""
    local_roots = {p.name for p in REPO.iterdir() if (p / "__init__.py").exists()} | {"app"}
    copied = {Path(source).stem for source in copied_sources()}
    needed: set[str] = set()
    pending = [REPO / "app.py"]
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                if root in local_roots:
                    needed.add(root)
                    target = REPO.joinpath(*name.split("."))
                    pending.extend(p for p in (target.with_suffix(".py"), target / "__init__.py") if p.exists())
    assert needed <= copied, f"imported but not copied into the image: {needed - copied}"
    assert {"bot", "knowledge"} <= needed
    for source in copied_sources():
        assert (REPO / source).exists(), f"COPY {source}: no such file"
    assert not {"tests", "tools", ".venv", "node_modules"} & copied


def test_build_context_ignore_file_keeps_what_the_image_copies():
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        result = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            pattern = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*") or path.startswith(pattern + "/"):
                result = not negate
        return result

    for source in copied_sources():
        assert not ignored(source), f"{source} is copied but ignored"
    for private in (".venv", "node_modules", "tests/conftest.py", ".git"):
        assert ignored(private), f"{private} should stay out of the build context"


def test_listens_on_all_interfaces_on_the_exposed_port():
    env = env_values()
    exposed = [rest for keyword, rest in instructions() if keyword == "EXPOSE"]
    assert env["BOT_HOST"] == "0.0.0.0"
    assert exposed == [env["BOT_PORT"]]


def test_the_image_settings_refuse_to_start_without_credentials(tmp_path):
    """BOT_HOST=0.0.0.0 is never anonymous: the container exits with a message, not an open bot."""
    env = {"PATH": os.environ.get("PATH", ""), **env_values()}
    result = subprocess.run(
        [sys.executable, str(REPO / "app.py")], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "Configuration error" in result.stderr
    assert "MicrosoftAppId" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running_bot(processes):
    port = free_port()
    env = {**os.environ, "BOT_HOST": "127.0.0.1", "BOT_PORT": str(port), "BOT_ENVIRONMENT": "local"}
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId"):
        env.pop(name, None)
    process = processes.start(
        [sys.executable, str(REPO / "app.py")], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    # ready when it says it listens and the port answers (bounded only against a hang)
    output = Lines(process.stdout)
    assert output.wait_for(r"listening on"), f"the bot stopped at start-up:\n{output.text()[-2000:]}"
    guard = time.monotonic() + Lines.HANG_GUARD_S
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert process.poll() is None, "the bot stopped at start-up"
        assert time.monotonic() < guard, "the bot did not start"
        time.sleep(0.05)
    return port


def test_health_check_passes_against_a_running_bot(running_bot):
    command = healthcheck_command()
    assert command[0] == "python"
    ok = subprocess.run([sys.executable, *command[1:]], env={**os.environ, "BOT_PORT": str(running_bot)}, timeout=30)
    assert ok.returncode == 0


def test_health_check_fails_when_nothing_answers():
    command = healthcheck_command()
    down = subprocess.run(
        [sys.executable, *command[1:]], env={**os.environ, "BOT_PORT": str(free_port())}, capture_output=True, timeout=30
    )
    assert down.returncode != 0
