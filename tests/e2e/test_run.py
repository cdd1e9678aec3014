"""`make run` (python app.py) as a newcomer meets it: a fresh process with an empty model cache
serves from the artefacts make built (it trains nothing), its "talk to it" hint works, and a
port that is taken gets one line and a non-zero exit, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from knowledge.artefacts import BUILD_DIR
from tests.conftest import SHIPPED_ARTEFACTS
from tests.support.processes import Lines

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_env(port: int, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    return {**env, "BOT_HOST": "127.0.0.1", "BOT_PORT": str(port), "BOT_MODEL_CACHE_DIR": str(cache), "BOT_ENVIRONMENT": "local"}


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def wait_ready(process: subprocess.Popen, port: int, output: Lines) -> None:
    """Readiness as a person sees it: the 'listening' line, then /readyz 200 (polled while the
    process lives; bounded only against a hang)."""
    assert output.wait_for(r"Safeguarding bot listening on"), f"the bot did not start:\n{output.text()[-3000:]}"
    guard = time.monotonic() + Lines.HANG_GUARD_S
    while status(f"http://127.0.0.1:{port}/readyz") != 200:
        assert process.poll() is None, f"the bot stopped:\n{output.text()[-3000:]}"
        assert time.monotonic() < guard, "no /readyz 200"
        time.sleep(0.05)


def test_a_fresh_process_with_an_empty_cache_serves_what_make_built_and_trains_nothing(processes, tmp_path: Path, knowledge):
    stale = sorted(name for name, how in SHIPPED_ARTEFACTS.items() if how != "build")
    if not SHIPPED_ARTEFACTS or stale:
        pytest.fail(
            f"{BUILD_DIR} does not hold the artefacts of the content as it is now ({stale or 'none loaded'}): "
            "run `make artefacts` (make test does it first)"
        )
    cache, port = tmp_path / "empty-cache", free_port()
    cache.mkdir()
    process = processes.start(
        [sys.executable, "app.py"], cwd=REPO, env=bot_env(port, cache),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = Lines(process.stdout)
    wait_ready(process, port, output)
    assert list(cache.iterdir()) == [], "nothing was trained and cached at start: the built model was used"

    # the hint it printed is the way to talk to it, and the bot answers through it
    hint = output.wait_for(r"Talk to it: `make chat URL=(\S+)`")
    assert hint and hint.group(1) == f"http://127.0.0.1:{port}/api/messages"
    chat = processes.start(
        [sys.executable, "tools/chat.py", "--url", hint.group(1)], cwd=REPO,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    out, err = chat.communicate("what is ceop\nquit\n", timeout=Lines.HANG_GUARD_S)
    assert chat.returncode == 0, err[-2000:]
    assert "CEOP" in out


def test_a_taken_port_is_one_line_and_a_non_zero_exit(processes, tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = processes.start(
            [sys.executable, "app.py"], cwd=REPO, env=bot_env(port, tmp_path),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        out, err = process.communicate(timeout=Lines.HANG_GUARD_S)
    assert process.returncode != 0
    assert "listening" not in out.lower() and "started" not in out.lower(), out
    assert err.strip().count("\n") == 0, f"one line, no traceback:\n{err}"
    assert f"port {port}" in err and "already in use" in err and "BOT_PORT" in err

