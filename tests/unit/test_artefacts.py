"""knowledge/artefacts.py: trained artefacts are built once from the content and used only for
exactly that content, wherever they were built (make's build folder, the image, the cache)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge import artefacts
from knowledge.artefacts import cached, content_key


class Recorder:
    """A stand-in artefact: text in a file; counts how often it had to be built."""

    def __init__(self) -> None:
        self.builds = 0

    def build(self, value: str):
        def run() -> str:
            self.builds += 1
            return value

        return run

    @staticmethod
    def load(path: Path) -> str:
        text = path.read_text(encoding="utf-8")
        if not text.startswith("model:"):
            raise ValueError("damaged")
        return text

    @staticmethod
    def save(value: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value, encoding="utf-8")


@pytest.fixture
def build_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "build"
    monkeypatch.setenv("BOT_ARTEFACT_DIRS", str(folder))
    return folder


def use(recorder: Recorder, key: str, value: str, cache_dir: Path | None) -> str:
    return cached(
        "probe", key, build=recorder.build(value), load=recorder.load, save=recorder.save, cache_dir=cache_dir
    )


def test_the_key_changes_with_any_part_of_what_was_learned_from() -> None:
    assert content_key(["a text"], ["label"]) == content_key(["a text"], ["label"])
    assert content_key(["a text"], ["label"]) != content_key(["a text."], ["label"])
    assert content_key(["a text"], ["label"]) != content_key(["a text"], ["other"])


def test_an_artefact_in_the_build_folder_is_used_without_building_or_caching(build_folder: Path, tmp_path: Path) -> None:
    key = content_key("content v1")
    Recorder.save("model: built by make", build_folder / f"probe-{key}.npz")
    recorder, cache = Recorder(), tmp_path / "cache"
    assert use(recorder, key, "model: trained", cache) == "model: built by make"
    assert recorder.builds == 0
    assert not cache.exists(), "nothing written to the cache"


def test_changed_content_is_built_afresh_and_cached_not_served_stale(build_folder: Path, tmp_path: Path) -> None:
    Recorder.save("model: v1", build_folder / f"probe-{content_key('content v1')}.npz")
    recorder, cache = Recorder(), tmp_path / "cache"
    assert use(recorder, content_key("content v2"), "model: v2", cache) == "model: v2"
    assert recorder.builds == 1
    again = Recorder()
    assert use(again, content_key("content v2"), "model: v2 again", cache) == "model: v2"
    assert again.builds == 0, "the second start loads what the first one built"


def test_a_damaged_build_file_is_not_fatal(build_folder: Path) -> None:
    key = content_key("content v1")
    Recorder.save("garbage", build_folder / f"probe-{key}.npz")
    recorder = Recorder()
    assert use(recorder, key, "model: trained", None) == "model: trained"
    assert recorder.builds == 1


def test_the_build_command_builds_what_start_up_loads_and_drops_what_it_no_longer_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "artefacts"
    out.mkdir()
    (out / "classifier-000000000000000000000000.npz").write_bytes(b"old content's model")
    built: list[str] = []

    def fake_load_knowledge(model_cache_dir=None):
        recorder = Recorder()
        built.append(use(recorder, content_key("today's content"), "model: today", model_cache_dir))

    monkeypatch.setattr("knowledge.loader.load_knowledge", fake_load_knowledge)
    monkeypatch.setenv("BOT_ARTEFACT_DIRS", str(tmp_path / "none"))
    assert artefacts.main(["build", "--out", str(out)]) == 0
    assert built == ["model: today"]
    names = sorted(os.listdir(out))
    today = content_key("today's content")
    assert names == [f"probe-{today}.npz"], "built into the build folder; the old model gone"


def test_a_slow_training_set_is_computed_only_when_the_model_must_be_trained(tmp_path: Path, build_folder: Path) -> None:
    """The emergency model's training set takes seconds to compute; keyed by its inputs, a start
    that finds the model built never computes it."""
    from knowledge.artefacts import files_key
    from knowledge.classifier import ClassifierSettings, classifier_made_from

    content = tmp_path / "content"
    content.mkdir()
    (content / "examples.yaml").write_text("- ceop report\n", encoding="utf-8")
    computed: list[int] = []

    def training_set():
        computed.append(1)
        return ["ceop report online", "iwf remove image", "ceop child exploitation", "iwf take down"], [
            "ceop", "iwf", "ceop", "iwf"
        ]

    small = ClassifierSettings(char_min_df=1, max_iter=200)
    first = classifier_made_from(files_key(content), training_set, small, build_folder)
    again = classifier_made_from(files_key(content), training_set, small, build_folder)
    assert computed == [1]
    assert again.probabilities("ceop report") == first.probabilities("ceop report")
    (content / "examples.yaml").write_text("- ceop report\n- iwf\n", encoding="utf-8")
    classifier_made_from(files_key(content), training_set, small, build_folder)
    assert computed == [1, 1], "changed content trains afresh"
