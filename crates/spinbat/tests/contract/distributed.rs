//! The state partitioned over processes (`partition`, `propagate::distributed`), its ranks
//! run as threads (`ThreadComm`): the local rows of `H` against the full-space operators,
//! and `W`, `W'`, `P_max` of `R = 1, 2, 4` ranks against the one-process Chebyshev
//! propagator (which is itself checked against dense ED and QuTiP elsewhere).

use num_complex::Complex64;
use spinbat::observe;
use spinbat::operator::Operators;
use spinbat::partition::{Communicator, Partition, PartitionedOperators, ThreadComm};
use spinbat::propagate::{Chebyshev, Distributed, Propagator, WorkSample};
use spinbat::{Boundary, Chain, Couplings, Silent};

/// Chains whose flip-flops cross the rank boundary: nearest neighbours (open and ring) and
/// a power law (every pair, so flip-flops between two global sites too), `α ≠ 0`, and an
/// Ising power law.
fn chains(n: usize) -> Vec<Chain> {
    let b = |alpha: f64, couplings, boundary| {
        Chain::builder(n).g(0.9).omega(1.3).alpha(alpha).couplings(couplings).boundary(boundary).build().unwrap()
    };
    vec![
        b(0.6, Couplings::NearestNeighbour, Boundary::Open),
        b(-0.4, Couplings::NearestNeighbour, Boundary::Periodic),
        b(0.5, Couplings::PowerLaw { p: 1.5 }, Boundary::Open),
        b(0.0, Couplings::PowerLaw { p: 1.0 }, Boundary::Open),
    ]
}

/// A real test vector with no structure.
fn vector(dim: usize) -> Vec<f64> {
    (0..dim).map(|s| ((s * 7919) % 1013) as f64 / 1013.0 - 0.5).collect()
}

#[test]
fn partitioned_rows_of_h_equal_the_full_space_operator() {
    let n = 9;
    for chain in chains(n) {
        let ops = Operators::new(&chain).unwrap();
        let x = vector(ops.dim());
        let xc: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
        let mut full = vec![Complex64::new(0.0, 0.0); ops.dim()];
        ops.apply_h(&xc, &mut full);
        for ranks in [1, 2, 4, 8] {
            let parts = ThreadComm::run(ranks, |comm| {
                let part = Partition::new(n, comm.size(), comm.rank()).unwrap();
                let local = PartitionedOperators::new(&chain, part).unwrap();
                let xs = &x[part.base()..part.base() + part.len()];
                let (mut hg, mut fx, mut recv) = (vec![0.0; part.len()], vec![0.0; part.len()], Vec::new());
                local.apply(&comm, xs, &mut hg, &mut fx, &mut recv);
                (part.base(), hg.iter().zip(&fx).map(|(h, f)| h + chain.omega() * f).collect::<Vec<f64>>())
            });
            for (base, hx) in parts {
                for (l, v) in hx.iter().enumerate() {
                    let d = (v - full[base + l].re).abs();
                    assert!(d < 1e-13, "R = {ranks}, row {}: {v} vs {}", base + l, full[base + l].re);
                }
            }
        }
    }
}

#[test]
fn ranks_must_be_a_power_of_two_within_the_sites() {
    assert!(Partition::new(10, 3, 0).is_err());
    assert!(Partition::new(3, 8, 0).is_err());
    assert!(Partition::new(3, 4, 0).is_ok());
}

/// `W`, `W'` at `times` with their error bound, and the certified charge, of `R` ranks
/// (rank 0's; every rank's samples are checked equal bit for bit).
fn distributed<R>(chain: &Chain, ranks: usize, tol: f64, times: &[f64]) -> (Vec<WorkSample>, observe::Charging, f64)
where
    R: spinbat::numeric::Real + spinbat::partition::Wire,
{
    let out = ThreadComm::run(ranks, |comm| {
        let mut p = Distributed::<_, R>::new(comm, chain, tol).unwrap();
        let s = p.sample(times).unwrap();
        let bound = p.error_bound();
        let mut q = Distributed::<_, R>::new(p_comm(p), chain, tol).unwrap();
        let charge = observe::charge(&mut q, chain, &observe::uniform_times(6.0, 25), &Silent).unwrap();
        (s, charge, bound)
    });
    for o in &out[1..] {
        assert_eq!(o.0, out[0].0, "every rank returns the same samples");
        assert_eq!(o.1.max_power.power, out[0].1.max_power.power);
    }
    out.into_iter().next().unwrap()
}

/// Takes the communicator back out of a propagator (to build the next on the same ranks).
fn p_comm<R: spinbat::numeric::Real + spinbat::partition::Wire>(p: Distributed<ThreadComm, R>) -> ThreadComm {
    p.into_communicator()
}

fn times() -> Vec<f64> {
    (0..=40).map(|k| 0.15 * k as f64).collect()
}

#[test]
fn partitioned_charge_equals_the_one_process_chebyshev_in_double_precision() {
    let tol = 1e-12;
    for chain in chains(10) {
        let mut one = Chebyshev::new(&chain, tol).unwrap();
        let reference = one.sample(&times()).unwrap();
        let mut fresh = Chebyshev::new(&chain, tol).unwrap();
        let charge = observe::charge(&mut fresh, &chain, &observe::uniform_times(6.0, 25), &Silent).unwrap();
        let scale = reference.iter().map(|s| s.work.abs()).fold(0.0, f64::max);
        let rate_scale = reference.iter().map(|s| s.rate.abs()).fold(0.0, f64::max);
        for ranks in [1, 2, 4] {
            let (samples, dist, bound) = distributed::<f64>(&chain, ranks, tol, &times());
            assert!(bound < 1e-12 * scale, "R = {ranks}: bound {bound}");
            for (a, b) in samples.iter().zip(&reference) {
                assert!((a.work - b.work).abs() <= 1e-12 * scale, "R = {ranks}: W({}) {} vs {}", a.t, a.work, b.work);
                assert!(
                    (a.rate - b.rate).abs() <= 1e-12 * rate_scale,
                    "R = {ranks}: W'({}) {} vs {}",
                    a.t,
                    a.rate,
                    b.rate
                );
            }
            let (p, q) = (dist.max_power, charge.max_power);
            assert!((p.power - q.power).abs() <= 1e-12 * q.power, "R = {ranks}: P_max {} vs {}", p.power, q.power);
            assert!((p.time - q.time).abs() <= 1e-6 * q.time, "R = {ranks}: T* {} vs {}", p.time, q.time);
            let (w, v) = (dist.max_work.work, charge.max_work.work);
            assert!((w - v).abs() <= 1e-12 * v, "R = {ranks}: max W {w} vs {v}");
        }
    }
}

/// Single precision: the ranks sum the terms of `H` in another order (the local ones
/// first, then one partner at a time), so the rounding differs with `R`; every result must
/// stay within its own reported bound (rounding estimate `4u` per term included) of the
/// double-precision one-process values, and so within the sum of the bounds of the
/// one-process single-precision values.
#[test]
fn partitioned_charge_in_single_precision_stays_within_its_bound() {
    let tol = 1e-6;
    for chain in chains(10) {
        let mut double = Chebyshev::new(&chain, 1e-12).unwrap();
        let exact = double.sample(&times()).unwrap();
        let mut single = Chebyshev::<Operators, f32>::with_space(Operators::new(&chain).unwrap(), &chain, tol);
        let one = single.sample(&times()).unwrap();
        let one_bound = single.error_bound();
        for ranks in [1, 2, 4] {
            let (samples, _, bound) = distributed::<f32>(&chain, ranks, tol, &times());
            // the bound is the rounding estimate, 4u per term along the path: far above tol
            assert!(bound > 0.0 && bound <= 4.0 * one_bound, "R = {ranks}: bound {bound} vs one process {one_bound}");
            for ((a, b), e) in samples.iter().zip(&one).zip(&exact) {
                assert!((a.work - e.work).abs() <= bound, "R = {ranks}: W({}) {} vs double {}", a.t, a.work, e.work);
                assert!((a.work - b.work).abs() <= bound + one_bound, "R = {ranks}: W({}) vs one-process single", a.t);
            }
        }
    }
}
