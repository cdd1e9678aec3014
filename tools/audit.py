"""Dependency audit (``make audit``): are the pins pinned, installed as pinned, and past the
versions that fixed the advisories we know of?

Offline checks (always):
1. every line of requirements*.txt is an exact ``name==version`` pin;
2. the installed version of every pinned package equals its pin (no drift in the venv);
3. every package in KNOWN_FIXED, pinned or pulled in by another (the SDK brings requests), is at
   or past the version that fixed its advisories, both as pinned and as installed.

With ``--registry``, also asks the package index (``pip index versions``, the registry only, no
other network) for the newest release of each runtime pin and lists the ones that are behind:
information for the next upgrade, not a failure.

Exit 1 when an offline check fails.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt")

# Minimum versions that fixed published advisories, with where each fact was read.
KNOWN_FIXED: dict[str, tuple[str, str]] = {
    "aiohttp": (
        "3.14.3",
        "CVE-2026-34513..34525, CVE-2026-22815 fixed in 3.13.4; GHSA-hg6j-4rv6-33pg, GHSA-jg22-mg44-37j8 "
        "in 3.14.0; GHSA-2fqr-mr3j-6wp8, GHSA-4fvr-rgm6-gqmc in 3.14.1; GHSA-mfx4-hv73-q22v, "
        "GHSA-mq44-7p77-q5h7 in 3.14.2; GHSA-cq5v-8q36-5273 in 3.14.3 (GitHub advisory database)",
    ),
    "requests": ("2.32.4", "CVE-2024-47081 / PYSEC-2026-1872: .netrc credential leak, fixed in 2.32.4"),
}


def read_pins(path: Path, seen: set[Path] | None = None) -> tuple[dict[str, str], list[str]]:
    """``{canonical name: version}`` from a requirements file (following ``-r``), and problems."""
    seen = seen or set()
    if path in seen:
        return {}, []
    seen.add(path)
    pins: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            included, more = read_pins(path.parent / line.split(None, 1)[1], seen)
            pins.update(included)
            problems.extend(more)
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            problems.append(f"{path.name}:{number}: not a requirement: {line!r}")
            continue
        specs = list(requirement.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            problems.append(f"{path.name}:{number}: {requirement.name} is not pinned with == (got {line!r})")
            continue
        pins[canonicalize_name(requirement.name)] = specs[0].version
    return pins, problems


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def offline_checks(root: Path = ROOT) -> tuple[list[str], list[str], dict[str, str]]:
    """(failures, notes, runtime pins)."""
    failures: list[str] = []
    notes: list[str] = []
    pins: dict[str, str] = {}
    runtime: dict[str, str] = {}
    for name in REQUIREMENT_FILES:
        path = root / name
        if not path.exists():
            continue
        file_pins, problems = read_pins(path)
        failures.extend(problems)
        pins.update(file_pins)
        if name == "requirements.txt":
            runtime = file_pins

    for name, pinned in sorted(pins.items()):
        have = installed_version(name)
        if have is None:
            failures.append(f"{name}=={pinned} is pinned but not installed (run make venv)")
        elif Version(have) != Version(pinned):
            failures.append(f"{name}: pinned {pinned}, installed {have}")

    for name, (minimum, source) in KNOWN_FIXED.items():
        for label, version in (("pinned", pins.get(name)), ("installed", installed_version(name))):
            if version is None:
                continue
            if Version(version) < Version(minimum):
                failures.append(f"{name} {label} {version} < {minimum}: {source}")
            else:
                notes.append(f"{name} {label} {version} >= {minimum}")
    return failures, notes, runtime


def newest_on_index(name: str) -> str | None:
    """The newest release the configured index offers, via pip itself."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", name, "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"^\S+ \(([^)]+)\)", result.stdout, re.MULTILINE)
    return match.group(1) if match else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", action="store_true", help="also ask the package index for newer runtime releases")
    args = parser.parse_args()

    failures, notes, runtime = offline_checks()
    print(f"audit: {len(runtime)} runtime pins; known-fixed minimums for {', '.join(sorted(KNOWN_FIXED))}")
    for note in notes:
        print(f"  ok    {note}")
    if args.registry:
        for name, pinned in sorted(runtime.items()):
            newest = newest_on_index(name)
            if newest is None:
                print(f"  ?     {name}: the index did not answer")
            elif Version(newest) > Version(pinned):
                print(f"  newer {name}: pinned {pinned}, index has {newest}")
    for failure in failures:
        print(f"  FAIL  {failure}")
    print("audit: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
