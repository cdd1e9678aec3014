"""Helpers for the storage tests: what a container really holds, and a bot as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
from azure.storage.blob.aio import BlobServiceClient

from tools.azurite import free_port

ROOT = Path(__file__).resolve().parents[2]
REQUEST_TIMEOUT_SECONDS = 20
START_TIMEOUT_SECONDS = 30


async def blob_texts(connection_string: str, container: str) -> dict[str, str]:
    """Every blob in the container, by name, as text: what the store really holds."""
    async with BlobServiceClient.from_connection_string(connection_string) as service:
        client = service.get_container_client(container)
        texts: dict[str, str] = {}
        async for blob in client.list_blobs():
            downloader = await client.get_blob_client(blob.name).download_blob()
            texts[blob.name] = (await downloader.readall()).decode("utf-8")
        return texts


class BotProcess:
    """`python app.py` as a deployment runs it, with its own port and log file."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.env = {**env, "BOT_PORT": str(self.port)}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "BotProcess":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "app.py"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bot exited with {self.process.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bot did not answer /healthz within {START_TIMEOUT_SECONDS} s")

    def kill(self) -> None:
        """kill -9: no clean-up, no flush, exactly as a crashed host."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_records(self) -> list[dict]:
        records = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records

    async def post(self, body: dict) -> dict:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(f"{self.url}/api/messages", json=body) as response:
                assert response.status == 200, await response.text()
                return await response.json()

    async def readyz(self) -> int:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(f"{self.url}/readyz") as response:
                return response.status
