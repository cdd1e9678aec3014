"""A seeded generator of malformed requests and activities for /api/messages.

Seeded (``random.Random(seed)``), so a failure is reproduced by its seed and index. Shared by the
CI fuzz test (10,000 cases) and ``make fuzz`` (longer: ``FUZZ_CASES``)."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

ACTIVITY_TYPES = [
    "message", "message", "message", "conversationUpdate", "installationUpdate", "invoke", "event",
    "messageReaction", "messageUpdate", "messageDelete", "typing", "endOfConversation", "trace",
    "handoff", "delay", "command", "", "MESSAGE", "message\x00", "💥",
]
TEXTS = [
    "hi", "what is CEOP", "a child is in danger right now", "a pupil just told me her stepdad sends her pics",
    "child pornography", "help", "1", "2", "start again", "cancel", "", " ", "\u200b", "\u202eevil",
    "<at>Bot</at> hello", "🧒📱", "\x00\x01\x02", "NaN", "{}", "'; DROP TABLE x; --", "%s%s%n", "a" * 5000,
    "\\u0000", "\ud7ff", "line\r\nbreak", "<script>alert(1)</script>",
]
CARD_ACTIONS = ["faq", "feedback", "topics", "topic", "help", "disclosure_start", "flow", "referrals", "route", "x", ""]
CONTENT_TYPES = [
    "application/json", "application/json", "application/json; charset=utf-8", "text/plain", "",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/JSON", "application/json;;",
]


@dataclass
class Case:
    data: bytes
    headers: dict[str, str]
    kind: str


def weird_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(12 if depth < 3 else 8)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 2**63, -(2**70), 1e308, 3.14])
    if choice == 3:
        return rng.choice(TEXTS)
    if choice == 4:
        return "".join(chr(rng.randrange(1, 0x2FFFF)) for _ in range(rng.randrange(0, 40))).encode(
            "utf-8", "ignore"
        ).decode("utf-8", "ignore")
    if choice == 5:
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if choice == 6:
        return ""
    if choice == 7:
        return "x" * rng.randrange(0, 3000)
    if choice in (8, 9):
        return [weird_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {rng.choice(["id", "name", "type", "action", "choice", "text", "tenant", "value", "x"]): weird_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def base_activity(rng: random.Random, service_url: str) -> dict:
    conversation = f"a:fuzz-{rng.randrange(50)}"  # few conversations, so turns meet earlier state
    body: dict[str, Any] = {
        "type": rng.choice(ACTIVITY_TYPES),
        "id": f"act-{rng.getrandbits(64)}",
        "timestamp": "2026-11-25T10:30:00.000Z",
        "channelId": rng.choice(["msteams", "msteams", "msteams", "webchat", "console", "emulator", "", "slack"]),
        "serviceUrl": service_url,
        "from": {"id": "29:user-1", "name": "Practitioner"},
        "recipient": {"id": "28:bot", "name": "Bot"},
        "conversation": {"id": conversation, "conversationType": rng.choice(["personal", "channel", "groupChat", None])},
        "channelData": {"tenant": {"id": "tenant-test"}},
        "deliveryMode": "expectReplies" if rng.random() < 0.8 else None,
        "text": rng.choice(TEXTS),
        "locale": rng.choice(["en-GB", "", "xx", None]),
    }
    if rng.random() < 0.3:
        body["value"] = {"action": rng.choice(CARD_ACTIONS), **{k: weird_value(rng) for k in rng.sample(["id", "choice", "topic", "need", "helpful"], 2)}}
    if rng.random() < 0.15:
        body["attachments"] = [
            {"contentType": rng.choice(["image/png", "text/html", "application/pdf", None, 7]), "contentUrl": weird_value(rng), "name": weird_value(rng)}
        ]
    if rng.random() < 0.15:
        body["entities"] = [{"type": rng.choice(["mention", "clientInfo", None]), "mentioned": weird_value(rng), "text": weird_value(rng)}]
    if rng.random() < 0.1:
        body["membersAdded"] = [{"id": rng.choice(["28:bot", "29:user-1", weird_value(rng)])}]
    if body["type"] == "invoke":
        body["name"] = rng.choice(["adaptiveCard/action", "task/fetch", "signin/verifyState", "composeExtension/query", weird_value(rng)])
        body["value"] = weird_value(rng)
    return {k: v for k, v in body.items() if v is not None}


def mutate(rng: random.Random, body: dict) -> dict:
    for _ in range(0 if rng.random() < 0.5 else rng.randrange(1, 4)):
        key = rng.choice(list(body) + ["extra", "replyToId", "relatesTo", "value", "name", "callerId"])
        action = rng.randrange(3)
        if action == 0:
            body.pop(key, None)
        else:
            body[key] = weird_value(rng)
    return body


def make_case(rng: random.Random, service_url: str) -> Case:
    roll = rng.random()
    headers = {"Content-Type": "application/json"}
    if roll < 0.08:
        return Case(bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 200))), headers, "random_bytes")
    if roll < 0.14:
        text = json.dumps(base_activity(rng, service_url))
        return Case(text[: rng.randrange(0, len(text))].encode(), headers, "truncated_json")
    if roll < 0.20:
        return Case(json.dumps(weird_value(rng)).encode(), headers, "json_not_activity")
    if roll < 0.24:
        depth = rng.randrange(10, 5000)
        return Case(("[" * depth + "]" * depth).encode(), headers, "deep_nesting")
    if roll < 0.30:
        headers = {"Content-Type": rng.choice(CONTENT_TYPES)} if rng.random() < 0.9 else {}
        return Case(json.dumps(base_activity(rng, service_url)).encode(), headers, "content_type")
    if roll < 0.34:
        headers["Authorization"] = rng.choice(["Bearer garbage", "Bearer ", "Basic x", "Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.e30."])
        return Case(json.dumps(base_activity(rng, service_url)).encode(), headers, "auth_header")
    if roll < 0.38:
        body = base_activity(rng, rng.choice(["http://169.254.169.254/", "file:///etc/passwd", "http://10.1.2.3:9/", "", "javascript:x"]))
        body.pop("deliveryMode", None)
        return Case(json.dumps(body).encode(), headers, "service_url")
    if roll < 0.44:
        body = plant_surrogate(rng, base_activity(rng, service_url))
        encoded = json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        return Case(encoded, headers, "surrogate")
    if roll < 0.48:
        body = base_activity(rng, service_url)
        body["type"] = rng.choice(
            ["T" * rng.randrange(1000, 70_000), bytes(rng.getrandbits(8) for _ in range(64)).decode("latin-1"),
             "message\n{\"forged\": 1}", "\x00" * 100, "message\r\nX: y"]
        )
        return Case(json.dumps(body).encode(), headers, "oversized_type")
    body = mutate(rng, base_activity(rng, service_url))
    encoded = json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    return Case(encoded, headers, "activity")


def string_paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Where the strings are in a JSON value (keys included, as a path ending in ("key", k))."""
    found: list[tuple] = []
    if isinstance(node, str):
        found.append(path)
    elif isinstance(node, dict):
        for key, value in node.items():
            found.append((*path, ("key", key)))
            found.extend(string_paths(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(string_paths(value, (*path, index)))
    return found


def plant_surrogate(rng: random.Random, body: dict) -> dict:
    """A lone surrogate in one string of the activity, any string: a value or a key."""
    path = rng.choice(string_paths(body))
    lone = rng.choice(["\ud800", "\udfff", "\udc80"])
    if path and isinstance(path[-1], tuple):
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1][1]
        parent[key + lone] = parent.pop(key)
        return body
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = parent[path[-1]] + lone
    return body


def cases(seed: int, count: int, service_url: str):
    rng = random.Random(seed)
    for index in range(count):
        yield index, make_case(rng, service_url)
