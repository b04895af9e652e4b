"""Google's Firestore and Pub/Sub emulators for the test session.

Each emulator is started on first use (a free loopback port, its own process group so the
Java process under the `gcloud` wrapper dies with it), waited for until it answers, and
stopped when the session ends. A machine without the Google Cloud CLI emulator components
gets `EmulatorMissing`; the test fixtures turn that into a skip and the session summary
prints one line saying how to install them (README, "Testing").

Set SHOP_TEST_EMULATORS=off to run only the fakes (quick unit runs); the emulator tests
are then skipped, loudly too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = (
    "install the Google Cloud CLI with its emulators and Java 17 "
    "(apt-get install google-cloud-cli google-cloud-cli-firestore-emulator "
    "google-cloud-cli-pubsub-emulator openjdk-17-jre-headless); see README 'Testing'"
)
START_TIMEOUT_S = 90.0


class EmulatorMissing(RuntimeError):
    """The emulator cannot run on this machine (no gcloud, no Java, or switched off)."""


@dataclass
class Emulator:
    kind: str  # "firestore" | "pubsub"
    env_var: str
    host: str = ""
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    failure: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ensure(self) -> str:
        """host:port of the running emulator, starting it on first call."""
        _note_user(self.kind)
        with self._lock:
            if self.failure:
                raise EmulatorMissing(self.failure)
            if self.host:
                return self.host
            try:
                self.host = self._start()
            except EmulatorMissing as e:
                self.failure = str(e)
                raise
            os.environ[self.env_var] = self.host
            return self.host

    def _start(self) -> str:
        problem = unavailable_reason()
        if problem:
            raise EmulatorMissing(problem)
        port = _free_port()
        host = f"127.0.0.1:{port}"
        self.log_path = Path(tempfile.gettempdir()) / f"shop-{self.kind}-emulator-{port}.log"
        log = self.log_path.open("wb")
        track = [] if self.kind == "firestore" else ["beta"]  # Pub/Sub's emulator is beta-only in CLI 528
        args = ["gcloud", *track, "emulators", self.kind, "start", f"--host-port={host}", "--quiet"]
        if self.kind == "firestore":
            args.append("--database-mode=firestore-native")
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorMissing(f"the {self.kind} emulator exited at start; its log: {self.log_path}")
            if _answers(host):
                return host
            time.sleep(0.25)
        self.stop()
        raise EmulatorMissing(f"the {self.kind} emulator did not answer within {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        finally:
            self.host = ""
            os.environ.pop(self.env_var, None)


def unavailable_reason() -> str | None:
    if os.environ.get("SHOP_TEST_EMULATORS", "").lower() in ("off", "0", "false", "no"):
        return "SHOP_TEST_EMULATORS=off"
    if shutil.which("gcloud") is None:
        return f"gcloud is not installed: {INSTALL_HINT}"
    if shutil.which("java") is None:
        return f"java is not installed: {INSTALL_HINT}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(host: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}/", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


# Which tests asked for which emulator, for the session summary (tests/conftest.py).
USERS: dict[str, set[str]] = {"firestore": set(), "pubsub": set()}


def _note_user(kind: str) -> None:
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    if current:
        USERS[kind].add(current.rsplit(" (", 1)[0])


FIRESTORE = Emulator("firestore", "FIRESTORE_EMULATOR_HOST")
PUBSUB = Emulator("pubsub", "PUBSUB_EMULATOR_HOST")


def stop_all() -> None:
    for e in (FIRESTORE, PUBSUB):
        e.stop()


atexit.register(stop_all)
