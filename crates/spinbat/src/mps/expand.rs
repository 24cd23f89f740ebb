//! Global subspace expansion (Yang & White, PRB 102, 094315 (2020)) of a matrix-product
//! state's bond bases by those of `Hψ`: two-site TDVP from a product state sees a
//! long-range `H` only through the bond bases the state has (bond dimension 1 at `t = 0`),
//! so a pair `Z_i Z_j` more than one site apart acts on the rotated spins in directions the
//! two-site tangent space lacks (a projection error that no step size removes). Enlarging
//! every bond basis by that of `Hψ` (with zero weight: the state is unchanged) before a step
//! puts those directions in reach; the step's SVDs drop what it leaves below `ε`.
//!
//! A half sweep sees the expansion only in the bases on the side it has not reached yet
//! (the right bases of a left-to-right sweep; its own SVDs set the others and drop what
//! carries no weight). So that the right-to-left half sweep is the mirror image of the
//! left-to-right one, as the symmetric (second-order) step needs, [`super::Tdvp`] expands
//! before each half sweep, into the gauge that sweep starts from ([`Centre`]).

use super::mpo::Mpo;
use super::state::{lq_right, qr_left, Mps};
use super::tensor::{contract, Tensor};

/// Where the expanded state's orthogonality centre is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Centre {
    /// Site 0, every other site right-orthonormal (a left-to-right sweep starts here).
    First,
    /// Site `N − 1`, every other site left-orthonormal (a right-to-left sweep starts here).
    Last,
}

/// `|ψ⟩` with every bond basis enlarged by that of `H|ψ⟩` (the MPO applied exactly), the
/// new directions with zero weight; returned with its centre at `centre` and every other
/// site orthonormal towards it (right-orthonormal for [`Centre::First`], left for
/// [`Centre::Last`]). Bond dimensions grow to at most `χ(1 + D)` (`D` the MPO's) and
/// `2^{min(l, N − l)}`; cost `O(N χ³ D³ d)`, so [`super::Tdvp`] expands only while the
/// state's bonds are small.
pub fn expand_by_hamiltonian(psi: &Mps, h: &Mpo, centre: Centre) -> Mps {
    let n = psi.n_sites();
    if n < 2 {
        return psi.clone();
    }
    // the Hψ block enters every site but one with its basis, and that one (the centre's
    // end of the chain) with zero weight, so that the state stays ψ
    let zero_site = match centre {
        Centre::First => 0,
        Centre::Last => n - 1,
    };
    let mut sites = Vec::with_capacity(n);
    for i in 0..n {
        let a = &psi.sites[i];
        let (la, d, rb) = (a.dims[0], a.dims[1], a.dims[2]);
        let phi = apply_site(a, &h.sites[i]); // [(a, w), s', (b, v)]
        let (lp, rp) = (phi.dims[0], phi.dims[2]);
        // the MPO's boundary indices: w = 0 at site 0, v = D − 1 at the last site
        let (l_off, l_len) = if i == 0 { (0, la) } else { (0, lp) };
        let (r_off, r_len) = if i == n - 1 { (rp - rb, rb) } else { (0, rp) };
        let left = if i == 0 { la } else { la + l_len };
        let right = if i == n - 1 { rb } else { rb + r_len };
        let mut e = Tensor::zeros(&[left, d, right]);
        for beta in 0..rb {
            for s in 0..d {
                for alpha in 0..la {
                    e.data[alpha + left * (s + d * beta)] = a.data[alpha + la * (s + d * beta)];
                }
            }
        }
        if i != zero_site {
            // block diagonal [[A, 0], [0, Φ]]; a row [A, Φ] at site 0, a column at N − 1
            let row0 = if i == 0 { 0 } else { la };
            let col0 = if i == n - 1 { 0 } else { rb };
            for beta in 0..r_len {
                for s in 0..d {
                    for alpha in 0..l_len {
                        e.data[(row0 + alpha) + left * (s + d * (col0 + beta))] =
                            phi.data[(l_off + alpha) + lp * (s + d * (r_off + beta))];
                    }
                }
            }
        }
        sites.push(e);
    }
    match centre {
        // right-orthonormalise from the right (thin LQ: at most min(left, d · right) directions)
        Centre::First => {
            for i in (1..n).rev() {
                let (l, q) = lq_right(&sites[i]);
                sites[i] = q;
                sites[i - 1] = contract(&sites[i - 1], false, 1, &l, false);
            }
        }
        // left-orthonormalise from the left (thin QR: at most min(d · left, right) directions)
        Centre::Last => {
            for i in 0..n - 1 {
                let (q, r) = qr_left(&sites[i]);
                sites[i] = q;
                sites[i + 1] = contract(&r, false, 1, &sites[i + 1], false);
            }
        }
    }
    Mps { sites }
}

/// `Φ[(a, w), s', (b, v)] = Σ_s A[a, s, b] W[w, s, s', v]`: one site of `H|ψ⟩`.
fn apply_site(a: &Tensor, w: &Tensor) -> Tensor {
    let ap = a.permute(&[0, 2, 1]); // [a, b, s]
    let wp = w.permute(&[1, 0, 2, 3]); // [s, w, s', v]
    let t = contract(&ap, false, 1, &wp, false); // [a, b, w, s', v]
    let (da, db, dw, ds, dv) = (t.dims[0], t.dims[1], t.dims[2], t.dims[3], t.dims[4]);
    t.permute(&[0, 2, 3, 1, 4]).reshape(&[da * dw, ds, db * dv])
}
