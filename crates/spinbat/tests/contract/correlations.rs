//! Observables of the state (entanglement, Bloch vectors, connected `ZZ`, `Var(H0)`) and
//! along the trajectory: closed forms (product, Bell/GHZ, XXX), independent reference
//! computations (reduced density matrix, Pauli matrices applied bit by bit, dense `H0`),
//! the work identity and the mean-field counterpart.
// index loops over (i, j) read like the matrix formulas they check
#![allow(clippy::needless_range_loop)]

use crate::common::Rng;
use faer::{Mat, Side};
use num_complex::Complex64;
use spinbat::observe::correlations::{
    bloch_vectors, energy_variance, entanglement, entanglement_entropy, schmidt_spectrum, zz_connected,
};
use spinbat::observe::trajectory::{mean_field_trajectory, trajectory, ObservableSet};
use spinbat::propagate::{Chebyshev, Dense, Propagator, StatePropagator};
use spinbat::{Chain, Couplings, Silent, Solver, SpinbatError};
use std::f64::consts::LN_2;

fn c(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

/// A random normalised state of `n` sites.
fn random_state(rng: &mut Rng, n: usize) -> Vec<Complex64> {
    let mut psi: Vec<Complex64> = (0..1usize << n).map(|_| c(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0))).collect();
    let norm = psi.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    psi.iter_mut().for_each(|a| *a /= norm);
    psi
}

/// The product state `⊗_i (d_i |↓⟩ + u_i |↑⟩)` for random single-site states, with their
/// Bloch vectors computed from the 2-component spinors.
fn random_product(rng: &mut Rng, n: usize) -> (Vec<Complex64>, Vec<[f64; 3]>) {
    let spinors: Vec<(Complex64, Complex64)> = (0..n)
        .map(|_| {
            let (d, u) =
                (c(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)), c(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)));
            let norm = (d.norm_sqr() + u.norm_sqr()).sqrt();
            (d / norm, u / norm)
        })
        .collect();
    let psi = (0..1usize << n)
        .map(|s| spinors.iter().enumerate().map(|(i, &(d, u))| if (s >> i) & 1 == 1 { u } else { d }).product())
        .collect();
    // ⟨X⟩ = 2 Re(u* d), ⟨Y⟩ = 2 Im(u* d), ⟨Z⟩ = |u|² − |d|² (Y|↑⟩ = i|↓⟩)
    let bloch = spinors
        .iter()
        .map(|&(d, u)| [2.0 * (u.conj() * d).re, 2.0 * (u.conj() * d).im, u.norm_sqr() - d.norm_sqr()])
        .collect();
    (psi, bloch)
}

/// `S = −Σ λ ln λ` from the eigenvalues of the reduced density matrix of the sites in
/// `keep` (a bit mask), built element by element from its definition
/// `ρ[a, a'] = Σ_b ψ(a, b) ψ*(a', b)`.
fn entropy_from_rdm(psi: &[Complex64], n: usize, keep: usize) -> (f64, f64) {
    let kept: Vec<usize> = (0..n).filter(|i| (keep >> i) & 1 == 1).collect();
    let traced: Vec<usize> = (0..n).filter(|i| (keep >> i) & 1 == 0).collect();
    let compose = |a: usize, b: usize| -> usize {
        let mut s = 0;
        for (k, &site) in kept.iter().enumerate() {
            s |= ((a >> k) & 1) << site;
        }
        for (k, &site) in traced.iter().enumerate() {
            s |= ((b >> k) & 1) << site;
        }
        s
    };
    let (da, db) = (1usize << kept.len(), 1usize << traced.len());
    let rho = Mat::<Complex64>::from_fn(da, da, |a, a2| {
        (0..db).map(|b| psi[compose(a, b)] * psi[compose(a2, b)].conj()).sum::<Complex64>()
    });
    let lambda = rho.self_adjoint_eigenvalues(Side::Lower).unwrap();
    let s = lambda.iter().filter(|&&l| l > 1e-300).map(|&l| -l * l.ln()).sum();
    let purity: f64 = (0..da).flat_map(|a| (0..da).map(move |b| (a, b))).map(|(a, b)| rho[(a, b)].norm_sqr()).sum();
    (s, -purity.ln())
}

/// `⟨ψ|P|ψ⟩` for a Pauli string applied bit by bit: `x_mask` flips, `z_mask` gives −1 per
/// down site (Z|↑⟩ = |↑⟩), and
/// `y_mask` both with `Y|↑⟩ = i|↓⟩`, `Y|↓⟩ = −i|↑⟩`.
fn pauli_expectation(psi: &[Complex64], x_mask: usize, y_mask: usize, z_mask: usize) -> f64 {
    let mut acc = c(0.0, 0.0);
    for (s, &a) in psi.iter().enumerate() {
        // P|s⟩ = phase |s'⟩
        let mut phase = c(1.0, 0.0);
        if (!s & z_mask).count_ones() % 2 == 1 {
            phase = -phase;
        }
        for i in 0..usize::BITS as usize {
            if (y_mask >> i) & 1 == 1 {
                phase *= if (s >> i) & 1 == 1 { c(0.0, 1.0) } else { c(0.0, -1.0) };
            }
        }
        let s2 = s ^ x_mask ^ y_mask;
        acc += psi[s2].conj() * phase * a;
    }
    acc.re
}

#[test]
fn product_states_have_no_entanglement_and_no_connected_correlations() {
    let mut rng = Rng::new(101);
    for n in [1, 2, 5, 11] {
        let (psi, expected) = random_product(&mut rng, n);
        for cut in 0..=n {
            let e = entanglement(&psi, n, cut).unwrap();
            assert!(e.von_neumann.abs() < 1e-12 && e.renyi2.abs() < 1e-12, "N={n} cut={cut}: {e:?}");
        }
        let bloch = bloch_vectors(&psi, n).unwrap();
        for (got, want) in bloch.iter().zip(&expected) {
            for k in 0..3 {
                assert!((got[k] - want[k]).abs() < 1e-13, "N={n}: Bloch {got:?} vs {want:?}");
            }
        }
        let zz = zz_connected(&psi, n).unwrap();
        for i in 0..n {
            assert!((zz[i][i] - (1.0 - expected[i][2].powi(2))).abs() < 1e-13);
            for j in 0..n {
                if i != j {
                    assert!(zz[i][j].abs() < 1e-13, "N={n}: C[{i}][{j}] = {}", zz[i][j]);
                }
            }
        }
    }
}

#[test]
fn bell_and_ghz_states_carry_ln2_and_the_cut_follows_the_bit_order() {
    let r = std::f64::consts::FRAC_1_SQRT_2;
    // GHZ (|↓…↓⟩ + |↑…↑⟩)/√2: ln 2 across every cut
    for n in [2, 3, 6] {
        let mut psi = vec![c(0.0, 0.0); 1 << n];
        psi[0] = c(r, 0.0);
        psi[(1 << n) - 1] = c(0.0, r);
        for cut in 1..n {
            let e = entanglement(&psi, n, cut).unwrap();
            assert!((e.von_neumann - LN_2).abs() < 1e-14 && (e.renyi2 - LN_2).abs() < 1e-14, "N={n}: {e:?}");
            assert!((e.von_neumann_bits() - 1.0).abs() < 1e-14);
        }
    }
    // N = 5: a Bell pair on sites 0 and 1, the other sites down. Sites 0..cut are the low
    // bits, so cut = 1 splits the pair and cut = 2 keeps it whole.
    let n = 5;
    let mut psi = vec![c(0.0, 0.0); 1 << n];
    psi[0b00] = c(r, 0.0);
    psi[0b11] = c(r, 0.0);
    assert!((entanglement_entropy(&psi, n, 1).unwrap() - LN_2).abs() < 1e-14);
    for cut in 2..n {
        assert!(entanglement_entropy(&psi, n, cut).unwrap().abs() < 1e-14, "cut {cut}");
    }
    let lambda = schmidt_spectrum(&psi, n, 1).unwrap();
    assert!((lambda[0] - 0.5).abs() < 1e-15 && (lambda[1] - 0.5).abs() < 1e-15);
    // Bell pairs (0, 3) and (1, 4) across cut 3: 2 ln 2
    let mut psi = vec![c(0.0, 0.0); 1 << n];
    for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        psi[a | (a << 3) | (b << 1) | (b << 4)] = c(0.5, 0.0);
    }
    assert!((entanglement_entropy(&psi, n, 3).unwrap() - 2.0 * LN_2).abs() < 1e-14);
    // the pair's connected correlation: ⟨Z0 Z1⟩ = 1, ⟨Z_i⟩ = 0 on a Bell pair
    let mut bell = vec![c(0.0, 0.0); 4];
    bell[0] = c(r, 0.0);
    bell[3] = c(r, 0.0);
    let zz = zz_connected(&bell, 2).unwrap();
    assert!((zz[0][1] - 1.0).abs() < 1e-15 && (zz[0][0] - 1.0).abs() < 1e-15);
}

#[test]
fn random_state_entropy_equals_the_reduced_density_matrix_one() {
    let mut rng = Rng::new(7);
    let n = 7;
    let psi = random_state(&mut rng, n);
    for cut in 1..n {
        let e = entanglement(&psi, n, cut).unwrap();
        let low = (1 << cut) - 1;
        let (s_a, s2_a) = entropy_from_rdm(&psi, n, low);
        let (s_b, s2_b) = entropy_from_rdm(&psi, n, ((1 << n) - 1) ^ low);
        assert!((e.von_neumann - s_a).abs() < 1e-12, "cut {cut}: SVD {} vs ρ_A {s_a}", e.von_neumann);
        assert!((s_a - s_b).abs() < 1e-12, "cut {cut}: S(A) = {s_a} vs S(B) = {s_b}");
        assert!((e.renyi2 - s2_a).abs() < 1e-12 && (s2_a - s2_b).abs() < 1e-12, "cut {cut}: Rényi-2");
        assert!(e.renyi2 <= e.von_neumann + 1e-14);
        // Schmidt symmetry through the library: cut and N − cut of the bit-reversed state
        let reversed: Vec<Complex64> =
            (0..1usize << n).map(|s| psi[s.reverse_bits() >> (usize::BITS as usize - n)]).collect();
        assert!((entanglement_entropy(&reversed, n, n - cut).unwrap() - e.von_neumann).abs() < 1e-12);
    }
    // normalisation is divided out
    let scaled: Vec<Complex64> = psi.iter().map(|a| a * 3.0).collect();
    assert!((entanglement_entropy(&scaled, n, 3).unwrap() - entanglement_entropy(&psi, n, 3).unwrap()).abs() < 1e-13);
}

#[test]
fn bloch_vectors_and_zz_match_pauli_strings_applied_bit_by_bit() {
    let mut rng = Rng::new(23);
    // N = 12 exceeds the 10 low sites of the two-level ZZ sum: all three kinds of pairs
    for n in [3, 12] {
        let psi = random_state(&mut rng, n);
        let bloch = bloch_vectors(&psi, n).unwrap();
        let zz = zz_connected(&psi, n).unwrap();
        for i in 0..n {
            let b = 1 << i;
            let want =
                [pauli_expectation(&psi, b, 0, 0), pauli_expectation(&psi, 0, b, 0), pauli_expectation(&psi, 0, 0, b)];
            for k in 0..3 {
                assert!((bloch[i][k] - want[k]).abs() < 1e-13, "N={n} site {i}: {:?} vs {want:?}", bloch[i]);
            }
        }
        for i in 0..n {
            for j in 0..n {
                let zij = if i == j { 1.0 } else { pauli_expectation(&psi, 0, 0, (1 << i) | (1 << j)) };
                let want = zij - bloch[i][2] * bloch[j][2];
                assert!((zz[i][j] - want).abs() < 1e-13, "N={n}: C[{i}][{j}] = {} vs {want}", zz[i][j]);
            }
        }
    }
}

#[test]
fn xxx_spins_evolve_independently_and_agree_with_the_mean_field() {
    // α = 1: V commutes with H_g, so from all-down every spin precesses alone under ωX:
    // ψ = cos ωt |↓⟩ − i sin ωt |↑⟩, hence (⟨X⟩, ⟨Y⟩, ⟨Z⟩) = (0, sin 2ωt, −cos 2ωt)
    // (d⟨Y⟩/dt = −2ω⟨Z⟩ > 0 at the start, with Y|↑⟩ = i|↓⟩).
    let chain = Chain::builder(7)
        .alpha(1.0)
        .g(0.8)
        .omega(1.7)
        .b(0.9)
        .couplings(Couplings::PowerLaw { p: 1.3 })
        .build()
        .unwrap();
    let omega = chain.omega();
    let times: Vec<f64> = (0..=12).map(|k| 0.15 * k as f64).collect();
    let set = ObservableSet::all();
    for solver in [Solver::Dense, Solver::Chebyshev] {
        let tr = trajectory(&chain, solver, &times, &set, 1e-12, &Silent).unwrap();
        assert_eq!(tr.solver, solver.as_str());
        assert!(tr.bounds.unwrap().bloch < 1e-10);
        for p in &tr.points {
            let want = [0.0, (2.0 * omega * p.t).sin(), -(2.0 * omega * p.t).cos()];
            assert!(
                p.entropy.unwrap() <= 1e-10 && p.renyi2.unwrap() <= 1e-10,
                "{solver} t={}: S = {:?}",
                p.t,
                p.entropy
            );
            for b in p.bloch.as_ref().unwrap() {
                for k in 0..3 {
                    assert!((b[k] - want[k]).abs() < 1e-10, "{solver} t={}: {b:?} vs {want:?}", p.t);
                }
            }
            let zz = p.zz.as_ref().unwrap();
            for (i, row) in zz.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    let want = if i == j { 1.0 - want[2] * want[2] } else { 0.0 };
                    assert!((v - want).abs() < 1e-10, "{solver} t={}: C[{i}][{j}] = {v}", p.t);
                }
            }
        }
        // the classical Bloch vectors are the same
        let mf = mean_field_trajectory(&chain, &times, &set, 1e-10, &Silent).unwrap();
        assert_eq!(mf.solver, "mean-field");
        for (q, m) in tr.points.iter().zip(&mf.points) {
            assert_eq!(m.entropy, Some(0.0));
            assert!(m.variance.is_none());
            for (bq, bm) in q.bloch.as_ref().unwrap().iter().zip(m.bloch.as_ref().unwrap()) {
                for k in 0..3 {
                    assert!((bq[k] - bm[k]).abs() < 1e-8, "t={}: quantum {bq:?} vs mean field {bm:?}", q.t);
                }
            }
            assert!((q.work - m.work).abs() < 1e-8);
        }
    }
}

#[test]
fn ising_chain_entangles_and_its_z_profile_rebuilds_the_work() {
    // α = 0: H_g = −Σ g_ij Z_i Z_j, so W = B Σ⟨Z_i⟩ + NB + ⟨H_g⟩ − ⟨H_g⟩_0 with
    // ⟨H_g⟩ = −Σ g_ij (C_ij + ⟨Z_i⟩⟨Z_j⟩) and ⟨H_g⟩_0 = −G.
    for (n, solver) in [(6, Solver::Dense), (11, Solver::Chebyshev)] {
        let chain = Chain::builder(n)
            .alpha(0.0)
            .g(1.0)
            .omega(2.0)
            .b(1.3)
            .couplings(Couplings::PowerLaw { p: 1.0 })
            .build()
            .unwrap();
        let times = [0.0, 0.1, 0.3, 0.7, 1.2];
        let set: ObservableSet = "entanglement,bloch,zz".parse().unwrap();
        let tr = trajectory(&chain, solver, &times, &set, 1e-11, &Silent).unwrap();
        assert_eq!(tr.cut, n / 2);
        assert!(tr.points[0].entropy.unwrap() < 1e-14);
        for p in &tr.points[1..] {
            assert!(p.entropy.unwrap() > 1e-4, "N={n} t={}: S = {:?}", p.t, p.entropy);
        }
        let peak = tr.peak_entropy().unwrap();
        let best = tr.points.iter().map(|p| p.entropy.unwrap()).fold(0.0, f64::max);
        assert_eq!(peak.value, best);
        assert!(best > 0.5, "N={n}: the Ising chain should entangle strongly by t = 1.2, peak S = {best}");
        assert!(tr.points.iter().any(|p| p.t == peak.time && p.entropy == Some(best)));
        for p in &tr.points {
            let z: Vec<f64> = p.bloch.as_ref().unwrap().iter().map(|b| b[2]).collect();
            let zz = p.zz.as_ref().unwrap();
            let h_g: f64 = chain.pairs().iter().map(|&(i, j, g)| -g * (zz[i][j] + z[i] * z[j])).sum();
            let w = chain.b() * z.iter().sum::<f64>() + n as f64 * chain.b() + h_g + chain.total_coupling();
            assert!((w - p.work).abs() < 1e-10, "N={n} t={}: W from Z, ZZ = {w} vs {}", p.t, p.work);
        }
    }
}

/// Kronecker product of dense row-major square matrices.
fn kron(a: &[f64], da: usize, b: &[f64], db: usize) -> Vec<f64> {
    let d = da * db;
    let mut out = vec![0.0; d * d];
    for (ia, ja) in (0..da).flat_map(|i| (0..da).map(move |j| (i, j))) {
        for (ib, jb) in (0..db).flat_map(|i| (0..db).map(move |j| (i, j))) {
            out[(ia * db + ib) * d + ja * db + jb] = a[ia * da + ja] * b[ib * db + jb];
        }
    }
    out
}

/// The `2^N × 2^N` matrix of a product of one-site operators (`ops[i]` on site `i`, 2 × 2
/// in the order (down, up)); site `i` is bit `i` of the basis index, so site `N − 1` is
/// the leftmost factor.
fn pauli_string(ops: &[[f64; 4]]) -> Vec<f64> {
    ops.iter().rev().fold(vec![1.0], |acc, op| {
        let d = (acc.len() as f64).sqrt() as usize;
        kron(&acc, d, op, 2)
    })
}

/// `H0 = B Σ Z_i − Σ_{i<j} g_ij [Z_i Z_j + α (X_i X_j + Y_i Y_j)]` (physics.md) as a dense
/// matrix from Kronecker products of 2 × 2 Pauli matrices, with the couplings `g_ij` given by
/// the caller: nothing from spinbat's `Operators` or `Chain::coupling`.
/// `Y_i Y_j = −(iY)_i (iY)_j` with the real `iY = [[0, −1], [1, 0]]` in (down, up) order.
fn pauli_h0(n: usize, b: f64, alpha: f64, g: impl Fn(usize, usize) -> f64) -> Mat<f64> {
    const I: [f64; 4] = [1.0, 0.0, 0.0, 1.0];
    const X: [f64; 4] = [0.0, 1.0, 1.0, 0.0];
    const IY: [f64; 4] = [0.0, -1.0, 1.0, 0.0];
    const Z: [f64; 4] = [-1.0, 0.0, 0.0, 1.0];
    let d = 1usize << n;
    let string = |sites: &[(usize, [f64; 4])]| {
        let mut ops = vec![I; n];
        for &(i, op) in sites {
            ops[i] = op;
        }
        pauli_string(&ops)
    };
    let mut h = vec![0.0; d * d];
    let mut add = |c: f64, m: Vec<f64>| h.iter_mut().zip(m).for_each(|(a, v)| *a += c * v);
    for i in 0..n {
        add(b, string(&[(i, Z)]));
        for j in i + 1..n {
            let gij = g(i, j);
            add(-gij, string(&[(i, Z), (j, Z)]));
            add(-gij * alpha, string(&[(i, X), (j, X)]));
            add(gij * alpha, string(&[(i, IY), (j, IY)]));
        }
    }
    Mat::from_fn(d, d, |r, c| h[r * d + c])
}

/// `Var(H0) = ⟨ψ|H0²|ψ⟩ − ⟨ψ|H0|ψ⟩²` with `H0` from [`pauli_h0`] and `H0²` a matrix product.
fn dense_variance(h0: &Mat<f64>, psi: &[Complex64]) -> f64 {
    let d = h0.nrows();
    let h2 = h0 * h0;
    let quad = |m: &Mat<f64>| -> f64 {
        (0..d).flat_map(|a| (0..d).map(move |b| (a, b))).map(|(a, b)| (psi[a].conj() * psi[b] * m[(a, b)]).re).sum()
    };
    quad(&h2) - quad(h0).powi(2)
}

#[test]
fn energy_variance_vanishes_at_start_and_matches_a_dense_computation() {
    // a power-law ring: the reference couplings g / min(|i-j|, N-|i-j|)^p are written out here
    let (n, g, p, alpha, b) = (7, 0.9, 1.5, 0.6, 1.2);
    let chain = Chain::builder(n)
        .alpha(alpha)
        .g(g)
        .b(b)
        .omega(1.5)
        .couplings(Couplings::PowerLaw { p })
        .boundary(spinbat::Boundary::Periodic)
        .build()
        .unwrap();
    let h0 = pauli_h0(n, b, alpha, |i, j| {
        let d = (j - i).min(n - (j - i)) as f64;
        g / d.powf(p)
    });
    let times = [0.0, 0.2, 0.5, 1.1];
    let set: ObservableSet = "variance".parse().unwrap();
    let tr = trajectory(&chain, Solver::Chebyshev, &times, &set, 1e-12, &Silent).unwrap();
    assert!(tr.points[0].bloch.is_none() && tr.points[0].entropy.is_none());
    assert!(tr.points[0].variance.unwrap().abs() < 1e-24, "Var at t = 0: {:?}", tr.points[0].variance);
    // states from the other propagator, variance from the dense matrix
    let mut dense = Dense::new(&chain).unwrap();
    let mut k = 0;
    dense
        .for_each_state(&times, &mut |s, state| {
            let (psi, ops) = state.pure().expect("a pure state");
            let want = dense_variance(&h0, psi);
            let got = tr.points[k].variance.unwrap();
            assert!((got - want).abs() < 1e-10 * want.max(1.0), "t={}: {got} vs dense {want}", s.t);
            assert!((energy_variance(ops, psi).unwrap() - want).abs() < 1e-10 * want.max(1.0));
            k += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(k, times.len());
    assert!(tr.max_variance().unwrap().value > 0.1);
}

#[test]
fn chebyshev_states_equal_dense_states_and_samples() {
    let chain =
        Chain::builder(8).alpha(0.3).g(1.2).omega(3.0).couplings(Couplings::PowerLaw { p: 2.0 }).build().unwrap();
    // more times than one Chebyshev batch, so both the real and the complex path serve
    let times: Vec<f64> = (0..40).map(|k| 0.05 * k as f64).collect();
    let mut dense_states = Vec::new();
    Dense::new(&chain)
        .unwrap()
        .for_each_state(&times, &mut |_, state| {
            let (psi, _) = state.pure().expect("a pure state");
            dense_states.push(psi.to_vec());
            Ok(())
        })
        .unwrap();
    let mut cheb = Chebyshev::new(&chain, 1e-12).unwrap();
    let mut works = Vec::new();
    let mut k = 0;
    cheb.for_each_state(&times, &mut |s, state| {
        let (psi, _) = state.pure().expect("a pure state");
        let overlap: Complex64 = dense_states[k].iter().zip(psi).map(|(a, b)| a.conj() * b).sum();
        assert!((overlap.norm() - 1.0).abs() < 1e-11, "t={}: |⟨ψ_dense|ψ_cheb⟩| = {}", s.t, overlap.norm());
        works.push(s.work);
        k += 1;
        Ok(())
    })
    .unwrap();
    assert!(cheb.state_error() > 0.0 && cheb.state_error() < 1e-10);
    // sample measures through the Gram products of the kept terms, the states through
    // accumulated batches: two computations of the same W, equal to rounding
    let again = Chebyshev::new(&chain, 1e-12).unwrap().sample(&times).unwrap();
    for (w, s) in works.iter().zip(&again) {
        assert!((*w - s.work).abs() < 1e-12, "for_each_state and sample differ at t = {}: {w} vs {}", s.t, s.work);
    }
}

#[test]
fn bad_requests_are_typed_errors() {
    let chain = Chain::builder(4).build().unwrap();
    let all = ObservableSet::all();
    assert!(matches!(
        trajectory(&chain, Solver::WeakCoupling, &[0.1], &all, 1e-10, &Silent),
        Err(SpinbatError::Unsupported { solver: "weak-coupling", .. })
    ));
    for cut in [0, 4, 9] {
        let err = trajectory(&chain, Solver::Auto, &[0.1], &all.with_cut(cut), 1e-10, &Silent).unwrap_err();
        assert!(matches!(err, SpinbatError::InvalidParameter { name: "cut", .. }), "cut {cut}: {err}");
    }
    assert!(matches!(
        trajectory(&chain, Solver::Auto, &[0.3, 0.1], &all, 1e-10, &Silent),
        Err(SpinbatError::InvalidTimes { .. })
    ));
    // far beyond memory: refused before allocating; all-to-all chains name the Dicke limit
    let big = Chain::builder(44).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
    assert!(matches!(
        trajectory(&big, Solver::Auto, &[0.1], &all, 1e-10, &Silent),
        Err(SpinbatError::TooLarge { n_sites: 44, .. })
    ));
    let dicke = Chain::builder(44).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
    let err = trajectory(&dicke, Solver::Auto, &[0.1], &all, 1e-10, &Silent).unwrap_err();
    assert!(matches!(err, SpinbatError::Unsupported { solver: "dicke", .. }), "{err}");
    // states of the wrong length
    assert!(bloch_vectors(&[c(1.0, 0.0); 3], 2).is_err());
    assert!(entanglement(&[c(0.0, 0.0); 4], 2, 1).is_err());
    assert!(entanglement(&[c(1.0, 0.0); 4], 2, 3).is_err());
    // parsing
    let parsed: ObservableSet = "all".parse().unwrap();
    assert_eq!(parsed, ObservableSet::all());
    let parsed: ObservableSet = "zz, entropy".parse().unwrap();
    assert!(parsed.zz && parsed.entanglement && !parsed.bloch && !parsed.variance);
    assert_eq!(parsed.to_string(), "entanglement,zz");
    let err = "bloch,spin".parse::<ObservableSet>().unwrap_err();
    assert!(err.to_string().contains("unknown observable"), "{err}");
}

/// The one-pass measurement (`state_moments`) against the separate functions: Bloch
/// vectors, `Var(H0)` (about a shifted mean, also far from `⟨H0⟩`) and the populations of
/// the magnetisation sectors, on random states with flip-flops (`α ≠ 0`), above and below
/// the block size of the pass; and for mirror-even states the mirrored half.
#[test]
fn one_pass_state_moments_equal_the_separate_measurements() {
    use spinbat::observe::correlations::state_moments;
    use spinbat::observe::ergotropy::populations;
    use spinbat::operator::Operators;
    let mut rng = Rng::new(31);
    for n in [1usize, 3, 8, 13, 14] {
        let chain = Chain::builder(n).alpha(0.6).g(0.9).couplings(Couplings::PowerLaw { p: 1.2 }).build().unwrap();
        let ops = Operators::new(&chain).unwrap();
        let mut psi = random_state(&mut rng, n);
        psi.iter_mut().for_each(|a| *a *= 1.3); // unnormalised on purpose
        let bloch = bloch_vectors(&psi, n).unwrap();
        let var = energy_variance(&ops, &psi).unwrap();
        let pops = populations(&psi, n);
        for m in [0.0, ops.all_down_energy(), 3.7] {
            let got = state_moments(&ops, &psi, false, m).unwrap();
            for (x, y) in got.bloch.iter().zip(&bloch) {
                (0..3).for_each(|k| assert!((x[k] - y[k]).abs() < 1e-13, "N = {n}: Bloch {x:?} vs {y:?}"));
            }
            assert!((got.variance - var).abs() < 1e-12 * var.max(1.0), "N = {n}, m = {m}: {} vs {var}", got.variance);
            for (x, y) in got.populations.iter().zip(&pops) {
                assert!((x - y).abs() < 1e-14, "N = {n}: populations {x} vs {y}");
            }
        }
        // a mirror-even state: (ψ + Rψ)/2
        let reflect = |s: usize| (0..n).fold(0, |acc, i| acc | (((s >> i) & 1) << (n - 1 - i)));
        let even: Vec<Complex64> = (0..psi.len()).map(|s| 0.5 * (psi[s] + psi[reflect(s)])).collect();
        let want = bloch_vectors(&even, n).unwrap();
        let got = state_moments(&ops, &even, true, 0.0).unwrap();
        for (x, y) in got.bloch.iter().zip(&want) {
            (0..3).for_each(|k| assert!((x[k] - y[k]).abs() < 1e-13, "N = {n}, mirror-even: {x:?} vs {y:?}"));
        }
    }
}

/// The one pass over a sector state's stored tiles (`row_moments` of
/// `ReflectionSector::rows`: read in place, never expanded) against the
/// separate measurements of the expanded state: Bloch vectors of every site (half of them
/// mirrored), populations and `Var(H0)` about several shifts, for even and odd `N`, below
/// and above one tile (to three sites that tell tiles apart, `N = 18`); and no tile
/// source where `H0` has flip-flops (`α ≠ 0`).
#[test]
fn sector_states_measured_in_their_tiles_equal_their_expanded_state() {
    use spinbat::observe::correlations::row_moments;
    use spinbat::observe::ergotropy::populations;
    use spinbat::operator::Operators;
    use spinbat::symmetry::{ReflectionSector, SymmetricTiles};
    let mut rng = Rng::new(43);
    for (n, fields) in [
        (2usize, false),
        (3, false),
        (7, false),
        (12, false),
        (13, false),
        (15, false),
        (12, true),
        (13, true),
        (16, false),
        (17, true),
        (18, false),
    ] {
        // mirror-symmetric per-site fields B_i = B_(N-1-i) where asked
        let mut builder = Chain::builder(n).alpha(0.0).g(0.9).couplings(Couplings::PowerLaw { p: 1.2 });
        if fields {
            let half: Vec<f64> = (0..n.div_ceil(2)).map(|_| rng.uniform(0.5, 1.5)).collect();
            builder = builder.site_fields((0..n).map(|i| half[i.min(n - 1 - i)]).collect());
        }
        let chain = builder.build().unwrap();
        let ops = Operators::new(&chain).unwrap();
        let sector = ReflectionSector::new(&chain).unwrap();
        // a random mirror-even state, (ψ + Rψ)/2, unnormalised
        let psi = random_state(&mut rng, n);
        let reflect = |s: usize| (0..n).fold(0, |acc, i| acc | (((s >> i) & 1) << (n - 1 - i)));
        let even: Vec<Complex64> = (0..psi.len()).map(|s| 0.7 * (psi[s] + psi[reflect(s)])).collect();
        let mut stored = vec![Complex64::new(0.0, 0.0); ReflectionSector::dimension(n)];
        for (s, &a) in even.iter().enumerate() {
            stored[sector.row_of_full_state(s)] = a;
        }
        let mut expanded = vec![Complex64::new(0.0, 0.0); 1 << n];
        sector.expand(&stored, &mut expanded);
        assert_eq!(expanded, even, "N = {n}: the stored state is the even state");
        let rows = sector.rows(&stored).expect("alpha = 0: H0 is diagonal");
        assert!((rows.all_down_energy() - ops.all_down_energy()).abs() < 1e-12, "N = {n}: E_0");
        let bloch = bloch_vectors(&even, n).unwrap();
        let var = energy_variance(&ops, &even).unwrap();
        let pops = populations(&even, n);
        for m in [0.0, ops.all_down_energy(), 3.7] {
            let got = row_moments(&rows, m).unwrap();
            for (x, y) in got.bloch.iter().zip(&bloch) {
                (0..3).for_each(|k| assert!((x[k] - y[k]).abs() < 1e-13, "N = {n}: Bloch {x:?} vs {y:?}"));
            }
            assert!((got.variance - var).abs() < 1e-12 * var.max(1.0), "N = {n}, m = {m}: {} vs {var}", got.variance);
            for (x, y) in got.populations.iter().zip(&pops) {
                assert!((x - y).abs() < 1e-14, "N = {n}: populations {x} vs {y}");
            }
        }
        let flips = Chain::builder(n).alpha(0.5).couplings(Couplings::PowerLaw { p: 1.2 }).build().unwrap();
        assert!(ReflectionSector::new(&flips).unwrap().rows(&stored).is_none(), "N = {n}: alpha != 0");
    }
}
