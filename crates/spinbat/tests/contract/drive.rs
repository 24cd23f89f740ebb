//! A periodic drive `ω(t) = ω + A cos(νt)` in the exact methods (`propagate::magnus`,
//! CFET4:2 with step doubling): against an independent fine-step reference built here
//! (the classical fourth-order Magnus exponential with its commutator, on dense matrices
//! from Kronecker products, applied by a Taylor series), every space against the closed
//! form `W = 2BN sin²θ`, `θ = ωt + (A/ν) sin νt` of independent spins, the step-error
//! estimate against the actual error, `A = 0` through the integrator against the static
//! charge, and the time-dependent work bound behind the certified search.

use crate::common::{random_chain, Rng};
use crate::schedule::dense_parts;
use faer::Mat;
use num_complex::Complex64 as C;
use spinbat::model::{Drive, Protocol};
use spinbat::observe;
use spinbat::operator::Operators;
use spinbat::propagate::magnus::{cfet4_fields, Driven};
use spinbat::propagate::schedule::ChebyshevSegments;
use spinbat::propagate::{Plan, Precision, Propagator, Request};
use spinbat::symmetry::{DickeSpace, OrbitSpace, ReflectionSector};
use spinbat::{Boundary, Chain, Couplings, Silent, Solver, SpinbatError};

fn plan(chain: &Chain, solver: Solver, tol: f64) -> Plan {
    Plan::new(chain, solver, tol, Precision::Double, Request::Work).unwrap()
}

/// `W`, `W'` at `times` (sorted) under `drive`, by the fourth-order Magnus exponential
/// `Ω = −i(δ/2)(H_1 + H_2) − (√3δ²/12)[H_2, H_1]` (Gauss nodes) with steps `≤ max_step`,
/// `e^Ω ψ` by its Taylor series on the vector. Independent of CFET4:2 (one exponential
/// with the commutator instead of two without).
fn reference(chain: &Chain, drive: &Drive, times: &[f64], max_step: f64) -> Vec<(f64, f64)> {
    let (hg, v, h0) = dense_parts(chain);
    let d = hg.nrows();
    let mut psi = Mat::<C>::zeros(d, 1);
    psi[(0, 0)] = C::new(1.0, 0.0);
    let e0 = h0[(0, 0)].re;
    let h_at = |t: f64| &hg + &v * faer::Scale(C::new(drive.omega_at(t), 0.0));
    let c = 3f64.sqrt() / 6.0;
    let mut t = 0.0;
    let mut out = Vec::new();
    for &target in times {
        while t < target {
            let delta = max_step.min(target - t);
            let (h1, h2) = (h_at(t + (0.5 - c) * delta), h_at(t + (0.5 + c) * delta));
            let omega = |x: &Mat<C>| -> Mat<C> {
                let (a1, a2) = (&h1 * x, &h2 * x);
                let comm = &h2 * &a1 - &h1 * &a2;
                (&a1 + &a2) * faer::Scale(C::new(0.0, -0.5 * delta))
                    - comm * faer::Scale(C::new(3f64.sqrt() * delta * delta / 12.0, 0.0))
            };
            let mut term = psi.clone();
            let mut sum = psi.clone();
            for k in 1..60 {
                term = omega(&term) * faer::Scale(C::new(1.0 / k as f64, 0.0));
                sum += &term;
                if term.norm_l2() < 1e-19 {
                    break;
                }
            }
            psi = sum;
            t = if delta == target - t { target } else { t + delta };
        }
        let w = (psi.adjoint() * &h0 * &psi)[(0, 0)].re - e0;
        let rate = 2.0 * ((&h0 * &psi).adjoint() * (h_at(t) * &psi))[(0, 0)].im;
        out.push((w, rate));
    }
    out
}

fn random_drive(rng: &mut Rng, chain: &Chain) -> Drive {
    Drive::new(chain.omega(), rng.uniform(0.3, 2.0) * if rng.below(2) == 0 { 1.0 } else { -1.0 }, rng.uniform(1.0, 8.0))
        .unwrap()
}

fn times(t_end: f64, k: usize) -> Vec<f64> {
    (1..=k).map(|j| t_end * j as f64 / k as f64).collect()
}

/// `|W − W_ref|` at `ts` and the largest `|W' − W'_ref|` relative to `1 + |W'|`.
fn errors(prop: &mut dyn Propagator, want: &[(f64, f64)], ts: &[f64]) -> (f64, f64) {
    let got = prop.sample(ts).unwrap();
    got.iter().zip(want).fold((0.0f64, 0.0f64), |(ew, er), (g, (w, r))| {
        (ew.max((g.work - w).abs()), er.max((g.rate - r).abs() / (1.0 + r.abs())))
    })
}

#[test]
fn a_drive_matches_a_fine_step_magnus_reference_in_dense_and_chebyshev() {
    let mut rng = Rng::new(1717);
    for n in [2, 3, 5, 6, 8] {
        let chain = random_chain(&mut rng, n);
        let drive = random_drive(&mut rng, &chain);
        let t_end = if n == 8 { 0.5 } else { 1.2 };
        let ts = times(t_end, 12);
        let want = reference(&chain, &drive, &ts, if n == 8 { 1e-3 } else { 4e-4 });
        // dense diagonalises 2^N x 2^N six times a step: N = 8 in Chebyshev only
        let solvers: &[Solver] = if n == 8 { &[Solver::Chebyshev] } else { &[Solver::Dense, Solver::Chebyshev] };
        for &solver in solvers {
            let mut prop = plan(&chain, solver, 1e-10).protocol_propagator(&chain, &Protocol::Drive(drive)).unwrap();
            prop.expect_until(t_end);
            let (ew, er) = errors(prop.as_mut(), &want, &ts);
            let est = prop.drive_step_error_estimate().expect("an exact method under a drive states its estimate");
            assert!(ew < 1e-9, "{solver} N = {n} {drive:?}: |dW| = {ew:.2e} (estimate {est:.2e})");
            assert!(er < 1e-8, "{solver} N = {n}: |dW'| = {er:.2e}");
            // at tol = 1e-10 the step differences reach the rounding floor (1e-13 a step, times
            // 2‖H0 − E_0‖ on W): the estimate then sums floors, far above the actual error
            assert!(est <= 1e-7 && ew <= est + prop.error_bound(), "{solver} N = {n}: estimate {est:.2e}");
            assert!(prop.accuracy_note().contains("estimate"));
            // back in time: from t = 0 again, the same numbers
            let (again, _) = errors(prop.as_mut(), &want[3..6], &ts[3..6]);
            assert!(again < 1e-9, "{solver} N = {n} resampled: {again:.2e}");
        }
    }
}

/// A loose tolerance: the actual error is visible and the step-doubling estimate is above
/// it (within the methods' own bounds), and not absurdly so.
#[test]
fn the_step_error_estimate_bounds_the_actual_error() {
    let mut rng = Rng::new(1718);
    for (n, tol) in [(4, 1e-4), (5, 1e-6), (6, 1e-5), (3, 1e-3)] {
        let chain = random_chain(&mut rng, n);
        let drive = random_drive(&mut rng, &chain);
        let ts = times(1.5, 15);
        let want = reference(&chain, &drive, &ts, 2e-4);
        for solver in [Solver::Dense, Solver::Chebyshev] {
            let mut prop = plan(&chain, solver, tol).protocol_propagator(&chain, &Protocol::Drive(drive)).unwrap();
            prop.expect_until(1.5);
            let (ew, _) = errors(prop.as_mut(), &want, &ts);
            let est = prop.drive_step_error_estimate().unwrap();
            let bound = prop.error_bound();
            assert!(ew <= bound, "{solver} N = {n} tol {tol}: |dW| = {ew:.2e} > estimate + bounds {bound:.2e}");
            assert!(est <= 10.0 * tol, "{solver} N = {n}: estimate {est:.2e} against tol {tol:.0e}");
        }
    }
}

/// CFET4:2's exponentials with a constant field are the static propagator itself: a drive
/// of amplitude 0 taken through the integrator (not bypassed) equals the static charge.
#[test]
fn a_drive_without_amplitude_through_the_integrator_is_the_static_charge() {
    let chain =
        Chain::builder(7).alpha(0.4).g(0.9).omega(2.2).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
    let drive = Drive::new(chain.omega(), 0.0, 5.0).unwrap();
    assert_eq!(cfet4_fields(&drive, 0.3, 0.1), (2.2, 2.2), "a + b = 1/2 in both exponentials");
    let ts = times(1.0, 10);
    let mut driven = Driven::new(
        ChebyshevSegments::<_, f64>::new(Operators::new(&chain).unwrap(), &chain, 1e-12),
        &chain,
        drive,
        1e-12,
    );
    let mut fixed = plan(&chain, Solver::Dense, 1e-12).propagator(&chain).unwrap();
    for (a, b) in driven.sample(&ts).unwrap().iter().zip(fixed.sample(&ts).unwrap()) {
        assert!((a.work - b.work).abs() < 1e-12, "W({}) = {} vs static {}", a.t, a.work, b.work);
        assert!((a.rate - b.rate).abs() < 1e-11 * (1.0 + b.rate.abs()), "W'({})", a.t);
    }
    assert!(
        driven.step_error_estimate() < 1e-10,
        "a constant field: the step differences are rounding alone: {}",
        driven.step_error_estimate()
    );
}

/// Independent spins (`g = 0`) turn by `θ(t) = ωt + (A/ν) sin(νt)`: `W = 2BN sin²θ` and
/// `W' = 2BN sin(2θ) ω(t)`, in dense and in Chebyshev on every space (full,
/// reflection-even, coupling orbits, Dicke).
#[test]
fn independent_spins_under_a_drive_turn_by_the_integrated_angle_on_every_space() {
    let drive_for = |c: &Chain| Drive::new(c.omega(), 0.8, 4.0).unwrap();
    let check = |prop: &mut dyn Propagator, chain: &Chain, what: &str| {
        let d = drive_for(chain);
        let n = chain.n_sites() as f64;
        prop.expect_until(1.5);
        for w in prop.sample(&times(1.5, 15)).unwrap() {
            let theta = d.omega * w.t + d.amplitude / d.frequency * (d.frequency * w.t).sin();
            let want = 2.0 * chain.b() * n * theta.sin().powi(2);
            let rate = 2.0 * chain.b() * n * (2.0 * theta).sin() * d.omega_at(w.t);
            assert!((w.work - want).abs() < 1e-9, "{what}: W({}) = {} vs {want}", w.t, w.work);
            assert!((w.rate - rate).abs() < 1e-8 * (1.0 + rate.abs()), "{what}: W'({}) = {} vs {rate}", w.t, w.rate);
        }
    };
    let free = Chain::builder(5).g(0.0).b(1.3).omega(1.1).build().unwrap();
    for solver in [Solver::Dense, Solver::Chebyshev, Solver::Dicke] {
        let mut prop =
            plan(&free, solver, 1e-10).protocol_propagator(&free, &Protocol::Drive(drive_for(&free))).unwrap();
        check(prop.as_mut(), &free, &format!("{solver}"));
    }
    let tol = 1e-10;
    let open = Chain::builder(7).g(0.0).b(0.9).omega(1.4).build().unwrap();
    let mut refl = Driven::new(
        ChebyshevSegments::<_, f64>::new(ReflectionSector::new(&open).unwrap(), &open, tol),
        &open,
        drive_for(&open),
        tol,
    );
    check(&mut refl, &open, "reflection-even sector");
    let ring = Chain::builder(6)
        .g(0.0)
        .b(1.0)
        .omega(2.0)
        .couplings(Couplings::NearestNeighbour)
        .boundary(Boundary::Periodic)
        .build()
        .unwrap();
    let mut orbits = Driven::new(
        ChebyshevSegments::<_, f64>::new(OrbitSpace::new(&ring).unwrap(), &ring, tol),
        &ring,
        drive_for(&ring),
        tol,
    );
    check(&mut orbits, &ring, "coupling orbits");
}

/// Coupled chains on the sectors against the dense reference: the reflection-even sector
/// (mirror symmetric), the coupling orbits (a ring), the Dicke states (`p = 0`).
#[test]
fn a_drive_in_every_sector_matches_the_reference() {
    let tol = 1e-10;
    let ts = times(1.0, 8);
    let open = Chain::builder(7).alpha(0.6).g(0.9).couplings(Couplings::PowerLaw { p: 1.5 }).build().unwrap();
    let d = Drive::new(open.omega(), 1.3, 6.0).unwrap();
    let mut refl =
        Driven::new(ChebyshevSegments::<_, f64>::new(ReflectionSector::new(&open).unwrap(), &open, tol), &open, d, tol);
    refl.expect_until(1.0);
    let (ew, er) = errors(&mut refl, &reference(&open, &d, &ts, 5e-4), &ts);
    assert!(ew < 1e-9 && er < 1e-8, "reflection-even sector: {ew:.2e} {er:.2e}");

    let ring = Chain::builder(6)
        .alpha(-0.4)
        .g(1.2)
        .couplings(Couplings::NearestNeighbour)
        .boundary(Boundary::Periodic)
        .build()
        .unwrap();
    let d = Drive::new(ring.omega(), -0.9, 3.0).unwrap();
    let mut orbits =
        Driven::new(ChebyshevSegments::<_, f64>::new(OrbitSpace::new(&ring).unwrap(), &ring, tol), &ring, d, tol);
    orbits.expect_until(1.0);
    let (ew, er) = errors(&mut orbits, &reference(&ring, &d, &ts, 5e-4), &ts);
    assert!(ew < 1e-9 && er < 1e-8, "coupling orbits: {ew:.2e} {er:.2e}");

    let all = Chain::builder(5).alpha(0.3).g(0.7).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
    let _ = DickeSpace::new(&all).expect("p = 0 is permutation symmetric");
    let d = Drive::new(all.omega(), 1.0, 2.5).unwrap();
    let mut dicke = plan(&all, Solver::Dicke, tol).protocol_propagator(&all, &Protocol::Drive(d)).unwrap();
    dicke.expect_until(1.0);
    let (ew, er) = errors(dicke.as_mut(), &reference(&all, &d, &ts, 5e-4), &ts);
    assert!(ew < 1e-9 && er < 1e-8, "Dicke states: {ew:.2e} {er:.2e}");
}

/// `W(t) ≤ Σ(|B_i| + B_i) + N(|ω| + |A| + TV_[0,t](ω))` along random driven chains (the
/// bound the certified search uses past the spectral one), and the certified `P_max` of the
/// search beats every point of a fine grid of the reference and is attained.
#[test]
fn the_work_stays_within_its_variation_bound_and_the_certified_search_agrees_with_a_grid() {
    let mut rng = Rng::new(1719);
    for n in [3, 4, 5] {
        let chain = random_chain(&mut rng, n);
        let drive = random_drive(&mut rng, &chain);
        let ts = times(3.0, 120);
        let want = reference(&chain, &drive, &ts, 1e-3);
        let fields = chain.n_sites() as f64 * (chain.b().abs() + chain.b());
        for (&t, (w, _)) in ts.iter().zip(&want) {
            let bound = fields + n as f64 * (drive.max_abs_omega() + drive.total_variation(t));
            assert!(*w <= bound + 1e-12, "N = {n}: W({t}) = {w} > {bound}");
        }
        let mut prop =
            plan(&chain, Solver::Chebyshev, 1e-10).protocol_propagator(&chain, &Protocol::Drive(drive)).unwrap();
        let r = observe::charge(prop.as_mut(), &chain, &observe::uniform_times(1.0, 5), &Silent).unwrap();
        let grid_best =
            ts.iter().zip(&want).filter(|(t, _)| **t <= r.certified_until).fold(0.0f64, |m, (t, (w, _))| m.max(w / t));
        assert!(
            r.max_power.power >= grid_best - 1e-9,
            "N = {n}: P_max {} below the grid's {grid_best}",
            r.max_power.power
        );
        assert!(
            r.max_power.power <= grid_best * 1.01,
            "N = {n}: P_max {} not attained ({grid_best})",
            r.max_power.power
        );
        assert!(r.certified_until.is_finite());
        // the time-dependent bound is at least as strong as the spectral one once P is large
        let c = prop.certify_time(&chain, 1e9);
        assert!(c <= prop.work_bound(&chain) / 1e9 * (1.0 + 1e-12));
    }
}

#[test]
fn a_drive_in_single_precision_is_refused() {
    let chain = Chain::builder(6).build().unwrap();
    let p = Plan::new(&chain, Solver::Chebyshev, 1e-6, Precision::Single, Request::Work).unwrap();
    let d = Protocol::Drive(Drive::new(chain.omega(), 1.0, 2.0).unwrap());
    assert!(matches!(p.protocol_propagator(&chain, &d), Err(SpinbatError::Unsupported { .. })));
}

/// The steps follow the tolerance, not the sample times: samples between step ends are
/// served by partial steps, and the estimate (its rounding floor taken out) either stays
/// within `tol` or the accuracy note says why (the floor); beside the floor it bounds the
/// actual error against the fine-step Magnus reference at the default `tol`, and alone at
/// a loose one, where the discretisation dominates (`N ≤ 8`).
#[test]
fn the_steps_follow_the_tolerance_and_the_estimate_separates_the_rounding_floor() {
    use spinbat::propagate::magnus::EXPONENTIAL_TOL;
    let mut rng = Rng::new(1720);
    for (n, tol) in
        [(3, spinbat::propagate::DEFAULT_TOL), (5, spinbat::propagate::DEFAULT_TOL), (8, 1e-10), (4, 1e-5), (6, 1e-6)]
    {
        let chain = random_chain(&mut rng, n);
        let drive = random_drive(&mut rng, &chain);
        let t_end = if n == 8 { 0.4 } else { 1.0 };
        // 13 sample times, none a multiple of a power-of-two fraction of the window
        let ts: Vec<f64> = (1..=13).map(|j| t_end * (j as f64 - 0.37) / 12.63).collect();
        let want = reference(&chain, &drive, &ts, if n == 8 { 5e-4 } else { 2e-4 });
        let mut prop = Driven::new(
            ChebyshevSegments::<_, f64>::new(Operators::new(&chain).unwrap(), &chain, tol * EXPONENTIAL_TOL),
            &chain,
            drive,
            tol,
        );
        prop.expect_until(t_end);
        let (ew, _) = errors(&mut prop, &want, &ts);
        let (est, floor) = (prop.step_error_estimate(), prop.step_error_floor());
        let (steps, _) = prop.steps();
        assert_eq!(prop.partial_steps(), 0, "N = {n}: a step that would pass a sample stops there");
        assert!(
            est <= tol || prop.accuracy_note().contains("above tol"),
            "N = {n} tol {tol:.0e}: estimate {est:.2e} over tol without a word: {}",
            prop.accuracy_note()
        );
        assert!(ew <= est + floor, "N = {n} tol {tol:.0e}: |dW| = {ew:.2e} > estimate {est:.2e} + floor {floor:.2e}");
        if tol >= 1e-6 {
            // discretisation-dominated: the estimate alone bounds, within 30x (step doubling
            // overestimates by ~15), and a looser tolerance takes fewer steps (the steps
            // follow tol; the samples are the same)
            assert!(ew <= est && est <= 30.0 * tol, "N = {n} tol {tol:.0e}: |dW| = {ew:.2e}, estimate {est:.2e}");
            let mut loose = Driven::new(
                ChebyshevSegments::<_, f64>::new(Operators::new(&chain).unwrap(), &chain, 1e3 * tol * EXPONENTIAL_TOL),
                &chain,
                drive,
                1e3 * tol,
            );
            loose.expect_until(t_end);
            let (ew_loose, _) = errors(&mut loose, &want, &ts);
            let (fewer, _) = loose.steps();
            assert!(fewer < steps, "N = {n}: {fewer} steps at 1000 tol, {steps} at tol");
            assert!(ew_loose <= loose.step_error_estimate(), "N = {n} at 1000 tol: {ew_loose:.2e}");
        }
        // the same samples again (back in time): the same numbers
        let (again, _) = errors(&mut prop, &want[2..5], &ts[2..5]);
        assert!(again <= est + floor + 1e-12, "N = {n} resampled: {again:.2e}");
    }
}
