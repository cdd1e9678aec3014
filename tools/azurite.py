"""Azurite, the Azure Storage emulator, for the storage tests and for trying blob state locally.

It runs the blob service from the project's own node_modules (npm `azurite`, pinned in
package.json; `make node_modules` installs it) on 127.0.0.1 only, with the flags botbuilder-azure
needs: `--loose` (without it BlobStorage's writes fail after ~90 s of retries on headers Azurite
does not support), `--skipApiVersionCheck` (azure-storage-blob may be newer than Azurite), and
`--disableTelemetry` (a test run makes no call outside the machine).

    python tools/azurite.py            # foreground; prints the BOT_BLOB_CONNECTION_STRING to use
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AZURITE_BLOB = ROOT / "node_modules" / ".bin" / "azurite-blob"
# Azurite's fixed development account: public, documented, and accepted by the emulator only.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class AzuriteError(RuntimeError):
    pass


class Azurite:
    """One Azurite blob service. Data lives in ``location`` (on disk), so a stop and a start on the
    same port keep it: that is how the tests take storage away mid-conversation and bring it back."""

    def __init__(self, location: Path, port: int | None = None):
        self.location = Path(location)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = self.location / "azurite.log"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{DEV_ACCOUNT};"
        )

    def start(self, timeout_seconds: float = 30) -> "Azurite":
        if not AZURITE_BLOB.exists():
            raise AzuriteError(f"{AZURITE_BLOB} is missing: run `npm ci` (or `make node_modules`) first")
        self.location.mkdir(parents=True, exist_ok=True)
        command = [
            str(AZURITE_BLOB),
            "--blobHost", "127.0.0.1",
            "--blobPort", str(self.port),
            "--location", str(self.location),
            "--loose",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AzuriteError(f"azurite exited with {self.process.returncode}; see {self.log_path}")
            if port_open(self.port):
                return self
            time.sleep(0.1)
        self.stop()
        raise AzuriteError(f"azurite did not listen on 127.0.0.1:{self.port} within {timeout_seconds} s")

    def stop(self, timeout_seconds: float = 10) -> None:
        """Stop gracefully (Azurite saves its metadata on SIGTERM), then force."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        self._signal(process, signal.SIGCONT)
        self._signal(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            self._signal(process, signal.SIGKILL)
            process.wait(timeout=timeout_seconds)

    def freeze(self) -> None:
        """Hang the service (SIGSTOP): connections are accepted by the kernel but never answered."""
        if self.process is not None:
            self._signal(self.process, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self._signal(self.process, signal.SIGCONT)

    @staticmethod
    def _signal(process: subprocess.Popen, signum: int) -> None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass

    def __enter__(self) -> "Azurite":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def main() -> int:
    location = Path(tempfile.mkdtemp(prefix="azurite-"))
    port = int(os.environ.get("AZURITE_PORT", "10000"))
    azurite = Azurite(location, port=port).start()
    print(f"Azurite blob service on 127.0.0.1:{port} (data in {location}). For the bot:\n")
    print("  export BOT_STORAGE=blob")
    print(f"  export BOT_BLOB_CONNECTION_STRING='{azurite.connection_string}'\n")
    print("Ctrl+C stops it.", flush=True)
    try:
        azurite.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        azurite.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
