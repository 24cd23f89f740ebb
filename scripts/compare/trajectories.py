#!/usr/bin/env python3
"""Side-by-side benchmark of the open battery by quantum trajectories: spinbat
(`spinbat charge --solver trajectories`) against QuTiP mcsolve, same model, same number of
trajectories, same output times, same machine, one script.

Model: the defaults of spinbat (power law p = 1, alpha = 0, g = 1, omega = 4, B = 1), local
dephasing L_i = sqrt(gamma) Z_i (gamma = 0.1), charging from all-down, W(t) at `--points`
times on [0, t_max] (default t_max = 0.3 /B: past T* = 0.155 of N = 12-16). spinbat's
whole `charge` command is timed (process start, the trajectories and the maximum of the
mean curve); QuTiP builds the operators and runs mcsolve (timed together), in parallel on
the same cores (map = parallel). Both report the mean W with its standard error; the row
gives the largest deviation in units of the combined standard error (both are estimates of
the same Tr(H0 rho) - E0: it should be below ~4).

Accuracy asked: spinbat --tol 1e-10 on each trajectory's W (its default; rigorous bound
between jumps), QuTiP atol = rtol = `--mcsolve-tol` (default 1e-8) for its ODE steps.

    scripts/compare/.venv/bin/python scripts/compare/trajectories.py --n 12 --ntraj 500 [--reps 3]
    scripts/compare/.venv/bin/python scripts/compare/trajectories.py --n 16 --ntraj 1000 --no-qutip
    scripts/compare/.venv/bin/python scripts/compare/trajectories.py --n 20 --ntraj 500 --no-qutip --reps 1
"""

import argparse
import os
import statistics
import time

import numpy as np

from open_battery import dephasing_battery, timed_charge

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def times_of(t_max, points):
    return [t_max * k / (points - 1) for k in range(points)]


def spinbat(n, gamma, ntraj, seed, t_max, points, binary):
    return timed_charge(binary, ["--n", str(n), "--dephasing", str(gamma), "--solver", "trajectories",
                                 "--trajectories", str(ntraj), "--seed", str(seed), "--t-max", str(t_max),
                                 "--points", str(points), "--max-time", "inf"])


def qutip_mcsolve(n, gamma, ntraj, seed, times, tol, cpus):
    import qutip
    t0 = time.perf_counter()
    h, h0, e0, cops, down = dephasing_battery(n, gamma)
    res = qutip.mcsolve(h, down, times, c_ops=cops, e_ops=[h0], ntraj=ntraj, seeds=seed,
                        options={"atol": tol, "rtol": tol, "nsteps": 10**8, "map": "parallel", "num_cpus": cpus,
                                 "progress_bar": False})
    el = time.perf_counter() - t0
    mean = [float(np.real(x)) - e0 for x in res.average_expect[0]]
    se = [float(np.real(s)) / np.sqrt(ntraj) for s in res.std_expect[0]]
    return el, mean, se


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[12])
    ap.add_argument("--gamma", type=float, default=0.1)
    ap.add_argument("--ntraj", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--t-max", type=float, default=0.3)
    ap.add_argument("--points", type=int, default=31)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--qutip-reps", type=int, default=1)
    ap.add_argument("--mcsolve-tol", type=float, default=1e-8)
    ap.add_argument("--cpus", type=int, default=os.cpu_count())
    ap.add_argument("--no-qutip", action="store_true")
    ap.add_argument("--spinbat", default=os.path.join(ROOT, "target", "release", "spinbat"))
    a = ap.parse_args()
    times = times_of(a.t_max, a.points)
    for n in a.n:
        sb = [spinbat(n, a.gamma, a.ntraj, a.seed, a.t_max, a.points, a.spinbat) for _ in range(a.reps)]
        t_sb = statistics.median(x[0] for x in sb)
        rec = sb[0][1]
        tr = rec["trajectories"]
        line = (f"N = {n}, {a.ntraj} trajectories to t = {a.t_max:g} ({a.points} times): spinbat {t_sb:.2f} s "
                f"(median of {a.reps}: {' '.join(f'{x[0]:.2f}' for x in sb)}; P_max {rec['max_power']['power']:.4f} "
                f"+- {tr['max_power_stderr']:.4f} at T* = {rec['max_power']['time']:.5f}, "
                f"{tr['mean_jumps']:.2f} jumps per trajectory)")
        if not a.no_qutip:
            qt = [qutip_mcsolve(n, a.gamma, a.ntraj, a.seed, times, a.mcsolve_tol, a.cpus) for _ in range(a.qutip_reps)]
            t_qt = statistics.median(x[0] for x in qt)
            w_sb, se_sb = rec["series"]["work"], rec["series"]["work_stderr"]
            dev = max(abs(x - y) / max(np.hypot(s, u), 1e-300)
                      for x, y, s, u in zip(w_sb, qt[0][1], se_sb, qt[0][2]) if np.hypot(s, u) > 0)
            line += (f"; QuTiP mcsolve {t_qt:.2f} s (median of {len(qt)}: {' '.join(f'{x[0]:.2f}' for x in qt)}, "
                     f"atol = rtol = {a.mcsolve_tol:g}, {a.cpus} processes); ratio {t_qt / t_sb:.1f}x; "
                     f"max |W_spinbat - W_qutip| / combined standard error = {dev:.2f}")
        print(line, flush=True)


if __name__ == "__main__":
    main()
