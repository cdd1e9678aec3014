"""`make playground` as a person uses it: it prints the page's address, the page loads, the bot
answers behind it, and Ctrl-C stops both processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

from playground import PLAYGROUND_CLI, free_port, port_in_use  # noqa: E402

from tests.support.processes import Lines  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: Agents Playground runs on Node.js")


def test_prints_the_address_serves_the_page_and_ctrl_c_stops_both(processes):
    """Every wait is on something the person would see (the address printed, the page, the
    goodbye line, the process ending), never on a number of seconds that fails under load."""
    if not PLAYGROUND_CLI.exists():
        pytest.fail("Agents Playground is not installed: run `make npm` (make test does it)")
    bot_port, playground_port = free_port(), free_port()
    env = {**os.environ, "BOT_PORT": str(bot_port), "PLAYGROUND_PORT": str(playground_port)}
    process = processes.start(
        [sys.executable, str(REPO / "tools" / "playground.py")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = Lines(process.stdout)
    match = output.wait_for(r"open (http://127\.0\.0\.1:(\d+)) in your browser")
    assert match, f"no address printed:\n{output.text()[-3000:]}"
    url, shown_port = match.group(1), int(match.group(2))
    with urllib.request.urlopen(url, timeout=60) as page:  # noqa: S310 - loopback
        assert page.status == 200
        assert "<html" in page.read(4096).decode("utf-8", "replace").lower()
    with urllib.request.urlopen(f"http://127.0.0.1:{bot_port}/healthz", timeout=60) as health:  # noqa: S310
        assert health.status == 200

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: to the terminal's foreground group
    assert output.wait_for(r"Stopping the bot and the playground"), output.text()[-3000:]
    assert output.wait_for(r"(?!)") is None  # its output ends: it has closed, children stopped first
    assert process.wait(timeout=Lines.HANG_GUARD_S) == 0
    assert not port_in_use(bot_port), "the bot stopped"
    assert not port_in_use(shown_port), "the playground stopped"
