"""`make playground` as a person uses it: it prints the page's address, the page loads, the bot
answers behind it, and Ctrl-C stops both processes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

from playground import PLAYGROUND_CLI, free_port, port_in_use  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: Agents Playground runs on Node.js")


class OutputReader(threading.Thread):
    """Collects the command's output in a thread, so a silent process cannot hang the test."""

    def __init__(self, process: subprocess.Popen) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.lines: list[str] = []

    def run(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: re.Pattern, timeout: float) -> tuple[re.Match | None, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = "".join(self.lines)
            match = pattern.search(output)
            if match or self.process.poll() is not None:
                return match, output
            time.sleep(0.1)
        return None, "".join(self.lines)


def test_prints_the_address_serves_the_page_and_ctrl_c_stops_both():
    if not PLAYGROUND_CLI.exists():
        pytest.fail("Agents Playground is not installed: run `make npm` (make test does it)")
    bot_port, playground_port = free_port(), free_port()
    env = {**os.environ, "BOT_PORT": str(bot_port), "PLAYGROUND_PORT": str(playground_port)}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "tools" / "playground.py")],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    reader = OutputReader(process)
    reader.start()
    try:
        match, output = reader.wait_for(re.compile(r"open (http://127\.0\.0\.1:(\d+)) in your browser"), 90)
        assert match, f"no address printed:\n{output[-3000:]}"
        url, shown_port = match.group(1), int(match.group(2))
        with urllib.request.urlopen(url, timeout=10) as page:  # noqa: S310 - loopback
            assert page.status == 200
            assert "<html" in page.read(4096).decode("utf-8", "replace").lower()
        with urllib.request.urlopen(f"http://127.0.0.1:{bot_port}/healthz", timeout=10) as health:  # noqa: S310
            assert health.status == 200

        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert process.wait(timeout=30) == 0
        assert not port_in_use(bot_port), "the bot stopped"
        assert not port_in_use(shown_port), "the playground stopped"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=10)
        process.stdout.close()
