//! Dicke propagator against the full space.

use crate::common::{grid, max_diffs, Rng};
use spinbat::observe::{charge, uniform_times};
use spinbat::propagate::dicke::{is_permutation_symmetric, Dicke, DickeMethod};
use spinbat::propagate::{Chebyshev, Dense, Propagator};
use spinbat::{analytic, Boundary, Chain, Couplings, Silent, SpinbatError, WorkSample};

/// Every way of running the Dicke propagator: windows with the cost model, windows only,
/// a tiny window that leaks and hands over to Chebyshev, Chebyshev only.
const METHODS: [DickeMethod; 4] =
    [DickeMethod::Auto, DickeMethod::Eigen, DickeMethod::Window { max_window: 4 }, DickeMethod::Chebyshev];

/// A random permutation-symmetric chain: power law `p = 0` open or periodic, or an explicit
/// matrix with all off-diagonal entries equal.
fn random_symmetric_chain(rng: &mut Rng, n: usize) -> Chain {
    let builder = Chain::builder(n)
        .alpha(rng.uniform(-1.0, 1.5))
        .b(rng.uniform(0.5, 2.0))
        .g(rng.uniform(0.0, 2.0))
        .omega(rng.uniform(0.5, 5.0));
    let builder = match rng.below(3) {
        0 => builder.couplings(Couplings::PowerLaw { p: 0.0 }),
        1 => builder.couplings(Couplings::PowerLaw { p: 0.0 }).boundary(Boundary::Periodic),
        _ => {
            let v = rng.uniform(0.2, 1.5);
            let m = (0..n).map(|i| (0..n).map(|j| if i == j { 0.0 } else { v }).collect()).collect();
            builder.couplings(Couplings::Matrix { m })
        }
    };
    builder.build().expect("valid random chain")
}

#[test]
fn dicke_equals_the_full_space_on_random_symmetric_chains() {
    let mut rng = Rng::new(4242);
    for trial in 0..16 {
        let n = 1 + rng.below(12); // 1..=12
        let chain = random_symmetric_chain(&mut rng, n);
        assert!(is_permutation_symmetric(&chain));
        let times = grid(rng.uniform(0.5, 3.0), 15);
        let exact = if n <= 9 {
            Dense::new(&chain).unwrap().sample(&times).unwrap()
        } else {
            Chebyshev::new(&chain, 1e-13).unwrap().sample(&times).unwrap()
        };
        for method in METHODS {
            let mut d = Dicke::with_method(&chain, 1e-12, method).unwrap();
            let got = d.sample(&times).unwrap();
            let (dw, dr) = max_diffs(&got, &exact);
            assert!(dw < 1e-10, "trial {trial} N={n} {method:?}: |dW| = {dw:e} ({chain:?})");
            assert!(dr < 1e-10, "trial {trial} N={n} {method:?}: |dW'|/(1+|W'|) = {dr:e}");
        }
    }
}

#[test]
fn xxx_chain_of_a_thousand_spins_charges_like_independent_spins() {
    let mut rng = Rng::new(17);
    let (b, omega, g) = (rng.uniform(0.5, 2.0), rng.uniform(0.5, 5.0), rng.uniform(0.1, 2.0));
    let n = 1000;
    let chain =
        Chain::builder(n).alpha(1.0).b(b).g(g).omega(omega).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
    let times = grid(3.0 / omega, 30);
    for method in [DickeMethod::Auto, DickeMethod::Chebyshev] {
        let mut d = Dicke::with_method(&chain, 1e-10, method).unwrap();
        for s in d.sample(&times).unwrap() {
            let w = analytic::independent_work(n, b, omega, s.t);
            let dw = 2.0 * b * n as f64 * omega * (2.0 * omega * s.t).sin();
            assert!((s.work - w).abs() < 1e-8, "{method:?}: W({}) = {} vs {w}", s.t, s.work);
            assert!((s.rate - dw).abs() < 1e-10 * (1.0 + dw.abs()), "{method:?}: W'({}) = {} vs {dw}", s.t, s.rate);
        }
    }
    // the certified maximum (scanned on the scale of ω alone) is N independent spins'
    let r = charge(&mut Dicke::new(&chain, 1e-10).unwrap(), &chain, &[0.0, 0.1 / omega], &Silent).unwrap();
    let (p1, t1) = analytic::one_spin_max_power(b, omega);
    assert!((r.max_power.power - n as f64 * p1).abs() < 1e-10 * n as f64 * p1, "P_max {:?}", r.max_power);
    assert!((r.max_power.time - t1).abs() < 1e-8 * t1, "T* {:?}", r.max_power);
}

#[test]
fn max_power_of_eight_spins_equals_dense() {
    // α near 1 is scanned on the coarse Dicke grid π/(16(|ω| + |1 − α| Σ g)): the same maximum
    for (alpha, boundary) in [
        (0.0, Boundary::Open),
        (0.4, Boundary::Periodic),
        (-0.6, Boundary::Open),
        (0.95, Boundary::Open),
        (1.0, Boundary::Open),
    ] {
        let chain = Chain::builder(8)
            .alpha(alpha)
            .couplings(Couplings::PowerLaw { p: 0.0 })
            .boundary(boundary)
            .build()
            .unwrap();
        let times = uniform_times(1.0, 11);
        let dense = charge(&mut Dense::new(&chain).unwrap(), &chain, &times, &Silent).unwrap();
        let mut dicke = Dicke::new(&chain, 1e-10).unwrap();
        let got = charge(&mut dicke, &chain, &times, &Silent).unwrap();
        assert_eq!(got.solver, "dicke");
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        assert!(rel(got.max_power.power, dense.max_power.power) < 1e-10, "α={alpha}: P_max {got:?} vs {dense:?}");
        assert!(rel(got.max_power.time, dense.max_power.time) < 1e-8, "α={alpha}: T*");
        assert!(rel(got.max_work.work, dense.max_work.work) < 1e-10, "α={alpha}: max work");
        for (x, y) in got.series.iter().zip(&dense.series) {
            assert!((x.work - y.work).abs() < 1e-10);
        }
        let bound = got.error_bound.expect("the Dicke solver bounds its error");
        assert!(bound <= 1e-10, "bound {bound}");
    }
}

#[test]
fn chains_that_are_not_permutation_symmetric_are_refused() {
    let p1 = Chain::builder(5).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
    assert!(!is_permutation_symmetric(&p1));
    match Dicke::new(&p1, 1e-10) {
        Err(SpinbatError::Unsupported { solver, reason }) => {
            assert_eq!(solver, "dicke");
            assert!(reason.contains("not all equal"), "{reason}");
        }
        Err(e) => panic!("wrong error {e:?}"),
        Ok(_) => panic!("a p = 1 chain is not permutation symmetric"),
    }
    let nn = |n: usize, boundary| {
        Chain::builder(n).couplings(Couplings::NearestNeighbour).boundary(boundary).build().unwrap()
    };
    assert!(!is_permutation_symmetric(&nn(4, Boundary::Open)));
    assert!(!is_permutation_symmetric(&nn(4, Boundary::Periodic)));
    assert!(!is_permutation_symmetric(&nn(3, Boundary::Open)));
    assert!(is_permutation_symmetric(&nn(3, Boundary::Periodic)));
    assert!(is_permutation_symmetric(&nn(2, Boundary::Open)));
    assert!(is_permutation_symmetric(&Chain::builder(1).build().unwrap()));
    assert!(is_permutation_symmetric(&Chain::builder(2).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap()));
    let p0 = Chain::builder(7).couplings(Couplings::PowerLaw { p: 0.0 }).boundary(Boundary::Periodic).build().unwrap();
    assert!(is_permutation_symmetric(&p0));
    // one pair differs
    let mut m = vec![vec![0.5; 4]; 4];
    for (i, row) in m.iter_mut().enumerate() {
        row[i] = 0.0;
    }
    let equal = Chain::builder(4).couplings(Couplings::Matrix { m: m.clone() }).build().unwrap();
    assert!(is_permutation_symmetric(&equal));
    m[1][3] = 0.6;
    m[3][1] = 0.6;
    let unequal = Chain::builder(4).couplings(Couplings::Matrix { m }).build().unwrap();
    assert!(!is_permutation_symmetric(&unequal));
    assert!(matches!(Dicke::new(&unequal, 1e-10), Err(SpinbatError::Unsupported { .. })));
    assert!(matches!(Dicke::new(&equal, 0.0), Err(SpinbatError::InvalidParameter { .. })));
}

#[test]
fn error_bound_is_below_tol_and_above_the_actual_error() {
    let mut rng = Rng::new(99);
    // small chains against dense ED; a larger one against a tight Chebyshev run
    let mut cases: Vec<(Chain, Vec<f64>, Vec<WorkSample>, f64)> = Vec::new();
    for n in [6, 9] {
        let chain = random_symmetric_chain(&mut rng, n);
        let times = grid(4.0, 40);
        let mut dense = Dense::new(&chain).unwrap();
        let exact = dense.sample(&times).unwrap();
        cases.push((chain, times, exact, dense.error_bound()));
    }
    let chain =
        Chain::builder(60).g(1.0).alpha(0.2).omega(2.0).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
    let times = grid(1.5, 60);
    let mut reference = Dicke::with_method(&chain, 1e-13, DickeMethod::Chebyshev).unwrap();
    let exact = reference.sample(&times).unwrap();
    cases.push((chain, times, exact, reference.error_bound()));
    for (chain, times, exact, slack) in &cases {
        assert!(*slack < 1e-10, "reference bound {slack}");
        for tol in [1e-3, 1e-6, 1e-9] {
            for method in [DickeMethod::Auto, DickeMethod::Window { max_window: 4 }, DickeMethod::Chebyshev] {
                let mut d = Dicke::with_method(chain, tol, method).unwrap();
                let got = d.sample(times).unwrap();
                let (err, _) = max_diffs(&got, exact);
                let n = chain.n_sites();
                assert!(
                    err <= d.error_bound() + slack,
                    "N={n} {method:?} tol {tol}: error {err:e} above bound {:e}",
                    d.error_bound()
                );
                assert!(d.error_bound() <= tol, "N={n} {method:?}: bound {:e} above tol {tol}", d.error_bound());
            }
        }
    }
}

#[test]
fn a_small_window_leaks_within_its_bound_and_grows_with_the_tolerance() {
    // strong coupling: the state stays within ~16 states of k = 0, but not within 4
    let chain =
        Chain::builder(60).g(1.0).alpha(0.2).omega(2.0).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
    let times = grid(1.5, 60);
    let exact = Dicke::with_method(&chain, 1e-13, DickeMethod::Chebyshev).unwrap().sample(&times).unwrap();
    let mut windows = Vec::new();
    for tol in [1e-2, 1e-6, 1e-10] {
        let mut d = Dicke::with_method(&chain, tol, DickeMethod::Eigen).unwrap();
        let got = d.sample(&times).unwrap();
        let (err, _) = max_diffs(&got, &exact);
        assert!(
            err <= d.error_bound() + 1e-12 && d.error_bound() <= tol,
            "tol {tol}: error {err:e}, bound {:e}",
            d.error_bound()
        );
        windows.push(d.window().unwrap());
    }
    // a looser tolerance needs a smaller window; all stay well below N + 1 = 61
    assert!(windows[0] < windows[2] && windows[0] <= windows[1] && windows[2] <= 32, "windows {windows:?}");
}

#[test]
fn strong_coupling_window_of_a_large_chain_equals_chebyshev() {
    // N = 2000, g = 1: ‖H‖ ~ gN²/4 but the state lives on a handful of Dicke states
    let chain = Chain::builder(2000).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
    let times = grid(2e-3, 20);
    let mut window = Dicke::new(&chain, 1e-10).unwrap();
    let got = window.sample(&times).unwrap();
    assert!(window.window().unwrap() <= 32 && window.chebyshev_from().is_none());
    let exact = Dicke::with_method(&chain, 1e-12, DickeMethod::Chebyshev).unwrap().sample(&times).unwrap();
    let (dw, dr) = max_diffs(&got, &exact);
    assert!(dw < 1e-9 && dr < 1e-9, "|dW| = {dw:e}, |dW'| = {dr:e}");
    assert!(got.iter().any(|s| s.work > 10.0), "the work must be substantial for the test to mean anything");
}

#[test]
fn going_back_in_time_reproduces_the_same_work() {
    let chain = Chain::builder(40).g(0.2).alpha(-0.3).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
    for method in METHODS {
        let mut d = Dicke::with_method(&chain, 1e-11, method).unwrap();
        let first = d.sample(&[0.3, 0.9, 2.0]).unwrap();
        d.anchor(0.6).unwrap();
        let again = d.sample(&[0.9]).unwrap();
        let restart = d.sample(&[0.3]).unwrap();
        assert!((first[1].work - again[0].work).abs() < 1e-10, "{method:?}");
        assert!((first[0].work - restart[0].work).abs() < 1e-10, "{method:?}");
        assert!(d.sample(&[2.0, 1.0]).is_err(), "unsorted times are refused");
    }
}
