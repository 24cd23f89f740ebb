//! Mean-field contract tests: the classical Bloch model against its closed forms
//! (one spin, `g = 0`, XXX), against the quantum solver where both are exact, its
//! conservation laws, and its error control.

use crate::common::{random_chain, Rng};
use spinbat::analytic::{independent_work, one_spin_work};
use spinbat::meanfield::MeanField;
use spinbat::propagate::{plan, Dense, Propagator, DEFAULT_TOL};
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
