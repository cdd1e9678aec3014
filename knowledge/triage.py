"""Turn triage: the first look at every message, before any FAQ matching.

Why a separate step: some messages must change what the bot says first, whatever else they ask.
A child in immediate danger means the first reply says call 999; a child who has just disclosed
means the step-by-step guide; a wrong term ("child porn") earns a kind correction; a message that
seems to carry a child's identifying details earns a privacy reminder. Commands and short answers
("cancel", "yes", "2") are recognised here too, so every dialog reads them the same way.

The patterns are data (``content/triage.yaml``) so a safeguarding lead can review them; they are
validated with pydantic and compiled once, at load. ``triage()`` is a pure function of the text
and the rules: it returns flags only, never any part of the message (privacy: an identifying
detail is reported as a boolean, and nothing here logs).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, get_args

import yaml
from pydantic import Field, ValidationError, field_validator
from rapidfuzz.distance import OSA
from rapidfuzz.process import extract, extractOne

from knowledge.models import Review, Strict

if TYPE_CHECKING:  # the second layer imports scikit-learn; triage loads it only when asked
    from knowledge.emergency_model import EmergencyModel

DEFAULT_RULES_PATH = Path(__file__).parent / "content" / "triage.yaml"

# Longest text triaged (Teams allows about 28 KB a message): an alarm at the end of a long message
# is still found, and the work per message stays bounded. Every step is linear in the length
# (bench/bench_triage.py prints the cost per KB from 1 KB to 30 KB).
MAX_TRIAGE_CHARS = 30_000

Intent = Literal[
    "greeting",
    "thanks",
    "goodbye",
    "identity",  # "are you a real person?"
    "help",
    "topics",
    "referrals",
    "disclosure",  # a child has just disclosed: start the guide
    "disclosure_maybe",  # unclear: the bot asks
    "cancel",
    "restart",
    "back",
    "yes",
    "no",
    "not_sure",
]
INTENTS: tuple[str, ...] = get_args(Intent)

# Whole-message intents, in the order a tie is settled (a command beats an answer beats small talk).
_PHRASE_INTENTS = (
    "cancel", "restart", "back", "not_sure", "yes", "no", "help", "topics", "identity", "goodbye", "thanks", "greeting",
)

_WORD = "[a-z0-9]+"
_MACRO = re.compile(r"<([a-z_]+)>")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"[\u2018\u2019\u02bc\u0060\u00b4]")
_TRIPLE_LETTER = re.compile(r"([a-z])\1{2,}")
_SPACE = re.compile(" ")

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
_CHOICE_DIGITS = re.compile(
    r"^(?:(?:option|number|no\.?|nr\.?|num\.?|choice|answer|#)\s*)?#?\s*(\d{1,2})\s*(?:st|nd|rd|th)?\s*[.):]?\s*(?:please|pls)?\s*[.!]?$"
)
_CHOICE_WORDS = re.compile(
    r"^(?:the\s+)?(?:(?:option|number|choice|answer)\s+)?([a-z]+)(?:\s+(?:one|option|choice|answer))?(?:\s+please)?$"
)
_MAX_CHOICE = 20

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@((?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\d+])(?:\+\s?44|0044|0)[\d\s\-().]{7,16}\d(?!\d)")
_CAPITALISED = re.compile(r"\b[A-Z][a-z][A-Za-z'\-]*\b")
_AGE_AFTER = re.compile(r"\s*[,(]\s*(?:aged?\s*)?\d{1,2}\b")
_SENTENCE_ENDS = frozenset('.!?\n:;"(')


def _at_sentence_start(raw: str, position: int) -> bool:
    """Does ``position`` start a sentence (the text, or a line, or after . ! ? : ; " or ( and any
    spaces)? Looks back only over the spaces before it: linear over a whole message, where
    searching the text before every capitalised word was quadratic (4 s for 30 KB)."""
    i = position
    while i > 0 and raw[i - 1].isspace():
        if raw[i - 1] == "\n":
            return True
        i -= 1
    if i == 0:
        return position == 0  # the very start of the text (not after leading spaces, as before)
    return raw[i - 1] in _SENTENCE_ENDS


# --------------------------------------------------------------------------------------------
# The file, as validated data


class _YamlLoader(yaml.SafeLoader):
    """PyYAML (YAML 1.1) reads ``yes``/``no``/``on`` as booleans; here they stay words.

    The triage file lists exactly those words ("yes", "no", "n"), and a reviewer should not have
    to remember to quote them.
    """


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _NormaliseSpec(Strict):
    words: dict[str, str]
    typo_keywords: tuple[str, ...]
    typo_exceptions: tuple[str, ...]


class _CriterionSpec(Strict):
    """One group of alarm phrases and the verified criterion it serves (see triage.yaml)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    criterion: str = Field(min_length=10)
    source: str = Field(min_length=3)
    status: Literal["verified", "unconfirmed"]
    needs_harm: bool = False
    weak: tuple[str, ...] = ()
    strong: tuple[str, ...] = ()


class _EmergencySpec(Strict):
    window_words: int = Field(ge=1, le=60)
    immediacy_strong: tuple[str, ...]
    immediacy_weak: tuple[str, ...]
    harm: tuple[str, ...]
    criteria: tuple[_CriterionSpec, ...] = Field(min_length=1)
    ignore_immediacy_in: tuple[str, ...]
    negations: tuple[str, ...]
    general_question: tuple[str, ...]
    past: tuple[str, ...]

    @field_validator("criteria")
    @classmethod
    def _distinct_criteria(cls, value: tuple[_CriterionSpec, ...]) -> tuple[_CriterionSpec, ...]:
        ids = [c.id for c in value]
        if len(ids) != len(set(ids)):
            raise ValueError(f"criterion ids must be distinct: {ids}")
        empty = [c.id for c in value if not (c.weak or c.strong)]
        if empty:
            raise ValueError(f"criteria without any phrase: {empty}")
        return value


class _WrongTermSpec(Strict):
    canonical: str
    patterns: tuple[str, ...] = Field(min_length=1)


class _CpSpec(Strict):
    tokens: tuple[str, ...] = Field(min_length=1)
    window_words: int = Field(ge=1, le=12)
    material: tuple[str, ...]
    protection: tuple[str, ...]
    protection_before: tuple[str, ...]


class _FuzzySpec(Strict):
    max_words: int = Field(ge=1, le=6)
    never: tuple[str, ...]


class _IntentSpec(Strict):
    fillers: tuple[str, ...]
    phrases: dict[str, tuple[str, ...]]
    answer_patterns: dict[str, tuple[str, ...]]
    help_patterns: tuple[str, ...]
    topics_patterns: tuple[str, ...]
    fuzzy: _FuzzySpec

    @field_validator("phrases")
    @classmethod
    def _known_phrase_intents(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = set(value) - set(_PHRASE_INTENTS)
        missing = set(_PHRASE_INTENTS) - set(value)
        if unknown or missing:
            raise ValueError(f"phrases must list exactly {sorted(_PHRASE_INTENTS)}; unknown {sorted(unknown)}, missing {sorted(missing)}")
        return value

    @field_validator("answer_patterns")
    @classmethod
    def _known_answer_intents(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = set(value) - set(_PHRASE_INTENTS)
        if unknown:
            raise ValueError(f"answer_patterns names unknown intents {sorted(unknown)}")
        return value


class _DisclosureSpec(Strict):
    hypothetical: tuple[str, ...]
    general: tuple[str, ...]
    definite: tuple[str, ...] = Field(min_length=1)
    long_ago: tuple[str, ...]
    maybe: tuple[str, ...] = Field(min_length=1)


class _ReferralSpec(Strict):
    patterns: tuple[str, ...] = Field(min_length=1)
    topic_words: tuple[str, ...]
    specific_services: tuple[str, ...]


class _PhonePrefixes(Strict):
    personal: tuple[str, ...]
    service: tuple[str, ...]


class _IdentifyingSpec(Strict):
    date: tuple[str, ...]
    dob: tuple[str, ...]
    name_marker: tuple[str, ...]
    known_names: tuple[str, ...]
    not_names: tuple[str, ...]
    function_words: tuple[str, ...]
    age: tuple[str, ...]
    postcode: tuple[str, ...]
    street: tuple[str, ...]
    account: tuple[str, ...]
    phone_prefixes: _PhonePrefixes
    service_context: tuple[str, ...]
    staff_context: tuple[str, ...]
    role_mailboxes: tuple[str, ...]
    personal_context: tuple[str, ...]
    service_email_domains: tuple[str, ...]


class TriageFile(Strict):
    """The schema of ``content/triage.yaml``."""

    version: Literal[1]
    review: Review
    normalise: _NormaliseSpec
    vocabulary: dict[str, tuple[str, ...]]
    emergency: _EmergencySpec
    wrong_terms: tuple[_WrongTermSpec, ...] = Field(min_length=1)
    cp: _CpSpec
    intents: _IntentSpec
    disclosure: _DisclosureSpec
    referrals: _ReferralSpec
    identifying: _IdentifyingSpec

    @field_validator("vocabulary")
    @classmethod
    def _vocabulary_names(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if "w" in value:
            raise ValueError("vocabulary may not redefine <w> (any one word)")
        return value


# --------------------------------------------------------------------------------------------
# Compiled rules


@dataclass(frozen=True)
class _Words:
    """A compiled alternation of whole-word patterns over normalised text.

    One alternation is about twice as fast as searching pattern by pattern (measured on the eval
    messages): each word is tried once against all patterns.
    """

    regex: re.Pattern[str] | None

    def search(self, text: str) -> re.Match[str] | None:
        return self.regex.search(text) if self.regex is not None else None

    def finditer(self, text: str):
        return self.regex.finditer(text) if self.regex is not None else iter(())


def _expand(pattern: str, vocabulary: dict[str, tuple[str, ...]], depth: int = 0) -> str:
    if depth > 5:
        raise ValueError(f"vocabulary refers to itself too deeply in {pattern!r}")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "w":
            return _WORD
        if name not in vocabulary:
            raise ValueError(f"unknown vocabulary <{name}> in pattern {pattern!r}")
        return "(?:" + "|".join(_expand(p, vocabulary, depth + 1) for p in vocabulary[name]) + ")"

    return _MACRO.sub(replace, pattern)


_SHARED_PREFIX = re.compile(r"^(<[a-z_]+>(?:\( <w>\)\{\d+,\d+\})? )(.+)$")


def _has_top_level_alternation(pattern: str) -> bool:
    """True for "a b|c" (an alternative outside any group), which a shared prefix would change."""
    depth = 0
    in_class = False
    escaped = False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


def _factor_prefixes(patterns: tuple[str, ...] | list[str]) -> list[str]:
    """Merge patterns that start alike ("<child_subject>( <w>){0,4} ...") into one alternation.

    Same matches, far less work: otherwise the regex engine retries the shared, costly start of
    each pattern at every word of the message.
    """
    groups: dict[str, list[str]] = {}
    merged: list[str] = []
    for pattern in patterns:
        match = _SHARED_PREFIX.match(str(pattern))
        if match and not _has_top_level_alternation(match.group(2)):
            if match.group(1) not in groups:
                groups[match.group(1)] = []
                merged.append(match.group(1))
            groups[match.group(1)].append(match.group(2))
        else:
            merged.append(str(pattern))
    return [
        f"{item}(?:{'|'.join(f'(?:{tail})' for tail in groups[item])})" if item in groups else item
        for item in merged
    ]


def _words(patterns: tuple[str, ...] | list[str], vocabulary: dict[str, tuple[str, ...]]) -> _Words:
    if not patterns:
        return _Words(regex=None)
    for pattern in patterns:  # name the broken pattern, not just the list it is in
        try:
            re.compile(_expand(str(pattern), vocabulary))
        except re.error as exc:
            raise ValueError(f"the pattern {pattern!r} does not compile: {exc}") from exc
    body = "|".join(f"(?:{_expand(p, vocabulary)})" for p in _factor_prefixes(patterns))
    return _Words(regex=re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])"))


def _raw(patterns: tuple[str, ...], *, ignore_case: bool = True) -> re.Pattern[str] | None:
    if not patterns:
        return None
    flags = re.IGNORECASE if ignore_case else 0
    for pattern in patterns:
        try:
            re.compile(pattern, flags)
        except re.error as exc:
            raise ValueError(f"the pattern {pattern!r} does not compile: {exc}") from exc
    return re.compile("|".join(f"(?:{p})" for p in patterns), flags)


@dataclass(frozen=True)
class _Criterion:
    id: str
    weak: _Words
    strong: _Words
    needs_harm: bool


@dataclass(frozen=True)
class _EmergencyRules:
    window_words: int
    immediacy_strong: _Words
    immediacy_weak: _Words
    harm: _Words
    # every criterion's phrases in four alternations (one pass each), and each group on its own
    # (only to say which criterion fired, for a reviewer or the eval)
    weak: _Words
    strong: _Words
    weak_with_harm: _Words
    strong_with_harm: _Words
    criteria: tuple[_Criterion, ...]
    ignore_immediacy_in: _Words
    negations: _Words
    general_question: _Words
    past: _Words


@dataclass(frozen=True)
class _CpRules:
    token: _Words
    window_words: int
    material: _Words
    protection_after: re.Pattern[str]
    protection_before: re.Pattern[str]


@dataclass(frozen=True)
class _IntentRules:
    fillers: re.Pattern[str] | None
    phrases: dict[str, str]  # normalised phrase -> intent
    fuzzy_phrases: tuple[tuple[str, str], ...]
    fuzzy_choices: tuple[str, ...]
    answer_patterns: dict[str, _Words]
    help_patterns: _Words
    topics_patterns: _Words
    fuzzy_max_words: int
    fuzzy_never: frozenset[str]
    greeting_prefix: re.Pattern[str] | None


@dataclass(frozen=True)
class _DisclosureRules:
    hypothetical: _Words
    general: _Words
    definite: _Words
    long_ago: _Words
    maybe: _Words


@dataclass(frozen=True)
class _IdentifyingRules:
    date: re.Pattern[str] | None
    dob: re.Pattern[str] | None
    name_marker: re.Pattern[str] | None
    known_names: re.Pattern[str] | None
    not_names: frozenset[str]
    function_words: frozenset[str]
    age: re.Pattern[str] | None
    postcode: re.Pattern[str] | None
    street: re.Pattern[str] | None
    account: re.Pattern[str] | None
    personal_prefixes: tuple[str, ...]
    service_prefixes: tuple[str, ...]
    service_context: re.Pattern[str] | None
    staff_context: re.Pattern[str] | None
    role_mailboxes: frozenset[str]
    personal_context: re.Pattern[str] | None
    service_email_domains: tuple[str, ...]


@dataclass(frozen=True)
class _Typos:
    keywords: tuple[str, ...]
    keyword_set: frozenset[str]
    exceptions: frozenset[str]
    min_length: int = 6


@dataclass(frozen=True, repr=False)
class TriageRules:
    """Everything ``triage()`` needs, compiled once from ``content/triage.yaml``."""

    def __repr__(self) -> str:  # the compiled patterns are long; a test failure should stay readable
        return f"TriageRules(review_by={self.review.review_by})"

    review: Review
    words: dict[str, str]
    typos: _Typos
    emergency: _EmergencyRules
    wrong_terms: tuple[tuple[str, _Words], ...]
    cp: _CpRules
    intents: _IntentRules
    disclosure: _DisclosureRules
    referrals: _Words
    referral_topic: _Words
    specific_services: _Words
    identifying: _IdentifyingRules
    #: the second, recall-oriented layer (``knowledge.emergency_model``); None: the rules alone
    model: "EmergencyModel | None" = None

    def with_model(self, model: "EmergencyModel | None") -> "TriageRules":
        return replace(self, model=model)


def _build_rules(spec: TriageFile) -> TriageRules:
    vocab = {name: tuple(values) for name, values in spec.vocabulary.items()}
    words = {_fold(k): _fold(v) for k, v in spec.normalise.words.items()}

    def norm(phrase: str) -> str:
        return normalise_text(phrase, words)

    e = spec.emergency
    emergency = _EmergencyRules(
        window_words=e.window_words,
        immediacy_strong=_words(e.immediacy_strong, vocab),
        immediacy_weak=_words(e.immediacy_weak, vocab),
        harm=_words(e.harm, vocab),
        weak=_words([p for c in e.criteria if not c.needs_harm for p in c.weak], vocab),
        strong=_words([p for c in e.criteria if not c.needs_harm for p in c.strong], vocab),
        weak_with_harm=_words([p for c in e.criteria if c.needs_harm for p in c.weak], vocab),
        strong_with_harm=_words([p for c in e.criteria if c.needs_harm for p in c.strong], vocab),
        criteria=tuple(
            _Criterion(c.id, _words(c.weak, vocab), _words(c.strong, vocab), c.needs_harm) for c in e.criteria
        ),
        ignore_immediacy_in=_words(e.ignore_immediacy_in, vocab),
        negations=_words(e.negations, vocab),
        general_question=_words(e.general_question, vocab),
        past=_words(e.past, vocab),
    )
    wrong_terms = tuple(
        sorted(
            ((term.canonical, _words(term.patterns, vocab)) for term in spec.wrong_terms),
            key=lambda item: -len(item[0]),
        )
    )
    c = spec.cp
    protection = "|".join(f"(?:{_expand(p, vocab)})" for p in c.protection)
    before = "|".join(f"(?:{_expand(p, vocab)})" for p in c.protection_before)
    cp = _CpRules(
        token=_words(c.tokens, vocab),
        window_words=c.window_words,
        material=_words(c.material, vocab),
        protection_after=re.compile(rf"^ ?(?:{protection})(?![a-z0-9])"),
        protection_before=re.compile(rf"(?<![a-z0-9])(?:{before}) ?$"),
    )

    i = spec.intents
    phrases: dict[str, str] = {}
    for intent in _PHRASE_INTENTS:
        for phrase in i.phrases[intent]:
            key = norm(str(phrase))
            phrases.setdefault(key, intent)
    fuzzy_phrases = tuple((k, v) for k, v in phrases.items() if len(k.replace(" ", "")) >= 3)
    fillers = sorted({norm(f) for f in i.fillers if norm(f)}, key=len, reverse=True)
    filler_alt = "|".join(re.escape(f) for f in fillers)
    greetings = sorted(
        {k for k, v in phrases.items() if v in ("greeting", "thanks", "goodbye") and k}, key=len, reverse=True
    )
    intents = _IntentRules(
        fillers=re.compile(rf"^(?:(?:{filler_alt}) )+|(?: (?:{filler_alt}))+$") if fillers else None,
        phrases=phrases,
        fuzzy_phrases=fuzzy_phrases,
        fuzzy_choices=tuple(k for k, _ in fuzzy_phrases),
        answer_patterns={k: _words(v, vocab) for k, v in i.answer_patterns.items()},
        help_patterns=_words(i.help_patterns, vocab),
        topics_patterns=_words(i.topics_patterns, vocab),
        fuzzy_max_words=i.fuzzy.max_words,
        fuzzy_never=frozenset(norm(w) for w in i.fuzzy.never),
        greeting_prefix=(
            re.compile(r"^(?:" + "|".join(re.escape(g) for g in greetings) + r")(?: (?:" + "|".join(re.escape(g) for g in greetings) + r"))* (?=\S)")
            if greetings
            else None
        ),
    )
    d = spec.disclosure
    disclosure = _DisclosureRules(
        hypothetical=_words(d.hypothetical, vocab),
        general=_words(d.general, vocab),
        definite=_words(d.definite, vocab),
        long_ago=_words(d.long_ago, vocab),
        maybe=_words(d.maybe, vocab),
    )
    ident = spec.identifying
    identifying = _IdentifyingRules(
        date=_raw(ident.date),
        dob=_raw(ident.dob),
        name_marker=_raw(ident.name_marker),
        known_names=_raw(tuple(rf"\b{re.escape(n)}\b" for n in ident.known_names)),
        not_names=frozenset(ident.not_names) | frozenset(ident.function_words),
        function_words=frozenset(ident.function_words),
        age=_raw(ident.age),
        postcode=_raw(ident.postcode),
        street=_raw(ident.street),
        account=_raw(ident.account),
        personal_prefixes=tuple(sorted(ident.phone_prefixes.personal, key=len, reverse=True)),
        service_prefixes=tuple(sorted(ident.phone_prefixes.service, key=len, reverse=True)),
        service_context=_raw(ident.service_context),
        staff_context=_raw(ident.staff_context),
        role_mailboxes=frozenset(m.lower() for m in ident.role_mailboxes),
        personal_context=_raw(ident.personal_context),
        service_email_domains=tuple(d.lower().lstrip(".") for d in ident.service_email_domains),
    )
    return TriageRules(
        review=spec.review,
        words=words,
        typos=_Typos(
            keywords=tuple(_fold(k) for k in spec.normalise.typo_keywords),
            keyword_set=frozenset(_fold(k) for k in spec.normalise.typo_keywords),
            exceptions=frozenset(_fold(k) for k in spec.normalise.typo_exceptions),
        ),
        emergency=emergency,
        wrong_terms=wrong_terms,
        cp=cp,
        intents=intents,
        disclosure=disclosure,
        referrals=_words(spec.referrals.patterns, vocab),
        referral_topic=_words(spec.referrals.topic_words, vocab),
        specific_services=_words([norm(s) for s in spec.referrals.specific_services], vocab),
        identifying=identifying,
    )


class TriageRulesError(ValueError):
    """The triage file is missing or invalid: the bot must not start without its safety net."""


def load_triage_rules(path: Path | None = None) -> TriageRules:
    """Read, validate and compile the triage rules (once, at start-up)."""
    source = path or DEFAULT_RULES_PATH
    try:
        data = yaml.load(source.read_text(encoding="utf-8"), Loader=_YamlLoader)  # noqa: S506 (safe loader subclass)
    except (OSError, yaml.YAMLError) as exc:
        raise TriageRulesError(f"cannot read triage rules from {source}: {exc}") from exc
    try:
        spec = TriageFile.model_validate(data)
    except ValidationError as exc:
        raise TriageRulesError(f"invalid triage rules in {source}:\n{exc}") from exc
    try:
        return _build_rules(spec)
    except (ValueError, re.error) as exc:  # a pattern that does not compile, an unknown <vocabulary> word
        raise TriageRulesError(f"invalid triage rules in {source}: {exc}") from exc


def load_triage(
    path: Path | None = None, *, cache_dir: Path | None = None, second_layer: bool = True
) -> TriageRules:
    """The rules and, unless ``second_layer`` is false, the second emergency layer
    (``knowledge.emergency_model``) trained from the content beside ``path``; ``cache_dir`` keeps
    its fitted model between starts. What the bot uses; ``load_triage_rules`` is the rules alone."""
    rules = load_triage_rules(path)
    if not second_layer:
        return rules
    from knowledge.emergency_model import train_emergency_model  # scikit-learn, only when asked

    try:
        model = train_emergency_model(
            lambda text: rules_alarm(text, rules),
            lambda text: read_as_rules(text, rules),
            lambda normal: signal_reader(normal, rules),
            content_dir=(path or DEFAULT_RULES_PATH).parent,
            cache_dir=cache_dir,
        )
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise TriageRulesError(f"cannot train the second emergency layer: {exc}") from exc
    return rules.with_model(model)


def read_as_rules(text: str, rules: TriageRules) -> str:
    """A message as the rules read it (normalised, typos in keywords repaired)."""
    return _correct_typos(normalise_text(unicodedata.normalize("NFKC", text)[:MAX_TRIAGE_CHARS], rules.words), rules.typos)


# --------------------------------------------------------------------------------------------
# Normalisation


def _fold(text: str) -> str:
    """Lower case, accents and apostrophes folded, punctuation to single spaces."""
    text = unicodedata.normalize("NFKD", str(text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("'", text)
    text = text.replace("&", " and ").replace("'", "")
    return " ".join(_NON_WORD.sub(" ", text).split())


_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "cannot"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"\bain't\b"), "is not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\b(he|she|it|that|there|what|who|where|here|how|when|this)'s\b"), r"\1 is"),
    (re.compile(r"\blet's\b"), "let us"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"\b(i|you|he|she|we|they)'d\b"), r"\1 would"),
)


def normalise_text(text: str, words: dict[str, str], *, collapse_to: int = 2) -> str:
    """The form every pattern is matched against (see the header of ``triage.yaml``).

    Repeated letters are shortened to ``collapse_to`` ("heeelp" -> "heelp" or "help"); digits are
    left alone, so "999" and "0800 1111" survive.
    """
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = _APOSTROPHES.sub("'", text)
    if "'" in text:
        for pattern, replacement in _CONTRACTIONS:
            text = pattern.sub(replacement, text)
    text = text.replace("&", " and ").replace("'", "")
    text = _TRIPLE_LETTER.sub(r"\1" if collapse_to == 1 else r"\1\1", text)
    tokens = _NON_WORD.sub(" ", text).split()
    return " ".join(words.get(token, token) for token in tokens)


# --------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class Triage:
    """What the bot must do with a message before (or instead of) answering it from the FAQ."""

    emergency: bool
    wrong_terms: tuple[str, ...]
    intent: Intent | None
    identifying_details: bool
    choice_number: int | None
    #: which layer raised the alarm: "rules", "model", both, or () (flags only, never text)
    emergency_by: tuple[str, ...] = ()


_NOTHING = Triage(emergency=False, wrong_terms=(), intent=None, identifying_details=False, choice_number=None)


def triage(text: str, rules: TriageRules) -> Triage:
    """Triage one message. Never raises on odd input: anything that is not text is "nothing"."""
    if not isinstance(text, str):
        return _NOTHING
    raw = unicodedata.normalize("NFKC", text)[:MAX_TRIAGE_CHARS]
    normal = _correct_typos(normalise_text(raw, rules.words), rules.typos)
    if not normal and not raw.strip():
        return _NOTHING
    variants = [normal]
    if _TRIPLE_LETTER.search(raw.casefold()):  # "heeelp": also try "help"
        variants.append(_correct_typos(normalise_text(raw, rules.words, collapse_to=1), rules.typos))

    by: list[str] = []
    signals = [_signals(v, rules.emergency) for v in variants if v]
    readings = [s.reading() for s in signals]
    if any(r.alarm for r in readings):
        by.append("rules")
    # The second layer raises the alarm too, except on a general question the rules see no strong
    # sign of danger in ("is sextortion an emergency?", "what counts as immediate danger"): those
    # get a real answer (a strong sign, "he is hurting her right now, what do I do", never waits).
    asked = bool(readings) and all(r.question and not (r.strong or r.now_strong) for r in readings)
    if rules.model is not None and not asked and signals and rules.model.alarm_of(normal, _reader(normal, signals[0])):
        by.append("model")
    return Triage(
        emergency=bool(by),
        emergency_by=tuple(by),
        wrong_terms=_wrong_terms(normal, rules),
        intent=_intent(variants, rules),
        identifying_details=_has_identifying_details(raw, rules.identifying),
        choice_number=_choice_number(raw),
    )


# --------------------------------------------------------------------------------------------
# Emergency


def _correct_typos(text: str, typos: _Typos) -> str:
    """Fix one slip (a swap, a missing or extra letter) in a long keyword ("sucidal", "disclsoure").

    Only words of six letters or more are corrected, and never the real words listed as
    exceptions, so "kissing" does not become "missing".
    """
    out = []
    changed = False
    for token in text.split(" "):
        if len(token) >= typos.min_length and token not in typos.keyword_set and token not in typos.exceptions:
            found = extractOne(token, typos.keywords, scorer=OSA.distance, score_cutoff=1)
            if found is not None:
                token = found[0]
                changed = True
        out.append(token)
    return " ".join(out) if changed else text


_NEGATED_BEFORE = re.compile(r"(?:^|\s)(?:not|never|no longer|hardly|barely)\s*$")


class _Spans:
    """Non-overlapping spans (as ``finditer`` gives them, in order), asked about in O(log n).

    With ``unless_negated``, a span right after "not"/"never" does not count: "does not feel safe
    at home" holds the negation "feel safe at home", and is the opposite of it.
    """

    def __init__(self, words: _Words, text: str, *, unless_negated: bool = False) -> None:
        spans = [m.span() for m in words.finditer(text)]
        if unless_negated:
            spans = [(a, b) for a, b in spans if not _NEGATED_BEFORE.search(text, max(0, a - 12), a)]
        self.starts = [a for a, _ in spans]
        self.ends = [b for _, b in spans]

    def contains(self, start: int, end: int) -> bool:
        """Does one span hold all of [start, end)?"""
        i = bisect_right(self.starts, start) - 1
        return i >= 0 and self.ends[i] >= end

    def cancels(self, start: int, end: int) -> bool:
        """Does a span overlap [start, end) from outside it? (A span inside the phrase, like
        "feel safe" inside "does not feel safe", is part of what the phrase says.)"""
        i = bisect_right(self.ends, start)
        while i < len(self.starts) and self.starts[i] < end:
            if self.starts[i] < start or self.ends[i] > end:
                return True
            i += 1
        return False


def _near(first: list[int], second: list[int], distance: int) -> bool:
    """Is some item of ``first`` within ``distance`` of some item of sorted ``second``?"""
    if not first or not second:
        return False
    for a in first:
        i = bisect_left(second, a - distance)
        if i < len(second) and second[i] <= a + distance:
            return True
    return False


@dataclass(frozen=True)
class _Reading:
    """What the rules see in a message (kinds of signal, never its words)."""

    strong_phrase: bool  # a criterion's strong phrase
    strong_with_harm: bool  # a needs_harm criterion's strong phrase, with harm in the message
    harm: bool
    now_strong: bool  # a strong sign of "now" that is not in an ignored phrase or a negation
    now_with_harm: bool  # a strong sign of "now" near harm, or two strong signs close together
    weak_phrase: bool  # a criterion's weak phrase that no negation cancels
    weak_now_with_harm: bool  # a weak sign of "now" near harm
    question: bool
    past: bool
    negation: bool

    @property
    def strong(self) -> bool:
        """A signal no question or past tense suppresses."""
        return self.strong_phrase or self.strong_with_harm or self.now_with_harm

    @property
    def alarm(self) -> bool:
        if self.strong:
            return True
        if not (self.weak_phrase or self.weak_now_with_harm):
            return False
        return not (self.question or self.past)


@dataclass(frozen=True)
class _Signals:
    """Where each kind of signal is in a message (word indices, in order), from one pass of each
    pattern list; ``reading(lo, hi)`` reads the words lo..hi-1 from them (the second layer reads a
    long message in windows without running the patterns again)."""

    window: int
    strong_phrase: list[int]
    strong_with_harm: list[int]
    harm: list[int]
    now_strong: list[int]
    now_weak: list[int]
    weak_phrase: list[int]
    weak_with_harm: list[int]
    question: list[int]
    past: list[int]
    negation: list[int]

    def reading(self, lo: int = 0, hi: int = 1 << 60) -> _Reading:
        def part(items: list[int]) -> list[int]:
            return items[bisect_left(items, lo) : bisect_left(items, hi)]

        harm = part(self.harm)
        strong = part(self.now_strong)
        w = self.window
        return _Reading(
            strong_phrase=bool(part(self.strong_phrase)),
            strong_with_harm=bool(harm) and bool(part(self.strong_with_harm)),
            harm=bool(harm),
            now_strong=bool(strong),
            # Two separate signs of "now" ("she is with him right now", "he is outside school
            # waiting for her") are an alarm even when no harm word is typed.
            now_with_harm=_near(strong, harm, 2 * w) or any(0 < b - a <= w for a, b in zip(strong, strong[1:])),
            weak_phrase=bool(part(self.weak_phrase)) or (bool(harm) and bool(part(self.weak_with_harm))),
            weak_now_with_harm=bool(harm) and _near(part(self.now_weak), harm, w),
            question=bool(part(self.question)),
            past=bool(part(self.past)),
            negation=bool(part(self.negation)),
        )


def _signals(normal: str, rules: _EmergencyRules) -> _Signals:
    """The rules' signals (see the head of the ``emergency`` section of triage.yaml).

    Linear in the message: every pattern list is one pass of one regex, word positions come from
    one list of the spaces, and "near" is a binary search, never a pair of nested loops.
    """
    text = normal
    negated = _Spans(rules.negations, text, unless_negated=True)
    ignored = _Spans(rules.ignore_immediacy_in, text)
    spaces = [m.start() for m in _SPACE.finditer(text)]

    def index(position: int) -> int:
        return bisect_left(spaces, position)  # the word's index in the message

    def positions(words: _Words, skip: _Spans | None = None) -> list[int]:
        found = []
        for match in words.finditer(text):
            start, end = match.span()
            if negated.contains(start, end) or (skip is not None and skip.contains(start, end)):
                continue
            found.append(index(start))
        return found

    def phrases(words: _Words, *, cancellable: bool) -> list[int]:
        return [index(m.start()) for m in words.finditer(text) if not (cancellable and negated.cancels(*m.span()))]

    return _Signals(
        window=rules.window_words,
        strong_phrase=phrases(rules.strong, cancellable=False),
        strong_with_harm=phrases(rules.strong_with_harm, cancellable=False),
        harm=positions(rules.harm),
        now_strong=positions(rules.immediacy_strong, ignored),
        now_weak=positions(rules.immediacy_weak, ignored),
        weak_phrase=phrases(rules.weak, cancellable=True),
        weak_with_harm=phrases(rules.weak_with_harm, cancellable=True),
        question=phrases(rules.general_question, cancellable=False),
        past=phrases(rules.past, cancellable=False),
        negation=[index(a) for a in negated.starts],
    )


def _is_emergency(normal: str, rules: _EmergencyRules) -> bool:
    return bool(normal) and _signals(normal, rules).reading().alarm


def emergency_criteria(text: str, rules: TriageRules) -> tuple[str, ...]:
    """The criterion groups whose phrases are in the message (ids only), for a reviewer or the
    eval: which verified criterion a message was matched to. Not used to decide the alarm."""
    if not isinstance(text, str):
        return ()
    normal = _correct_typos(normalise_text(unicodedata.normalize("NFKC", text)[:MAX_TRIAGE_CHARS], rules.words), rules.typos)
    return tuple(c.id for c in rules.emergency.criteria if c.weak.search(normal) or c.strong.search(normal))


_QUESTION_START = re.compile(r"^(?:what|how|when|why|who|where|which|is|are|can|could|should|would|do|does|if|at what)\b")


def _markers(reading: _Reading) -> list[str]:
    found = [f"zz{name.replace('_', '')}" for name, value in vars(reading).items() if value]
    if reading.alarm:
        found.append("zzalarm")
    return found


def signal_reader(normal: str, rules: TriageRules) -> Callable[[int, int], list[str]]:
    """The rules' reading of words lo..hi-1 of a normalised text, as marker words for the second
    layer: which kinds of signal are there (harm, signs of "now", a criterion phrase no negation
    cancels, a general question, the past), not which phrasing. They let the classifier learn
    the criteria's shape ("harm with now, not a question") from examples, and carry it to
    wording the rules lack. The patterns run once, however many windows are read."""
    if not normal:
        return lambda lo, hi: []
    return _reader(normal, _signals(normal, rules.emergency))


def _reader(normal: str, signals: _Signals) -> Callable[[int, int], list[str]]:
    asks = _QUESTION_START.match(normal) is not None

    def read(lo: int, hi: int) -> list[str]:
        found = _markers(signals.reading(lo, hi))
        if asks and lo == 0:
            found.append("zzasks")
        return found

    return read


def signal_words(normal: str, rules: TriageRules) -> list[str]:
    """``signal_reader`` for the whole text."""
    return signal_reader(normal, rules)(0, 1 << 60)


def rules_alarm(text: str, rules: TriageRules) -> bool:
    """The rules' alarm alone (the first layer), as ``triage`` reads it."""
    return "rules" in triage(text, rules.with_model(None)).emergency_by


# --------------------------------------------------------------------------------------------
# Wrong terms


def _wrong_term_spans(normal: str, rules: TriageRules) -> list[tuple[int, int, str]]:
    """Where the wrong terms are in the normalised text, in order: (start, end, canonical)."""
    found: list[tuple[int, int, str]] = []
    for canonical, words in rules.wrong_terms:
        for match in words.finditer(normal):
            start, end = match.span()
            if any(s < end and start < e for s, e, _ in found):
                continue
            found.append((start, end, canonical))
    cp = rules.cp
    for match in cp.token.finditer(normal):
        if _cp_means_material(normal, match.start(), match.end(), cp):
            found.append((match.start(), match.end(), "cp"))
            break
    return sorted(found)


def _wrong_terms(normal: str, rules: TriageRules) -> tuple[str, ...]:
    ordered: list[str] = []
    for _, _, canonical in _wrong_term_spans(normal, rules):
        if canonical not in ordered:
            ordered.append(canonical)
    return tuple(ordered)


RIGHT_TERM = "indecent images of children"


def with_right_terms(text: str, rules: TriageRules) -> str:
    """The message (normalised) with each wrong term replaced by the right one, so "found child
    porn on a laptop" can be matched to the advice about indecent images of children."""
    if not isinstance(text, str):
        return ""
    normal = _correct_typos(normalise_text(unicodedata.normalize("NFKC", text)[:MAX_TRIAGE_CHARS], rules.words), rules.typos)
    for start, end, _ in reversed(_wrong_term_spans(normal, rules)):
        normal = f"{normal[:start]}{RIGHT_TERM}{normal[end:]}"
    return normal


def _cp_means_material(text: str, start: int, end: int, cp: _CpRules) -> bool:
    """"CP" is child protection unless images/material are being talked about close by."""
    after = text[end:]
    before = text[:start]
    if cp.protection_after.match(after) or cp.protection_before.search(before):
        return False
    before_words = before.split()[-cp.window_words :]
    after_words = after.split()[: cp.window_words]
    nearby = " ".join(before_words + ["_"] + after_words)
    return cp.material.search(nearby) is not None


# --------------------------------------------------------------------------------------------
# Intent


def _strip_fillers(normal: str, rules: _IntentRules) -> str:
    if rules.fillers is None:
        return normal
    previous = None
    text = normal
    while previous != text:
        previous = text
        text = rules.fillers.sub("", text).strip()
    return text or normal


def _fuzzy_phrase(text: str, rules: _IntentRules) -> str | None:
    """Tolerate a slip in a short typed command ("cancle", "strat again", "hlep").

    Short words are only forgiven a swap of two letters, longer ones one edit, very long phrases
    two; real words that merely look like a command ("cancer", "step") are never corrected.
    """
    if not text or len(text.split()) > rules.fuzzy_max_words:
        return None
    if text in rules.fuzzy_never:
        return None
    tokens = text.split()
    best: tuple[int, int, str] | None = None
    for phrase, distance, order in extract(text, rules.fuzzy_choices, scorer=OSA.distance, score_cutoff=2, limit=None):
        length = max(len(text), len(phrase))
        allowed = 0 if length <= 2 else 1 if length <= 9 else 2
        if distance > allowed:
            continue
        if any(token in rules.fuzzy_never and token not in phrase.split() for token in tokens):
            continue  # the "typo" is a real word: "step back" is not "stop back"
        if length <= 4 and sorted(text) != sorted(phrase):
            continue  # a short word: only a swap of two letters is a typo
        if best is None or (distance, order) < best[:2]:
            best = (distance, order, rules.fuzzy_phrases[order][1])
    return best[2] if best else None


def _whole_message_intent(text: str, rules: _IntentRules) -> str | None:
    if not text:
        return None
    stripped = _strip_fillers(text, rules)
    for candidate in (text, stripped):
        if candidate in rules.phrases:
            return rules.phrases[candidate]
    for intent, words in rules.answer_patterns.items():
        match = words.regex.fullmatch(stripped) if words.regex is not None else None
        if match:
            return intent
    return _fuzzy_phrase(stripped, rules)


def _intent(variants: list[str], rules: TriageRules) -> str | None:
    normal = variants[0]
    intents = rules.intents
    for variant in variants:
        found = _whole_message_intent(variant, intents)
        if found:
            return found
    # "hi, a child just told me ..." / "thanks, who do I ring?": the greeting is not the point.
    rest = normal
    if intents.greeting_prefix is not None:
        rest = intents.greeting_prefix.sub("", normal).strip() or normal
        if rest != normal:
            found = _whole_message_intent(rest, intents)
            if found in ("cancel", "restart", "back", "help", "topics"):
                return found

    disclosure = _disclosure(rest, rules)
    if disclosure:
        return disclosure
    if intents.help_patterns.search(rest):
        return "help"
    if intents.topics_patterns.search(rest):
        return "topics"
    if _is_referral_ask(rest, rules):
        return "referrals"
    return None


def _is_referral_ask(text: str, rules: TriageRules) -> bool:
    """The general "who do I ring / contacts / out of hours" ask, not a named service's number."""
    matches = list(rules.referrals.finditer(text))
    if not matches or rules.specific_services.search(text):
        return False
    said_nothing_more = len(text[matches[-1].end() :].split()) <= 2
    return said_nothing_more or rules.referral_topic.search(text) is not None


def _disclosure(text: str, rules: TriageRules) -> str | None:
    d = rules.disclosure
    if d.hypothetical.search(text):
        return None
    if d.definite.search(text):
        return "disclosure_maybe" if d.long_ago.search(text) else "disclosure"
    if d.general.search(text):
        return None
    if d.maybe.search(text):
        return "disclosure_maybe"
    return None


# --------------------------------------------------------------------------------------------
# Choice number


def _choice_number(raw: str) -> int | None:
    text = raw.strip().lower()
    if not text or len(text) > 24:
        return None
    match = _CHOICE_DIGITS.match(text)
    number: int | None = None
    if match:
        number = int(match.group(1))
    else:
        words = _CHOICE_WORDS.match(" ".join(_NON_WORD.sub(" ", text).split()))
        if words and words.group(1) in _NUMBER_WORDS:
            number = _NUMBER_WORDS[words.group(1)]
    if number is None or not 1 <= number <= _MAX_CHOICE:
        return None
    return number


# --------------------------------------------------------------------------------------------
# Identifying details (reported as a boolean only)


def _has_identifying_details(raw: str, rules: _IdentifyingRules) -> bool:
    if raw.islower() and "@" not in raw and not any(ch.isdigit() for ch in raw) and rules.account is not None:
        # No digit, no capital, no "@": only an account name said as such could be here.
        return rules.account.search(raw) is not None
    if rules.dob is not None and rules.dob.search(raw):
        return True
    if rules.postcode is not None and rules.postcode.search(raw):
        return True
    if rules.street is not None and rules.street.search(raw):
        return True
    if rules.account is not None and rules.account.search(raw):
        return True
    if _has_personal_email(raw, rules) or _has_personal_phone(raw, rules):
        return True
    if _names(raw, rules)[1]:
        return True
    has_date = rules.date is not None and rules.date.search(raw) is not None
    has_age = rules.age is not None and rules.age.search(raw) is not None
    if not (has_date or has_age):
        return False
    return _has_name(raw, rules)


def _names(raw: str, rules: _IdentifyingRules) -> tuple[bool, bool]:
    """(a possible first name, a possible full name), from capital letters.

    A capitalised word that is not a known non-name counts as a possible name, unless it starts a
    sentence; two such words side by side ("Ruby Williams") count as a full name anywhere. A
    message typed In Title Case tells nothing, so it is not read this way.
    """
    if rules.known_names is not None:  # "Marie Collins Foundation" is not a person
        raw = rules.known_names.sub(lambda m: "the" + " " * (len(m.group(0)) - 3), raw)
    matches = list(_CAPITALISED.finditer(raw))
    capitalised_function_words = sum(
        1 for m in matches if m.group(0) in rules.function_words and not _at_sentence_start(raw, m.start())
    )
    if capitalised_function_words >= 2:
        return False, False
    single = False
    previous_end = -10
    previous_start = 0
    previous_was_name = False
    for match in matches:
        word = match.group(0)
        bare = word[:-2] if word.endswith("'s") else word
        is_candidate = word not in rules.not_names and bare not in rules.not_names
        at_start = _at_sentence_start(raw, match.start())
        adjacent = match.start() == previous_end + 1 and raw[previous_end] == " "
        if is_candidate and adjacent and previous_was_name and not _named_as_staff(raw, previous_start, rules):
            return True, True
        if is_candidate and (not at_start or _AGE_AFTER.match(raw, match.end())):
            single = True  # "... told Priya", or a sentence opening "Emily (12) ..."
        if is_candidate and not (adjacent and previous_was_name):
            previous_start = match.start()
        previous_was_name = is_candidate
        previous_end = match.end()
    return single, False


def _named_as_staff(raw: str, name_start: int, rules: _IdentifyingRules) -> bool:
    """"my colleague Sarah Jones", "Sarah Jones (DSL)": an adult at work, not a child."""
    if rules.staff_context is None:
        return False
    around = raw[max(0, name_start - 30) : name_start + 60]
    return rules.staff_context.search(around) is not None


def _has_name(raw: str, rules: _IdentifyingRules) -> bool:
    if rules.name_marker is not None and rules.name_marker.search(raw):
        return True
    return _names(raw, rules)[0]


def _has_personal_email(raw: str, rules: _IdentifyingRules) -> bool:
    for match in _EMAIL.finditer(raw):
        domain = match.group(1).lower()
        mailbox = match.group(0).split("@", 1)[0].lower()
        if mailbox in rules.role_mailboxes:
            continue
        if not any(domain == d or domain.endswith("." + d) for d in rules.service_email_domains):
            return True
    return False


def _has_personal_phone(raw: str, rules: _IdentifyingRules) -> bool:
    for match in _PHONE.finditer(raw):
        digits = re.sub(r"\D", "", match.group(0))
        if digits.startswith("0044"):
            digits = "0" + digits[4:]
        elif digits.startswith("44"):
            digits = "0" + digits[2:]
        if digits.startswith("00"):
            digits = digits[1:]
        if len(digits) not in (10, 11) or not digits.startswith("0"):
            continue
        if any(digits.startswith(p) for p in rules.service_prefixes):
            continue
        if not any(digits.startswith(p) for p in rules.personal_prefixes):
            continue
        window = raw[max(0, match.start() - 60) : match.end() + 60]
        personal = rules.personal_context is not None and rules.personal_context.search(window)
        service = rules.service_context is not None and rules.service_context.search(window)
        if service and not personal:
            continue
        return True
    return False
