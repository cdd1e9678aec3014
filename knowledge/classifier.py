"""A small trained classifier beside the lexical matcher: which entry a message is about, or none.

Why it exists: the lexical scores in ``matcher.py`` measure how much of a message an entry's
phrasings explain. A long, story-like message ("on call tonight, a residential worker asked
whether she should take the young person's phone and go through the messages...") is mostly
context, so every entry explains little of it and the right one scores low. A classifier learns
instead which words and word-pieces tell the entries apart, and ignores the rest.

What it is: multinomial logistic regression (scikit-learn) over TF-IDF word 1-2 grams and
character 2-5 grams, trained at start-up on every entry's phrasings and its answer, plus one more
class, ``OUT_OF_SCOPE``, trained on messages the bot is not for (``out_of_scope.yaml``: payroll, IT,
trips, adult HR matters, small talk). That class is how it learns to say "none of these".

Speed: training takes about 2 s, once per process. A prediction looks the message's n-grams up
directly in the fitted vocabularies and multiplies one small block of the weight matrix (about
0.1 ms), instead of building a sparse matrix per message (about 0.8 ms).

The text given to it is already normalised by the matcher (synonyms, spelling, typo repair,
stopwords dropped, suffixes folded), for training and prediction alike.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

#: The label of the class of messages the bot is not for.
OUT_OF_SCOPE = "(out of scope)"


@dataclass(frozen=True)
class ClassifierSettings:
    """Chosen by measurement on the dev sets (tests/eval/dev_questions_*.yaml), never the eval set."""

    inverse_regularisation: float = 30.0  # LogisticRegression's C: higher fits the phrasings harder
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    char_min_df: int = 2  # a character n-gram must occur in two phrasings to count
    max_iter: int = 5000


class IntentClassifier:
    """Probabilities over the labels it was trained on (entry ids and, if trained, OUT_OF_SCOPE)."""

    def __init__(
        self, texts: Sequence[str], labels: Sequence[str], settings: ClassifierSettings | None = None
    ) -> None:
        if len(texts) != len(labels) or not texts:
            raise ValueError("the classifier needs one label per text, and at least one text")
        self.settings = s = settings or ClassifierSettings()
        vectorizers = [
            TfidfVectorizer(ngram_range=s.word_ngrams, sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=s.char_ngrams, sublinear_tf=True, min_df=s.char_min_df),
        ]
        blocks = [v.fit_transform(texts) for v in vectorizers]
        from scipy.sparse import hstack  # scikit-learn's own dependency

        model = LogisticRegression(C=s.inverse_regularisation, max_iter=s.max_iter)
        with warnings.catch_warnings():
            # a fit that stops at max_iter is still a usable model; the content check reports it
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(hstack(blocks).tocsr(), list(labels))
        self.converged = bool(np.all(model.n_iter_ < s.max_iter))
        self.labels: tuple[str, ...] = tuple(str(c) for c in model.classes_)
        self._analyzers = [v.build_analyzer() for v in vectorizers]
        self._vocabularies = [v.vocabulary_ for v in vectorizers]
        self._idf = [v.idf_ for v in vectorizers]
        self._offsets = [0, len(self._vocabularies[0])]
        # (features x labels), contiguous so one message's rows are a cheap gather
        self._weights = np.ascontiguousarray(model.coef_.T)
        self._intercept = model.intercept_.copy()
        if len(self.labels) == 2:
            # scikit-learn keeps one weight vector for two classes: spell out both for softmax
            self._weights = np.ascontiguousarray(np.hstack([-self._weights, self._weights]) / 2)
            self._intercept = np.array([-self._intercept[0], self._intercept[0]]) / 2

    def probabilities(self, text: str) -> dict[str, float]:
        """Each label's probability for an already-normalised text (they sum to 1)."""
        rows: list[int] = []
        values: list[np.ndarray] = []
        for analyzer, vocabulary, idf, offset in zip(
            self._analyzers, self._vocabularies, self._idf, self._offsets
        ):
            counts = Counter(gram for gram in analyzer(text) if gram in vocabulary)
            if not counts:
                continue
            indices = [vocabulary[gram] for gram in counts]
            weights = np.fromiter((1.0 + math.log(n) for n in counts.values()), float, len(counts))
            weights *= idf[indices]
            weights /= np.linalg.norm(weights)
            rows.extend(i + offset for i in indices)
            values.append(weights)
        logits = self._intercept.copy()
        if rows:
            logits += np.concatenate(values) @ self._weights[rows]
        logits -= logits.max()
        exp = np.exp(logits)
        exp /= exp.sum()
        return dict(zip(self.labels, exp.tolist()))
