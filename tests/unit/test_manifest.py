"""The Teams app package: the manifest against the official schema (offline, from node_modules),
the icons Teams requires, and `make teams-package` filling in the app id and building the zip."""

from __future__ import annotations

import json
import re
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

import teams_package  # noqa: E402
from teams_package import PackageError, build_package, package_values, render_manifest, schema_problems  # noqa: E402

APP_ID = "5a1c0f5e-8f3b-4c1e-9a55-0f0e2d3c4b5a"
ENV = {
    "MicrosoftAppId": APP_ID,
    "TEAMS_APP_DEVELOPER_NAME": "Example Academy Trust",
    "TEAMS_APP_WEBSITE_URL": "https://example.org/safeguarding",
    "TEAMS_APP_PRIVACY_URL": "https://example.org/privacy",
    "TEAMS_APP_TERMS_URL": "https://example.org/terms",
    "BOT_DOMAIN": "ocsa-bot.example.org",
}


def read_png(data: bytes) -> tuple[int, int, list[list[tuple[int, int, int, int]]]]:
    """Decode the 8-bit RGBA, non-interlaced PNGs the icons are (filter 0 rows only, as written)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert (depth, colour, interlace) == (8, 6, 0), "icons are 8-bit RGBA, not interlaced"
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    rows = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0, "unexpected PNG row filter"
        rows.append([tuple(line[1 + x * 4 : 5 + x * 4]) for x in range(width)])
    return width, height, rows


@pytest.fixture(scope="module")
def template() -> dict:
    return teams_package.load_template()


@pytest.fixture(scope="module")
def manifest(template) -> dict:
    return render_manifest(template, package_values(ENV))


@pytest.fixture(scope="module")
def schema_installed(template):
    if not teams_package.schema_path(template).exists():
        pytest.fail("the Teams manifest schema is not installed: run `make npm` (make test does it)")


def test_filled_manifest_passes_the_official_schema(manifest, schema_installed):
    assert schema_problems(manifest) == []


def test_schema_check_rejects_a_broken_manifest(manifest, schema_installed):
    broken = json.loads(json.dumps(manifest))
    broken["id"] = "not-a-guid"
    broken["developer"]["name"] = "A developer name far longer than thirty-two characters"
    broken["bots"][0]["scopes"] = ["personal", "channel"]
    problems = "\n".join(schema_problems(broken))
    assert "id:" in problems
    assert "developer/name" in problems
    assert "bots/0/scopes/1" in problems


def test_manifest_is_on_a_current_published_schema(template):
    major, minor = (int(part) for part in template["manifestVersion"].split("."))
    assert (major, minor) >= (1, 19)
    assert template["$schema"] == (
        f"https://developer.microsoft.com/json-schemas/teams/v{template['manifestVersion']}/MicrosoftTeams.schema.json"
    )


def test_bot_works_in_personal_team_and_group_chat_without_files(manifest):
    (bot,) = manifest["bots"]
    assert bot["botId"] == manifest["id"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    command_scopes = {scope for commands in bot["commandLists"] for scope in commands["scopes"]}
    assert command_scopes == {"personal", "team", "groupChat"}


def test_template_placeholders_are_only_the_deployment_values(template):
    text = json.dumps(template)
    assert set(re.findall(r"\$\{\{(\w+)\}\}", text)) == set(teams_package.REQUIRED_SETTINGS) | {"BOT_DOMAIN", "TEAMS_APP_VERSION"}
    assert template["id"] == template["bots"][0]["botId"] == "${{MicrosoftAppId}}"


def test_bot_domain_is_a_valid_domain_only_when_given(template):
    with_domain = render_manifest(template, package_values(ENV))
    assert with_domain["validDomains"] == ["ocsa-bot.example.org"]
    without = render_manifest(template, package_values({**ENV, "BOT_DOMAIN": ""}))
    assert without["validDomains"] == []


@pytest.mark.parametrize("bad_id", ["", "my-bot", "5a1c0f5e8f3b4c1e9a550f0e2d3c4b5a", f"{APP_ID}x", "{" + APP_ID + "}"])
def test_app_id_must_be_a_guid(bad_id):
    with pytest.raises(PackageError, match="MicrosoftAppId"):
        package_values({**ENV, "MicrosoftAppId": bad_id})


def test_missing_settings_are_all_named_at_once():
    with pytest.raises(PackageError) as raised:
        package_values({"MicrosoftAppId": APP_ID})
    message = str(raised.value)
    for name in ("TEAMS_APP_DEVELOPER_NAME", "TEAMS_APP_WEBSITE_URL", "TEAMS_APP_PRIVACY_URL", "TEAMS_APP_TERMS_URL"):
        assert name in message


@pytest.mark.parametrize("url", ["http://example.org/privacy", "example.org/privacy", "https://", "javascript:alert(1)"])
def test_developer_pages_must_be_https(url):
    with pytest.raises(PackageError, match="TEAMS_APP_PRIVACY_URL"):
        package_values({**ENV, "TEAMS_APP_PRIVACY_URL": url})


def test_bot_domain_is_a_host_name_not_a_url():
    with pytest.raises(PackageError, match="BOT_DOMAIN"):
        package_values({**ENV, "BOT_DOMAIN": "https://ocsa-bot.example.org/api/messages"})


def test_a_developer_name_teams_would_refuse_fails_the_build(tmp_path, schema_installed):
    with pytest.raises(PackageError, match="developer/name"):
        build_package({**ENV, "TEAMS_APP_DEVELOPER_NAME": "x" * 40}, tmp_path / "app.zip")


def test_package_zip_holds_the_filled_manifest_and_icons_at_its_root(tmp_path, schema_installed):
    output = build_package({**ENV, "MicrosoftAppId": APP_ID.upper()}, tmp_path / "teams-app.zip")
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        packaged = json.loads(archive.read("manifest.json"))
        assert archive.read("color.png") == teams_package.COLOR_ICON.read_bytes()
        assert archive.read("outline.png") == teams_package.OUTLINE_ICON.read_bytes()
    assert packaged["id"] == packaged["bots"][0]["botId"] == APP_ID
    assert "${{" not in json.dumps(packaged)
    assert packaged["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_command_line_refuses_without_an_app_id(monkeypatch, tmp_path, capsys):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    assert teams_package.main(["--output", str(tmp_path / "x.zip")]) == 2
    assert "MicrosoftAppId is not set" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()


def test_colour_icon_is_192_square_and_opaque_in_the_accent_colour(template):
    width, height, rows = read_png(teams_package.COLOR_ICON.read_bytes())
    assert (width, height) == (192, 192)
    assert all(pixel[3] == 255 for row in rows for pixel in row)
    corner = rows[0][0][:3]
    assert "#{:02X}{:02X}{:02X}".format(*corner) == template["accentColor"].upper()
    assert any(pixel[:3] == (255, 255, 255) for row in rows for pixel in row), "the symbol is white"


def test_outline_icon_is_32_square_white_on_transparent():
    width, height, rows = read_png(teams_package.OUTLINE_ICON.read_bytes())
    assert (width, height) == (32, 32)
    visible = [pixel for row in rows for pixel in row if pixel[3] > 0]
    assert visible and all(pixel[:3] == (255, 255, 255) for pixel in visible)
    assert any(pixel[3] == 255 for pixel in visible)
    assert all(rows[y][x][3] == 0 for y in (0, 31) for x in (0, 31)), "background is transparent"
    assert len(visible) < 32 * 32 / 2, "an outline, not a filled square"


def test_committed_icons_are_what_the_generator_draws():
    assert teams_package.COLOR_ICON.read_bytes() == teams_package.color_icon_png()
    assert teams_package.OUTLINE_ICON.read_bytes() == teams_package.outline_icon_png()
