//! Free fermions (the open nearest-neighbour Ising chain) against the full space, the
//! reflection sector, closed forms and its own rate.

use crate::common::{grid, max_diffs, Rng};
use spinbat::observe::{charge, uniform_times};
use spinbat::propagate::fermion::{applies, pfaffian, FreeFermion};
use spinbat::propagate::{resolve, Chebyshev, Dense, Propagator, Solver};
use spinbat::{Boundary, Chain, Couplings, Silent};

use num_complex::Complex64;

/// A random open chain with couplings only between neighbours: its own `g_i` (of either
/// sign, some zero) by an explicit matrix or the uniform pattern, per-site storage fields
/// and charging weights.
fn random_nn_chain(rng: &mut Rng, n: usize) -> Chain {
    let builder = Chain::builder(n).b(rng.uniform(0.5, 2.0)).g(rng.uniform(0.0, 2.0)).omega(rng.uniform(0.5, 5.0));
    let builder = if rng.below(2) == 0 {
        builder.couplings(Couplings::NearestNeighbour)
    } else {
        let g: Vec<f64> = (0..n - 1).map(|_| if rng.below(5) == 0 { 0.0 } else { rng.uniform(-1.5, 2.0) }).collect();
        let m = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        if j == i + 1 {
                            g[i]
                        } else if i == j + 1 {
                            g[j]
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        builder.couplings(Couplings::Matrix { m })
    };
    let builder =
        if rng.below(2) == 0 { builder.site_fields((0..n).map(|_| rng.uniform(0.3, 2.0)).collect()) } else { builder };
    let builder =
        if rng.below(2) == 0 { builder.omega_sites((0..n).map(|_| rng.uniform(-1.0, 1.5)).collect()) } else { builder };
    builder.build().expect("valid random chain")
}

#[test]
fn free_fermions_equal_dense_diagonalisation_on_random_nearest_neighbour_chains() {
    let mut rng = Rng::new(2718);
    for trial in 0..20 {
        let n = 2 + rng.below(8); // 2..=9
        let chain = random_nn_chain(&mut rng, n);
        assert!(applies(&chain), "trial {trial}: an open nearest-neighbour Ising chain");
        let times = grid(rng.uniform(0.3, 3.0), 23);
        let exact = Dense::new(&chain).unwrap().sample(&times).unwrap();
        let mut ff = FreeFermion::new(&chain).unwrap();
        let got = ff.sample(&times).unwrap();
        let (dw, dr) = max_diffs(&got, &exact);
        assert!(dw < 1e-11, "trial {trial} (N = {n}): |dW| = {dw:e}");
        assert!(dr < 1e-11, "trial {trial} (N = {n}): relative |dW'| = {dr:e}");
        // the rounding estimate covers what was measured
        assert!(dw <= ff.error_bound(), "trial {trial}: |dW| = {dw:e} above the estimate {:e}", ff.error_bound());
        assert!(ff.error_bound() < 1e-11, "the estimate stays far below the default tolerance");
    }
}

#[test]
fn free_fermions_equal_chebyshev_in_the_reflection_sector_and_keep_its_maximum() {
    // N = 16 (the uniform chain: Chebyshev runs in the reflection sector), odd N = 15
    for n in [15, 16] {
        let chain = Chain::builder(n).couplings(Couplings::NearestNeighbour).build().unwrap();
        let times = uniform_times(spinbat::model::defaults::t_max(chain.omega()), 201);
        let mut cheb = Chebyshev::in_reflection_sector(&chain, 1e-12).unwrap();
        let mut ff = FreeFermion::new(&chain).unwrap();
        let (dw, dr) = max_diffs(&ff.sample(&times).unwrap(), &cheb.sample(&times).unwrap());
        assert!(dw < 1e-11 && dr < 1e-11, "N = {n}: |dW| = {dw:e}, |dW'| = {dr:e}");
        let a = charge(&mut FreeFermion::new(&chain).unwrap(), &chain, &times, &Silent).unwrap();
        let b = charge(&mut Chebyshev::in_reflection_sector(&chain, 1e-12).unwrap(), &chain, &times, &Silent).unwrap();
        let rel = (a.max_power.power - b.max_power.power).abs() / b.max_power.power;
        assert!(rel < 1e-12, "N = {n}: P_max {} against {} ({rel:e})", a.max_power.power, b.max_power.power);
        assert!((a.max_power.time - b.max_power.time).abs() < 1e-9);
    }
}

/// `g = 0`: `N` independent spins, `W = 2 Σ_i B_i sin²(ω_i t)` and
/// `W' = 2 Σ_i B_i ω_i sin(2ω_i t)`, at sizes no state vector reaches.
#[test]
fn uncoupled_sites_are_independent_spins_at_any_size() {
    let n = 60;
    let fields: Vec<f64> = (0..n).map(|i| 0.5 + 0.03 * i as f64).collect();
    let weights: Vec<f64> = (0..n).map(|i| 1.0 - 0.01 * i as f64).collect();
    let omega = 3.0;
    let chain = Chain::builder(n)
        .g(0.0)
        .omega(omega)
        .couplings(Couplings::NearestNeighbour)
        .site_fields(fields.clone())
        .omega_sites(weights.clone())
        .build()
        .unwrap();
    let times = grid(2.0, 17);
    let got = FreeFermion::new(&chain).unwrap().sample(&times).unwrap();
    for s in got {
        let w: f64 = fields.iter().zip(&weights).map(|(b, w)| 2.0 * b * (omega * w * s.t).sin().powi(2)).sum();
        let r: f64 =
            fields.iter().zip(&weights).map(|(b, w)| 2.0 * b * omega * w * (2.0 * omega * w * s.t).sin()).sum();
        assert!((s.work - w).abs() < 1e-11 * (1.0 + w), "t = {}: W = {} against {w}", s.t, s.work);
        assert!((s.rate - r).abs() < 1e-10 * (1.0 + r.abs()), "t = {}: W' = {} against {r}", s.t, s.rate);
    }
}

/// Past the exact sizes: the rate is the derivative of the work (central differences of
/// step `h`, error `O(h²)`), and `W` stays within its bound `N(|B| + B) + min(Nω, 2G)`.
#[test]
fn the_rate_is_the_derivative_of_the_work_at_n_48() {
    let chain = Chain::builder(48).couplings(Couplings::NearestNeighbour).g(0.7).omega(2.5).build().unwrap();
    let mut ff = FreeFermion::new(&chain).unwrap();
    let h = 1e-4;
    for &t in &[0.05, 0.17, 0.4, 0.9, 1.6] {
        let s = ff.sample(&[t - h, t, t + h]).unwrap();
        let fd = (s[2].work - s[0].work) / (2.0 * h);
        assert!((fd - s[1].rate).abs() < 1e-5 * (1.0 + s[1].rate.abs()), "t = {t}: {fd} against W' = {}", s[1].rate);
        assert!(s[1].work >= -1e-10 && s[1].work <= chain.work_bound() + 1e-10, "t = {t}: W = {}", s[1].work);
    }
}

#[test]
fn auto_takes_free_fermions_only_where_they_apply() {
    let nn = |n: usize| Chain::builder(n).couplings(Couplings::NearestNeighbour);
    assert_eq!(resolve(&nn(24).build().unwrap(), Solver::Auto), Solver::FreeFermion);
    assert_eq!(resolve(&nn(8).build().unwrap(), Solver::Auto), Solver::Dense);
    // past MAX_SITES a single time would run for hours: auto leaves it, asked for it refuses
    let long = nn(spinbat::propagate::fermion::MAX_SITES + 1).build().unwrap();
    assert!(applies(&long));
    assert_eq!(resolve(&long, Solver::Auto), Solver::Chebyshev);
    assert!(FreeFermion::new(&long).is_err());
    for chain in [
        nn(24).alpha(0.5).build().unwrap(),
        nn(24).boundary(Boundary::Periodic).build().unwrap(),
        nn(24).keep_field(true).build().unwrap(),
        Chain::builder(24).build().unwrap(), // p = 1
    ] {
        assert!(!applies(&chain));
        assert_eq!(resolve(&chain, Solver::Auto), Solver::Chebyshev);
        assert!(FreeFermion::new(&chain).is_err());
    }
}

/// `Pf(A)² = det(A)` for a random antisymmetric complex `6 × 6` (the determinant by
/// Gaussian elimination with pivoting, an independent route).
#[test]
#[allow(clippy::needless_range_loop)] // index loops mirror the textbook elimination
fn the_pfaffian_squares_to_the_determinant() {
    let mut rng = Rng::new(99);
    let n = 6;
    let mut a = vec![vec![Complex64::new(0.0, 0.0); n]; n];
    for i in 0..n {
        for j in i + 1..n {
            let v = Complex64::new(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
            a[i][j] = v;
            a[j][i] = -v;
        }
    }
    let mut m = a.clone();
    let mut det = Complex64::new(1.0, 0.0);
    for k in 0..n {
        let p = (k..n).max_by(|&x, &y| m[x][k].norm().total_cmp(&m[y][k].norm())).unwrap();
        if p != k {
            m.swap(p, k);
            det = -det;
        }
        det *= m[k][k];
        for r in k + 1..n {
            let f = m[r][k] / m[k][k];
            for c in k..n {
                let v = m[k][c];
                m[r][c] -= f * v;
            }
        }
    }
    let pf = pfaffian(&a);
    assert!((pf * pf - det).norm() < 1e-12 * det.norm().max(1.0), "Pf² = {} against det = {det}", pf * pf);
}

/// A schedule keeps the chain free fermions, segment by segment: the same `W`, `W'` as
/// Chebyshev's schedule (and dense at `N = 6`), times past its end refused; a drive runs on
/// Chebyshev under `auto` and is refused by an explicit `free-fermion`.
#[test]
fn schedules_are_free_fermions_segment_by_segment_and_a_drive_goes_to_chebyshev() {
    use spinbat::model::{Drive, Protocol, Schedule};
    use spinbat::propagate::{Plan, Precision, Request};
    let mut rng = Rng::new(31);
    for (n, exact) in [(6, Solver::Dense), (12, Solver::Chebyshev), (13, Solver::Chebyshev)] {
        let chain = random_nn_chain(&mut rng, n);
        let chain = chain.to_builder().omega_sites(vec![1.0; n]).build().unwrap(); // the paper's V(t)
        let schedule = Schedule::new(vec![0.15, 0.4, 0.55, 0.9], vec![4.0, 0.0, -2.5, 1.5]).unwrap();
        let protocol = Protocol::Schedule(schedule.clone());
        let plan = |s: Solver| Plan::new(&chain, s, 1e-10, Precision::Double, Request::Work).unwrap();
        let mut ff = plan(Solver::FreeFermion).protocol_propagator(&chain, &protocol).unwrap();
        assert_eq!(ff.name(), "free-fermion");
        let mut other = plan(exact).protocol_propagator(&chain, &protocol).unwrap();
        // inside the segments (the rate at a boundary belongs to the segment it ends)
        let times: Vec<f64> = (0..=30).map(|k| 0.9 * (k as f64 + 0.37) / 31.0).collect();
        let (dw, dr) = max_diffs(&ff.sample(&times).unwrap(), &other.sample(&times).unwrap());
        assert!(dw < 1e-10 && dr < 1e-9, "N = {n}: |dW| = {dw:e}, |dW'| = {dr:e}");
        assert_eq!(ff.end_time(), Some(0.9));
        assert!(ff.sample(&[0.95]).is_err(), "past the end of the schedule");
        if n > 10 {
            assert_eq!(plan(Solver::Auto).protocol_propagator(&chain, &protocol).unwrap().name(), "free-fermion");
            let drive = Protocol::Drive(Drive::new(4.0, 1.0, 3.0).unwrap());
            assert_eq!(plan(Solver::Auto).protocol_propagator(&chain, &drive).unwrap().name(), "chebyshev");
            assert!(plan(Solver::FreeFermion).protocol_propagator(&chain, &drive).is_err());
        }
    }
}
