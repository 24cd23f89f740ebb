//! Observables along the charging trajectory from the one planner: in the reflection-even
//! sector and in single precision they must equal those of the full-space double-precision
//! states, to the bounds each run states (`ObservableBounds` from its state error).

use spinbat::observe::trajectory::{trajectory_with, ObservableSet, Trajectory};
use spinbat::operator::Operators;
use spinbat::propagate::{uses_reflection_sector, Chebyshev, Precision, StatePropagator};
use spinbat::{Chain, Couplings, Silent, Solver};

/// The observables of the full-space double-precision Chebyshev states, computed by
/// visiting them directly (no planner): the reference.
fn full_space(chain: &Chain, times: &[f64]) -> Vec<(f64, Vec<[f64; 3]>, f64)> {
    use spinbat::observe::correlations::{bloch_vectors, energy_variance, entanglement};
    let mut prop = Chebyshev::new(chain, 1e-12).unwrap();
    let mut out = Vec::new();
    prop.for_each_state(times, &mut |_, state| {
        let (psi, ops): (_, &Operators) = state.pure().expect("a pure state");
        let s = entanglement(psi, chain.n_sites(), chain.n_sites() / 2)?.von_neumann;
        out.push((s, bloch_vectors(psi, chain.n_sites())?, energy_variance(ops, psi)?));
        Ok(())
    })
    .unwrap();
    assert!(prop.state_error() < 1e-10);
    out
}

fn check_against(tr: &Trajectory, reference: &[(f64, Vec<[f64; 3]>, f64)], what: &str) {
    let b = tr.bounds.expect("a quantum trajectory states its bounds");
    // the reference's own error (state error < 1e-10) adds to the run's bound
    let slack = 1e-9;
    for (p, (s, bloch, var)) in tr.points.iter().zip(reference) {
        let ds = (p.entropy.unwrap() - s).abs();
        assert!(ds <= b.entropy + slack, "{what}: entropy off by {ds:.1e} > {:.1e} at t = {}", b.entropy, p.t);
        for (x, y) in p.bloch.as_ref().unwrap().iter().zip(bloch) {
            for k in 0..3 {
                assert!((x[k] - y[k]).abs() <= b.bloch + slack, "{what}: Bloch off at t = {}", p.t);
            }
        }
        let dv = (p.variance.unwrap() - var).abs();
        assert!(dv <= b.variance + slack * var.abs().max(1.0), "{what}: Var(H0) off by {dv:.1e} at t = {}", p.t);
    }
}

#[test]
fn sector_and_single_precision_trajectories_equal_the_full_space_within_their_bounds() {
    // mirror symmetric, N = 14: auto takes the reflection-even sector
    let chain = Chain::builder(14).couplings(Couplings::PowerLaw { p: 1.3 }).alpha(0.4).g(0.8).build().unwrap();
    assert!(uses_reflection_sector(&chain));
    let times = [0.0, 0.07, 0.2, 0.45];
    let set: ObservableSet = "entanglement,bloch,variance".parse().unwrap();
    let reference = full_space(&chain, &times);
    // the dynamics is not trivial here: the state entangles and Var(H0) grows
    assert!(reference[3].0 > 0.1 && reference[3].2 > 1.0, "{:?}", reference[3]);

    let sector = trajectory_with(&chain, Solver::Auto, &times, &set, 1e-10, Precision::Double, &Silent).unwrap();
    assert!(sector.accuracy.contains("reflection-even sector"), "{}", sector.accuracy);
    assert!(sector.state_error.unwrap() < 1e-10);
    check_against(&sector, &reference, "sector, double");

    let single = trajectory_with(&chain, Solver::Auto, &times, &set, 1e-6, Precision::Single, &Silent).unwrap();
    assert!(single.accuracy.contains("single precision"), "{}", single.accuracy);
    // f32 states: the stated bound is far above double's and still holds
    assert!(single.state_error.unwrap() > 1e-8);
    check_against(&single, &reference, "sector, single");

    // a chain without mirror symmetry runs single precision on the full space
    let m: Vec<Vec<f64>> = (0..12)
        .map(|i| (0..12).map(|j| if i == j { 0.0 } else { 1.0 / (1.0 + (i + 2 * j) as f64 % 5.0) }).collect())
        .collect();
    let m: Vec<Vec<f64>> = (0..12).map(|i| (0..12).map(|j| 0.5 * (m[i][j] + m[j][i])).collect()).collect();
    let chain = Chain::builder(12).couplings(Couplings::Matrix { m }).build().unwrap();
    assert!(!uses_reflection_sector(&chain));
    let reference = full_space(&chain, &times);
    let single = trajectory_with(&chain, Solver::Chebyshev, &times, &set, 1e-6, Precision::Single, &Silent).unwrap();
    assert!(!single.accuracy.contains("sector") && single.accuracy.contains("single precision"));
    check_against(&single, &reference, "full space, single");

    // single precision is refused for dense, as for the work
    let r = trajectory_with(&chain, Solver::Dense, &times, &set, 1e-6, Precision::Single, &Silent);
    assert!(matches!(r, Err(spinbat::SpinbatError::InvalidParameter { .. })), "{r:?}");
}

/// Every observable of `charge_observed` (the charge's own propagation hands its states
/// out: Chebyshev by Gram segments) against the separate propagation of the states
/// (`trajectory_planned`), key by key within the bounds the runs state; the curve and
/// `P_max` equal the charge alone.
fn shared_equals_separate(chain: &Chain, times: &[f64], expect_shared: bool, set: ObservableSet) {
    use spinbat::observe::trajectory::{charge_observed, plan, trajectory_planned};
    use spinbat::propagate::{Plan, Request};
    let states = plan(chain, Solver::Chebyshev, 1e-10, Precision::Double).unwrap();
    let work = Plan::new(chain, Solver::Chebyshev, 1e-10, Precision::Double, Request::Work).unwrap();
    let run = charge_observed(work.propagator(chain).unwrap(), &states, chain, times, &set, &Silent, &Silent).unwrap();
    let alone = spinbat::observe::charge(work.propagator(chain).unwrap().as_mut(), chain, times, &Silent).unwrap();
    let what = format!("N = {}", chain.n_sites());
    assert_eq!(run.shared_points, if expect_shared { times.len() } else { 0 }, "{what}");
    assert!((run.charge.max_power.power - alone.max_power.power).abs() < 1e-12 * alone.max_power.power, "{what}");
    let separate = trajectory_planned(&states, chain, times, &set, &Silent).unwrap();
    let b = run.trajectory.bounds.expect("bounds");
    let eps = run.trajectory.state_error.unwrap().max(separate.state_error.unwrap());
    assert!(eps < 1e-11, "{what}: state error {eps:.1e}");
    // both runs' state errors bound the difference; energies scale with ||H0|| <= 4N here
    let h = 4.0 * chain.n_sites() as f64;
    let tol = |scale: f64| 8.0 * eps * scale + 1e-12 * scale;
    assert_eq!(run.trajectory.points.len(), times.len());
    for (p, q) in run.trajectory.points.iter().zip(&separate.points) {
        assert_eq!(p.t, q.t);
        assert!((p.work - q.work).abs() <= tol(h), "{what}: W at t = {}", p.t);
        let close = |x: f64, y: f64, scale: f64, key: &str| {
            assert!((x - y).abs() <= tol(scale), "{what}: {key} {x} vs {y} at t = {}", p.t);
        };
        assert_eq!(p.entropy.is_some(), set.entanglement, "{what}");
        if let (Some(x), Some(y)) = (p.entropy, q.entropy) {
            let ds = (x - y).abs();
            assert!(ds <= 2.0 * b.entropy + 1e-10, "{what}: entropy off by {ds:.1e} at t = {}", p.t);
        }
        for (x, y) in p.bloch.as_ref().unwrap().iter().zip(q.bloch.as_ref().unwrap()) {
            (0..3).for_each(|k| close(x[k], y[k], 1.0, "Bloch"));
        }
        assert_eq!(p.zz.is_some(), set.zz, "{what}");
        if let (Some(x), Some(y)) = (&p.zz, &q.zz) {
            x.iter().flatten().zip(y.iter().flatten()).for_each(|(x, y)| close(*x, *y, 3.0, "ZZ"));
        }
        close(p.variance.unwrap(), q.variance.unwrap(), h * h, "Var(H0)");
        let (e, f) = (p.ergotropy.unwrap(), q.ergotropy.unwrap());
        close(e.ergotropy.unwrap(), f.ergotropy.unwrap(), h, "ergotropy");
        close(e.ergotropy_hb, f.ergotropy_hb, h, "ergotropy_hb");
        close(e.local_ergotropy, f.local_ergotropy, h, "local_ergotropy");
        close(e.locked_ergotropy, f.locked_ergotropy, h, "locked_ergotropy");
        close(e.coherent_ergotropy, f.coherent_ergotropy, h, "coherent_ergotropy");
        close(e.variance_hb, f.variance_hb, h * h, "variance_hb");
        close(e.incoherent_ergotropy, f.incoherent_ergotropy, h, "incoherent_ergotropy");
        close(e.power_bound.unwrap(), f.power_bound.unwrap(), h * h, "power_bound");
        assert_eq!(e.block_ergotropy.is_some(), set.block.is_some(), "{what}");
        if let (Some(x), Some(y)) = (e.block_ergotropy, f.block_ergotropy) {
            close(x, y, h, "block_ergotropy");
        }
    }
    // at T* (served by a short series from the same propagator)
    let a = run.at_t_star.unwrap();
    let s = trajectory_planned(&states, chain, &[alone.max_power.time], &set, &Silent).unwrap().points[0].clone();
    assert!(a.t == s.t && (a.work - s.work).abs() <= tol(h), "{what}: W at T*");
    let (e, f) = (a.ergotropy.unwrap(), s.ergotropy.unwrap());
    assert!((e.locked_ergotropy - f.locked_ergotropy).abs() <= tol(h), "{what}: locked ergotropy at T*");
    if let (Some(x), Some(y)) = (a.entropy, s.entropy) {
        assert!((x - y).abs() <= 2.0 * b.entropy + 1e-10, "{what}: entropy at T*");
    }
}

#[test]
fn observables_from_the_charges_own_propagation_equal_a_separate_one() {
    // out to t = 8: several segments, the first real, the later complex
    let times: Vec<f64> = (0..21).map(|j| 0.4 * j as f64).collect();
    // full space (N < 14)
    let mut rng = crate::common::Rng::new(7);
    let chain = crate::common::random_chain(&mut rng, 10);
    let all = ObservableSet::all().with_block(2);
    shared_equals_separate(&chain, &times, true, all);
    // the reflection-even sector (the states are expanded, Bloch vectors mirrored)
    let chain = Chain::builder(14).couplings(Couplings::PowerLaw { p: 1.3 }).alpha(0.4).g(0.8).build().unwrap();
    assert!(uses_reflection_sector(&chain));
    shared_equals_separate(&chain, &times, true, all);
    // a ring's coupling orbits
    let ring = Chain::builder(12).alpha(0.5).boundary(spinbat::Boundary::Periodic).build().unwrap();
    shared_equals_separate(&ring, &times, true, all);
    // alpha = 0 in the sector: the tap hands the states out in their tiles, never expanded,
    // for the sets one pass over the blocks measures (even and odd N)
    let by_rows: ObservableSet = "bloch,variance,ergotropy".parse().unwrap();
    assert!(by_rows.by_rows() && !all.by_rows());
    for n in [14, 15] {
        let chain = Chain::builder(n).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.0).build().unwrap();
        assert!(uses_reflection_sector(&chain));
        shared_equals_separate(&chain, &times, true, by_rows);
    }
    // a window one real segment covers: the state at T* combined from the terms it left
    // in the store, not from a second series
    let short: Vec<f64> = (0..21).map(|j| 0.03 * j as f64).collect();
    let chain = Chain::builder(14).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.0).build().unwrap();
    shared_equals_separate(&chain, &short, true, by_rows);
}
