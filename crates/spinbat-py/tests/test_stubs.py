"""The type stubs (__init__.pyi, analytic.pyi) match the extension and type-check a user's code."""

import os
import subprocess
import sys
import textwrap

import pytest


@pytest.fixture(scope="module")
def mypy():
    try:
        import mypy  # noqa: F401
    except ImportError:
        if os.environ.get("SPINBAT_REQUIRE_MYPY") == "1":
            pytest.fail("mypy is required (SPINBAT_REQUIRE_MYPY=1) but not installed")
        pytest.skip("mypy not installed")

    def run(*args, cwd):
        return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=600)

    return run


def test_stubs_match_the_runtime(mypy, tmp_path):
    out = mypy("mypy.stubtest", "spinbat", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


def test_user_code_type_checks_strictly(mypy, tmp_path):
    (tmp_path / "use.py").write_text(textwrap.dedent("""
        import numpy as np
        import numpy.typing as npt
        import spinbat
        from spinbat import analytic

        chain = spinbat.Chain(n=6, alpha=0.5, coupling="nn")
        result = chain.charge(t_max=1.0, points=11, solver="dense")
        p_max: float = result.max_power
        work: npt.NDArray[np.float64] = result.work
        w, rate = chain.work(np.linspace(0.0, 1.0, 5))
        pair: tuple[float, float] = chain.max_power()
        x: float = analytic.one_spin_work(0.3)
        y: npt.NDArray[np.float64] = analytic.one_spin_work(np.array([0.1, 0.2]))
        fast, slow = analytic.two_spin_strong_coupling(0.1, g=100.0)
        record: dict[str, object] = result.to_dict()
        table = spinbat.scan("alpha", [0.0, 0.5], chain, solvers=["quantum", "mean-field"], power_only=True)
        rows = spinbat.scan("n=2..4", coupling="nn", window=1.0, tol=1e-9)
        columns: list[str] = spinbat._scan.COLUMNS
    """))
    out = mypy("mypy", "--strict", "use.py", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
