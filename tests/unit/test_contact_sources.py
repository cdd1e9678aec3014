"""A phone number, email or web address of a service lives in one place: a sourced, dated route.

Scans every YAML file under knowledge/content/. Any phone number, email address or web address
outside ``referrals.yaml``, or inside it but not in a route that has ``sources`` and a ``verified``
date, fails the test. URLs inside ``sources:`` blocks are citations (where a fact was read), not
contact details, and are allowed anywhere. The emergency and police non-emergency numbers (999,
101) may appear in any wording, because safety rule 2 needs "call 999" wherever danger is
signalled, provided the directory holds them as sourced, verified routes.
(The organisation's own contacts file in deployment/ is configuration, not content: not scanned.)
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest
import yaml

CONTENT = Path(__file__).resolve().parents[2] / "knowledge" / "content"
DIRECTORY_FILE = "referrals.yaml"
CITATION_KEYS = {"sources", "source"}
EVERYDAY_NUMBERS = {"999", "101"}
#: Lists the bot matches text against and never shows (triage.yaml: an email at a service's
#: domain is not a child's identifying detail). Only bare domain names are exempt there.
MATCHING_DATA_KEYS = {"service_email_domains"}
_BARE_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("web address", re.compile(r"(?:https?://|www\.)[^\s)>\"']+", re.IGNORECASE)),
    ("web address", re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:uk|com|org|net|gov|info|io)\b(?:/\S*)?", re.I)),
    ("email address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("phone number", re.compile(r"(?:\+44\s?|(?<![\d.])0)\d(?:[\s-]?\d){6,10}(?!\d)")),
    ("phone number", re.compile(r"(?<![\d.])(?:999|101|111|112|116\s?\d{3})(?![\d.])")),
    ("phone link", re.compile(r"\btel:", re.IGNORECASE)),
)


def contact_details(text: str) -> list[tuple[str, str]]:
    """(kind, text) for every phone number, email or web address in a string; an email's domain
    is reported once, as part of the email."""
    found: list[tuple[str, str]] = []
    emails = [m.group(0) for m in _PATTERNS[2][1].finditer(text)]
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            value = match.group(0)
            if kind == "web address" and any(value in email for email in emails):
                continue
            if kind == "web address" and any(value in v for k, v in found if k == "web address"):
                continue
            found.append((kind, value))
    return found


def strings(node: object, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every string in parsed YAML with its path (keys and list indexes)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                yield (*path, "<key>"), key
            yield from strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, (*path, index))
    elif isinstance(node, str):
        yield path, node


def is_citation(path: tuple) -> bool:
    return any(part in CITATION_KEYS for part in path)


def _load(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def content_files() -> list[Path]:
    return sorted(CONTENT.rglob("*.yaml")) + sorted(CONTENT.rglob("*.yml"))


def _sourced_and_verified(route: dict) -> bool:
    return bool(route.get("sources")) and isinstance(route.get("verified"), dt.date)


# ------------------------------------------------------------------------ the scanner itself


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ring 0808 800 5000 now", [("phone number", "0808 800 5000")]),
        ("Childline: 0800 1111.", [("phone number", "0800 1111")]),
        ("or +44 1632 960001", [("phone number", "+44 1632 960001")]),
        ("call 999 or 101", [("phone number", "999"), ("phone number", "101")]),
        ("email help@example.org", [("email address", "help@example.org")]),
        ("see https://www.example.org/page.", [("web address", "https://www.example.org/page.")]),
        ("visit www.example.org.uk", [("web address", "www.example.org.uk")]),
        ("go to example.org.uk/help", [("web address", "example.org.uk/help")]),
        ("tap tel:08088005000", [("phone number", "08088005000"), ("phone link", "tel:")]),
        ("the 2026 guidance, updated March 2024, applies to 13+ year olds", []),
        ("contacts.yaml#ceop and guidance.md#records", []),
    ],
)
def test_the_scanner_finds_contact_details(text, expected):
    assert sorted(contact_details(text)) == sorted(expected)


def test_urls_in_sources_are_citations_and_others_are_not():
    doc = {"entries": [{"answer": "x", "sources": [{"url": "https://a.example.org"}]}, {"link": "https://b.example.org"}]}
    flagged = [s for path, s in strings(doc) if not is_citation(path) and contact_details(s)]
    assert flagged == ["https://b.example.org"]


# ---------------------------------------------------------------------------- the content


def test_there_is_content_to_scan():
    names = {path.name for path in content_files()}
    assert DIRECTORY_FILE in names and len(names) > 1


@pytest.mark.parametrize("path", content_files(), ids=lambda p: p.name)
def test_contact_details_only_in_sourced_verified_routes(path):
    data = _load(path)
    problems: list[str] = []
    directory = _load(CONTENT / DIRECTORY_FILE)
    routes = directory["routes"]
    everyday_sourced = {
        route["phone"] for route in routes if route.get("phone") in EVERYDAY_NUMBERS and _sourced_and_verified(route)
    }
    for where, text in strings(data):
        if is_citation(where):
            continue
        if any(part in MATCHING_DATA_KEYS for part in where) and _BARE_DOMAIN.fullmatch(text):
            continue
        for kind, value in contact_details(text):
            if kind == "phone number" and value in everyday_sourced:
                continue
            located = ".".join(str(p) for p in where)
            if path.name != DIRECTORY_FILE or len(where) < 2 or where[0] != "routes":
                problems.append(f"{path.name}: {located}: {kind} {value!r} outside a referral route")
                continue
            route = data["routes"][where[1]]
            if not _sourced_and_verified(route):
                problems.append(
                    f"{path.name}: {located}: {kind} {value!r} in route {route.get('id')!r} "
                    "without sources and a verified date"
                )
    assert not problems, "\n".join(problems)


def test_the_everyday_numbers_allowed_in_wording_are_sourced_verified_routes():
    routes = _load(CONTENT / DIRECTORY_FILE)["routes"]
    sourced = {route.get("phone") for route in routes if _sourced_and_verified(route)}
    assert EVERYDAY_NUMBERS <= sourced


def test_each_contact_detail_belongs_to_one_route_only():
    routes = _load(CONTENT / DIRECTORY_FILE)["routes"]
    details = Counter(
        route[field] for route in routes for field in ("phone", "email", "web") if route.get(field)
    )
    assert [detail for detail, count in details.items() if count > 1] == []
