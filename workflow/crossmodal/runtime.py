"""What every workflow script does before and around its work: threads, seeds, one-line errors."""

from __future__ import annotations

import contextlib
import os
import random
import re
import resource
import sys
import time
import traceback
from collections.abc import Callable

import numpy as np
import torch

from crossmodal.errors import CrossmodalError

# Errors whose message is already the one line a user needs (file + fix): no traceback. Every
# other exception, a plain ValueError included, keeps its traceback in the job's log.
USER_ERRORS = (CrossmodalError,)


def cpu_count() -> int:
    """CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# The last line of every job's log; benchmarks/workflow_run.py sums it over a run.
CPU_LINE = "crossmodal cpu: {:.2f} s"
_CPU_LINE_PATTERN = re.compile(r"crossmodal cpu: (\d+\.\d\d) s")


def logged_cpu_seconds(line: str) -> float | None:
    """The CPU seconds a ``CPU_LINE`` states; None for any other line."""
    match = _CPU_LINE_PATTERN.fullmatch(line.strip())
    return float(match.group(1)) if match else None


def cpu_seconds() -> float:
    """User + system CPU seconds of this process since it started (imports included) and of its
    finished children: exact, where snakemake's ``benchmark:`` samples and misses a job's end."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def log_stream():
    """Where progress and messages go: the rule's log while ``run`` is active."""
    return sys.stderr


@contextlib.contextmanager
def step(message: str):
    """Log "HH:MM:SS message …" when a stage of a job starts and "… done in N s" when it ends,
    so a job's log shows what it is doing (``tail -f results/logs/…``)."""
    start = time.perf_counter()
    print(f"{time.strftime('%H:%M:%S')} {message} …", file=log_stream(), flush=True)
    yield
    print(f"{time.strftime('%H:%M:%S')} … done in {time.perf_counter() - start:.0f} s",
          file=log_stream(), flush=True)


def configure(threads: int, seed: int) -> None:
    """Use at most ``threads`` CPU threads (never more than the machine has) and seed every RNG."""
    torch.set_num_threads(max(1, min(int(threads), cpu_count())))
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def run(main: Callable[[], None], log_path: str) -> None:
    """Run ``main`` with stderr (and tqdm) going to ``log_path``; a user error ends the script
    with its one-line message on the terminal and in the log, exit status 1. The log's last line
    is the job's CPU time (``CPU_LINE``)."""
    terminal = sys.stderr
    with open(log_path, "w") as log:
        sys.stderr = log
        try:
            main()
        except USER_ERRORS as error:
            message = f"crossmodal error: {error}"
            print(message, file=log)
            print(message, file=terminal)
            sys.exit(1)
        except Exception:
            traceback.print_exc(file=log)  # a bug: its traceback in the log and on the terminal
            raise
        finally:
            print(CPU_LINE.format(cpu_seconds()), file=log)
            sys.stderr = terminal


def device() -> str:
    """``cuda`` when a GPU is present, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"
