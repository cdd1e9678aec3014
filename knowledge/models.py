"""Shared content models: where a fact comes from, and when it is next reviewed.

Pydantic does the schema validation (``make check-content``); nothing here knows about the bot.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, HttpUrl, model_validator


class Strict(BaseModel):
    """Content models reject unknown keys, so a typo in YAML is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """One citation: a briefing section id, or a reference fact (file#id) with its public URL."""

    briefing: str | None = None
    reference: str | None = None
    url: HttpUrl | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Source":
        if bool(self.briefing) == bool(self.reference):
            raise ValueError("a source cites either `briefing` (a section id) or `reference` (file#id)")
        return self


class Review(Strict):
    owner: str
    last_reviewed: dt.date
    review_by: dt.date

    @model_validator(mode="after")
    def _order(self) -> "Review":
        if self.review_by < self.last_reviewed:
            raise ValueError("review_by is before last_reviewed")
        return self

    def overdue(self, today: dt.date) -> bool:
        return today > self.review_by
