"""SSRF in a private network namespace (issue 16, item 4): `unshare -n -m` as root gives a
namespace with only a loopback interface, on which 169.254.169.254, 10.1.2.3, 172.16.0.9,
192.168.1.10 and 100.64.0.1 are configured and listened on (port 443), and an /etc/hosts of its
own naming attacker hosts that resolve to them. The probe (ssrf_probe.py) first proves each
listener is reachable, then sends the bot (auth mode, no host allow-list) one genuinely signed
activity per attacking serviceUrl. The bot must open no connection to any of them. Skipped where
unshare cannot make a namespace (not root): tests/http/test_ssrf.py covers the same on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hardening.ssrf_probe import ADDRESSES, SERVICE_URLS

ROOT = Path(__file__).resolve().parents[2]
HOSTS = "127.0.0.1 localhost\n169.254.169.254 metadata.attacker.test\n10.1.2.3 ten.attacker.test\n127.0.0.1 loop.attacker.test\n::1 six.attacker.test\n"


def namespaces_work() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip") or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-n", "-m", "true"], capture_output=True, timeout=10).returncode == 0


@pytest.mark.skipif(not namespaces_work(), reason="unshare -n -m needs root here; see tests/http/test_ssrf.py")
def test_no_connection_to_a_private_loopback_or_link_local_address(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS)
    setup = " && ".join(
        [f"mount --bind {hosts} /etc/hosts", "ip link set lo up"]
        + [f"ip addr add {address}/32 dev lo" for address in ADDRESSES if ":" not in address and not address.startswith("127.")]
        + [f"exec {sys.executable} -m tests.hardening.ssrf_probe"]
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "BOT_MODEL_CACHE_DIR": "off"}
    # subprocess.run kills the namespace's only process if it overruns: nothing outlives the test.
    result = subprocess.run(
        ["unshare", "-n", "-m", "--propagation", "private", "sh", "-c", setup],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"\nssrf netns: {len(SERVICE_URLS)} serviceUrls; statuses {sorted(set(report['statuses'].values()))}; "
          f"control reached {len(report['reached_by_control'])} addresses; bot connected to {report['bot_connected_to']}")
    assert sorted(report["reached_by_control"]) == sorted(ADDRESSES), "every listener is reachable in the namespace"
    assert set(report["statuses"]) == set(SERVICE_URLS)
    assert set(report["statuses"].values()) <= {400, 502}, report["statuses"]
    assert report["bot_connected_to"] == []
