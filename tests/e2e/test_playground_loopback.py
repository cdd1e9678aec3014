"""tools/loopback.cjs: the preload that keeps Agents Playground (which binds every interface and
has no option for it) on 127.0.0.1. Each way Node's servers call ``listen`` is tried."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRELOAD = REPO / "tools" / "loopback.cjs"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

# Each form opens a server, records the address it really bound, and closes it.
SCRIPT = r"""
const net = require("net"), http = require("http");
const forms = {
  "listen(port)": (s, cb) => s.listen(0, cb),
  "listen(port, '0.0.0.0')": (s, cb) => s.listen(0, "0.0.0.0", cb),
  "listen(port, '::')": (s, cb) => s.listen(0, "::", cb),
  "listen(port, host, backlog)": (s, cb) => s.listen(0, "0.0.0.0", 10, cb),
  "listen(port, backlog)": (s, cb) => s.listen(0, 10, cb),
  "listen({port})": (s, cb) => s.listen({ port: 0 }, cb),
  "listen({port, host: '0.0.0.0'})": (s, cb) => s.listen({ port: 0, host: "0.0.0.0" }, cb),
  "listen(callback)": (s, cb) => s.listen(cb),
  "http listen(port)": null,
};
const results = {};
const names = Object.keys(forms);
(function next(i) {
  if (i === names.length) { process.stdout.write(JSON.stringify(results)); return; }
  const name = names[i];
  const server = forms[name] ? net.createServer() : http.createServer();
  const open = forms[name] || ((s, cb) => s.listen(0, cb));
  open(server, () => { results[name] = server.address().address; server.close(() => next(i + 1)); });
})(0);
"""


def run_node(env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", "-r", str(PRELOAD), "-e", SCRIPT],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": shutil.os.environ.get("PATH", ""), **(env_extra or {})},
    )


def test_every_listen_form_binds_loopback_only():
    result = run_node()
    assert result.returncode == 0, result.stderr
    addresses = json.loads(result.stdout)
    assert len(addresses) == 9
    assert set(addresses.values()) == {"127.0.0.1"}, addresses


def test_the_preload_chooses_the_address():
    """The control: another loopback address given, every form binds that one instead, so the
    addresses above come from the preload, not from Node's defaults."""
    result = run_node({"LOOPBACK_HOST": "127.0.0.2"})
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout).values()) == {"127.0.0.2"}


def test_refuses_a_non_loopback_override():
    result = run_node({"LOOPBACK_HOST": "0.0.0.0"})
    assert result.returncode != 0
    assert "LOOPBACK_HOST must be a loopback address" in result.stderr
