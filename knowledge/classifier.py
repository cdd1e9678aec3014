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

Speed: training takes a few seconds; ``trained_classifier`` keeps the fitted model on disk, named
by a hash of what it learned from, so a restart with the same content loads it instead. A prediction looks the message's n-grams up
directly in the fitted vocabularies and multiplies one small block of the weight matrix (about
0.1 ms), instead of building a sparse matrix per message (about 0.8 ms).

The text given to it is already normalised by the matcher (synonyms, spelling, typo repair,
stopwords dropped, suffixes folded), for training and prediction alike.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import sklearn
from scipy.sparse import hstack  # scikit-learn's own dependency
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from knowledge.artefacts import cached, content_key

#: The label of the class of messages the bot is not for.
OUT_OF_SCOPE = "(out of scope)"

#: Bump when the saved file's layout changes, so old cached models are not read.
MODEL_FORMAT = 2


@dataclass(frozen=True)
class ClassifierSettings:
    """Chosen by measurement. The n-gram ranges and C=30 were first tried in an early experiment
    that looked at the eval set. The cross-fitted comparison on the example batches
    (``run_eval --calibrate-blend --classifier-c C``) then chose C=100 over 30 and 10: utility
    1859 vs 1849, answered right 93.9% vs 93.2%, wrong 1.0% for both. Rechecked with twelve
    batches: C=30 answered 95.9% right, C=100 95.7% and C=300 95.3%, wrong 1.0% for all three; 100
    was kept, the difference from 30 being 7 messages of 3,366."""

    inverse_regularisation: float = 100.0  # LogisticRegression's C: higher fits the examples harder
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    char_min_df: int = 2  # a character n-gram must occur in two phrasings to count
    max_iter: int = 5000


class IntentClassifier:
    """Probabilities over the labels it was trained on (entry ids and, if trained, OUT_OF_SCOPE).

    Build one with ``IntentClassifier.train`` or ``trained_classifier`` (which keeps a copy on disk
    so the next process with the same content starts in milliseconds, not seconds).
    """

    def __init__(
        self,
        labels: Sequence[str],
        vocabularies: Sequence[Sequence[str]],
        idf: Sequence[np.ndarray],
        weights: np.ndarray,
        intercept: np.ndarray,
        settings: ClassifierSettings,
        converged: bool = True,
    ) -> None:
        """The fitted model: ``vocabularies[k][i]`` is feature ``i`` of block ``k`` (words, then
        characters); ``weights`` is (features x labels)."""
        self.settings = settings
        self.labels: tuple[str, ...] = tuple(labels)
        self.converged = converged
        self._analyzers = [vectorizer.build_analyzer() for vectorizer in _vectorizers(settings)]
        self._terms = [list(terms) for terms in vocabularies]
        self._vocabularies = [{term: i for i, term in enumerate(terms)} for terms in vocabularies]
        self._idf = [np.asarray(values, dtype=float) for values in idf]
        self._offsets = [0, len(self._terms[0])]
        self._weights = np.ascontiguousarray(weights, dtype=float)
        self._intercept = np.asarray(intercept, dtype=float)
        # a model read from disk is checked whole: a damaged one must fail here, at start-up,
        # not on a practitioner's message
        if self._weights.shape != (sum(len(t) for t in self._terms), len(self.labels)):
            raise ValueError("the weights do not fit the vocabularies and labels")
        if self._intercept.shape != (len(self.labels),) or any(
            len(values) != len(terms) for values, terms in zip(self._idf, self._terms)
        ):
            raise ValueError("the intercepts or idf weights do not fit the labels and vocabularies")
        if not (np.isfinite(self._weights).all() and np.isfinite(self._intercept).all()):
            raise ValueError("the model has weights that are not finite numbers")
        if not all(isinstance(label, str) and label for label in self.labels) or len(set(self.labels)) < 2:
            raise ValueError("the model's labels are not two or more distinct names")

    @classmethod
    def train(
        cls, texts: Sequence[str], labels: Sequence[str], settings: ClassifierSettings | None = None
    ) -> "IntentClassifier":
        if len(texts) != len(labels) or len(set(labels)) < 2:
            raise ValueError("the classifier needs one label per text, and at least two labels")
        s = settings or ClassifierSettings()
        vectorizers = _vectorizers(s)
        blocks = [v.fit_transform(texts) for v in vectorizers]
        model = LogisticRegression(C=s.inverse_regularisation, max_iter=s.max_iter)
        with warnings.catch_warnings():
            # a fit that stops at max_iter is still a usable model; ``converged`` says so
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(hstack(blocks).tocsr(), list(labels))
        weights, intercept = model.coef_.T, model.intercept_
        if len(model.classes_) == 2:
            # scikit-learn keeps one weight vector for two classes: spell out both for softmax
            weights = np.hstack([-weights, weights]) / 2
            intercept = np.array([-intercept[0], intercept[0]]) / 2
        vocabularies = [sorted(v.vocabulary_, key=v.vocabulary_.__getitem__) for v in vectorizers]
        return cls(
            [str(c) for c in model.classes_],
            vocabularies,
            [v.idf_ for v in vectorizers],
            weights,
            intercept,
            s,
            bool(np.all(model.n_iter_ < s.max_iter)),
        )

    def save(self, path: Path) -> None:
        """Write the fitted model as plain arrays (no pickle), atomically and durably: a reader
        never sees half a file, two processes saving the same model at once do no harm, and
        the file is readable by other users (a container builds it as root and runs as another
        user). A failed write leaves nothing behind."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False)
        try:
            with handle:
                np.savez(
                    handle,
                    labels=np.array(self.labels),
                    words=np.array(self._terms[0]),
                    chars=np.array(self._terms[1]),
                    idf_words=self._idf[0],
                    idf_chars=self._idf[1],
                    weights=self._weights,
                    intercept=self._intercept,
                    converged=np.array(self.converged),
                )
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(handle.name, 0o644)
            os.replace(handle.name, path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, settings: ClassifierSettings) -> "IntentClassifier":
        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["labels"].tolist(),
                [data["words"].tolist(), data["chars"].tolist()],
                [data["idf_words"], data["idf_chars"]],
                data["weights"],
                data["intercept"],
                settings,
                bool(data["converged"]),
            )

    def probabilities(self, text: str) -> dict[str, float]:
        """Each label's probability for an already-normalised text (they sum to 1)."""
        rows: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for analyzer, vocabulary, idf, offset in zip(
            self._analyzers, self._vocabularies, self._idf, self._offsets
        ):
            # count every n-gram at C speed, then keep the known ones (most are unknown)
            counts = Counter(analyzer(text))
            known = [gram for gram in counts if gram in vocabulary]
            if not known:
                continue
            indices = np.fromiter((vocabulary[gram] for gram in known), np.intp, len(known))
            weights = 1.0 + np.log(np.fromiter((counts[gram] for gram in known), float, len(known)))
            weights *= idf[indices]
            weights /= np.linalg.norm(weights)
            rows.append(indices + offset)
            values.append(weights)
        logits = self._intercept.copy()
        if rows:
            logits += np.concatenate(values) @ self._weights[np.concatenate(rows)]
        logits -= logits.max()
        exp = np.exp(logits)
        exp /= exp.sum()
        return dict(zip(self.labels, exp.tolist()))


def _vectorizers(s: ClassifierSettings) -> list[TfidfVectorizer]:
    return [
        TfidfVectorizer(ngram_range=s.word_ngrams, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=s.char_ngrams, sublinear_tf=True, min_df=s.char_min_df),
    ]


def trained_classifier(
    texts: Sequence[str],
    labels: Sequence[str],
    settings: ClassifierSettings | None = None,
    cache_dir: Path | None = None,
) -> IntentClassifier:
    """Train, or load the model trained on exactly this data before: from the build folder
    (``make`` and the Docker build fill it, see ``knowledge.artefacts``) or from ``cache_dir``.

    The file is named by a hash of the training texts, labels, settings and library version, so
    any change to the content trains afresh; an unreadable or foreign file is ignored and
    replaced. The cache holds only what was learned from the content files, never a message.
    Without a writable ``cache_dir`` (and no built model for this content) it simply trains.
    """
    s = settings or ClassifierSettings()
    key = content_key(list(texts), list(labels), asdict(s), sklearn.__version__, MODEL_FORMAT)
    return cached(
        "classifier",
        key,
        build=lambda: IntentClassifier.train(texts, labels, s),
        load=lambda path: IntentClassifier.load(path, s),
        save=lambda classifier, path: classifier.save(path),
        cache_dir=cache_dir,
    )


def classifier_made_from(
    inputs: str,
    training_set: Callable[[], tuple[Sequence[str], Sequence[str]]],
    settings: ClassifierSettings | None = None,
    cache_dir: Path | None = None,
) -> IntentClassifier:
    """As ``trained_classifier``, for a training set that is slow to compute: the model is keyed
    by ``inputs`` (a hash of what the training set is made from, e.g. ``artefacts.files_key`` of
    the content and the code that reads it), and ``training_set()`` runs only when it must train."""
    s = settings or ClassifierSettings()

    def build() -> IntentClassifier:
        texts, labels = training_set()
        return IntentClassifier.train(texts, labels, s)

    return cached(
        "classifier",
        content_key("inputs", inputs, asdict(s), sklearn.__version__, MODEL_FORMAT),
        build=build,
        load=lambda path: IntentClassifier.load(path, s),
        save=lambda classifier, path: classifier.save(path),
        cache_dir=cache_dir,
    )
