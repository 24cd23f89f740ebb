#!/usr/bin/env python3
"""spinbat's MPS solver against TeNPy's two-site TDVP: W(t) of a power-law chain, same grid.

The chain of Le et al. (PRA 97, 022106), hbar = 1, energies in B (docs/physics.md):
    H_g = -sum_{i<j} g/|i-j|^p [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)],  H = H_g + omega sum_i X_i,
    H0 = H_g + B sum_i Z_i,  W(t) = <H0>_t - E0,  E0 = -sum_{i<j} g_ij - N B  (all-down).

Both programs start from all-down and run two-site TDVP with the same time step (spinbat's
reported run: the grid intervals cut into steps of at most delta, an even number of them) and
the same discarded weight per SVD (spinbat's --truncation eps is TeNPy's trunc_cut = sqrt(eps):
TeNPy discards while the sum of the discarded squared Schmidt values stays below trunc_cut^2).
TeNPy's MPO holds every coupling explicitly up to range N - 1 (exact, like spinbat's
SVD-compressed one; the sum-of-exponentials fit of add_exponentially_decaying_coupling is a
smaller MPO with a fit error, --tenpy-mpo exp uses it with K exponentials).

Times: wall clock and CPU time (user + system, all threads: spinbat's from getrusage of the
child, TeNPy's process_time) — on a loaded machine the CPU times are the fair comparison.
spinbat's timing is the whole `spinbat charge --solver mps --times ...` command: the curve, its
second run at twice the step (Richardson), and the certified P_max search on top; TeNPy's is the
curve only. The ratio is therefore conservative for spinbat.

Usage: scripts/compare/mps.py [--n 64] [--p 1] [--alpha 0] [--times 0.02,0.04,...] [--spinbat PATH]
(run by scripts/compare/mps.sh, which makes the venv).
"""

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def tenpy_curve(n, p, g, alpha, b, omega, times, steps, trunc_eps, chi_max, mpo_kind, n_exp):
    import tenpy
    from tenpy.algorithms.tdvp import TwoSiteTDVPEngine
    from tenpy.models.model import CouplingMPOModel
    from tenpy.networks.mps import MPS
    from tenpy.networks.site import SpinHalfSite

    class Battery(CouplingMPOModel):
        def init_sites(self, model_params):
            return SpinHalfSite(conserve=None)

        def init_terms(self, model_params):
            hx = model_params.get("hx", 0.0)
            hz = model_params.get("hz", 0.0)
            if hx:
                self.add_onsite(hx, 0, "Sigmax")
            if hz:
                self.add_onsite(hz, 0, "Sigmaz")
            if mpo_kind == "explicit":
                for dx in range(1, n):
                    j = g / dx**p
                    self.add_coupling(-j, 0, "Sigmaz", 0, "Sigmaz", dx)
                    if alpha:
                        # X X + Y Y = 2 (S+ S- + S- S+) for spin 1/2 (Sp = sigma+)
                        self.add_coupling(-2.0 * alpha * j, 0, "Sp", 0, "Sm", dx, plus_hc=True)
            else:
                from tenpy.tools.fit import fit_with_sum_of_exp

                lam, pref = fit_with_sum_of_exp(lambda x: g / x**p, n_exp, n)
                for l_k, c_k in zip(lam, pref):
                    self.add_exponentially_decaying_coupling(-c_k, l_k, "Sigmaz", "Sigmaz")
                    if alpha:
                        self.add_exponentially_decaying_coupling(-2.0 * alpha * c_k, l_k, "Sp", "Sm", plus_hc=True)

    base = {"lattice": "Chain", "L": n, "bc_MPS": "finite", "bc_x": "open"}
    model_h = Battery(dict(base, hx=omega))
    model_h0 = Battery(dict(base, hz=b))
    psi = MPS.from_product_state(model_h.lat.mps_sites(), ["down"] * n, bc="finite")
    e0 = -sum(g / d**p * (n - d) for d in range(1, n)) - n * b
    opts = {
        "trunc_params": {"chi_max": chi_max, "svd_min": 1e-14, "trunc_cut": math.sqrt(trunc_eps)},
        "lanczos_params": {"N_min": 2, "N_max": 40, "E_tol": 1e-13},
        "dt": 0.0,
        "N_steps": 1,
    }
    eng = TwoSiteTDVPEngine(psi, model_h, opts)
    out, t_now = [], 0.0
    start, cpu0 = time.perf_counter(), time.process_time()
    for t, k in zip(times, steps):
        eng.options["dt"] = (t - t_now) / k
        eng.options["N_steps"] = k
        eng.run()
        t_now = t
        # a Hermitian MPO: the imaginary part is rounding (TeNPy returns complex128 here)
        out.append(float(np.real(model_h0.H_MPO.expectation_value(psi))) - e0)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    return out, elapsed, cpu, max(psi.chi), tenpy.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--p", type=float, default=1.0)
    ap.add_argument("--alpha", type=float, default=0.0)
    ap.add_argument("--g", type=float, default=1.0)
    ap.add_argument("--b", type=float, default=1.0)
    ap.add_argument("--omega", type=float, default=4.0)
    ap.add_argument("--times", default=",".join(f"{0.02 * k:.2f}" for k in range(1, 11)))
    ap.add_argument("--truncation", type=float, default=1e-10)
    ap.add_argument("--bond-dim", type=int, default=64)
    ap.add_argument("--tenpy-mpo", choices=["explicit", "exp"], default="explicit")
    ap.add_argument("--n-exp", type=int, default=10, help="exponentials of the fit (--tenpy-mpo exp)")
    ap.add_argument("--spinbat", default=os.environ.get("SPINBAT", "target/release/spinbat"))
    ap.add_argument("--out", default=None, help="write the record here (JSON)")
    a = ap.parse_args()
    times = [float(x) for x in a.times.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        js = os.path.join(tmp, "mps.json")
        cmd = [a.spinbat, "charge", "--solver", "mps", "--n", str(a.n), "--p", str(a.p), "--alpha", str(a.alpha),
               "--g", str(a.g), "--b", str(a.b), "--omega", str(a.omega), "--times", a.times,
               "--bond-dim", str(a.bond_dim), "--truncation", str(a.truncation), "--json", js]
        start, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        t_spinbat = time.perf_counter() - start
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_spinbat = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        rec = json.load(open(js))
    series = rec["series"]
    # the output times: the series at --times (t = 0 is not asked for, so not there)
    w_spinbat = [w for t, w in zip(series["t"], series["work"]) if any(abs(t - x) < 1e-12 for x in times)]
    delta = rec["time_step"]
    # spinbat's reported run: each interval in 2 ceil(span / 2 delta) steps
    steps, prev = [], 0.0
    for t in times:
        steps.append(2 * max(1, math.ceil((t - prev) / (2 * delta) - 1e-12)))
        prev = t
    w_tenpy, t_tenpy, cpu_tenpy, chi_tenpy, version = tenpy_curve(
        a.n, a.p, a.g, a.alpha, a.b, a.omega, times, steps, a.truncation, a.bond_dim, a.tenpy_mpo, a.n_exp)
    w_s = np.array(w_spinbat)
    w_t = np.array(w_tenpy)
    rel = float(np.max(np.abs(w_s - w_t)) / np.max(np.abs(w_s)))
    result = {
        "n": a.n, "p": a.p, "alpha": a.alpha, "times": times, "time_step": delta, "truncation": a.truncation,
        "bond_dim": a.bond_dim, "tenpy_mpo": a.tenpy_mpo, "tenpy_version": version,
        "w_spinbat": w_spinbat, "w_tenpy": w_tenpy, "max_rel_difference": rel,
        "spinbat_wall_s": t_spinbat, "tenpy_wall_s": t_tenpy, "wall_ratio": t_tenpy / t_spinbat,
        "spinbat_cpu_s": cpu_spinbat, "tenpy_cpu_s": cpu_tenpy, "cpu_ratio": cpu_tenpy / cpu_spinbat,
        "spinbat_step_error_estimate": rec["step_error_estimate"], "tenpy_chi": int(chi_tenpy),
        "load": os.getloadavg(),
    }
    print(json.dumps(result, indent=1))
    if a.out:
        json.dump(result, open(a.out, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
