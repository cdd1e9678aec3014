"""Build the Teams app package (``make teams-package``): build/teams-app.zip.

The committed ``deployment/teams/manifest.json`` is a template: ``${{NAME}}`` placeholders are
filled from the environment, because the bot's app id and the publishing organisation's own web
pages differ per deployment and must never be guessed:

- ``MicrosoftAppId``            the bot's Microsoft Entra app (client) id, a GUID (required)
- ``TEAMS_APP_DEVELOPER_NAME``  your organisation's name, shown on the app's details page (required)
- ``TEAMS_APP_WEBSITE_URL``     https page about the service (required)
- ``TEAMS_APP_PRIVACY_URL``     https privacy notice covering the bot (required)
- ``TEAMS_APP_TERMS_URL``       https terms of use (required)
- ``BOT_DOMAIN``                the bot's host name, e.g. ``ocsa-bot.azurewebsites.net`` (optional;
                                added to ``validDomains``)

The app's ``version`` comes from one place, the project's ``VERSION`` file: Teams only takes an
updated package whose version is higher than the one installed, so raise ``VERSION`` whenever the
manifest or an icon changes. ``deployment/teams/released.json`` records the last version uploaded
and what it contained (``--record-release`` writes it); a test fails if the package changed since
and ``VERSION`` did not rise.

The zip holds exactly what Teams expects at its root: manifest.json, color.png, outline.png.

The two icons are drawn here, in pure Python (zlib + struct, no imaging library), so they are
reproducible byte for byte; ``--write-icons`` regenerates the committed files and a test checks
the committed files match this code.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import struct
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Mapping

REPO = Path(__file__).resolve().parent.parent
TEAMS_DIR = REPO / "deployment" / "teams"
MANIFEST_TEMPLATE = TEAMS_DIR / "manifest.json"
COLOR_ICON = TEAMS_DIR / "color.png"
OUTLINE_ICON = TEAMS_DIR / "outline.png"
DEFAULT_OUTPUT = REPO / "build" / "teams-app.zip"
VERSION_FILE = REPO / "VERSION"
RELEASED_FILE = TEAMS_DIR / "released.json"
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
SCHEMAS = REPO / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"

#: Background of the colour icon; the manifest's accentColor is the same colour.
ACCENT_RGB = (0x1F, 0x5C, 0x7A)
COLOR_SIZE = 192
OUTLINE_SIZE = 32

PLACEHOLDER = re.compile(r"\$\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")

REQUIRED_SETTINGS = {
    "MicrosoftAppId": "the bot's Microsoft Entra app (client) id (a GUID, from the app registration)",
    "TEAMS_APP_DEVELOPER_NAME": "your organisation's name, shown on the app's details page",
    "TEAMS_APP_WEBSITE_URL": "an https page about this service at your organisation",
    "TEAMS_APP_PRIVACY_URL": "an https privacy notice that covers this bot",
    "TEAMS_APP_TERMS_URL": "an https terms-of-use page",
}
URL_SETTINGS = ("TEAMS_APP_WEBSITE_URL", "TEAMS_APP_PRIVACY_URL", "TEAMS_APP_TERMS_URL")


class PackageError(ValueError):
    """The package cannot be built: the message names the setting and what to do."""


# ---------------------------------------------------------------------------- manifest


def package_values(env: Mapping[str, str]) -> dict[str, str]:
    """The placeholder values from the environment, checked; every problem is reported at once."""
    values = {name: (env.get(name) or "").strip() for name in REQUIRED_SETTINGS}
    problems = [f"{name} is not set: {why}" for name, why in REQUIRED_SETTINGS.items() if not values[name]]
    app_id = values["MicrosoftAppId"]
    if app_id and not GUID.match(app_id):
        problems.append(
            f"MicrosoftAppId must be a GUID like 00000000-0000-0000-0000-000000000000, got {app_id!r}"
        )
    for name in URL_SETTINGS:
        if values[name] and not re.match(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$", values[name]):
            problems.append(f"{name} must be an https:// address, got {values[name]!r}")
    domain = (env.get("BOT_DOMAIN") or "").strip()
    if domain and not HOSTNAME.match(domain):
        problems.append(f"BOT_DOMAIN must be a host name without https:// or a path, got {domain!r}")
    if problems:
        raise PackageError("cannot build the Teams app package:\n  - " + "\n  - ".join(problems))
    values["MicrosoftAppId"] = app_id.lower()
    values["BOT_DOMAIN"] = domain.lower()
    values["TEAMS_APP_VERSION"] = app_version()
    return values


def app_version() -> str:
    """The project's version (``VERSION``), the Teams app's version: three whole numbers."""
    version = VERSION_FILE.read_text(encoding="utf-8").strip()
    if not SEMVER.match(version):
        raise PackageError(f"VERSION must be three whole numbers like 1.2.0, got {version!r}")
    return version


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def package_digest() -> str:
    """A hash of what Teams is given, apart from the version and the per-deployment values: the
    manifest template and the icons. Changing any of them needs a higher version."""
    import hashlib

    template = load_template()
    template.pop("version", None)
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode("utf-8"))
    for icon in (COLOR_ICON, OUTLINE_ICON):
        digest.update(icon.read_bytes())
    return digest.hexdigest()


def record_release() -> dict:
    """Write released.json: this version, and what its package contained (after an upload)."""
    released = {"version": app_version(), "package_sha256": package_digest()}
    RELEASED_FILE.write_text(json.dumps(released, indent=2) + "\n", encoding="utf-8")
    return released


def load_template(path: Path = MANIFEST_TEMPLATE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def render_manifest(template: dict, values: Mapping[str, str]) -> dict:
    """Fill every ``${{NAME}}`` in the template; an empty BOT_DOMAIN drops that validDomains entry."""
    missing: set[str] = set()

    def fill(node):
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            filled = [fill(item) for item in node]
            return [item for item in filled if item != ""]
        if isinstance(node, str):
            def substitute(match: re.Match) -> str:
                name = match.group(1)
                if name not in values:
                    missing.add(name)
                    return match.group(0)
                return values[name]

            return PLACEHOLDER.sub(substitute, node)
        return node

    manifest = fill(template)
    if missing:
        raise PackageError(f"manifest template uses unknown placeholders: {', '.join(sorted(missing))}")
    return manifest


def schema_path(manifest: dict) -> Path:
    """The official schema for the manifest's declared version, as npm @microsoft/app-manifest ships it."""
    return SCHEMAS / f"v{manifest.get('manifestVersion')}" / "MicrosoftTeams.schema.json"


def schema_problems(manifest: dict) -> list[str]:
    """Where the manifest breaks the official schema (JSON Schema draft 4, as the schema declares).

    Draft 4 has no ``const``, so the declared version is checked against the schema's own ``const``
    here. Raises FileNotFoundError when the schema is not installed (`make npm`).
    """
    import jsonschema  # dev dependency: only needed to check, not to run the bot

    path = schema_path(manifest)
    schema = json.loads(path.read_text(encoding="utf-8-sig"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    problems = [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
    ]
    expected = schema.get("properties", {}).get("manifestVersion", {}).get("const")
    if expected is not None and manifest.get("manifestVersion") != expected:
        problems.append(f"manifestVersion: {manifest.get('manifestVersion')!r} is not {expected!r}")
    return problems


def build_package(env: Mapping[str, str], output: Path = DEFAULT_OUTPUT) -> Path:
    """Write the zip Teams uploads: the filled manifest and the two icons, at the zip's root.

    The filled manifest is checked against the official schema first when it is installed, so a
    bad value (a developer name over 32 characters, say) fails here, not in the Teams upload.
    """
    manifest = render_manifest(load_template(), package_values(env))
    if schema_path(manifest).exists():
        problems = schema_problems(manifest)
        if problems:
            raise PackageError("the filled manifest breaks the Teams schema:\n  - " + "\n  - ".join(problems))
    else:
        print("note: the Teams schema is not installed (`make npm`), so the manifest was not checked against it", file=sys.stderr)
    output.parent.mkdir(parents=True, exist_ok=True)
    entries = {
        "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        manifest["icons"]["color"]: COLOR_ICON.read_bytes(),
        manifest["icons"]["outline"]: OUTLINE_ICON.read_bytes(),
    }
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return output


# ---------------------------------------------------------------------------- icons


def png_bytes(width: int, height: int, pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    """Encode RGBA rows as a PNG (8-bit, colour type 6), deterministically."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _shield(u: float, v: float, top: float, bottom: float, half_width: float) -> bool:
    """A heraldic shield in unit coordinates: straight sides, then curving to a point."""
    if v < top or v > bottom:
        return False
    shoulder = top + (bottom - top) * 0.45
    if v <= shoulder:
        width = half_width
    else:
        t = (v - shoulder) / (bottom - shoulder)
        width = half_width * math.sqrt(max(0.0, 1 - t * t)) * (1 - 0.35 * t)
    return abs(u - 0.5) <= width


def _icon_shape(stroke: float, dot_radius: float, margin: float) -> Callable[[float, float], bool]:
    """The symbol: a shield outline with three dots (a conversation) inside it."""
    top, bottom, half = margin, 1 - margin * 0.9, 0.5 - margin * 1.15

    def inside(u: float, v: float) -> bool:
        outer = _shield(u, v, top, bottom, half)
        inner = _shield(u, v, top + stroke, bottom - stroke * 1.8, half - stroke)
        if outer and not inner:
            return True
        centre_v = top + (bottom - top) * 0.42
        return any(math.hypot(u - cu, v - centre_v) <= dot_radius for cu in (0.5 - half * 0.45, 0.5, 0.5 + half * 0.45))

    return inside


def _coverage(size: int, inside: Callable[[float, float], bool], samples: int = 4) -> list[list[float]]:
    """Fraction of each pixel the shape covers (supersampled, for smooth edges)."""
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            hits = sum(
                inside((x + (i + 0.5) / samples) / size, (y + (j + 0.5) / samples) / size)
                for i in range(samples)
                for j in range(samples)
            )
            row.append(hits / (samples * samples))
        rows.append(row)
    return rows


def color_icon_png() -> bytes:
    """192x192: the white symbol on a full accent-colour background."""
    shape = _icon_shape(stroke=0.055, dot_radius=0.04, margin=0.2)
    pixels = [
        [tuple(round(c + (255 - c) * cover) for c in ACCENT_RGB) + (255,) for cover in row]
        for row in _coverage(COLOR_SIZE, shape)
    ]
    return png_bytes(COLOR_SIZE, COLOR_SIZE, pixels)


def outline_icon_png() -> bytes:
    """32x32: the symbol in white on a transparent background (what Teams requires)."""
    shape = _icon_shape(stroke=3 / 32, dot_radius=0.065, margin=3 / 32)
    pixels = [[(255, 255, 255, round(255 * cover)) for cover in row] for row in _coverage(OUTLINE_SIZE, shape)]
    return png_bytes(OUTLINE_SIZE, OUTLINE_SIZE, pixels)


def write_icons() -> None:
    COLOR_ICON.write_bytes(color_icon_png())
    OUTLINE_ICON.write_bytes(outline_icon_png())


# ---------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Teams app package (build/teams-app.zip).")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the zip")
    parser.add_argument("--write-icons", action="store_true", help="regenerate deployment/teams/*.png and stop")
    parser.add_argument(
        "--record-release", action="store_true", help="after uploading: record VERSION and this package in released.json"
    )
    args = parser.parse_args(argv)
    if args.record_release:
        released = record_release()
        print(f"Recorded version {released['version']} in {RELEASED_FILE.relative_to(REPO)}: commit it.")
        return 0
    if args.write_icons:
        write_icons()
        print(f"Wrote {COLOR_ICON.relative_to(REPO)} and {OUTLINE_ICON.relative_to(REPO)}")
        return 0
    try:
        output = build_package(os.environ, args.output)
    except PackageError as error:
        print(error, file=sys.stderr)
        print("Set these in the environment (see deployment/RUNBOOK.md) and run `make teams-package` again.", file=sys.stderr)
        return 2
    shown = output.relative_to(REPO) if output.is_relative_to(REPO) else output
    print(f"Built {shown} (version {app_version()}): upload it in Teams (Apps > Manage your apps > Upload an app) or the Teams admin centre.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
