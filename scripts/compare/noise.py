#!/usr/bin/env python3
"""Side-by-side benchmark of the open battery: spinbat's density matrix (spinbat charge
--dephasing) against QuTiP mesolve, same model, same output times, same machine.

Model: the defaults of spinbat (power law p = 1, alpha = 0, g = 1, omega = 4, B = 1), local
dephasing L_i = sqrt(gamma) Z_i (gamma = 0.1), charging from all-down, W(t) at 21 times on
[0, 1]. spinbat also certifies P_max on the way (its whole `charge` command is timed,
process start included); QuTiP builds the operators and runs mesolve (timed together).
Accuracy: both are asked for far better than 1e-8 on W and must agree to 1e-8 (the row
says how well they did).

    scripts/compare/.venv/bin/python scripts/compare/noise.py --n 8 10 [--reps 3] [--mesolve-tol 1e-10]
    scripts/compare/.venv/bin/python scripts/compare/noise.py --n 12 --no-qutip
"""

import argparse
import os
import statistics
import time

import numpy as np

from open_battery import dephasing_battery, timed_charge

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TIMES = [k / 20 for k in range(21)]


def spinbat(n, gamma, binary):
    el, rec = timed_charge(binary, ["--n", str(n), "--dephasing", str(gamma), "--t-max", "1", "--points", "21",
                                    "--tol", "1e-10"])
    return el, rec["series"]["work"], rec


def qutip_mesolve(n, gamma, tol):
    import qutip
    t0 = time.perf_counter()
    h, h0, e0, cops, down = dephasing_battery(n, gamma)
    res = qutip.mesolve(h, down * down.dag(), TIMES, c_ops=cops, e_ops=[h0],
                        options={"method": "adams", "atol": tol, "rtol": tol, "nsteps": 10**8})
    el = time.perf_counter() - t0
    return el, [float(np.real(x)) - e0 for x in res.expect[0]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[8, 10])
    ap.add_argument("--gamma", type=float, default=0.1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--mesolve-tol", type=float, default=1e-10)
    ap.add_argument("--no-qutip", action="store_true")
    ap.add_argument("--spinbat", default=os.path.join(ROOT, "target", "release", "spinbat"))
    a = ap.parse_args()
    # every spinbat run first: QuTiP's BLAS threads keep spinning for a while after a solve
    # and would take the cores from the spinbat process that follows (2x slower at N = 10)
    runs = {n: [spinbat(n, a.gamma, a.spinbat) for _ in range(a.reps)] for n in a.n}
    for n in a.n:
        sb = runs[n]
        t_sb = statistics.median(x[0] for x in sb)
        w_sb = sb[0][1]
        rec = sb[0][2]
        line = f"N = {n}: spinbat {t_sb:.3f} s (median of {a.reps}: {' '.join(f'{x[0]:.3f}' for x in sb)}; error bound {rec['error_bound']:.1e}, P_max {rec['max_power']['power']:.10f})"
        if not a.no_qutip:
            qt = [qutip_mesolve(n, a.gamma, a.mesolve_tol) for _ in range(1 if n >= 10 else a.reps)]
            t_qt = statistics.median(x[0] for x in qt)
            diff = max(abs(x - y) for x, y in zip(w_sb, qt[0][1]))
            line += f"; QuTiP mesolve {t_qt:.3f} s (median of {len(qt)}: {' '.join(f'{x[0]:.2f}' for x in qt)}, atol = rtol = {a.mesolve_tol:g}); ratio {t_qt / t_sb:.1f}x; max |W_spinbat - W_qutip| = {diff:.1e}"
        print(line, flush=True)

if __name__ == "__main__":
    main()
