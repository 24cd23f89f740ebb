//! Matrix-product states (MPS) for chains beyond exact diagonalisation: the state
//! ([`Mps`]), the battery's Hamiltonians as matrix-product operators ([`BatteryMpos`]:
//! `H`, `H0` and the rate operator `R = i[H, H0]`, couplings of any pattern compressed by
//! SVD with their fit error), and two-site TDVP ([`Tdvp`]) for `e^{−iHt}` from the
//! all-down product state. `crate::propagate`'s `mps` solver drives them.
//!
//! Conventions as in physics.md: site `i` is `0..N−1`, spin index `0` down and `1` up,
//! `H_g = −Σ_{i<j} g_ij [Z_i Z_j + α (X_i X_j + Y_i Y_j)]`, `H = H_g + ω Σ X_i`,
//! `H0 = H_g + B Σ Z_i`. The tensors are complex (`e^{−iHt}`), dense, first index
//! fastest ([`tensor`]); all linear algebra is faer (thin SVD, QR, self-adjoint eigen,
//! matrix products).
//!
//! Layer: below `propagate/` (which wraps [`Tdvp`] as a `Propagator`), above `model/`.

mod expand;
pub mod krylov;
mod measure;
pub mod mpo;
mod settings;
mod state;
pub mod tdvp;
pub mod tensor;

pub use measure::entropies;
pub use mpo::{BatteryMpos, CouplingFactors, Mpo, MPO_SVD_CUTOFF};
pub use settings::{MpsReport, MpsSettings, DEFAULT_BOND_DIM, DEFAULT_STEPS_PER_GRID_STEP, DEFAULT_TRUNCATION};
pub use state::Mps;
pub use tdvp::{Tdvp, Truncation, KRYLOV_TOL};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Boundary, Chain, Couplings};
    use faer::{Mat, Side};
    use num_complex::Complex64;
    use std::sync::Arc;

    /// `H_g + Σ_i (hx X_i + hy Y_i + hz Z_i)` as a dense matrix, built from the Pauli
    /// action on basis states (bit i: site i up), independently of the MPO code.
    fn dense(chain: &Chain, hx: f64, hz: f64) -> Mat<Complex64> {
        let n = chain.n_sites();
        let dim = 1usize << n;
        let mut m = Mat::<Complex64>::zeros(dim, dim);
        let z = |s: usize, i: usize| if (s >> i) & 1 == 1 { 1.0 } else { -1.0 };
        for s in 0..dim {
            for i in 0..n {
                m[(s, s)] += Complex64::new(hz * z(s, i), 0.0);
                m[(s ^ (1 << i), s)] += Complex64::new(hx, 0.0);
            }
            for (i, j, g) in chain.pairs() {
                m[(s, s)] -= Complex64::new(g * z(s, i) * z(s, j), 0.0);
                if z(s, i) != z(s, j) {
                    // X_iX_j + Y_iY_j flips an anti-parallel pair with amplitude 2
                    m[(s ^ (1 << i) ^ (1 << j), s)] -= Complex64::new(2.0 * chain.alpha() * g, 0.0);
                }
            }
        }
        m
    }

    fn chains() -> Vec<Chain> {
        vec![
            Chain::builder(6)
                .couplings(Couplings::NearestNeighbour)
                .alpha(0.37)
                .omega(1.7)
                .b(0.8)
                .g(1.3)
                .build()
                .unwrap(),
            Chain::builder(7).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.0).omega(4.0).build().unwrap(),
            Chain::builder(7).couplings(Couplings::PowerLaw { p: 1.6 }).alpha(-0.6).omega(2.3).g(0.7).build().unwrap(),
            Chain::builder(6)
                .couplings(Couplings::PowerLaw { p: 0.5 })
                .boundary(Boundary::Periodic)
                .alpha(0.8)
                .build()
                .unwrap(),
        ]
    }

    fn max_diff(a: &[Complex64], b: &Mat<Complex64>) -> f64 {
        let dim = b.nrows();
        (0..dim * dim).map(|k| (a[k] - b[(k / dim, k % dim)]).norm()).fold(0.0, f64::max)
    }

    #[test]
    fn mpos_contract_to_the_dense_hamiltonians_and_the_rate_commutator() {
        for chain in chains() {
            let mpos = BatteryMpos::new(&chain).unwrap();
            // exact construction: every singular value of the small blocks is kept
            assert!(mpos.factors.fit_error() < 1e-13, "fit error {}", mpos.factors.fit_error());
            let h = dense(&chain, chain.omega(), 0.0);
            let h0 = dense(&chain, 0.0, chain.b());
            let i = Complex64::new(0.0, 1.0);
            let rate = (&h * &h0 - &h0 * &h) * faer::Scale(i);
            let tol = 1e-12 * (chain.n_sites() as f64).powi(2);
            assert!(max_diff(&mpos.h.to_dense(), &h) < tol, "H {chain:?}");
            assert!(max_diff(&mpos.h0.to_dense(), &h0) < tol, "H0 {chain:?}");
            assert!(max_diff(&mpos.rate.to_dense(), &rate) < tol, "i[H, H0] {chain:?}");
        }
        // nearest neighbour: bond dimension 2 + 3 for XXZ, 2 + 1 for Ising
        let nn = Chain::builder(9).couplings(Couplings::NearestNeighbour).alpha(0.5).build().unwrap();
        assert_eq!(BatteryMpos::new(&nn).unwrap().h.max_bond(), 5);
        let ising = nn.with_alpha(0.0).unwrap();
        assert_eq!(BatteryMpos::new(&ising).unwrap().h.max_bond(), 3);
    }

    #[test]
    fn power_law_mpo_fit_is_small_and_the_rank_grows_slowly() {
        let chain = Chain::builder(200).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
        let f = CouplingFactors::new(&chain).unwrap();
        let r = f.ranks().iter().copied().max().unwrap();
        assert!(f.fit_error() < 1e-11, "fit error {}", f.fit_error());
        assert!(r < 30, "rank {r}");
    }

    #[test]
    fn tdvp_follows_the_exact_evolution_of_a_small_chain() {
        for chain in chains().into_iter().filter(|c| c.boundary() == Boundary::Open) {
            let n = chain.n_sites();
            let mpos = BatteryMpos::new(&chain).unwrap();
            let h = dense(&chain, chain.omega(), 0.0);
            let h0 = dense(&chain, 0.0, chain.b());
            let evd = h.self_adjoint_eigen(Side::Lower).unwrap();
            let (u, s) = (evd.U(), evd.S().column_vector());
            let dim = 1usize << n;
            let trunc = Truncation { max_bond: 64, max_discarded: 1e-14 };
            let mut tdvp = Tdvp::new(Mps::all_down(n), Arc::new(mpos.h.clone()), trunc);
            let dt = 0.005;
            for step in 1..=60 {
                tdvp.step(dt).unwrap();
                if step % 20 != 0 {
                    continue;
                }
                let t = tdvp.time();
                // ψ(t) = U e^{−iΛt} U† e_0
                let exact: Vec<Complex64> = (0..dim)
                    .map(|x| {
                        (0..dim).map(|k| u[(x, k)] * Complex64::from_polar(1.0, -s[k].re * t) * u[(0, k)].conj()).sum()
                    })
                    .collect();
                let got = tdvp.state().to_dense();
                let overlap: Complex64 = exact.iter().zip(&got).map(|(a, b)| a.conj() * b).sum();
                assert!((1.0 - overlap.norm()).abs() < 1e-7, "{chain:?} t = {t}: fidelity {}", overlap.norm());
                let w_exact = (0..dim)
                    .map(|x| (0..dim).map(|y| exact[x].conj() * h0[(x, y)] * exact[y]).sum::<Complex64>())
                    .sum::<Complex64>()
                    .re;
                let w_mps = tdvp.state().expectation(&mpos.h0).re;
                assert!((w_exact - w_mps).abs() < 1e-6, "{chain:?} t = {t}: {w_mps} vs {w_exact}");
                assert!((tdvp.state().norm_sqr() - 1.0).abs() < 1e-10);
            }
        }
    }

    /// `ψ(t) = U e^{−iΛt} U† |↓…↓⟩` from the dense `H` (bit `i` of the index: site `i` up).
    fn exact_state(h: &Mat<Complex64>, t: f64) -> Vec<Complex64> {
        let evd = h.self_adjoint_eigen(Side::Lower).unwrap();
        let (u, s) = (evd.U(), evd.S().column_vector());
        let dim = h.nrows();
        (0..dim)
            .map(|x| (0..dim).map(|k| u[(x, k)] * Complex64::from_polar(1.0, -s[k].re * t) * u[(0, k)].conj()).sum())
            .collect()
    }

    #[test]
    fn one_site_states_and_the_half_chain_entropy_match_the_exact_state() {
        let chain = Chain::builder(8).couplings(Couplings::PowerLaw { p: 1.3 }).alpha(0.45).omega(2.7).build().unwrap();
        let n = chain.n_sites();
        let mpos = BatteryMpos::new(&chain).unwrap();
        let h = dense(&chain, chain.omega(), 0.0);
        let trunc = Truncation { max_bond: 64, max_discarded: 1e-16 };
        let mut tdvp = Tdvp::new(Mps::all_down(n), Arc::new(mpos.h.clone()), trunc);
        for _ in 0..80 {
            tdvp.step(0.005).unwrap();
        }
        let exact = exact_state(&h, tdvp.time());
        let own = tdvp.state().to_dense();
        // ‖ψ_mps − e^{iφ}ψ_exact‖ = √(2(1 − |⟨ψ_exact|ψ_mps⟩|)) bounds |Δ⟨O⟩| by 2‖O‖ times it
        let overlap: Complex64 = exact.iter().zip(&own).map(|(a, b)| a.conj() * b).sum();
        let distance = (2.0 * (1.0 - overlap.norm()).max(0.0)).sqrt();
        assert!(distance < 1e-4, "TDVP state off by {distance}");
        // Bloch vectors straight from the amplitudes: ⟨Z_i⟩ = Σ|ψ(s)|² z_i(s),
        // ⟨X_i⟩ + i⟨Y_i⟩ = 2⟨σ⁺_i⟩ = 2 Σ_{s: i down} conj(ψ(s + 2^i)) ψ(s)
        let bloch_of = |psi: &[Complex64], i: usize| {
            let mut z = 0.0;
            let mut xy = Complex64::new(0.0, 0.0);
            for (s, a) in psi.iter().enumerate() {
                z += a.norm_sqr() * if (s >> i) & 1 == 1 { 1.0 } else { -1.0 };
                if (s >> i) & 1 == 0 {
                    xy += 2.0 * psi[s | (1 << i)].conj() * a;
                }
            }
            [xy.re, xy.im, z]
        };
        let bloch = tdvp.state().bloch_vectors();
        for (i, r) in bloch.iter().enumerate() {
            // the contraction: against the MPS's own amplitudes to rounding
            let own_r = bloch_of(&own, i);
            let exact_r = bloch_of(&exact, i);
            for c in 0..3 {
                assert!((r[c] - own_r[c]).abs() < 1e-12, "site {i} component {c}: {} vs {}", r[c], own_r[c]);
                // the state: against the exact one within 2‖σ‖ distance
                assert!(
                    (r[c] - exact_r[c]).abs() <= 2.0 * distance,
                    "site {i} component {c}: {} vs {}",
                    r[c],
                    exact_r[c]
                );
            }
            assert!(r[0].abs() > 1e-3, "a nontrivial state: {r:?}");
        }
        // the half-chain entropy from the Schmidt values of ψ as a 2^{N/2} × 2^{N/2} matrix
        // (rows the first half's sites): of the MPS's own amplitudes to rounding, of the
        // exact state within the state error (Fannes: |ΔS| ≤ T ln(d − 1) + h(T), T ≤ distance)
        let entropy_of = |psi: &[Complex64]| {
            let half = 1usize << (n / 2);
            let m = Mat::<Complex64>::from_fn(half, half, |r, c| psi[r + half * c]);
            let sv = m.singular_values().unwrap();
            sv.iter().map(|x| x * x).filter(|&p| p > 0.0).map(|p| -p * p.ln()).sum::<f64>()
        };
        let got = tdvp.state().entropy(n / 2 - 1).unwrap();
        let want = entropy_of(&own);
        assert!(want > 1e-3, "an entangled state: {want}");
        assert!((got - want).abs() < 1e-10, "entropy {got} vs {want} (the MPS's amplitudes)");
        let t = distance;
        let fannes = t * ((1usize << (n / 2)) as f64 - 1.0).ln() - t * t.ln() - (1.0 - t) * (1.0 - t).ln();
        let want = entropy_of(&exact);
        assert!((got - want).abs() <= fannes, "entropy {got} vs exact {want} (Fannes {fannes:e})");
    }

    #[test]
    fn measurements_match_the_amplitudes_of_the_same_state() {
        // populations, ZZ, <H0^2>, Schmidt values and overlaps against the MPS's own 2^N
        // amplitudes, computed here from them by sums over the basis and dense matrices
        let chain =
            Chain::builder(8).couplings(Couplings::PowerLaw { p: 0.9 }).alpha(-0.35).omega(2.1).build().unwrap();
        let n = chain.n_sites();
        let mpos = BatteryMpos::new(&chain).unwrap();
        let trunc = Truncation { max_bond: 64, max_discarded: 1e-16 };
        let mut tdvp = Tdvp::new(Mps::all_down(n), Arc::new(mpos.h.clone()), trunc);
        for _ in 0..40 {
            tdvp.step(0.01).unwrap();
        }
        let mps = tdvp.state().clone();
        let psi = mps.to_dense();
        let dim = psi.len();
        let norm: f64 = psi.iter().map(|a| a.norm_sqr()).sum();
        // p_M: the weight of the basis states with M bits set
        let mut want = vec![0.0; n + 1];
        for (s, a) in psi.iter().enumerate() {
            want[s.count_ones() as usize] += a.norm_sqr() / norm;
        }
        let got = mps.populations();
        assert!(want[0] < 0.99 && want[2] > 1e-3, "a spread of sectors: {want:?}");
        for (m, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() < 1e-13, "p_{m}: {a} vs {b}");
        }
        // C_ij = <Z_i Z_j> - <Z_i><Z_j>
        let z = |s: usize, i: usize| if (s >> i) & 1 == 1 { 1.0 } else { -1.0 };
        let mean =
            |f: &dyn Fn(usize) -> f64| psi.iter().enumerate().map(|(s, a)| a.norm_sqr() * f(s)).sum::<f64>() / norm;
        let c = mps.zz_connected();
        for (i, row) in c.iter().enumerate() {
            for (j, &got) in row.iter().enumerate() {
                let want = mean(&|s| z(s, i) * z(s, j)) - mean(&|s| z(s, i)) * mean(&|s| z(s, j));
                assert!((got - want).abs() < 1e-12, "C_{i}{j}: {got} vs {want}");
            }
        }
        assert!(c[0][n - 1].abs() > 1e-6, "correlated ends: {}", c[0][n - 1]);
        // <H0^2> = ||H0 psi||^2 with the dense H0
        let h0 = dense(&chain, 0.0, chain.b());
        let h0psi: Vec<Complex64> = (0..dim).map(|x| (0..dim).map(|y| h0[(x, y)] * psi[y]).sum()).collect();
        let want = h0psi.iter().map(|a| a.norm_sqr()).sum::<f64>() / norm;
        let got = mps.square_expectation(&mpos.h0);
        assert!((got - want).abs() < 1e-11 * want, "<H0^2> {got} vs {want}");
        // Schmidt values at every bond: singular values of psi as a 2^(l+1) x 2^(N-l-1) matrix
        for l in 0..n - 1 {
            let rows = 1usize << (l + 1);
            let m = Mat::<Complex64>::from_fn(rows, dim / rows, |r, c| psi[r + rows * c]);
            let sv = m.singular_values().unwrap();
            let got = mps.schmidt_values(l).unwrap();
            for (k, &x) in sv.iter().enumerate() {
                let g = got.get(k).copied().unwrap_or(0.0);
                assert!((g - x / norm.sqrt()).abs() < 1e-12, "bond {l}, value {k}: {g} vs {}", x / norm.sqrt());
            }
            let (s, r) = entropies(&got);
            assert!((s - mps.entropy(l).unwrap()).abs() < 1e-12 && r <= s + 1e-14, "bond {l}: S {s}, S2 {r}");
        }
        // overlap with the state a step later
        tdvp.step(0.01).unwrap();
        let later = tdvp.state();
        let phi = later.to_dense();
        let want: Complex64 = psi.iter().zip(&phi).map(|(a, b)| a.conj() * b).sum();
        assert!((mps.overlap(later) - want).norm() < 1e-13, "{} vs {want}", mps.overlap(later));
    }
}
