"""Put a practitioner's message and the FAQ's phrasings into one comparable form.

Matching compares normalised text with normalised text, so the same rules run over the FAQ once
(at matcher construction) and over each message. rapidfuzz 3 neither lower-cases nor strips
punctuation by default, so this does both explicitly.
"""

from __future__ import annotations

import re
import unicodedata

from knowledge.faq import Synonyms

_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Case-fold, drop accents and apostrophes (``child's`` -> ``childs``), punctuation to spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


class Normaliser:
    """Case, punctuation, British spelling, then abbreviations and informal phrases (whole words).

    Spelling is applied word by word first, so the keys of the other two maps may be written in
    either spelling. Abbreviations and phrases are replaced in a single pass (longest key first),
    so an expansion is never expanded again.
    """

    def __init__(self, synonyms: Synonyms) -> None:
        self._spelling = {_fold(k): _fold(v) for k, v in synonyms.spelling.items() if _fold(k)}
        expansions: dict[str, str] = {}
        for mapping in (synonyms.abbreviations, synonyms.phrases):
            for key, value in mapping.items():
                folded = self._respell(_fold(key))
                if folded:
                    expansions[folded] = self._respell(_fold(value))
        self._expansions = expansions
        if expansions:
            keys = sorted(expansions, key=len, reverse=True)
            self._pattern: re.Pattern[str] | None = re.compile(
                r"(?<!\S)(?:" + "|".join(re.escape(k) for k in keys) + r")(?!\S)"
            )
        else:
            self._pattern = None

    def _respell(self, folded: str) -> str:
        return " ".join(self._spelling.get(word, word) for word in folded.split())

    def normalise(self, text: str) -> str:
        folded = self._respell(_fold(text))
        if self._pattern is not None:
            folded = self._pattern.sub(lambda m: self._expansions[m.group(0)], folded)
        return " ".join(folded.split())
