"""`make audit` fails on an unpinned requirement and on a pin below a known-fixed version."""

from __future__ import annotations

import importlib.util
from pathlib import Path

AUDIT = Path(__file__).resolve().parents[2] / "tools" / "audit.py"


def load_audit():
    spec = importlib.util.spec_from_file_location("project_audit", AUDIT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_project_pins_pass():
    failures, notes, runtime = load_audit().offline_checks()
    assert failures == []
    assert "aiohttp" in runtime
    assert any(note.startswith("aiohttp pinned") for note in notes)


def test_unpinned_and_vulnerable_pins_fail(tmp_path):
    (tmp_path / "requirements.txt").write_text("aiohttp==3.13.3\nrapidfuzz>=3\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\nrequests==2.31.0\n")
    failures, _, _ = load_audit().offline_checks(tmp_path)
    text = "\n".join(failures)
    assert "rapidfuzz is not pinned" in text
    assert "aiohttp pinned 3.13.3 < 3.14.3" in text
    assert "requests pinned 2.31.0 < 2.32.4" in text
    assert "aiohttp: pinned 3.13.3, installed" in text, "the venv does not match the pin"
