//! Mean-field contract tests: the classical Bloch model against its closed forms
//! (one spin, `g = 0`, XXX), against the quantum solver where both are exact, its
//! conservation laws, and its error control; the FFT (Toeplitz) mean field against the
//! dense one and against naive pair sums.

use crate::common::{random_chain, Rng};
use spinbat::analytic::{independent_work, one_spin_work};
use spinbat::meanfield::{BlochModel, MeanField, ProductKind};
use spinbat::numeric::dop853::Dop853;
use spinbat::propagate::{bytes_needed, plan, Dense, Propagator, DEFAULT_TOL};
use spinbat::{Boundary, Chain, Couplings, Solver, SpinbatError, WorkSample};
use std::f64::consts::PI;

/// `n + 1` equally spaced times in `[0, t_max]`.
fn grid(t_max: f64, n: usize) -> Vec<f64> {
    (0..=n).map(|k| t_max * k as f64 / n as f64).collect()
}

/// `W = 2BN sin²(ωt)` and `W' = 2BNω sin(2ωt)` of `N` free spins.
fn independent(n: usize, b: f64, omega: f64, t: f64) -> (f64, f64) {
    (independent_work(n, b, omega, t), n as f64 * 2.0 * b * omega * (2.0 * omega * t).sin())
}

/// Largest deviation of the samples from `N` independent spins: `(|ΔW|, |ΔW'|)`.
fn deviation_from_independent(samples: &[WorkSample], n: usize, b: f64, omega: f64) -> (f64, f64) {
    samples.iter().fold((0.0f64, 0.0f64), |(ew, er), s| {
        let (w, r) = independent(n, b, omega, s.t);
        (ew.max((s.work - w).abs()), er.max((s.rate - r).abs()))
    })
}

/// `|S|` of every Bloch vector, worst deviation from 1.
fn norm_defect(mf: &MeanField) -> f64 {
    mf.bloch_vectors()
        .iter()
        .map(|v| ((v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt() - 1.0).abs())
        .fold(0.0, f64::max)
}

#[test]
fn one_spin_follows_closed_form_at_default_tolerance() {
    let (b, omega) = (1.3, 2.1);
    let chain = Chain::builder(1).b(b).omega(omega).build().unwrap();
    let mut prop = plan(&chain, Solver::MeanField, DEFAULT_TOL).unwrap();
    assert_eq!(prop.name(), "mean-field");
    // five periods of sin²(ωt), densely sampled, then a sparse pass to a later time
    let times = grid(5.0 * PI / omega, 300);
    let samples = prop.sample(&times).unwrap();
    assert_eq!(samples.len(), times.len());
    for (s, &t) in samples.iter().zip(&times) {
        assert_eq!(s.t, t, "output times are hit exactly");
    }
    let (ew, er) = deviation_from_independent(&samples, 1, b, omega);
    assert!(ew < 1e-9, "max |W − 2B sin²ωt| = {ew:e}");
    assert!(er < 1e-9, "max |W' − 2Bω sin 2ωt| = {er:e}");
    let later = prop.sample(&[20.0, 35.0, 50.0]).unwrap();
    let (ew2, er2) = deviation_from_independent(&later, 1, b, omega);
    assert!(ew2 < 1e-9 && er2 < 1e-9, "t up to 50: |ΔW| = {ew2:e}, |ΔW'| = {er2:e}");
    // the reported estimate is not optimistic here, and stays near tol
    let bound = prop.error_bound();
    assert!(bound >= ew.max(ew2), "estimate {bound:e} below the actual error {:e}", ew.max(ew2));
    assert!(bound < 1e-9, "estimate {bound:e}");
    assert!(prop.accuracy_note().contains("DOP853"));
}

#[test]
fn xxx_with_random_couplings_charges_like_independent_spins() {
    // α = 1: V commutes with H_g, W_C = 2BN sin²(ωt) for any g_ij
    let mut rng = Rng::new(0x5eed_0001);
    let n = 5;
    for _ in 0..3 {
        let mut m = vec![vec![0.0; n]; n];
        for (i, j) in (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))) {
            let v = rng.uniform(0.0, 2.0);
            m[i][j] = v;
            m[j][i] = v;
        }
        let (b, omega, g) = (rng.uniform(0.5, 2.0), rng.uniform(0.5, 4.0), rng.uniform(0.2, 2.0));
        let chain =
            Chain::builder(n).alpha(1.0).b(b).omega(omega).g(g).couplings(Couplings::Matrix { m }).build().unwrap();
        let mut mf = MeanField::new(&chain, DEFAULT_TOL).unwrap();
        let samples = mf.sample(&grid(6.0 * PI / omega, 150)).unwrap();
        let (ew, er) = deviation_from_independent(&samples, n, b, omega);
        assert!(ew < 1e-9, "XXX: max |ΔW| = {ew:e}");
        assert!(er < 1e-9, "XXX: max |ΔW'| = {er:e}");
    }
}

#[test]
fn uncoupled_spins_are_independent() {
    let mut rng = Rng::new(0x5eed_0002);
    for n in [1, 2, 3, 7, 12] {
        let (b, omega, alpha) = (rng.uniform(0.5, 2.0), rng.uniform(0.5, 4.0), rng.uniform(-1.0, 1.5));
        let chain = Chain::builder(n)
            .g(0.0)
            .alpha(alpha)
            .b(b)
            .omega(omega)
            .couplings(Couplings::PowerLaw { p: 1.0 })
            .build()
            .unwrap();
        let mut mf = MeanField::new(&chain, DEFAULT_TOL).unwrap();
        let times = grid(4.0 * PI / omega, 80);
        let samples = mf.sample(&times).unwrap();
        let (ew, er) = deviation_from_independent(&samples, n, b, omega);
        assert!(ew < 1e-9 && er < 1e-9, "N = {n}: |ΔW| = {ew:e}, |ΔW'| = {er:e}");
        // each spin precesses about x: S(t) = (0, sin 2ωt, −cos 2ωt)
        let t = *times.last().unwrap();
        assert_eq!(mf.time(), t);
        for v in mf.bloch_vectors() {
            let expect = [0.0, (2.0 * omega * t).sin(), -(2.0 * omega * t).cos()];
            for k in 0..3 {
                assert!((v[k] - expect[k]).abs() < 1e-10, "N = {n}: S = {v:?}, expected {expect:?}");
            }
        }
    }
}

#[test]
fn bloch_norms_and_charging_energy_are_conserved_on_an_ising_long_range_chain() {
    let mut rng = Rng::new(0x5eed_0003);
    let chain = Chain::builder(8)
        .alpha(0.0)
        .couplings(Couplings::PowerLaw { p: 1.0 })
        .g(rng.uniform(1.0, 2.0))
        .omega(rng.uniform(1.0, 3.0))
        .b(rng.uniform(0.5, 2.0))
        .build()
        .unwrap();
    let mut mf = MeanField::new(&chain, DEFAULT_TOL).unwrap();
    // all down: H_C(0) = −Σ_{i<j} g_ij
    let h_c0 = mf.charging_energy();
    assert!((h_c0 + chain.total_coupling()).abs() < 1e-12);
    let omega = chain.omega();
    let mut max_norm: f64 = 0.0;
    let mut max_energy: f64 = 0.0;
    let mut max_coupling_effect: f64 = 0.0;
    for t in grid(20.0 / omega, 100) {
        let s = mf.sample(&[t]).unwrap()[0];
        max_norm = max_norm.max(norm_defect(&mf));
        max_energy = max_energy.max((mf.charging_energy() - h_c0).abs());
        let (w_free, _) = independent(8, chain.b(), omega, t);
        max_coupling_effect = max_coupling_effect.max((s.work - w_free).abs());
    }
    assert!(max_norm < 1e-9, "max ||S_m| − 1| = {max_norm:e}");
    assert!(max_energy < 1e-9, "max |H_C(t) − H_C(0)| = {max_energy:e}");
    // the couplings matter here, so the conservation is not trivial
    assert!(max_coupling_effect > 0.1, "{max_coupling_effect}");
}

#[test]
fn rate_is_the_derivative_of_the_work_on_coupled_chains() {
    let mut rng = Rng::new(0x5eed_0004);
    for n in [3, 6] {
        let chain = random_chain(&mut rng, n).with_alpha(0.3).unwrap();
        let mut mf = MeanField::new(&chain, 1e-12).unwrap();
        let h = 1e-4;
        for t in [0.37, 1.1, 2.9] {
            let s = mf.sample(&[t - h, t, t + h]).unwrap();
            let fd = (s[2].work - s[0].work) / (2.0 * h);
            let scale = 1.0 + s[1].rate.abs();
            assert!(
                (s[1].rate - fd).abs() < 1e-6 * scale,
                "N = {n}, t = {t}: rate {} vs difference quotient {fd}",
                s[1].rate
            );
        }
    }
}

#[test]
fn matches_the_quantum_solver_where_mean_field_is_exact() {
    let mut rng = Rng::new(0x5eed_0005);
    // one spin (couplings irrelevant) and uncoupled spins with any anisotropy
    let one = Chain::builder(1).b(rng.uniform(0.5, 2.0)).omega(rng.uniform(0.5, 4.0)).build().unwrap();
    let free = Chain::builder(4)
        .g(0.0)
        .alpha(rng.uniform(-1.0, 1.0))
        .b(rng.uniform(0.5, 2.0))
        .omega(rng.uniform(0.5, 4.0))
        .couplings(Couplings::NearestNeighbour)
        .boundary(Boundary::Periodic)
        .build()
        .unwrap();
    for chain in [one, free] {
        let times = grid(8.0 / chain.omega(), 60);
        let quantum = Dense::new(&chain).unwrap().sample(&times).unwrap();
        let classical = MeanField::new(&chain, DEFAULT_TOL).unwrap().sample(&times).unwrap();
        for (q, c) in quantum.iter().zip(&classical) {
            assert_eq!(q.t, c.t);
            assert!((q.work - c.work).abs() < 1e-9, "t = {}: quantum {} vs classical {}", q.t, q.work, c.work);
            assert!((q.rate - c.rate).abs() < 1e-9, "t = {}: quantum {} vs classical {}", q.t, q.rate, c.rate);
        }
    }
}

#[test]
fn smaller_tolerance_gives_smaller_error() {
    let (b, omega) = (1.0, 3.0);
    let chain = Chain::builder(1).b(b).omega(omega).build().unwrap();
    // sparse outputs, so the tolerance and not the output spacing sets the steps
    let times = grid(6.0 * PI / omega, 12);
    let run = |tol: f64| {
        let mut mf = MeanField::new(&chain, tol).unwrap();
        let samples = mf.sample(&times).unwrap();
        let err = samples.iter().map(|s| (s.work - one_spin_work(b, omega, s.t)).abs()).fold(0.0, f64::max);
        (err, mf.error_bound(), mf.stats().accepted)
    };
    let (loose, loose_bound, loose_steps) = run(1e-6);
    let (tight, tight_bound, tight_steps) = run(1e-11);
    assert!(loose < 1e-6 && tight < 1e-11, "errors {loose:e} (tol 1e-6), {tight:e} (tol 1e-11)");
    assert!(tight < loose, "tol 1e-11 error {tight:e} not below tol 1e-6 error {loose:e}");
    assert!(tight_steps > loose_steps);
    assert!(loose_bound >= loose && tight_bound >= tight);
    assert!(loose_bound < 1e-6 && tight_bound < loose_bound);
}

#[test]
fn earlier_times_are_served_from_the_anchor_or_a_restart() {
    let mut rng = Rng::new(0x5eed_0006);
    let chain = random_chain(&mut rng, 5);
    let times = grid(3.0, 30);
    let reference = MeanField::new(&chain, DEFAULT_TOL).unwrap().sample(&times).unwrap();
    let mut mf = MeanField::new(&chain, DEFAULT_TOL).unwrap();
    mf.sample(&[3.0]).unwrap();
    mf.anchor(1.5).unwrap(); // behind the current time: restart, then keep t = 1.5
    assert_eq!(mf.time(), 1.5);
    let late = mf.sample(&times[15..]).unwrap(); // from the anchor
    let early = mf.sample(&times[..15]).unwrap(); // before the anchor: from t = 0
    for (s, r) in early.iter().chain(&late).zip(&reference) {
        assert_eq!(s.t, r.t);
        assert!((s.work - r.work).abs() < 1e-9, "t = {}: {} vs {}", s.t, s.work, r.work);
        assert!((s.rate - r.rate).abs() < 1e-8, "t = {}: {} vs {}", s.t, s.rate, r.rate);
    }
    assert_eq!(mf.sample(&[0.0]).unwrap()[0].work, 0.0);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let chain = Chain::builder(3).build().unwrap();
    for tol in [0.0, -1e-10, f64::NAN, f64::INFINITY] {
        assert!(matches!(MeanField::new(&chain, tol), Err(SpinbatError::InvalidParameter { .. })));
    }
    let mut mf = MeanField::new(&chain, DEFAULT_TOL).unwrap();
    assert!(matches!(mf.sample(&[1.0, 0.5]), Err(SpinbatError::InvalidTimes { .. })));
    assert!(matches!(mf.sample(&[-1.0]), Err(SpinbatError::InvalidTimes { .. })));
    assert!(matches!(mf.sample(&[f64::NAN]), Err(SpinbatError::InvalidTimes { .. })));
    assert!(mf.anchor(f64::INFINITY).is_err());
    assert!(mf.sample(&[]).unwrap().is_empty());
}

/// A random chain whose couplings depend only on `|i − j|`: NN or power law with random
/// `p ∈ [0, 3]`, open or periodic, random `α` (zero in a third of the draws), `B`, `g`, `ω`.
fn random_toeplitz_chain(rng: &mut Rng, n: usize) -> Chain {
    let couplings =
        if rng.below(3) == 0 { Couplings::NearestNeighbour } else { Couplings::PowerLaw { p: rng.uniform(0.0, 3.0) } };
    let boundary = if rng.below(2) == 0 { Boundary::Open } else { Boundary::Periodic };
    let alpha = if rng.below(3) == 0 { 0.0 } else { rng.uniform(-1.5, 1.5) };
    Chain::builder(n)
        .alpha(alpha)
        .b(rng.uniform(0.5, 2.0))
        .g(rng.uniform(0.1, 2.0))
        .omega(rng.uniform(0.5, 5.0))
        .couplings(couplings)
        .boundary(boundary)
        .build()
        .unwrap()
}

/// `N` random unit Bloch vectors, flattened `[x_0, y_0, z_0, x_1, …]`.
fn random_bloch_state(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut s = Vec::with_capacity(3 * n);
    for _ in 0..n {
        let v = [rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)];
        let r = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-3);
        s.extend(v.iter().map(|c| c / r));
    }
    s
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn fft_mean_field_equals_naive_pair_sums() {
    // M_m = Σ_j g_mj S_j by the FFT against the O(N²) sum over Chain::coupling
    let mut rng = Rng::new(0x5eed_0101);
    for n in [1, 2, 3, 4, 5, 17, 64, 101, 300] {
        for _ in 0..3 {
            let chain = random_toeplitz_chain(&mut rng, n).with_alpha(0.7).unwrap();
            let model = BlochModel::with_product(&chain, ProductKind::Fft).unwrap();
            assert_eq!(model.product_kind(), ProductKind::Fft);
            let s = random_bloch_state(&mut rng, n);
            let mf = model.mean_field(&s);
            let mut worst: f64 = 0.0;
            let mut scale: f64 = 1e-300;
            for (m, got) in mf.iter().enumerate() {
                for k in 0..3 {
                    let naive: f64 = (0..n).map(|j| chain.coupling(m, j) * s[3 * j + k]).sum();
                    let row: f64 = (0..n).map(|j| chain.coupling(m, j).abs()).sum();
                    worst = worst.max((got[k] - naive).abs());
                    scale = scale.max(row);
                }
            }
            assert!(worst <= 1e-13 * scale, "N = {n}, {:?}: |ΔM| = {worst:e}, row sum {scale}", chain.couplings());
        }
    }
}

#[test]
fn fft_and_dense_products_give_the_same_model() {
    // right-hand side, E0, H_C and W' at random states: FFT vs dense to ~1e-12 relative
    let mut rng = Rng::new(0x5eed_0102);
    for n in [2, 3, 7, 24, 65, 128, 300] {
        for _ in 0..4 {
            let chain = random_toeplitz_chain(&mut rng, n);
            let fft = BlochModel::with_product(&chain, ProductKind::Fft).unwrap();
            let dense = BlochModel::with_product(&chain, ProductKind::Dense).unwrap();
            assert_eq!(dense.product_kind(), ProductKind::Dense);
            let (gf, gd) = (fft.gradient_bound(), dense.gradient_bound());
            assert!((gf - gd).abs() <= 1e-13 * gd, "gradient bounds {gf} vs {gd}");
            let s = random_bloch_state(&mut rng, n);
            let (mut d_fft, mut d_dense) = (vec![0.0; 3 * n], vec![0.0; 3 * n]);
            fft.rhs(&s, &mut d_fft);
            dense.rhs(&s, &mut d_dense);
            let rhs_scale = d_dense.iter().fold(1.0f64, |a, v| a.max(v.abs()));
            let what = format!("N = {n}, α = {}, {:?}, {:?}", chain.alpha(), chain.couplings(), chain.boundary());
            let drhs = max_abs_diff(&d_fft, &d_dense);
            assert!(drhs <= 1e-12 * rhs_scale, "{what}: |Δṡ| = {drhs:e} (scale {rhs_scale})");
            // energies: relative to Σ_m b_m ≥ |E0|
            let e_scale = dense.energy_scale();
            for (a, b, name) in [
                (fft.storage_energy(&s), dense.storage_energy(&s), "E0"),
                (fft.charging_energy(&s), dense.charging_energy(&s), "H_C"),
            ] {
                assert!((a - b).abs() <= 1e-12 * e_scale, "{what}: {name} {a} vs {b}");
            }
            // W' = Σ ∇E0 · Ṡ: relative to Σ_m b_m |Ṡ_m|
            let r_scale: f64 =
                d_dense.chunks_exact(3).map(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()).sum::<f64>()
                    * (e_scale / n as f64)
                    + 1.0;
            let (ra, rb) = (fft.work_rate(&s), dense.work_rate(&s));
            assert!((ra - rb).abs() <= 1e-12 * r_scale, "{what}: W' {ra} vs {rb}");
            // and the all-down state: E0 = E_0 of the chain
            let down = fft.initial_state();
            let e0 = fft.storage_energy(down.as_flattened());
            assert!(
                (e0 - chain.initial_energy()).abs() <= 1e-12 * e_scale,
                "{what}: {e0} vs {}",
                chain.initial_energy()
            );
        }
    }
}

#[test]
fn fft_and_dense_trajectories_agree() {
    let mut rng = Rng::new(0x5eed_0103);
    for n in [24, 50, 120, 300] {
        for _ in 0..2 {
            let chain = random_toeplitz_chain(&mut rng, n);
            // several precession periods of the fastest spin
            let t_max = 12.0 / (chain.omega() + chain.alpha().abs().max(1.0) * chain.max_abs_row_sum());
            let times = grid(t_max, 12);
            let mut fft = MeanField::with_product(&chain, DEFAULT_TOL, ProductKind::Fft).unwrap();
            let mut dense = MeanField::with_product(&chain, DEFAULT_TOL, ProductKind::Dense).unwrap();
            assert_eq!(fft.model().product_kind(), ProductKind::Fft);
            assert_eq!(dense.model().product_kind(), ProductKind::Dense);
            let (a, b) = (fft.sample(&times).unwrap(), dense.sample(&times).unwrap());
            let what = format!("N = {n}, α = {}, {:?}, {:?}", chain.alpha(), chain.couplings(), chain.boundary());
            let mut moved: f64 = 0.0;
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.t, y.t);
                assert!(
                    (x.work - y.work).abs() <= 1e-9 * y.work.abs().max(1.0),
                    "{what}, t = {}: W {} vs {}",
                    x.t,
                    x.work,
                    y.work
                );
                assert!(
                    (x.rate - y.rate).abs() <= 1e-9 * y.rate.abs().max(1.0),
                    "{what}, t = {}: W' {} vs {}",
                    x.t,
                    x.rate,
                    y.rate
                );
                moved = moved.max(y.work.abs());
            }
            assert!(moved > 1.0, "{what}: the battery should charge (max W = {moved})");
            // the Bloch vectors themselves
            let dv = fft
                .bloch_vectors()
                .iter()
                .zip(dense.bloch_vectors())
                .map(|(u, v)| (0..3).map(|k| (u[k] - v[k]).abs()).fold(0.0, f64::max))
                .fold(0.0, f64::max);
            assert!(dv < 1e-9, "{what}: |ΔS| = {dv:e}");
        }
    }
}

#[test]
fn xxx_charges_like_independent_spins_through_the_fft_for_ten_thousand_sites() {
    // α = 1: W_C = 2BN sin²(ωt) for any couplings; N = 10⁴ power law (open) and NN (ring)
    let n = 10_000;
    let mut rng = Rng::new(0x5eed_0104);
    for (couplings, boundary) in
        [(Couplings::PowerLaw { p: 1.0 }, Boundary::Open), (Couplings::NearestNeighbour, Boundary::Periodic)]
    {
        let (b, omega) = (rng.uniform(0.5, 2.0), rng.uniform(2.0, 5.0));
        let chain = Chain::builder(n)
            .alpha(1.0)
            .b(b)
            .omega(omega)
            .g(rng.uniform(0.5, 1.5))
            .couplings(couplings)
            .boundary(boundary)
            .build()
            .unwrap();
        let mut prop = plan(&chain, Solver::MeanField, DEFAULT_TOL).unwrap();
        let mut mf = MeanField::new(&chain, DEFAULT_TOL).unwrap();
        assert_eq!(mf.model().product_kind(), ProductKind::Fft, "Auto must take the FFT at N = {n}");
        let times = grid(0.6 * PI / omega, 6);
        let samples = mf.sample(&times).unwrap();
        let (ew, er) = deviation_from_independent(&samples, n, b, omega);
        let w_scale = 2.0 * b * n as f64;
        assert!(ew < 1e-9 * w_scale, "max |ΔW| = {ew:e} (2BN = {w_scale})");
        assert!(er < 1e-9 * w_scale * omega, "max |ΔW'| = {er:e}");
        // the estimate covers the actual error
        assert!(mf.error_bound() >= ew, "estimate {:e} below the actual error {ew:e}", mf.error_bound());
        // W is blind to the product here (a uniform state sees M_m ∝ S); check the
        // product itself at this size on random states, against direct sums on sampled rows
        let s = random_bloch_state(&mut rng, n);
        let mean = mf.model().mean_field(&s);
        for m in (0..n).step_by(487).chain([1, n / 2, n - 2, n - 1]) {
            for k in 0..3 {
                let direct: f64 = (0..n).map(|j| chain.coupling(m, j) * s[3 * j + k]).sum();
                let row: f64 = (0..n).map(|j| chain.coupling(m, j).abs()).sum();
                assert!((mean[m][k] - direct).abs() <= 1e-12 * row, "row {m}: {} vs {direct}", mean[m][k]);
            }
        }
        // the planner builds the same propagator
        let planned = prop.sample(&times[3..4]).unwrap()[0];
        assert!((planned.work - samples[3].work).abs() < 1e-9 * w_scale);
        assert!(prop.accuracy_note().contains("FFT"));
    }
}

#[test]
fn fft_product_is_refused_for_an_explicit_matrix() {
    let m = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
    let chain = Chain::builder(2).couplings(Couplings::Matrix { m }).build().unwrap();
    assert!(matches!(
        MeanField::with_product(&chain, DEFAULT_TOL, ProductKind::Fft),
        Err(SpinbatError::InvalidParameter { .. })
    ));
    assert_eq!(MeanField::new(&chain, DEFAULT_TOL).unwrap().model().product_kind(), ProductKind::Dense);
}

#[test]
fn mean_field_memory_is_linear_for_toeplitz_couplings() {
    // 10⁶ sites: O(N) (the dense matrix would be 8 TB); an explicit matrix keeps 8N²
    let big = Chain::builder(1_000_000).build().unwrap();
    let bytes = bytes_needed(&big, Solver::MeanField);
    assert!(bytes > 3e8 && bytes < 1e9, "N = 10⁶: {bytes:e} bytes");
    let n = 300;
    let m: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 0.0 } else { 0.5 }).collect()).collect();
    let matrix = Chain::builder(n).couplings(Couplings::Matrix { m }).build().unwrap();
    let toeplitz = Chain::builder(n).build().unwrap();
    let (bm, bt) = (bytes_needed(&matrix, Solver::MeanField), bytes_needed(&toeplitz, Solver::MeanField));
    assert!(bm >= 8.0 * (n * n) as f64 && bm - bt > 7.0 * (n * n) as f64, "matrix {bm:e}, Toeplitz {bt:e}");
}

#[test]
fn uniform_ring_is_one_spin_in_its_own_field_and_the_error_estimate_covers_it() {
    // On a ring every row of g sums to the same R, so the uniform state stays uniform: each
    // S obeys dS/dt = 2 (ω − αR x, −αR y, −R z) × S and W = N [e(t) − e(0)],
    // e = B z − ½ R (z² + α(x² + y²)). N = 20 000 through the FFT, against that one-spin
    // ODE integrated far more tightly; the product matters (a wrong row sum changes W).
    let n = 20_000;
    let mut rng = Rng::new(0x5eed_0105);
    for (alpha, couplings) in [(0.0, Couplings::PowerLaw { p: 1.0 }), (0.6, Couplings::PowerLaw { p: 0.7 })] {
        let (b, omega, g) = (rng.uniform(0.5, 2.0), rng.uniform(2.0, 5.0), rng.uniform(0.5, 1.5));
        let chain = Chain::builder(n)
            .alpha(alpha)
            .b(b)
            .omega(omega)
            .g(g)
            .couplings(couplings)
            .boundary(Boundary::Periodic)
            .build()
            .unwrap();
        let r: f64 = (1..n).map(|j| chain.coupling(0, j)).sum();
        let mut mf = MeanField::new(&chain, DEFAULT_TOL).unwrap();
        assert_eq!(mf.model().product_kind(), ProductKind::Fft);
        let times = grid(6.0 / (omega + r), 6);
        let samples = mf.sample(&times).unwrap();
        // one spin in its own mean field
        let mut f = |_t: f64, y: &[f64], d: &mut [f64]| {
            let h = [omega - alpha * r * y[0], -alpha * r * y[1], -r * y[2]];
            d[0] = 2.0 * (h[1] * y[2] - h[2] * y[1]);
            d[1] = 2.0 * (h[2] * y[0] - h[0] * y[2]);
            d[2] = 2.0 * (h[0] * y[1] - h[1] * y[0]);
        };
        let e = |y: &[f64]| b * y[2] - 0.5 * r * (y[2] * y[2] + alpha * (y[0] * y[0] + y[1] * y[1]));
        let mut one = Dop853::new(3, 1e-16, 1e-16).unwrap();
        let (mut t, mut y) = (0.0, [0.0, 0.0, -1.0]);
        let e_init = e(&y);
        let mut worst: f64 = 0.0;
        let mut moved: f64 = 0.0;
        for s in &samples {
            one.advance(&mut f, &mut t, &mut y, s.t).unwrap();
            let w_ref = n as f64 * (e(&y) - e_init);
            worst = worst.max((s.work - w_ref).abs());
            moved = moved.max(w_ref.abs());
        }
        // the reference's own error: N |∇e| Σ local errors
        let ref_err = n as f64 * (b.abs() + r * alpha.abs().max(1.0)) * one.local_error_sum();
        let what = format!("α = {alpha}, R = {r}");
        assert!(moved > 0.1 * n as f64, "{what}: the battery should charge ({moved})");
        assert!(worst < 1e-9 * 2.0 * b * n as f64, "{what}: |ΔW| = {worst:e}");
        assert!(
            worst <= mf.error_bound() + ref_err,
            "{what}: |ΔW| = {worst:e} above the estimate {:e} (+ reference {ref_err:e})",
            mf.error_bound()
        );
        // and the Bloch vectors are uniform and equal to the one spin's
        let dv = mf
            .bloch_vectors()
            .iter()
            .map(|v| (0..3).map(|k| (v[k] - y[k]).abs()).fold(0.0, f64::max))
            .fold(0.0, f64::max);
        assert!(dv < 1e-9, "{what}: |S_m − S| = {dv:e}");
    }
}
