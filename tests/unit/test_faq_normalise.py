"""The normaliser puts a message and an FAQ phrasing into the same form."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from knowledge.faq import Synonyms
from knowledge.normalise import Normaliser

SYNONYMS = Synonyms(
    abbreviations={"DSL": "designated safeguarding lead", "YP": "young person", "CP": "child pornography"},
    spelling={"behavior": "behaviour", "organization": "organisation"},
    phrases={"child porn": "child pornography", "nude pic": "nude image", "behavior change": "change in behaviour"},
)


def normalise(text: str) -> str:
    return Normaliser(SYNONYMS).normalise(text)


def test_case_punctuation_and_whitespace_are_folded() -> None:
    assert normalise("  What's   CEOP?!  ") == "whats ceop"
    assert normalise("Child’s   phone — again...") == "childs phone again"
    assert normalise("pics & videos") == "pics and videos"


def test_american_spelling_becomes_british() -> None:
    assert normalise("Sexualized BEHAVIOR") == "sexualized behaviour"  # unmapped words are left alone
    assert normalise("the organization") == "the organisation"


def test_abbreviations_expand_as_whole_words_only() -> None:
    assert normalise("tell the DSL") == "tell the designated safeguarding lead"
    assert normalise("a YP said") == "a young person said"
    assert normalise("my dslr camera") == "my dslr camera"
    assert normalise("DSL.") == "designated safeguarding lead"


def test_phrases_expand_and_expansions_are_not_expanded_again() -> None:
    assert normalise("is child porn ok to say") == "is child pornography ok to say"
    # "child porn" -> "child pornography" must not then match "child porn" inside it
    assert normalise("child porn") == "child pornography"
    assert normalise("sent a nude pic") == "sent a nude image"


def test_phrase_keys_match_after_respelling() -> None:
    assert normalise("sudden behavior change") == "sudden change in behaviour"


def test_longest_key_wins() -> None:
    normaliser = Normaliser(Synonyms(abbreviations={"cp": "X"}, phrases={"cp images": "child abuse images"}))
    assert normaliser.normalise("cp images") == "child abuse images"


def test_no_synonyms_still_normalises() -> None:
    assert Normaliser(Synonyms()).normalise("Hello, World") == "hello world"


@given(st.text())
def test_any_text_normalises_to_lowercase_words(text: str) -> None:
    result = normalise(text)
    assert result == result.strip()
    assert "  " not in result
    assert set(result) <= set("abcdefghijklmnopqrstuvwxyz0123456789 ")
    assert normalise(result) == result
