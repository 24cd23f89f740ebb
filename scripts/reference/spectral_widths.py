#!/usr/bin/env python3
"""Widths of three enclosures of the spectrum of the charging Hamiltonian H = H_g + V.

Independent of spinbat (numpy/scipy only): Gershgorin's enclosure (the diagonal's range
widened by N|omega| + the flip-flop row sum), the two-site (Weyl) enclosure that
spinbat's `model::BondEnclosure` computes (each site's field shared among its bonds in
proportion to |g_ij|, 4 x 4 eigenvalue problems summed), and the exact extremes (Lanczos,
scipy eigsh). The Chebyshev series length is about r t plus a tail, r the half width.

How to run (any venv with numpy and scipy, e.g. scripts/compare/.venv):
    python scripts/reference/spectral_widths.py N p|nn alpha     # e.g. 16 1 0, 16 nn 0, 14 1 1
"""
import sys

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla


def couplings(n, p, nn):
    g = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            r = j - i
            g[i, j] = g[j, i] = (1.0 if r == 1 else 0.0) if nn else r ** (-p)
    return g


def hamiltonian(n, g, omega, alpha):
    """H = -sum g_ij [Z Z + alpha (X X + Y Y)] + omega sum X_i, sparse, and its diagonal."""
    dim = 2 ** n
    s = np.arange(dim)
    z = lambda i: 1 - 2 * ((s >> i) & 1)
    d = np.zeros(dim)
    for i in range(n):
        for j in range(i + 1, n):
            d -= g[i, j] * z(i) * z(j)
    rows, cols, vals = [s], [s], [d]
    for i in range(n):
        rows.append(s)
        cols.append(s ^ (1 << i))
        vals.append(np.full(dim, omega))
    if alpha:
        for i in range(n):
            for j in range(i + 1, n):
                m = z(i) != z(j)
                rows.append(s[m])
                cols.append(s[m] ^ ((1 << i) | (1 << j)))
                vals.append(np.full(m.sum(), -2 * alpha * g[i, j]))
    h = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(dim, dim))
    return h, d


def two_site(n, g, omega, alpha):
    rows = np.abs(g).sum(1)
    x = np.array([[0, 1], [1, 0]])
    y = np.array([[0, -1j], [1j, 0]])
    zz = np.diag([1, -1])
    one = np.eye(2)
    lo = hi = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            if g[i, j] == 0:
                continue
            a, b = abs(g[i, j]) / rows[i], abs(g[i, j]) / rows[j]
            h = -g[i, j] * (np.kron(zz, zz) + alpha * (np.kron(x, x) + np.kron(y, y)).real)
            h = h + omega * (a * np.kron(x, one) + b * np.kron(one, x))
            e = np.linalg.eigvalsh(h)
            lo += e[0]
            hi += e[-1]
    return lo, hi


def main():
    n, law, alpha = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    nn = law == "nn"
    g = couplings(n, 0.0 if nn else float(law), nn)
    omega = 4.0
    h, d = hamiltonian(n, g, omega, alpha)
    off = n * omega + 2 * abs(alpha) * np.abs(np.triu(g, 1)).sum()
    glo, ghi = d.min() - off, d.max() + off
    blo, bhi = two_site(n, g, omega, alpha)
    elo = sla.eigsh(h, k=1, which="SA")[0][0]
    ehi = sla.eigsh(h, k=1, which="LA")[0][0]
    label = "nearest neighbour" if nn else f"p = {law}"
    print(f"N = {n}, {label}, alpha = {alpha}, omega = {omega}, g = 1")
    print(f"  Gershgorin [{glo:.4f}, {ghi:.4f}]  width {ghi - glo:.4f}")
    print(f"  two-site   [{blo:.4f}, {bhi:.4f}]  width {bhi - blo:.4f}")
    print(f"  exact      [{elo:.4f}, {ehi:.4f}]  width {ehi - elo:.4f}")


if __name__ == "__main__":
    main()
