"""Match a practitioner's message to an FAQ entry, or say honestly that there is no good match.

Every entry is scored over its question and alternates (normalised once, at construction). A
phrasing's score blends three measurements, each in 0..1:

- ``token_set``: rapidfuzz ``token_set_ratio`` over the content words (stopwords removed, light
  suffix folding), robust to word order and to extra words on either side;
- ``wratio``: rapidfuzz ``WRatio`` over the whole normalised text, which catches typos and
  fragments that the word-level measures miss;
- ``terms``: IDF-weighted word overlap, how much of the message's *meaning-bearing* words the
  phrasing accounts for (and vice versa). Rare words ("ceop", "verbatim") count for much more
  than common ones ("child", "what"), and words the FAQ never uses count against a match, which
  is what keeps "payroll deadline" from borrowing a score from one shared word.

An entry's score is its best phrasing's score. The outcome then follows ``Thresholds``: answer
only when the best score is high AND clearly ahead of the next entry; offer "did you mean" when
it is plausible; otherwise say "I don't know". A confident wrong answer is the worst outcome, so
the thresholds were chosen to keep it rare (see ``Thresholds``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from knowledge.faq import Faq
from knowledge.normalise import Normaliser

Outcome = Literal["answer", "suggest", "unknown"]

#: Function words that carry no topic. Question words ("what", "how", "who") are kept: IDF already
#: makes them cheap, and "what is CEOP" vs "how do I report to CEOP" are different entries.
STOPWORDS: frozenset[str] = frozenset(
    """
    a an the and or but if of to in on at by for from with about into onto over under as than
    then so is are was were be been being am do does did doing done have has had having
    i me my mine we us our you your yours he him his she her hers they them their it its this
    that these those there here im ive id youre theyre its thats theres
    can could would should shall will may might must
    just really very quite also too any some please pls plz thanks thank hi hello hey
    get got getting go going let lets like ok okay um uh
    """.split()
)

_SUFFIXES = ("ing", "ion", "ure", "ed")


def fold_suffix(word: str) -> str:
    """Light, deterministic suffix folding so "grooming"/"groomed"/"groom" and "disclose"/
    "disclosure"/"disclosed" meet. Not a real stemmer: it only needs to be consistent, because
    the same function runs over the FAQ and the message."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def content_terms(normalised: str) -> list[str]:
    return [fold_suffix(w) for w in normalised.split() if w not in STOPWORDS]


@dataclass(frozen=True)
class Weights:
    """How the three measurements are blended (they sum to 1). Chosen by measurement: see
    ``Thresholds`` and ``tests/eval/run_eval.py --calibrate``."""

    token_set: float = 0.25
    wratio: float = 0.15
    terms: float = 0.60


@dataclass(frozen=True)
class Thresholds:
    """When to answer, suggest or abstain, on the 0-100 blended score.

    Calibrated with ``python -m tests.eval.run_eval --calibrate``: every alternate in faq.yaml is
    held out in turn (removed from its entry, then matched as unseen text), and a dev set of
    out-of-scope messages (tests/eval/dev_out_of_scope.yaml, written apart from the eval set)
    supplies the negatives. The values minimise confidently-wrong answers first, then maximise
    correct answers; questions.yaml is never used to choose them.
    """

    answer: float = 62.0  # below this, never answer outright
    margin: float = 6.0  # best must lead the next entry by this much to answer
    suggest: float = 42.0  # below this, "I don't know"
    suggestion_window: float = 20.0  # suggestions are within this of the best
    typo_cutoff: float = 85.0  # an unknown word is read as a FAQ word this similar (rapidfuzz ratio)
    unknown_word_weight: float = 1.0  # an unknown word weighs this share of the rarest FAQ word


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    outcome: Outcome
    best: Candidate | None
    suggestions: tuple[Candidate, ...] = ()


_UNKNOWN = MatchResult(outcome="unknown", best=None, suggestions=())


class FaqMatcher:
    """Scores a message against every FAQ entry; the FAQ's phrasings are prepared once here."""

    def __init__(
        self, faq: Faq, thresholds: Thresholds | None = None, weights: Weights | None = None
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.weights = weights or Weights()
        self.normaliser = Normaliser(faq.synonyms)
        self._entry_ids: list[str] = [e.id for e in faq.entries]

        self._choice_entry: list[int] = []
        self._choice_phrasing: list[tuple[str, str]] = []
        self._choice_text: list[str] = []
        self._choice_content: list[str] = []
        self._choice_terms: list[frozenset[str]] = []
        for index, entry in enumerate(faq.entries):
            for phrasing in entry.phrasings:
                text = self.normaliser.normalise(phrasing)
                terms = content_terms(text)
                self._choice_entry.append(index)
                self._choice_phrasing.append((entry.id, phrasing))
                self._choice_text.append(text)
                self._choice_content.append(" ".join(terms))
                self._choice_terms.append(frozenset(terms))
        self._exact: dict[str, int] = {}
        for choice, text in enumerate(self._choice_text):
            self._exact.setdefault(text, self._choice_entry[choice])

        # IDF over entries (an entry's phrasings are one document): a word used by every entry
        # says nothing about which entry is meant.
        entry_terms: list[set[str]] = [set() for _ in self._entry_ids]
        for choice, terms in enumerate(self._choice_terms):
            entry_terms[self._choice_entry[choice]].update(terms)
        doc_freq: dict[str, int] = defaultdict(int)
        for terms in entry_terms:
            for term in terms:
                doc_freq[term] += 1
        n = len(self._entry_ids)
        self._idf: dict[str, float] = {t: math.log((n + 1) / df) for t, df in doc_freq.items()}
        self._unknown_idf = math.log(n + 1) * self.thresholds.unknown_word_weight
        self._vocabulary: list[str] = sorted(doc_freq)
        self._choices_with: dict[str, list[int]] = defaultdict(list)
        for choice, terms in enumerate(self._choice_terms):
            for term in terms:
                self._choices_with[term].append(choice)
        self._choice_weight: list[float] = [
            sum(self._idf[t] for t in terms) for terms in self._choice_terms
        ]

    @property
    def entry_ids(self) -> tuple[str, ...]:
        return tuple(self._entry_ids)

    def _read_terms(self, normalised: str) -> list[str]:
        """Content words, with a word the FAQ never uses read as the closest FAQ word (typos)."""
        terms: list[str] = []
        for term in content_terms(normalised):
            if term not in self._idf and len(term) >= 4:
                found = process.extractOne(
                    term,
                    self._vocabulary,
                    scorer=fuzz.ratio,
                    score_cutoff=self.thresholds.typo_cutoff,
                )
                if found is not None:
                    term = found[0]
            terms.append(term)
        return list(dict.fromkeys(terms))

    def scores(self, text: str, *, holding_out: tuple[str, str] | None = None) -> list[Candidate]:
        """Every entry with a score (0-100), best first. Empty when the message has no words.

        ``holding_out=(entry_id, phrasing)`` scores as if that phrasing were not in the FAQ, so
        the content check and the calibration can treat each alternate as unseen text.
        """
        skip = {c for c, p in enumerate(self._choice_phrasing) if p == holding_out}
        normalised = self.normaliser.normalise(text)
        if not normalised:
            return []
        terms = self._read_terms(normalised)
        w = self.weights

        query_weight = sum(self._idf.get(t, self._unknown_idf) for t in terms)
        shared: dict[int, float] = defaultdict(float)
        for term in terms:
            idf = self._idf.get(term)
            if idf is None:
                continue
            for choice in self._choices_with[term]:
                shared[choice] += idf

        content = " ".join(terms)
        token_set = [0.0] * len(self._choice_text)
        if content:
            for _, score, choice in process.extract(
                content, self._choice_content, scorer=fuzz.token_set_ratio, limit=None
            ):
                token_set[choice] = score / 100.0
        wratio = [0.0] * len(self._choice_text)
        for _, score, choice in process.extract(
            normalised, self._choice_text, scorer=fuzz.WRatio, limit=None
        ):
            wratio[choice] = score / 100.0

        best = [0.0] * len(self._entry_ids)
        for choice, entry in enumerate(self._choice_entry):
            if choice in skip:
                continue
            overlap = shared.get(choice, 0.0)
            if query_weight > 0 and self._choice_weight[choice] > 0:
                # harmonic mean of "the message is explained" and "the phrasing is covered"
                recall = overlap / query_weight
                precision = overlap / self._choice_weight[choice]
                term_score = 0.0 if overlap == 0 else 2 * recall * precision / (recall + precision)
            else:
                term_score = 0.0
            score = w.token_set * token_set[choice] + w.wratio * wratio[choice] + w.terms * term_score
            if terms and overlap == 0:
                score = min(score, w.wratio * wratio[choice])  # no shared meaning-bearing word
            if score > best[entry]:
                best[entry] = score

        if skip:
            exact = next(
                (self._choice_entry[c] for c, t in enumerate(self._choice_text)
                 if t == normalised and c not in skip),
                None,
            )
        else:
            exact = self._exact.get(normalised)
        if exact is not None:
            best[exact] = 1.0
        ranked = sorted(range(len(best)), key=lambda i: best[i], reverse=True)
        return [Candidate(self._entry_ids[i], round(best[i] * 100, 2)) for i in ranked]

    def match(self, text: str) -> MatchResult:
        ranked = self.scores(text)
        if not ranked:
            return _UNKNOWN
        return self.decide(ranked)

    def decide(self, ranked: list[Candidate]) -> MatchResult:
        """Apply the thresholds to a ranked list (split out so calibration can reuse the scores)."""
        t = self.thresholds
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score < t.suggest:
            return MatchResult(outcome="unknown", best=top, suggestions=())
        window = [c for c in ranked[:3] if c.score >= max(t.suggest, top.score - t.suggestion_window)]
        if top.score >= 100.0 or (top.score >= t.answer and top.score - runner_up >= t.margin):
            return MatchResult(outcome="answer", best=top, suggestions=tuple(window[1:]))
        return MatchResult(outcome="suggest", best=top, suggestions=tuple(window))
