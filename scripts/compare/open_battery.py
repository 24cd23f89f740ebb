"""The open battery on both sides of the comparison scripts noise.py (mesolve) and
trajectories.py (mcsolve): a timed `spinbat charge` with its JSON record, and the battery of
spinbat's defaults in QuTiP (power law p = 1, alpha = 0, g = 1, omega = 4, B = 1, N sites,
local dephasing gamma: L_i = sqrt(gamma) Z_i)."""

import json
import os
import subprocess
import tempfile
import time

import numpy as np


def timed_charge(binary, args):
    """Runs `binary charge ARGS --json F`: (wall seconds, the JSON record)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        t0 = time.perf_counter()
        subprocess.run([binary, "charge", *args, "--json", out], check=True, stdout=subprocess.DEVNULL)
        el = time.perf_counter() - t0
        with open(out) as f:
            return el, json.load(f)


def dephasing_battery(n, gamma):
    """(H, H0, E0, c_ops, all-down) with H = H_g + 4 sum X_i, H0 = H_g + sum Z_i,
    H_g = -sum_{i<j} Z_i Z_j / (j - i), E0 = <down|H0|down>."""
    import qutip

    ident = [qutip.qeye(2)] * n

    def op(o, i):
        ops = list(ident)
        ops[i] = o
        return qutip.tensor(ops)

    sz, sx = qutip.sigmaz(), qutip.sigmax()
    z = [op(sz, i) for i in range(n)]
    hg = 0
    g_sum = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            g = 1.0 / (j - i)
            g_sum += g
            hg = hg - g * z[i] * z[j]
    h = hg + sum(4.0 * op(sx, i) for i in range(n))
    h0 = hg + sum(z)
    e0 = -n - g_sum
    cops = [np.sqrt(gamma) * zi for zi in z]
    down = qutip.tensor([qutip.basis(2, 1)] * n)
    return h, h0, e0, cops, down
