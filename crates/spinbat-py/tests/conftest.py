"""Shared helpers of the spinbat Python tests.

Environment:
  SPINBAT_CLI             the `spinbat` binary to compare with (default: <repo>/target/release/spinbat;
                          tests that need it are skipped when it is absent and SPINBAT_CLI is unset)
  SPINBAT_REQUIRE_QUTIP=1 fail instead of skipping when QuTiP is not installed (CI)
"""

import math
import os
import pathlib
import subprocess
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]

# shortest time the GIL tests keep the worker busy (s)
MIN_GIL_RUN_S = 0.5


def close(a, b, tol):
    """|a - b| <= tol * max(1, |b|), elementwise, with a message naming the worst element."""
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, f"shapes {a.shape} != {b.shape}"
    err = np.abs(a - b) / np.maximum(1.0, np.abs(b))
    worst = int(np.argmax(err)) if err.size else 0
    assert err.size == 0 or err.max() <= tol, f"relative deviation {err.max():.3e} > {tol:.0e} at index {worst}: {a.flat[worst]!r} vs {b.flat[worst]!r}"


def assert_releases_gil(call):
    """`call()` lets other Python threads run while it computes: repeated in a worker
    thread for >= MIN_GIL_RUN_S, it leaves the main thread ticking."""
    start = time.perf_counter()
    call()  # warm up: the first call also starts rayon's pool
    single = time.perf_counter() - start
    # a minimum run length, so that the check below can fail: repeat the call for >= 0.5 s
    reps = max(1, math.ceil(MIN_GIL_RUN_S / max(single, 1e-6)))
    ticks = 0
    worker = threading.Thread(target=lambda: [call() for _ in range(reps)])
    worker.start()
    while worker.is_alive():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    # while the GIL is held by the worker the loop cannot run at all; released, it ticks
    # about every millisecond (every 10 ms on a loaded machine) for >= 0.5 s
    assert ticks >= 20, (ticks, single, reps)


@pytest.fixture(scope="session")
def cli():
    """Runs the `spinbat` binary: cli(*args) -> CompletedProcess (text)."""
    explicit = os.environ.get("SPINBAT_CLI")
    path = pathlib.Path(explicit) if explicit else REPO / "target" / "release" / "spinbat"
    if not path.is_file():
        if explicit:
            pytest.fail(f"SPINBAT_CLI={explicit} does not exist")
        pytest.skip(f"{path} not built (cargo build --release -p spinbat-cli)")

    def run(*args):
        return subprocess.run([str(path), *map(str, args)], capture_output=True, text=True, timeout=300)

    return run


@pytest.fixture(scope="session")
def qutip():
    try:
        import qutip as qt
    except ImportError:
        if os.environ.get("SPINBAT_REQUIRE_QUTIP") == "1":
            pytest.fail("QuTiP is required (SPINBAT_REQUIRE_QUTIP=1) but not installed")
        pytest.skip("QuTiP not installed")
    return qt
