"""The bot's fixed wording (content/messages.yaml), validated and looked up by key."""

from __future__ import annotations

from pathlib import Path

from knowledge.models import Review, Source, Strict, load_yaml_model

CONTENT_DIR = Path(__file__).parent / "content"

REQUIRED_KEYS = frozenset(
    {
        "emergency",
        "turn_error",
        "storage_unavailable",
        "attachment",
        "too_long",
        "privacy_reminder",
        "wrong_term",
        "greeting",
        "thanks",
        "goodbye",
        "identity",
        "help",
        "welcome",
        "disclosure_maybe",
        "disclosure_in_channel",
        "feedback_thanks",
        "tenant_refused",
        "unsupported",
        "unsure_999",
        "emergency_guide_offer",
    }
)


class Message(Strict):
    text: str
    sources: tuple[Source, ...] = ()


class Messages(Strict):
    version: int
    review: Review
    messages: dict[str, Message]

    def text(self, key: str) -> str:
        return self.messages[key].text


class ContentError(ValueError):
    """Content that must not ship: the message names the file and the field."""


def load_messages(content_dir: Path | None = None) -> Messages:
    path = (content_dir or CONTENT_DIR) / "messages.yaml"
    messages = load_yaml_model(path, Messages, ContentError)
    missing = REQUIRED_KEYS - messages.messages.keys()
    if missing:
        raise ContentError(f"{path}: missing messages: {', '.join(sorted(missing))}")
    return messages
