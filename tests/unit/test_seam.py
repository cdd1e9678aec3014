"""knowledge/ never imports the Bot Framework SDK, so the domain can be tested and reused without it."""

from __future__ import annotations

import ast
from pathlib import Path

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
FORBIDDEN = ("botbuilder", "botframework", "bot", "dialogs")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _forbidden(module: str) -> bool:
    top = module.split(".")[0]
    return top in FORBIDDEN


def test_knowledge_has_modules_to_check() -> None:
    assert len(list(KNOWLEDGE.rglob("*.py"))) >= 4


def test_no_knowledge_module_imports_the_sdk_or_the_bot_layer() -> None:
    offenders = {
        str(path.relative_to(KNOWLEDGE)): sorted(m for m in _imported_modules(path) if _forbidden(m))
        for path in KNOWLEDGE.rglob("*.py")
    }
    assert {p: m for p, m in offenders.items() if m} == {}


def test_the_check_itself_spots_an_sdk_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom botbuilder.core import TurnContext\nimport bot.cards\n")
    assert sorted(m for m in _imported_modules(sample) if _forbidden(m)) == ["bot.cards", "botbuilder.core"]
