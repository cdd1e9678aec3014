"""Azurite and real bot processes for the storage tests.

Azurite (npm `azurite`, from the project's node_modules: `make test` runs `npm ci` first) runs on
127.0.0.1 on a free port for the whole session. Bot processes are `python app.py` with
BOT_STORAGE=blob pointing at it, each in its own container per test. Everything started here is
stopped at teardown, and every wait has a bound.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.storage.support import BotProcess
from tools.azurite import Azurite


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    service = Azurite(tmp_path_factory.mktemp("azurite")).start()
    yield service
    service.stop()


@pytest.fixture
def own_azurite(tmp_path):
    """An Azurite for one test that stops and starts it (outage tests); data kept on disk."""
    service = Azurite(tmp_path / "azurite").start()
    yield service
    service.stop()


@pytest.fixture
def container_name() -> str:
    return f"state-{uuid.uuid4().hex[:20]}"


@pytest.fixture
def start_bot(tmp_path):
    """start_bot(azurite, container, **env) -> a running BotProcess; all are killed at teardown."""
    started: list[BotProcess] = []

    def start(service: Azurite, container: str, **extra_env: str) -> BotProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "PYTHONDONTWRITEBYTECODE": "1",
            "BOT_STORAGE": "blob",
            "BOT_BLOB_CONNECTION_STRING": service.connection_string,
            "BOT_BLOB_CONTAINER": container,
            "BOT_LOG_LEVEL": "INFO",
            **extra_env,
        }
        bot = BotProcess(env, tmp_path / f"bot-{len(started)}.log")
        started.append(bot)
        return bot.start()

    yield start
    for bot in started:
        bot.kill()

