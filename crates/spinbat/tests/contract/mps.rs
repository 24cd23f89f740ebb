//! The MPS solver (two-site TDVP) against the exact Chebyshev solver, closed forms and
//! itself at finer settings.

use super::common::Rng;
use spinbat::mps::MpsSettings;
use spinbat::observe::{charge, uniform_times};
use spinbat::propagate::{plan, MpsPropagator, Propagator, Solver};
use spinbat::{Boundary, Chain, Couplings, Silent};

/// Generous settings: χ = 64 (all a chain of 12 sites can need), a discarded weight of
/// `10⁻¹⁸` per SVD (the truncations' errors add up coherently: `ε = 10⁻¹⁴` costs `~10⁻⁶`
/// in `W` over a few hundred steps; `ε = 0` keeps numerical noise as Schmidt vectors, which
/// the runs at `δ` and `2δ` grow differently), the default step `h/4`.
fn generous() -> MpsSettings {
    MpsSettings { bond_dim: 64, truncation: 1e-18, time_step: None }
}

/// Largest `|W_mps − W_exact|` over `times`, and the same for `W'`.
fn errors(chain: &Chain, settings: MpsSettings, times: &[f64]) -> (f64, f64, MpsPropagator) {
    let mut exact = plan(chain, Solver::Chebyshev, 1e-13).unwrap();
    let want = exact.sample(times).unwrap();
    let mut mps = MpsPropagator::new(chain, settings).unwrap();
    let got = mps.sample(times).unwrap();
    let ew = want.iter().zip(&got).map(|(a, b)| (a.work - b.work).abs()).fold(0.0, f64::max);
    let er = want.iter().zip(&got).map(|(a, b)| (a.rate - b.rate).abs()).fold(0.0, f64::max);
    (ew, er, mps)
}

/// A random open chain: nearest neighbour or power law, random α, B, g, ω.
fn random_open_chain(rng: &mut Rng, n: usize, power_law: bool) -> Chain {
    let couplings =
        if power_law { Couplings::PowerLaw { p: rng.uniform(0.5, 3.0) } } else { Couplings::NearestNeighbour };
    Chain::builder(n)
        .alpha(rng.uniform(-1.0, 1.0))
        .b(rng.uniform(0.5, 2.0))
        .g(rng.uniform(0.2, 2.0))
        .omega(rng.uniform(1.0, 5.0))
        .couplings(couplings)
        .boundary(Boundary::Open)
        .build()
        .unwrap()
}

#[test]
fn mps_agrees_with_chebyshev_on_random_chains() {
    let mut rng = Rng::new(16);
    for (n, power_law) in [(8, false), (9, true), (10, true), (12, false), (12, true)] {
        let chain = random_open_chain(&mut rng, n, power_law);
        let times = uniform_times(1.5 / chain.omega(), 11);
        let mut exact = plan(&chain, Solver::Chebyshev, 1e-12).unwrap();
        let mut mps = MpsPropagator::new(&chain, generous()).unwrap();
        let want = exact.sample(&times).unwrap();
        let got = mps.sample(&times).unwrap();
        let scale = want.iter().map(|s| s.work.abs()).fold(0.0, f64::max);
        let rate_scale = want.iter().map(|s| s.rate.abs()).fold(0.0, f64::max);
        for (a, b) in want.iter().zip(&got) {
            assert!((a.work - b.work).abs() <= 1e-7 * scale, "{chain:?} t = {}: W {} vs {}", a.t, b.work, a.work);
            // W' is the more sensitive (measured: 2.3e-7 relative at N = 12, p = 2.4, alpha = -0.87)
            assert!((a.rate - b.rate).abs() <= 1e-6 * rate_scale, "{chain:?} t = {}: W' {} vs {}", a.t, b.rate, a.rate);
            // the estimate covers the error
            assert!(
                (a.work - b.work).abs() <= mps.error_bound().max(1e-12),
                "{chain:?}: estimate {}",
                mps.error_bound()
            );
        }
        let e = charge(exact.as_mut(), &chain, &times, &Silent).unwrap();
        let m = charge(&mut mps, &chain, &times, &Silent).unwrap();
        let rel = (e.max_power.power - m.max_power.power).abs() / e.max_power.power;
        assert!(rel < 1e-7, "{chain:?}: P_max {} vs {} ({rel:e})", m.max_power.power, e.max_power.power);
    }
}

#[test]
fn errors_fall_with_the_time_step_and_the_bond_dimension() {
    let mut rng = Rng::new(61);
    let chain = random_open_chain(&mut rng, 10, true);
    let times = uniform_times(1.5 / chain.omega(), 6);
    let h = spinbat::propagate::scan_step(&chain);
    // the time step: second order, so halving it quarters Richardson's estimate of the step
    // error (a first-order method would only halve it), until the truncation's floor: an
    // SVD may drop singular values up to √ε = 1e-9, which moves W by about that much whatever
    // the step (measured: 5.8e-9 at h, 9.1e-10 at h/2, 1.2e-9 at h/4); and the extrapolated W
    // stays within the estimate
    let mut last = f64::INFINITY;
    let truncation: f64 = 1e-18;
    let floor = 2.0 * truncation.sqrt();
    for div in [1.0, 2.0, 4.0] {
        let s = MpsSettings { bond_dim: 64, truncation, time_step: Some(h / div) };
        let (ew, _, mps) = errors(&chain, s, &times);
        let step = mps.report().step_error_estimate;
        if div == 2.0 {
            assert!(last > floor && step < 0.4 * last, "step h/2: estimate {step:e} after {last:e}: not second order");
        } else {
            assert!(step < 0.4 * last || step < floor, "step h/{div}: estimate {step:e} after {last:e}");
        }
        assert!(ew <= mps.error_bound(), "step h/{div}: error {ew:e} above the estimate {:e}", mps.error_bound());
        last = step;
    }
    // the bond dimension (nearest neighbour: no projection error): the error falls as chi
    // grows to what the state needs
    let nn = random_open_chain(&mut rng, 10, false);
    let mut last = f64::INFINITY;
    for chi in [1, 2, 4] {
        let (ew, _, mps) = errors(&nn, MpsSettings { bond_dim: chi, truncation: 1e-18, time_step: None }, &times);
        assert!(ew < last, "chi = {chi}: error {ew:e} after {last:e}");
        assert!(mps.report().bond_dim_reached <= chi);
        last = ew;
    }
    let (ew, _, _) = errors(&nn, MpsSettings { bond_dim: 32, truncation: 1e-18, time_step: None }, &times);
    assert!(ew < 1e-7 * nn.work_bound(), "chi = 32 (all N = 10 needs): {ew:e}");
    // the discarded weight: the error grows with it and stays within the estimate
    let mut last = 0.0;
    for eps in [1e-18, 1e-12, 1e-8] {
        let (ew, _, mps) = errors(&nn, MpsSettings { bond_dim: 64, truncation: eps, time_step: None }, &times);
        assert!(ew > last, "eps = {eps:e}: error {ew:e} after {last:e}");
        assert!(ew <= mps.error_bound(), "eps = {eps:e}: error {ew:e} above the estimate {:e}", mps.error_bound());
        last = ew;
    }
}

#[test]
fn closed_forms_at_64_sites() {
    // XXX (alpha = 1): V commutes with H_g, W = 2BN sin²(ωt) (physics.md result 2); g = 0 too
    let xxx =
        Chain::builder(64).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(1.0).b(0.7).omega(2.5).build().unwrap();
    let free = Chain::builder(64).couplings(Couplings::NearestNeighbour).g(0.0).alpha(0.3).build().unwrap();
    for chain in [xxx, free] {
        let times = uniform_times(2.0 / chain.omega(), 9);
        let mut mps = MpsPropagator::new(&chain, MpsSettings::default()).unwrap();
        let (n, b, w) = (chain.n_sites() as f64, chain.b(), chain.omega());
        for s in mps.sample(&times).unwrap() {
            let want = 2.0 * b * n * (w * s.t).sin().powi(2);
            let rate = 2.0 * b * n * w * (2.0 * w * s.t).sin();
            assert!((s.work - want).abs() < 1e-7 * 2.0 * b * n, "{chain:?} t = {}: {} vs {want}", s.t, s.work);
            assert!((s.rate - rate).abs() < 1e-7 * 2.0 * b * n * w, "{chain:?} t = {}: {} vs {rate}", s.t, s.rate);
            assert!((s.work - want).abs() <= mps.error_bound() + 1e-12, "{chain:?}: estimate {}", mps.error_bound());
        }
        // a product state all the way
        assert_eq!(mps.report().bond_dim_reached, 1);
    }
}

#[test]
fn the_planner_builds_mps_only_when_asked_and_refuses_what_it_cannot_do() {
    use spinbat::propagate::{Plan, Precision, Request};
    let chain = Chain::builder(20).build().unwrap();
    assert_ne!(Plan::new(&chain, Solver::Auto, 1e-10, Precision::Double, Request::Work).unwrap().solver(), Solver::Mps);
    let p = Plan::new(&chain, Solver::Mps, 1e-10, Precision::Double, Request::Work).unwrap();
    let p = p.with_mps(&chain, MpsSettings { bond_dim: 16, truncation: 1e-12, time_step: None }).unwrap();
    assert_eq!(p.propagator(&chain).unwrap().name(), "mps");
    let states = Request::States { bytes_per_amplitude: 8.0 };
    assert!(Plan::new(&chain, Solver::Mps, 1e-10, Precision::Double, states).is_err());
    let fields = Chain::builder(8).site_fields(vec![1.0, 1.1, 0.9, 1.0, 1.2, 1.0, 0.8, 1.0]).build().unwrap();
    assert!(Plan::new(&fields, Solver::Mps, 1e-10, Precision::Double, Request::Work).is_err());
    let noise = spinbat::open::Noise { dephasing: 0.1, ..Default::default() };
    assert!(Plan::with_noise(&chain, Solver::Mps, 1e-10, Precision::Double, Request::Work, &noise).is_err());
    let bad = MpsSettings { bond_dim: 0, ..MpsSettings::default() };
    assert!(Plan::new(&chain, Solver::Mps, 1e-10, Precision::Double, Request::Work)
        .unwrap()
        .with_mps(&chain, bad)
        .is_err());
}

#[test]
fn long_range_terms_reach_the_product_state_at_early_times() {
    // From all-down (bond dimension 1) two-site TDVP sees a long-range H only through the
    // bond bases the state has: a pair (i, j) more than one site apart acts through the
    // projector onto them, and a missing direction is a projection error that no step
    // size removes. The symptom would show first at early times, where W is small:
    // p = 1 at N = 16, a random alpha, t <= 0.05, against Chebyshev to 1e-8 relative.
    let mut rng = Rng::new(1616);
    let alpha = rng.uniform(-1.0, 1.0);
    let chain = Chain::builder(16).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(alpha).build().unwrap();
    let times: Vec<f64> = (1..=5).map(|k| 0.01 * k as f64).collect();
    let mut exact = plan(&chain, Solver::Chebyshev, 1e-14).unwrap();
    let want = exact.sample(&times).unwrap();
    let mut mps = MpsPropagator::new(&chain, generous()).unwrap();
    let got = mps.sample(&times).unwrap();
    for (a, b) in want.iter().zip(&got) {
        let rel = (a.work - b.work).abs() / a.work.abs();
        assert!(rel < 1e-8, "alpha = {alpha}, t = {}: W {} vs {} ({rel:e})", a.t, b.work, a.work);
        let rel = (a.rate - b.rate).abs() / a.rate.abs();
        assert!(rel < 1e-8, "alpha = {alpha}, t = {}: W' {} vs {} ({rel:e})", a.t, b.rate, a.rate);
    }
}
