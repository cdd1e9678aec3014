"""Chat with the bot in a Teams-like web page (``make playground``).

Starts the bot (``app.py``, the same as ``make run``) and Microsoft 365 Agents Playground (npm
``@microsoft/m365agentsplayground``, the local Teams-shaped client) pointed at it, both on
127.0.0.1, and prints the page's address. Ctrl-C stops both.

The playground listens on every interface and has no option to change that, so it runs under
``node -r tools/loopback.cjs``, which forces its server onto loopback: an anonymous local bot and
its test client are never reachable from the network. It runs with telemetry off (nothing about
a safeguarding conversation leaves the machine), without its message log (which would write what
people type to ./devTools/; set ``M365_AGENTS_PLAYGROUND_LOGFILE`` to a path to keep one) and
without opening a browser.

Settings (environment): ``BOT_PORT`` (default 3978) and ``PLAYGROUND_PORT`` (default 56150; the
playground moves to a free port if that one is taken, and the address printed is the real one).
The e2e test drives the same launcher (``PlaygroundSession``) on free ports.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
PLAYGROUND_CLI = REPO / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
PLAYGROUND_CONFIG = REPO / "deployment" / "teams" / "playground.yml"
LOOPBACK_PRELOAD = REPO / "tools" / "loopback.cjs"
HOST = "127.0.0.1"
LISTENING = re.compile(r"Listening on (\d+)")
# Only a guard against a hang: every wait also ends as soon as the child exits, with its output.
START_TIMEOUT_S = 300.0


class PlaygroundError(RuntimeError):
    """The bot or the playground could not start: the message says why and what to do."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((HOST, port)) == 0


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


class _OutputPump(threading.Thread):
    """Reads a child's output so its pipe never fills; keeps the tail for error messages and
    optionally echoes or files each line."""

    def __init__(self, stream: IO[str], echo: IO[str] | None, prefix: str) -> None:
        super().__init__(daemon=True)
        self.stream, self.echo, self.prefix = stream, echo, prefix
        self.lines: list[str] = []
        self.seen = threading.Condition()

    def run(self) -> None:
        for line in self.stream:
            with self.seen:
                self.lines.append(line.rstrip("\n"))
                del self.lines[:-200]
                self.seen.notify_all()
            if self.echo is not None:
                self.echo.write(f"{self.prefix}{line}")
                self.echo.flush()

    def wait_for(self, pattern: re.Pattern, timeout: float) -> re.Match | None:
        deadline = time.monotonic() + timeout
        with self.seen:
            while True:
                for line in self.lines:
                    match = pattern.search(line)
                    if match:
                        return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.is_alive():
                    return None
                self.seen.wait(min(remaining, 0.5))

    def tail(self, count: int = 20) -> str:
        with self.seen:
            return "\n".join(self.lines[-count:])


class PlaygroundSession:
    """The bot and the playground as two child processes; ``stop()`` always ends both."""

    def __init__(
        self,
        bot_port: int,
        playground_port: int,
        *,
        echo: IO[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.bot_port = bot_port
        self.requested_playground_port = playground_port
        self.playground_port: int | None = None
        self.echo = echo
        self.env = dict(os.environ if env is None else env)
        self.bot: subprocess.Popen | None = None
        self.playground: subprocess.Popen | None = None
        self._pumps: dict[str, _OutputPump] = {}

    @property
    def bot_endpoint(self) -> str:
        return f"http://{HOST}:{self.bot_port}/api/messages"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.playground_port}"

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # its own process group: stop() ends it and anything it started
        )
        pump = _OutputPump(process.stdout, self.echo, f"[{name}] ")
        pump.start()
        self._pumps[name] = pump
        return process

    def start(self) -> None:
        try:
            self._start_bot()
            self._start_playground()
        except BaseException:
            self.stop()
            raise

    def _start_bot(self) -> None:
        if port_in_use(self.bot_port):
            raise PlaygroundError(
                f"port {self.bot_port} is already in use (is `make run` still running?): stop it, or set BOT_PORT"
            )
        env = {**self.env, "BOT_HOST": HOST, "BOT_PORT": str(self.bot_port), "PYTHONUNBUFFERED": "1"}
        self.bot = self._spawn("bot", [sys.executable, str(REPO / "app.py")], env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while _get(f"http://{HOST}:{self.bot_port}/healthz") != 200:
            if self.bot.poll() is not None:
                time.sleep(0.2)
                raise PlaygroundError(f"the bot stopped at start-up:\n{self._pumps['bot'].tail()}")
            if time.monotonic() > deadline:
                raise PlaygroundError(f"the bot did not answer /healthz within {START_TIMEOUT_S:.0f}s")
            time.sleep(0.1)

    def _start_playground(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise PlaygroundError("Agents Playground needs Node.js 20 or later: `node` was not found on PATH")
        if not PLAYGROUND_CLI.exists():
            raise PlaygroundError("Agents Playground is not installed: run `make npm` (make playground does it)")
        # The playground logs every message it relays, text included, to ./devTools/ by default,
        # and it *deletes* its log path before writing (so /dev/null would be replaced by a file
        # when run as root). Give it a path whose parent is a regular file: the log can never be
        # created, nothing is deleted, and its write errors are swallowed by the playground itself.
        fd, blocker = tempfile.mkstemp(prefix="playground-nolog-")
        os.close(fd)
        self._log_blocker = Path(blocker)
        env = {
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(self._log_blocker / "m365agentsplayground.log"),
            "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(PLAYGROUND_CONFIG),
            **self.env,
            "BOT_ENDPOINT": self.bot_endpoint,
            "TEAMSAPPTESTER_PORT": str(self.requested_playground_port),
            "TEAMSAPPTESTER_BROWSER": "none",
            "LOOPBACK_HOST": HOST,
        }
        command = [node, "-r", str(LOOPBACK_PRELOAD), str(PLAYGROUND_CLI), "--disable-telemetry"]
        self.playground = self._spawn("playground", command, env)
        match = self._pumps["playground"].wait_for(LISTENING, START_TIMEOUT_S)
        if match is None:
            raise PlaygroundError(f"Agents Playground did not start:\n{self._pumps['playground'].tail()}")
        self.playground_port = int(match.group(1))
        deadline = time.monotonic() + START_TIMEOUT_S
        while _get(f"{self.url}/_internal/v1/config") != 200:
            if self.playground.poll() is not None or time.monotonic() > deadline:
                raise PlaygroundError(f"Agents Playground is not answering:\n{self._pumps['playground'].tail()}")
            time.sleep(0.1)

    def exited(self) -> str | None:
        """Which child has stopped on its own, if any."""
        for name, process in (("bot", self.bot), ("playground", self.playground)):
            if process is not None and process.poll() is not None:
                return name
        return None

    def output(self, name: str) -> str:
        pump = self._pumps.get(name)
        return pump.tail(200) if pump else ""

    def stop(self) -> None:
        for process in (self.playground, self.bot):
            if process is None or process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in (self.playground, self.bot):
            if process is None:
                continue
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=5)
        blocker = getattr(self, "_log_blocker", None)
        if blocker is not None:
            blocker.unlink(missing_ok=True)

    def __enter__(self) -> "PlaygroundSession":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _port_setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise PlaygroundError(f"{name} must be a port number, got {raw!r}")
    return int(raw)


def main() -> int:
    try:
        session = PlaygroundSession(_port_setting("BOT_PORT", 3978), _port_setting("PLAYGROUND_PORT", 56150), echo=sys.stdout)
    except PlaygroundError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2

    def on_terminate(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_terminate)
    try:
        print("Starting the bot and Microsoft 365 Agents Playground...", flush=True)
        session.start()
        print(
            f"\nAgents Playground: open {session.url} in your browser.\n"
            f"It talks to the bot at {session.bot_endpoint} (both on this machine only).\n"
            "Press Ctrl-C to stop both.\n",
            flush=True,
        )
        while (stopped := session.exited()) is None:
            time.sleep(0.5)
        print(f"The {stopped} stopped; stopping the other.", file=sys.stderr)
        return 1
    except PlaygroundError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopping the bot and the playground.", flush=True)
        return 0
    finally:
        session.stop()


if __name__ == "__main__":
    sys.exit(main())
