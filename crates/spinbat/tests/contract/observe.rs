//! Figures of merit: certified maximal power, maximal work, independence of the grid.

use crate::common::{random_chain, Rng};
use spinbat::observe::{charge, uniform_times};
use spinbat::propagate::{plan, Dense, Propagator};
use spinbat::{analytic, Chain, Couplings, Silent, Solver};

const P1: f64 = 1.449_222_707_55; // one spin: P_max / (ωB)
/// One spin: `ωT*`, the root of `tan x = 2x`. The notes `docs/physics.md` grew from quoted
/// 1.16556117506, which is off in the 8th digit: `tan(1.16556117506) − 2·1.16556117506 = −4.5e−8`, while the root
/// is 1.1655611852072 (checked below). The power constant above is right to all digits.
const X1: f64 = 1.165_561_185_207_211;

#[test]
fn one_spin_optimal_time_solves_tan_x_equals_2x() {
    assert!((X1.tan() - 2.0 * X1).abs() < 1e-13);
    assert!((X1.sin().powi(2) / X1 * 2.0 - P1).abs() < 1e-11);
    assert!((analytic::one_spin_optimal_phase() - X1).abs() < 1e-14);
}

#[test]
fn one_spin_max_power_is_the_known_constant() {
    for &(b, omega) in &[(1.0, 4.0), (0.5, 1.0), (2.0, 0.3)] {
        let chain = Chain::builder(1).b(b).omega(omega).build().unwrap();
        for solver in [Solver::Dense, Solver::Chebyshev, Solver::WeakCoupling] {
            let mut p = plan(&chain, solver, 1e-10).unwrap();
            let r = charge(p.as_mut(), &chain, &uniform_times(2.0 / omega, 5), &Silent).unwrap();
            let rel_p = (r.max_power.power / (omega * b) - P1).abs() / P1;
            let rel_t = (r.max_power.time * omega - X1).abs() / X1;
            assert!(rel_p < 1e-10, "{solver}: P_max/(ωB) = {}", r.max_power.power / (omega * b));
            assert!(rel_t < 1e-9, "{solver}: ωT* = {}", r.max_power.time * omega);
            assert!((r.power_ratio - 1.0).abs() < 1e-10);
            // max work in [0, 2/ω] is 2B at ωT = π/2
            assert!((r.max_work.work - 2.0 * b).abs() < 1e-10);
            assert!((r.max_work.time * omega - std::f64::consts::FRAC_PI_2).abs() < 1e-6);
        }
    }
}

#[test]
fn maximum_does_not_depend_on_the_output_grid() {
    let chain = Chain::builder(6).couplings(Couplings::NearestNeighbour).alpha(0.2).build().unwrap();
    let mut results = Vec::new();
    for points in [2, 7, 301] {
        let mut p = plan(&chain, Solver::Chebyshev, 1e-10).unwrap();
        results.push(charge(p.as_mut(), &chain, &uniform_times(1.0, points), &Silent).unwrap());
    }
    for r in &results[1..] {
        let rel = (r.max_power.power - results[0].max_power.power).abs() / results[0].max_power.power;
        assert!(rel < 1e-11, "P_max moved by {rel} with the grid");
        assert!((r.max_power.time - results[0].max_power.time).abs() < 1e-9 * r.max_power.time);
    }
}

#[test]
fn xxx_power_equals_independent_spins() {
    let mut rng = Rng::new(9);
    for n in [2, 4, 7] {
        let chain = random_chain(&mut rng, n).with_alpha(1.0).unwrap();
        let mut p = plan(&chain, Solver::Auto, 1e-10).unwrap();
        let r = charge(p.as_mut(), &chain, &uniform_times(1.0, 3), &Silent).unwrap();
        assert!((r.power_ratio - 1.0).abs() < 1e-9, "N={n}: ratio {}", r.power_ratio);
    }
}

#[test]
fn certified_maximum_beats_a_brute_force_scan() {
    // W/T on a very fine grid, far past the certified stopping time, never exceeds P_max
    // (up to the solver's accuracy), and P_max is attained.
    let mut rng = Rng::new(31);
    for _ in 0..4 {
        let chain = random_chain(&mut rng, 5);
        let mut p = Dense::new(&chain).unwrap();
        let r = charge(&mut p, &chain, &uniform_times(1.0, 3), &Silent).unwrap();
        let t_end = 2.0 * r.certified_until;
        let times: Vec<f64> = (1..=20_000).map(|k| t_end * k as f64 / 20_000.0).collect();
        let scan = Dense::new(&chain).unwrap().sample(&times).unwrap();
        let best = scan.iter().map(|s| s.work / s.t).fold(0.0, f64::max);
        assert!(best <= r.max_power.power * (1.0 + 1e-12), "scan {best} > P_max {}", r.max_power.power);
        assert!(best >= r.max_power.power * (1.0 - 1e-4), "scan {best} far below P_max {}", r.max_power.power);
        // T* is a stationary point of W/T: T W'(T) = W(T)
        let s = Dense::new(&chain).unwrap().sample(&[r.max_power.time]).unwrap()[0];
        assert!((s.t * s.rate - s.work).abs() < 1e-8 * s.work.max(1.0));
    }
}

#[test]
fn weak_coupling_solver_reproduces_the_paper_formulas() {
    // Eq. 19 (maximal work) and the P_max formula after it, maximised by brute force.
    for (alpha, g) in [(0.0, 1.0), (0.5, 3.0), (0.0, 0.1)] {
        let chain = Chain::builder(7).alpha(alpha).g(g).omega(10.0).build().unwrap();
        let weak = analytic::WeakCoupling::new(&chain);
        let (w_max, t_max) = weak.max_work();
        let mut p = plan(&chain, Solver::WeakCoupling, 1e-10).unwrap();
        let r = charge(p.as_mut(), &chain, &uniform_times(std::f64::consts::PI / 10.0, 3), &Silent).unwrap();
        assert!((r.max_work.work - w_max).abs() < 1e-10 * w_max, "Eq. 19: {} vs {w_max}", r.max_work.work);
        assert!((r.max_work.time - t_max).abs() < 1e-7, "Eq. 19 time {} vs {t_max}", r.max_work.time);
        let (bn, a, om) = (7.0, (1.0 - alpha) * chain.total_coupling(), 10.0);
        let formula = |t: f64| 4.0 * om * (bn / 2.0 + a * (om * t).cos().powi(2)) * (om * t).sin().powi(2) / (om * t);
        let brute = (1..200_000).map(|k| formula(k as f64 * 1e-6)).fold(0.0, f64::max);
        assert!((r.max_power.power - brute).abs() < 1e-6 * brute, "{} vs {brute}", r.max_power.power);
    }
}

#[test]
fn anisotropy_raises_power_for_four_spins() {
    // paper Fig. 2 / physics.md result 7: N = 4, g = B, ω = 4B, P_max grows as α decreases
    for couplings in [Couplings::NearestNeighbour, Couplings::PowerLaw { p: 1.0 }] {
        let mut last = 0.0;
        for alpha in [1.0, 0.75, 0.5, 0.25, 0.0] {
            let chain = Chain::builder(4).couplings(couplings.clone()).alpha(alpha).build().unwrap();
            let mut p = plan(&chain, Solver::Dense, 1e-10).unwrap();
            let r = charge(p.as_mut(), &chain, &[0.0, 1.0], &Silent).unwrap();
            assert!(r.max_power.power > last, "{couplings:?} α={alpha}: {} <= {last}", r.max_power.power);
            last = r.max_power.power;
        }
    }
}

#[test]
fn requested_times_come_back_in_order() {
    let chain = Chain::builder(3).build().unwrap();
    let times = [0.0, 0.05, 0.4, 0.41, 2.5];
    let mut p = plan(&chain, Solver::Auto, 1e-10).unwrap();
    let r = charge(p.as_mut(), &chain, &times, &Silent).unwrap();
    let got: Vec<f64> = r.series.iter().map(|s| s.t).collect();
    assert_eq!(got, times);
    assert!(charge(p.as_mut(), &chain, &[0.3, 0.1], &Silent).is_err());
    assert!(charge(p.as_mut(), &chain, &[-1.0], &Silent).is_err());
}

/// A progress that asks to stop at its first chance, counting the updates it saw.
struct StopAtOnce(std::sync::atomic::AtomicUsize);

impl spinbat::Progress for StopAtOnce {
    fn update(&self, _done: f64, _total: f64) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn stop_reason(&self) -> Option<String> {
        Some("asked".into())
    }
}

#[test]
fn the_scan_plan_refuses_what_no_run_can_finish_and_stops_when_asked() {
    use spinbat::observe::{ScanPlan, MAX_SCAN_POINTS};
    use spinbat::SpinbatError;
    let chain = Chain::builder(6).build().unwrap();
    let mut p = plan(&chain, Solver::Dense, 1e-10).unwrap();
    // the plan is the grid h = pi / (16 Lambda) over max(window, W_bound / P_ind)
    let times = uniform_times(1e12, 3);
    let sp = ScanPlan::of(p.as_ref(), &chain, &times);
    assert!((sp.step - spinbat::observe::scan_step(&chain)).abs() < 1e-15);
    let p_ind = 6.0 * analytic::one_spin_max_power(chain.b(), chain.omega()).0;
    assert!((sp.certify - chain.work_bound() / p_ind).abs() < 1e-12 * sp.certify);
    assert!((sp.grid_points - 1e12 / sp.step).abs() < 1e-9 * sp.grid_points);
    match charge(p.as_mut(), &chain, &times, &Silent) {
        Err(SpinbatError::TooLong { needed, limit, .. }) => {
            assert!(needed > limit && limit == MAX_SCAN_POINTS as f64)
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
    // within the limit the same window is a plan that passes
    assert!(ScanPlan::of(p.as_ref(), &chain, &uniform_times(10.0, 3)).check().is_ok());
    // a progress that asks to stop gets SpinbatError::Stopped after the first chunk
    let stop = StopAtOnce(Default::default());
    let r = charge(p.as_mut(), &chain, &uniform_times(10.0, 3), &stop);
    assert!(matches!(r, Err(SpinbatError::Stopped { .. })), "{r:?}");
    assert_eq!(stop.0.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// A progress that records every `(done, total)` it is given.
struct Recorder(std::sync::Mutex<Vec<(f64, f64)>>);

impl spinbat::Progress for Recorder {
    fn update(&self, done: f64, total: f64) {
        self.0.lock().unwrap().push((done, total));
    }
}

#[test]
fn a_gram_segment_reports_how_far_it_has_got_while_it_is_built() {
    // the live reach (read by the progress display from another thread while one sample
    // call builds a segment): read every 0.2 ms during the call, it rises from the start
    // through values strictly inside the segment (its memory, its terms, its products)
    // and ends at the segment's end; until then it counts the way to the horizon (what the
    // progress display counts to), though the segment reaches past it: a little past the
    // window, and far past a short horizon (the first segment keeps its minimum of terms),
    // so the bar is not full early; the dense propagator reports none
    let chain = Chain::builder(18).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
    let window = 2.0 * std::f64::consts::PI / chain.omega();
    for horizon in [window, 0.05] {
        let mut p = plan(&chain, Solver::Chebyshev, 1e-10).unwrap();
        let cell = p.live_reach().expect("Chebyshev by Gram segments reports its reach");
        p.expect_until(horizon);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let seen = std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let mut seen = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let t = f64::from_bits(cell.load(std::sync::atomic::Ordering::Relaxed));
                    if seen.last() != Some(&t) {
                        seen.push(t);
                    }
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                seen
            });
            p.sample(&[horizon]).unwrap();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            reader.join().unwrap()
        });
        let end = p.computed_until();
        assert!(end >= horizon, "one segment over the horizon {horizon}: {end}");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "rising: {seen:?}");
        let inside = seen.iter().filter(|&&t| t > 0.0 && t < end).count();
        assert!(inside >= 3, "reported inside the segment {inside} times: {seen:?}");
        assert_eq!(f64::from_bits(cell.load(std::sync::atomic::Ordering::Relaxed)), end, "ends at the segment's end");
        let before_done = &seen[..seen.len() - 1];
        assert!(before_done.iter().all(|&t| t <= horizon), "past {horizon} before the end ({end}): {seen:?}");
    }
    assert!(Dense::new(&Chain::builder(8).build().unwrap()).unwrap().live_reach().is_none(), "dense: none");
}

#[test]
fn the_live_reach_counts_the_work_of_every_planned_segment() {
    // where memory holds short segments (GRAM_FIT_TERMS complex terms) the window takes a
    // real segment, then complex ones that cost twice as much a term and pay their tails
    // again: when the first is built the reach reported is the share of all the planned
    // work done (short of the segment's end, which a time-based estimate would read as
    // most of the run); after the window, the last segment's end
    use spinbat::propagate::{Chebyshev, GRAM_FIT_TERMS};
    use std::sync::atomic::Ordering::Relaxed;
    let chain = Chain::builder(12).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
    let window = 2.0 * std::f64::consts::PI / chain.omega();
    let mut p = Chebyshev::new(&chain, 1e-10).unwrap().with_gram_max_terms(GRAM_FIT_TERMS);
    let cell = p.live_reach().expect("Gram segments report their reach");
    p.expect_until(window);
    p.sample(&[0.01]).unwrap();
    let first_end = p.computed_until();
    assert!(first_end < 0.5 * window, "the real segment reaches {first_end} of {window}");
    let reported = f64::from_bits(cell.load(Relaxed));
    // the real segment: about 52 real terms and the store's first touch, against some 2·26
    // a complex segment over the rest of the window
    assert!(reported > 0.0 && reported < 0.8 * first_end, "reported {reported}, segment to {first_end}");
    p.sample(&[window]).unwrap();
    assert!(p.computed_until() >= window);
    assert_eq!(f64::from_bits(cell.load(Relaxed)), p.computed_until(), "ends at the last segment's end");
}

#[test]
fn the_live_reach_counts_a_taps_states_as_part_of_each_segment() {
    // a segment that serves a tap's states reports, while it hands them out, less than its
    // end (the states' combining and measuring are part of its work, which the progress
    // estimate counts), moving forward state by state, and reaches the end only after
    use spinbat::propagate::{Chebyshev, StateTap};
    use std::sync::atomic::Ordering::Relaxed;
    use std::sync::{Arc, Mutex};
    let chain = Chain::builder(14).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
    let window = 2.0 * std::f64::consts::PI / chain.omega();
    let mut p = Chebyshev::new(&chain, 1e-10).unwrap();
    let cell = p.live_reach().expect("Gram segments report their reach");
    p.expect_until(window);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (cell2, seen2) = (Arc::clone(&cell), Arc::clone(&seen));
    let tap = StateTap {
        times: uniform_times(window, 201),
        visitor_bytes_per_amplitude: 0.0,
        visit: Box::new(move |_, _| {
            seen2.lock().unwrap().push(f64::from_bits(cell2.load(Relaxed)));
            Ok(())
        }),
        rows: true,
    };
    p.tap_states(tap).expect("Chebyshev by Gram segments takes a tap");
    p.sample(&[window]).unwrap();
    let end = p.computed_until();
    assert!(end >= window);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 201);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "never backwards");
    // one real segment over the window: the terms and products done before the first
    // state, the states' share still to come (groups of up to 32 states report between)
    assert!(seen[0] > 0.0 && seen[0] < 0.9 * end, "first state at {} of {end}", seen[0]);
    assert!(seen[200] > seen[0] && seen[200] < end, "last state at {} of {end}", seen[200]);
    assert_eq!(f64::from_bits(cell.load(Relaxed)), end, "the segment's end once the states are served");
}

#[test]
fn the_scan_counts_a_gram_segment_as_done_up_to_its_reach() {
    // Chebyshev by Gram segments builds one real segment over the whole window before the
    // scan's first report: the first report must say the work is done (a time-based
    // estimate would otherwise extrapolate the segment's cost over the rest of the way);
    // the dense propagator computes each chunk as it goes and reports the chunk's end
    let chain = Chain::builder(12).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
    let window = 2.0 * std::f64::consts::PI / chain.omega();
    let times = uniform_times(window, 201);
    for (solver, gram) in [(Solver::Chebyshev, true), (Solver::Dense, false)] {
        let mut p = plan(&chain, solver, 1e-10).unwrap();
        let rec = Recorder(std::sync::Mutex::new(Vec::new()));
        charge(p.as_mut(), &chain, &times, &rec).unwrap();
        let seen = rec.0.into_inner().unwrap();
        assert!(seen.iter().all(|&(d, t)| d <= t && d >= 0.0), "{solver:?}: done within the total: {seen:?}");
        let (done, total) = seen[0];
        if gram {
            assert!(p.computed_until() >= window, "the segment reaches the window: {}", p.computed_until());
            assert_eq!(done, total, "Gram: the first report is the end of the scan");
        } else {
            assert_eq!(p.computed_until(), 0.0);
            assert!(done < 0.5 * total, "dense: the first report is its first chunk's end, {done} of {total}");
        }
    }
}
