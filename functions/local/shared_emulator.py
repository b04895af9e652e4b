"""The one emulator a process's local stacks share, and the environment that points at it.

moto keeps its state in process-wide backends, so two emulators in one process would serve
the same data anyway (and a second stack creating the same table fails). The test session
starts several stacks (browser and end-to-end suites, each session scoped), so stacks
share one emulator, name their resources apart, and the last one to stop shuts the
emulator down and restores every environment variable the stacks changed.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from functions.adapters import aws_clients, aws_services

from . import emulator
from .loopback import free_port

REGION = emulator.REGION
ROOT = Path(__file__).resolve().parents[2]
# Seconds between GIL hand-overs while a stack runs (Python's default: 0.005). The gateway
# runs a thread per connection, and each SDK call inside an invocation gives up the GIL
# for its socket I/O, then waits up to a whole interval to get it back while another
# thread computes: that wait, not CPU, would set the pace under load.
SWITCH_INTERVAL = float(os.environ.get("SHOP_LOCAL_SWITCH_INTERVAL", "0.0005"))
_START_TIMEOUT = 60.0


class _Running(Protocol):
    def stop(self) -> None: ...


class EmulatorProcess:
    """moto in a child process (the default): the emulator gets a core of its own."""

    def __init__(self, port: int) -> None:
        # A file, not a pipe: nobody reads the emulator's stderr while it runs, and a full
        # pipe would block it.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "functions.local.emulator", "--port", str(port), "--parent-pid", str(os.getpid())],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip
        self._wait_until_listening(port)

    def _wait_until_listening(self, port: int) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"the emulator exited: {self.log.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the emulator did not start within {_START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _start_thread(port: int) -> _Running:
    """moto inside this process (SHOP_LOCAL_EMULATOR=thread): one core for everything."""
    from moto.server import ThreadedMotoServer

    emulator.prepare()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def _reset_aws_caches() -> None:
    """SDK clients and adapters remember the endpoint they were made for: forget them."""
    aws_clients.reset()
    aws_services.reset()


class SharedEmulator:
    """acquire() starts the emulator for the first stack; release() stops it after the last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: _Running | None = None
        self.url = ""
        self.mode = "process"  # SHOP_LOCAL_EMULATOR: "process" (own core) or "thread" (inside this process)
        self._users = 0
        self._instances = 0
        self._saved_env: dict[str, str | None] = {}
        self._saved_switch = sys.getswitchinterval()

    def acquire(self) -> int:
        """Start the emulator if none runs; return this stack's instance number, from 1."""
        with self._lock:
            if self._server is None:
                self._start()
            self._users += 1
            self._instances += 1
            return self._instances

    def _start(self) -> None:
        port = free_port()
        self.mode = os.environ.get("SHOP_LOCAL_EMULATOR", "process")
        self._server = EmulatorProcess(port) if self.mode == "process" else _start_thread(port)
        self.url = f"http://127.0.0.1:{port}"
        self._setenv_locked(
            {
                "AWS_ENDPOINT_URL": self.url,
                "AWS_ACCESS_KEY_ID": "testing",
                # The emulator accepts any key, but the gateway checks upload forms signed
                # with this one: it must not be a value anyone can look up.
                "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(32),
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
            }
        )
        _reset_aws_caches()
        self._saved_switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)

    def setenv(self, values: Mapping[str, str]) -> None:
        """Set environment variables until the last stack stops (then they are restored)."""
        with self._lock:
            self._setenv_locked(values)

    def _setenv_locked(self, values: Mapping[str, str]) -> None:
        for key in values:
            self._saved_env.setdefault(key, os.environ.get(key))
        os.environ.update(values)

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users > 0 or self._server is None:
                return
            self._server.stop()
            self._server, self.url = None, ""
            sys.setswitchinterval(self._saved_switch)
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_env.clear()
            _reset_aws_caches()

    def sent_emails(self) -> list[dict[str, Any]]:
        """Every e-mail SES sent, from whichever process the emulator runs in."""
        if self.mode != "process":
            return emulator.sent_emails()
        with urllib.request.urlopen(f"{self.url}{emulator.SENT_PATH}", timeout=10) as resp:
            sent: list[dict[str, Any]] = json.load(resp)
            return sent


EMULATOR = SharedEmulator()
