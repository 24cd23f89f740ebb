"""Time-dependent fields from Python: Chain.charge(omega_schedule=..., drive=..., drive_frequency=...).

Checked against the CLI's record for the same flags (the Python layer is thin over the
library), against the static charge where the field is constant (one segment, A = 0), and
against the closed form of independent spins under a drive.
"""

import json
import math

import numpy as np
import pytest

import spinbat

from conftest import close


def _cli_record(cli, *args):
    out = cli("charge", *args, "--json", "-")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _same_record(rec, cli_rec, tol):
    """The numbers of two charge records agree (timings aside)."""
    for key in ("t", "work", "power"):
        close(rec["series"][key], cli_rec["series"][key], tol)
    for key, sub in (("max_power", "power"), ("max_power", "time"), ("max_work", "work"), ("max_work", "time")):
        close(rec[key][sub], cli_rec[key][sub], tol)
    close(rec["certified_until"], cli_rec["certified_until"], tol)
    assert rec["accuracy"] == cli_rec["accuracy"]
    assert rec["protocol"] == cli_rec["protocol"]
    assert rec["solver"] == cli_rec["solver"]


@pytest.mark.parametrize("solver", ["auto", "chebyshev", "mean-field"])
def test_schedule_matches_cli_json(cli, tmp_path, solver):
    pairs = [(0.3, 4.0), (0.7, 1.5), (1.2, 0.0), (2.0, 3.0)]
    path = tmp_path / "schedule.txt"
    path.write_text("".join(f"{t} {w}\n" for t, w in pairs))
    cli_rec = _cli_record(cli, "--n", 6, "--alpha", 0.4, "--coupling", "nn", "--solver", solver,
                          "--omega-schedule", path, "--points", 41)
    chain = spinbat.Chain(n=6, alpha=0.4, coupling="nn")
    rec = chain.charge(omega_schedule=pairs, solver=solver, points=41).to_dict()
    # the same library call on the same machine: equal up to the thread count's rounding
    _same_record(rec, cli_rec, 1e-9)
    assert rec["protocol"] == {"schedule": {"ends": [p[0] for p in pairs], "omegas": [p[1] for p in pairs]}}
    # the schedule's end is the default window, and a (K, 2) array is a schedule too
    assert rec["series"]["t"][-1] == 2.0
    again = chain.charge(omega_schedule=np.array(pairs), solver=solver, points=41).to_dict()
    assert again["series"]["work"] == rec["series"]["work"]


@pytest.mark.parametrize("solver", ["dense", "chebyshev", "mean-field"])
def test_drive_matches_cli_json(cli, solver):
    cli_rec = _cli_record(cli, "--n", 5, "--alpha", 0.3, "--p", 1, "--solver", solver, "--tol", 1e-8,
                          "--drive", 1.5, "--drive-frequency", 7, "--points", 31)
    rec = spinbat.Chain(n=5, alpha=0.3).charge(drive=1.5, drive_frequency=7, solver=solver, tol=1e-8,
                                               points=31).to_dict()
    _same_record(rec, cli_rec, 1e-9)
    assert rec["protocol"] == {"drive": {"omega": 4.0, "amplitude": 1.5, "frequency": 7.0}}
    assert rec.get("drive_step_error_estimate") == cli_rec.get("drive_step_error_estimate")


@pytest.mark.parametrize("solver", ["dense", "chebyshev"])
def test_one_field_schedule_is_the_static_charge(solver):
    chain = spinbat.Chain(n=6, alpha=0.5, omega=3.0, coupling="nn")
    t_end = 2 * math.pi / 3.0
    static = chain.charge(t_max=t_end, points=51, solver=solver)
    scheduled = chain.charge(omega_schedule=[(t_end, 3.0)], points=51, solver=solver)
    close(scheduled.work, static.work, 1e-9)
    # the static T* lies inside the schedule, where both searches are certified
    assert static.t_star < t_end
    close(scheduled.max_power, static.max_power, 1e-9)
    close(scheduled.t_star, static.t_star, 1e-7)


@pytest.mark.parametrize("solver", ["dense", "chebyshev", "mean-field"])
def test_drive_of_zero_amplitude_is_the_static_charge(solver):
    chain = spinbat.Chain(n=5, alpha=0.7, p=1.5)
    static = chain.charge(points=41, solver=solver)
    driven = chain.charge(drive=0.0, drive_frequency=5.0, points=41, solver=solver)
    close(driven.work, static.work, 1e-12)
    assert driven.max_power == static.max_power and driven.t_star == static.t_star


@pytest.mark.parametrize("solver", ["dense", "chebyshev", "mean-field"])
def test_independent_spins_under_a_drive_follow_the_closed_form(solver):
    """g = 0: each spin rotates by 2 int_0^t omega(s) ds about x, so from all-down
    W(t) = 2BN sin^2(omega t + (A/nu) sin(nu t))."""
    n, b, omega, a, nu = 4, 1.3, 2.0, 1.2, 5.0
    chain = spinbat.Chain(n=n, b=b, g=0.0, omega=omega)
    t = np.linspace(0.0, 3.0, 61)
    r = chain.charge(times=t, drive=a, drive_frequency=nu, solver=solver, tol=1e-9)
    exact = 2 * b * n * np.sin(omega * t + (a / nu) * np.sin(nu * t)) ** 2
    # the drive's step is chosen from tol (CFET4:2 step doubling; DOP853 for mean field)
    close(r.work, exact, 1e-7)
    # P_max certified over all T: at least the best output time's W/T
    assert r.max_power >= np.max(exact[1:] / t[1:]) - 1e-7


@pytest.mark.parametrize("solver", ["dense", "chebyshev", "mean-field"])
def test_independent_spins_under_a_schedule_follow_the_closed_form(solver):
    """g = 0: W(t) = 2BN sin^2(theta(t)), theta(t) = int_0^t omega(s) ds, piecewise linear."""
    n, b = 3, 0.8
    pairs = [(0.4, 3.0), (0.9, 0.5), (1.5, 2.0)]
    chain = spinbat.Chain(n=n, b=b, g=0.0)
    t = np.linspace(0.0, 1.5, 76)
    r = chain.charge(times=t, omega_schedule=pairs, solver=solver, tol=1e-10)
    theta, start = np.zeros_like(t), 0.0
    for end, w in pairs:
        theta += w * np.clip(t - start, 0.0, end - start)
        start = end
    close(r.work, 2 * b * n * np.sin(theta) ** 2, 1e-8)


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"drive": 1.0}, "invalid parameter drive = 1: needs drive_frequency"),
        ({"drive_frequency": 2.0}, "invalid parameter drive_frequency = 2: needs drive"),
        ({"drive": 1.0, "drive_frequency": -1.0}, "invalid parameter drive_frequency = -1"),
        ({"omega_schedule": [(1.0, 2.0)], "drive": 1.0, "drive_frequency": 1.0}, "exclude each other"),
        ({"omega_schedule": [(1.0, 2.0), (0.5, 1.0)]}, "strictly increasing"),
        ({"omega_schedule": [(1.0, -2.0)]}, "must be a finite number >= 0"),
        ({"omega_schedule": [(1.0, float("nan"))]}, "must be a finite number >= 0"),
        ({"omega_schedule": [(1.0, 2.0, 3.0)]}, "each segment is a pair"),
        ({"omega_schedule": []}, "needs at least one segment"),
        ({"omega_schedule": [(1.0, 2.0)], "t_max": 2.0}, "past the end of the omega_schedule"),
        ({"omega_schedule": [(1.0, 2.0)], "times": [0.5, 1.5]}, "past the end of the field schedule"),
        ({"drive": 1.0, "drive_frequency": 1.0, "dephasing": 0.1}, "closed battery"),
        ({"drive": 1.0, "drive_frequency": 1.0, "observe": "bloch"}, "observe is not supported"),
        ({"drive": 1.0, "drive_frequency": 1.0, "disorder_g": 0.1}, "disorder"),
    ],
)
def test_bad_protocols_raise_value_error(kwargs, needle):
    with pytest.raises(ValueError, match=None) as e:
        spinbat.Chain(n=3).charge(**kwargs)
    assert needle in str(e.value), str(e.value)


def test_generalised_charging_with_a_drive_is_refused_with_the_library_message(cli):
    out = cli("charge", "--n", 3, "--gamma", 0.2, "--drive", 1, "--drive-frequency", 2)
    assert out.returncode == 2
    with pytest.raises(ValueError) as e:
        spinbat.Chain(n=3, gamma=0.2).charge(drive=1.0, drive_frequency=2.0)
    assert str(e.value) in out.stderr
