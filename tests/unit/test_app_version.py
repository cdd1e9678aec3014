"""The Teams app's version: from one place (VERSION), in the package, and higher than the last
release whenever the package changed (Teams refuses an update that does not raise it)."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

import teams_package  # noqa: E402
from teams_package import RELEASED_FILE, app_version, build_package, package_digest, version_tuple  # noqa: E402

ENV = {
    "MicrosoftAppId": "5a1c0f5e-8f3b-4c1e-9a55-0f0e2d3c4b5a",
    "TEAMS_APP_DEVELOPER_NAME": "Example Council",
    "TEAMS_APP_WEBSITE_URL": "https://example.org/ocsa",
    "TEAMS_APP_PRIVACY_URL": "https://example.org/privacy",
    "TEAMS_APP_TERMS_URL": "https://example.org/terms",
}


def test_the_package_carries_the_project_version(tmp_path: Path, monkeypatch) -> None:
    version_file = tmp_path / "VERSION"
    version_file.write_text("2.4.1\n", encoding="utf-8")
    monkeypatch.setattr(teams_package, "VERSION_FILE", version_file)
    with zipfile.ZipFile(build_package(ENV, tmp_path / "app.zip")) as archive:
        assert json.loads(archive.read("manifest.json"))["version"] == "2.4.1"


def test_the_version_rises_when_the_package_changed_since_the_last_release() -> None:
    released = json.loads(RELEASED_FILE.read_text(encoding="utf-8"))
    now, then = version_tuple(app_version()), version_tuple(released["version"])
    assert now >= then, f"VERSION {app_version()} is lower than the released {released['version']}"
    if package_digest() != released["package_sha256"]:
        assert now > then, (
            f"the manifest or an icon changed since version {released['version']} was released: "
            "raise VERSION (Teams only installs a higher version)"
        )
