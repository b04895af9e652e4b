"""A busy machine on demand: spinning processes that imitate a database slowed by a sale.

Bounded twice: each process stops itself after `seconds`, and leaving the block kills them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_SPIN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


@contextmanager
def cpu_saturated(processes: int = 3, seconds: float = 60) -> Iterator[None]:
    spinners = [
        subprocess.Popen([sys.executable, "-c", _SPIN.format(seconds=seconds)], stdin=subprocess.DEVNULL)
        for _ in range(processes)
    ]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
        for p in spinners:
            p.wait()
