"""Start-up: seconds from `python app.py` (what `make run` runs once dependencies and
build/artefacts are in place) to /readyz 200 and to the first answer, with an EMPTY model cache,
against the 10 s budget; and, with --train, the same when nothing was built (the classifier
trained at start, as every start did before build/artefacts).

``python -m bench.bench_startup [--runs 3] [--train]``. Loopback only; prints a table and the
verdict against the budget (like every bench, no pass/fail exit: ``make bench`` runs them all).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 10.0
QUESTION = "what is CEOP"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def ask(port: int) -> bool:
    body = {
        "type": "message", "id": "1", "channelId": "msteams", "text": QUESTION,
        "serviceUrl": "http://127.0.0.1:9/", "deliveryMode": "expectReplies",
        "from": {"id": "u1"}, "recipient": {"id": "bot"}, "conversation": {"id": "bench-start"},
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/messages", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
        return response.status == 200 and bool(json.loads(response.read()).get("activities"))


def one_start(train: bool) -> tuple[float, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
        env.update(BOT_HOST="127.0.0.1", BOT_PORT=str(port), BOT_MODEL_CACHE_DIR=cache, BOT_ENVIRONMENT="local")
        if train:  # look for prebuilt artefacts in an empty folder only (build/artefacts is still searched: see below)
            env["BOT_ARTEFACT_DIRS"] = cache
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            while status(f"http://127.0.0.1:{port}/readyz") != 200:
                if process.poll() is not None:
                    raise RuntimeError(f"the bot exited with {process.returncode}")
                time.sleep(0.02)
            ready = time.perf_counter() - started
            assert ask(port), "no answer"
            answered = time.perf_counter() - started
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    return ready, answered


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--train", action="store_true", help="also time a start that has to train (slow)")
    args = parser.parse_args()
    built = sorted(p.name for p in (ROOT / "build" / "artefacts").glob("*.npz"))
    print(f"start-up, empty model cache, {len(built)} artefacts in build/artefacts; load average {os.getloadavg()[0]:.1f}")
    print(f"{'case':<28}{'to /readyz 200 (s)':>20}{'to first answer (s)':>22}")
    results = [one_start(train=False) for _ in range(args.runs)]
    ready, answered = statistics.median(r for r, _ in results), statistics.median(a for _, a in results)
    print(f"{'built artefacts (median)':<28}{ready:>20.2f}{answered:>22.2f}")
    print(f"{'  worst of ' + str(args.runs):<28}{max(r for r, _ in results):>20.2f}{max(a for _, a in results):>22.2f}")
    if args.train:
        moved = ROOT / "build" / "artefacts.bench-moved"
        (ROOT / "build" / "artefacts").rename(moved)
        try:
            r, a = one_start(train=True)
        finally:
            moved.rename(ROOT / "build" / "artefacts")
        print(f"{'nothing built (trains)':<28}{r:>20.2f}{a:>22.2f}")
    verdict = "within" if answered <= BUDGET_S else "OVER"
    print(f"budget {BUDGET_S:.0f} s to the first answer: {verdict} ({answered:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
