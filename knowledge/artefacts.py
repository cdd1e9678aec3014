"""Trained artefacts (the FAQ classifier, the emergency classifier, anything else learned or
computed from the content) built once and pinned by a hash of what they were built from.

Why: training the FAQ classifier takes about 12 s on an idle 2-core machine and over a minute on
a busy one. Nothing that slow belongs on the start path. So every artefact is named
``<kind>-<hash>.<ext>``, where the hash covers exactly what it was built from (training texts,
labels, settings, library version, file format), and is looked up, in order, in:

1. the *build* folders: ``build/artefacts/`` in the repository (``make run``, ``make test`` and
   ``make artefacts`` fill it with ``python -m knowledge.artefacts``; the Docker build fills
   ``/app/build/artefacts`` in the image), plus any folders in ``BOT_ARTEFACT_DIRS``
   (``os.pathsep``-separated). These are read only at start.
2. the writable cache folder the caller passes (``BOT_MODEL_CACHE_DIR``).

A file is used only if its name matches the hash of the content being loaded *now*, and it loads
whole (a damaged or foreign file is ignored). Otherwise the artefact is built, as before, and saved
into the cache folder, so a changed FAQ still works, it just pays the training time once.

Any module can use it: call ``cached(kind, key, build=..., load=..., save=...)``. The build command
simply loads everything the bot loads at start with the build folder as the place to save, so a
new artefact needs no registration here.

The files hold only what was learned from the content files, never a message.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[1]
#: Where ``make`` (and the Docker build) put the artefacts built from the content.
BUILD_DIR = REPO / "build" / "artefacts"
EXTENSION = ".npz"

#: While ``python -m knowledge.artefacts build`` runs: the folder it saves into, and what it used.
_building: Path | None = None
_used: dict[str, str] = {}
#: Where each artefact loaded in this process came from ("build", "cache" or "built now").
sources: dict[str, str] = {}


def content_key(*parts: Any) -> str:
    """A short, stable hash of everything an artefact is built from (JSON-serialisable parts)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def files_key(*paths: Path) -> str:
    """A hash of files' contents (folders: every file in them, recursively), for an artefact
    whose inputs are cheaper to hash than to compute: what it is made from, not what it made."""
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def build_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("BOT_ARTEFACT_DIRS", "").split(os.pathsep) if p.strip()]
    return [*extra, BUILD_DIR]


def cached(
    kind: str,
    key: str,
    *,
    build: Callable[[], T],
    load: Callable[[Path], T],
    save: Callable[[T, Path], None],
    cache_dir: Path | None = None,
) -> T:
    """The artefact ``kind`` built from the content hashed as ``key``: loaded from a build folder
    or the cache if one holds it, else built (and saved into the cache, or the build folder
    while building)."""
    name = f"{kind}-{key}{EXTENSION}"
    places = [("build", d) for d in build_dirs()] + ([("cache", cache_dir)] if cache_dir else [])
    if _building is not None:
        places.insert(0, ("build", _building))
    for source, folder in places:
        path = folder / name
        if not path.is_file():
            continue
        try:
            value = load(path)
        except Exception:  # noqa: BLE001 - truncated, foreign or damaged: try the next, or build
            continue
        sources[name] = source
        if _building is not None:
            _used[name] = source
            if folder != _building:
                _copy(path, _building / name)
        return value
    value = build()
    sources[name] = "built now"
    target = _building if _building is not None else cache_dir
    if target is not None:
        try:
            save(value, target / name)
            if _building is not None:
                _used[name] = "built now"
            else:
                _prune(target, kind, keep=target / name)
        except OSError:
            pass  # a read-only disk costs start-up time, nothing else
    return value


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(source.read_bytes())
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)


#: Cached artefacts for other content are removed once this old (each is tens of MB; one still in
#: use by another process is younger, or is simply built again).
STALE_AFTER_SECONDS = 24 * 60 * 60


def _prune(cache_dir: Path, kind: str, keep: Path) -> None:
    cutoff = time.time() - STALE_AFTER_SECONDS
    for old in cache_dir.glob(f"{kind}-*{EXTENSION}"):
        if old != keep and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def build_all(out: Path = BUILD_DIR) -> dict[str, str]:
    """Load everything the bot loads at start, saving each artefact into ``out``; remove the
    artefacts there that the current content no longer uses. Returns {file: how it was had}."""
    global _building
    from knowledge.loader import load_knowledge  # here: the loader imports the classifier, which imports us

    out.mkdir(parents=True, exist_ok=True)
    _building = out
    _used.clear()
    try:
        load_knowledge(model_cache_dir=None)
    finally:
        _building = None
    for old in out.glob(f"*{EXTENSION}"):
        if old.name not in _used:
            old.unlink(missing_ok=True)
    return dict(_used)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the trained artefacts from knowledge/content.")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help=f"default {BUILD_DIR.relative_to(REPO)}")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    # as ``python -m knowledge.artefacts`` this file is ``__main__``: build through the module
    # the classifiers import, so they see the folder being built
    from knowledge import artefacts

    try:
        built = artefacts.build_all(args.out)
    except Exception as error:  # noqa: BLE001 - the build says what is wrong and stops
        print(f"Cannot build the artefacts: {error}", file=sys.stderr)
        return 2
    for name, how in sorted(built.items()):
        print(f"  {name}: {'trained from the content' if how == 'built now' else 'up to date'}")
    print(f"Artefacts in {args.out} ({time.perf_counter() - started:.1f} s).", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
