"""One way to read the content's YAML: ``safe_load``, as ``yaml.safe_load`` but on libyaml's C
parser when PyYAML was built with it (the PyPI wheels are). Same data, about 6x faster: start-up
reads some 25 content files, several twice, and the pure-Python parser was most of the start-up
time on a busy machine. Falls back to the pure-Python parser where libyaml is missing."""

from __future__ import annotations

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text):
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader
