"""Processes the tests start: each in its own process group (so stopping it stops whatever it
started too), always stopped by the fixture that started it, and a check, at the end of the run,
that no child of the test run is still alive (``tests/conftest.py``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from pathlib import Path


class Processes:
    """``start(command, **popen_args)`` like ``subprocess.Popen``, in a new process group;
    ``stop_all()`` ends every group started, gently (SIGTERM) and then for sure (SIGKILL)."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, command: list[str], **popen_args) -> subprocess.Popen:
        popen_args.setdefault("stdin", subprocess.DEVNULL)
        process = subprocess.Popen(command, start_new_session=True, **popen_args)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            signal_group(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            # the group too: a grandchild can outlive its parent
            signal_group(process.pid, signal.SIGKILL)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class Lines(threading.Thread):
    """Reads a child's output as it comes (so its pipe never fills) and lets a test wait for a
    line: the readiness signal a person would see. The wait is bounded only against a hang."""

    HANG_GUARD_S = 300.0

    def __init__(self, stream) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.closed = False
        self.start()

    def run(self) -> None:
        for line in self.stream:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def wait_for(self, pattern: str | re.Pattern) -> re.Match | None:
        """The first line matching ``pattern``, or None once the output ends without one."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        with self.changed:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if match := regex.search(line):
                        return match
                seen = len(self.lines)
                if self.closed:
                    return None
                if not self.changed.wait(self.HANG_GUARD_S):
                    raise TimeoutError(f"no line matching {regex.pattern!r} and no output for {self.HANG_GUARD_S:.0f} s")

    def text(self) -> str:
        with self.changed:
            return "\n".join(self.lines)


def living_descendants(root: int | None = None) -> list[tuple[int, str]]:
    """(pid, command line) of every process descended from ``root`` (default: this one) that is
    still running (zombies, already dead, are left out). Read from /proc; empty elsewhere."""
    root = os.getpid() if root is None else root
    parents: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2 :].split()
        states[int(entry.name)] = fields[0]
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], list(parents.get(root, []))
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, []))
        if states.get(pid) == "Z":
            continue
        try:
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append((pid, command.strip()))
    return found
