//! Symmetry sectors against the full space: the reflection-even Chebyshev propagator must
//! reproduce the full-space `W`, `W'`, `P_max` and `T*` on random reflection-symmetric
//! chains, and the certified search's work bound must hold along exact trajectories.

use crate::common::{random_chain, Rng};
use spinbat::observe::{charge, uniform_times};
use spinbat::propagate::{uses_reflection_sector, Chebyshev, Dense, Propagator};
use spinbat::symmetry::ReflectionSector;
use spinbat::{Chain, Couplings, Silent};

/// A random symmetric matrix with `M_ij = M_(N-1-i)(N-1-j)`, or without that symmetry.
fn random_matrix(rng: &mut Rng, n: usize, mirrored: bool) -> Vec<Vec<f64>> {
    let mut m = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in i + 1..n {
            let v = rng.uniform(0.0, 1.5);
            m[i][j] = v;
            m[j][i] = v;
            if mirrored {
                let (a, b) = (n - 1 - i, n - 1 - j);
                m[a][b] = v;
                m[b][a] = v;
            }
        }
    }
    m
}

#[test]
fn reflection_sector_reproduces_the_full_space_on_random_chains() {
    let mut rng = Rng::new(2024);
    // N >= 14 has several 64 x 64 tiles per side (partner tiles read directly and transposed)
    for n in (2..=12).chain([14, 15]) {
        let mut chains = vec![random_chain(&mut rng, n)];
        if n <= 12 {
            chains.push(random_chain(&mut rng, n));
            let m = random_matrix(&mut rng, n, true);
            chains.push(
                Chain::builder(n).alpha(rng.uniform(-0.5, 1.2)).couplings(Couplings::Matrix { m }).build().unwrap(),
            );
        }
        for chain in chains {
            assert!(ReflectionSector::applies(&chain), "N = {n}: chain should be reflection symmetric");
            let mut full = Chebyshev::new(&chain, 1e-12).unwrap();
            let mut sector = Chebyshev::in_reflection_sector(&chain, 1e-12).unwrap();
            // forwards, then back in time (restart or anchor), then onwards
            let t_scale = 1.0 / chain.omega();
            for times in [uniform_times(3.0 * t_scale, 13), vec![0.4 * t_scale, 0.41 * t_scale], vec![5.0 * t_scale]] {
                let a = full.sample(&times).unwrap();
                let b = sector.sample(&times).unwrap();
                for (x, y) in a.iter().zip(&b) {
                    let scale = 1.0 + x.work.abs();
                    assert!((x.work - y.work).abs() < 1e-10 * scale, "N = {n}: W({}) {} vs {}", x.t, x.work, y.work);
                    assert!(
                        (x.rate - y.rate).abs() < 1e-9 * (scale + x.rate.abs()),
                        "N = {n}: W'({}) {} vs {}",
                        x.t,
                        x.rate,
                        y.rate
                    );
                }
            }
            // the certified maximum search on both
            let window = uniform_times(2.0 * t_scale, 9);
            let mut full = Chebyshev::new(&chain, 1e-12).unwrap();
            let mut sector = Chebyshev::in_reflection_sector(&chain, 1e-12).unwrap();
            let a = charge(&mut full, &chain, &window, &Silent).unwrap();
            let b = charge(&mut sector, &chain, &window, &Silent).unwrap();
            let rel = (a.max_power.power - b.max_power.power).abs() / a.max_power.power;
            assert!(rel < 1e-10, "N = {n}: P_max {} vs {}", a.max_power.power, b.max_power.power);
            assert!((a.max_power.time - b.max_power.time).abs() < 1e-8 * a.max_power.time, "N = {n}: T*");
            assert!((a.max_work.work - b.max_work.work).abs() < 1e-10 * (1.0 + a.max_work.work), "N = {n}: W_max");
        }
    }
}

#[test]
fn chains_without_mirror_symmetry_stay_on_the_full_space() {
    let mut rng = Rng::new(7);
    let m = random_matrix(&mut rng, 9, false);
    let chain = Chain::builder(9).couplings(Couplings::Matrix { m }).build().unwrap();
    assert!(!ReflectionSector::applies(&chain));
    assert!(!uses_reflection_sector(&chain));
    assert!(ReflectionSector::new(&chain).is_err());
    // and the planner's Chebyshev (full space) still agrees with dense
    let mut cheb = spinbat::propagate::plan(&chain, spinbat::Solver::Chebyshev, 1e-12).unwrap();
    let mut dense = Dense::new(&chain).unwrap();
    let times = uniform_times(1.0, 7);
    for (x, y) in cheb.sample(&times).unwrap().iter().zip(dense.sample(&times).unwrap()) {
        assert!((x.work - y.work).abs() < 1e-9 * (1.0 + y.work.abs()));
    }
}

#[test]
fn work_stays_below_the_certifying_bound() {
    // W(t) <= N(|B| + B) + min(N|w|, lambda_max(H_g) + G) along long exact trajectories,
    // with the chain's norm bound and the Chebyshev solver's exact-diagonal one
    let mut rng = Rng::new(99);
    for n in 2..=9 {
        for _ in 0..3 {
            let chain = random_chain(&mut rng, n);
            let cheb = Chebyshev::new(&chain, 1e-10).unwrap();
            let tight = cheb.work_bound(&chain);
            assert!(tight <= chain.work_bound() + 1e-12);
            let mut dense = Dense::new(&chain).unwrap();
            let times = uniform_times(40.0 / chain.omega(), 4001);
            let top = dense.sample(&times).unwrap().iter().map(|s| s.work).fold(f64::NEG_INFINITY, f64::max);
            assert!(top <= tight * (1.0 + 1e-12) + 1e-9, "N = {n}: max W = {top} exceeds the bound {tight}");
        }
    }
}

#[test]
fn single_precision_stays_within_its_stated_error_of_double() {
    use spinbat::propagate::{plan_with, Precision};
    use spinbat::{Solver, SpinbatError};
    let mut rng = Rng::new(31);
    for n in [6usize, 9, 12, 14] {
        let chain = random_chain(&mut rng, n);
        let t_scale = 1.0 / chain.omega();
        let times = uniform_times(3.0 * t_scale, 16);
        let mut double = plan_with(&chain, Solver::Chebyshev, 1e-10, Precision::Double).unwrap();
        let mut single = plan_with(&chain, Solver::Chebyshev, 1e-10, Precision::Single).unwrap();
        let a = double.sample(&times).unwrap();
        let b = single.sample(&times).unwrap();
        let bound = single.error_bound() + double.error_bound();
        assert!(single.accuracy_note().contains("single precision"));
        let mut worst = 0.0f64;
        for (x, y) in a.iter().zip(&b) {
            let d = (x.work - y.work).abs();
            worst = worst.max(d / (1.0 + x.work.abs()));
            assert!(d <= bound, "N = {n}: |W32 - W64| = {d} at t = {} exceeds the stated {bound}", x.t);
        }
        // and in practice single precision is good to ~1e-6 relative, far inside the estimate
        assert!(worst < 1e-5, "N = {n}: relative deviation {worst}");
        let window = uniform_times(t_scale, 5);
        let mut double = plan_with(&chain, Solver::Chebyshev, 1e-10, Precision::Double).unwrap();
        let mut single = plan_with(&chain, Solver::Auto, 1e-10, Precision::Single).unwrap();
        let p64 = charge(double.as_mut(), &chain, &window, &Silent).unwrap().max_power;
        let p32 = charge(single.as_mut(), &chain, &window, &Silent).unwrap().max_power;
        assert!((p64.power - p32.power).abs() < 1e-5 * p64.power, "N = {n}: P_max {p64:?} vs {p32:?}");
    }
    // single precision is a Chebyshev option, and the memory check follows it
    let chain = Chain::builder(6).build().unwrap();
    assert!(matches!(
        plan_with(&chain, Solver::Dense, 1e-10, Precision::Single),
        Err(SpinbatError::InvalidParameter { name: "precision", .. })
    ));
    let huge = Chain::builder(44).couplings(Couplings::NearestNeighbour).build().unwrap();
    assert!(matches!(
        plan_with(&huge, Solver::Chebyshev, 1e-10, Precision::Single),
        Err(SpinbatError::TooLarge { .. })
    ));
}

#[test]
fn orbit_space_reproduces_the_full_space_on_rings() {
    use spinbat::observe::trajectory::{trajectory, ObservableSet};
    use spinbat::propagate::{plan, space_for, Plan, Precision, Request, SpaceKind};
    use spinbat::symmetry::{OrbitSpace, Space};
    use spinbat::{Boundary, Solver};
    let mut rng = Rng::new(77);
    // rings: the dihedral group; one of them long enough for the planner to choose the orbits
    for (n, couplings) in [
        (9, Couplings::NearestNeighbour),
        (10, Couplings::PowerLaw { p: 1.5 }),
        (12, Couplings::PowerLaw { p: 0.7 }),
        (13, Couplings::NearestNeighbour),
    ] {
        let chain = Chain::builder(n)
            .couplings(couplings)
            .boundary(Boundary::Periodic)
            .alpha(rng.uniform(-0.6, 1.3))
            .g(rng.uniform(0.3, 1.5))
            .omega(rng.uniform(1.0, 4.0))
            .build()
            .unwrap();
        let space = OrbitSpace::new(&chain).unwrap();
        let bound = OrbitSpace::dimension_bound(&chain);
        // the orbits found by walking the generators, counted independently by Burnside's
        // lemma over the dihedral group: about 2^N/(2N)
        assert_eq!(space.dim() as f64, bound, "N = {n}: rows against Burnside's count");
        assert!(bound < 2.0 * (1u64 << n) as f64 / (2 * n) as f64, "N = {n}: {bound} rows");
        let mut full = Chebyshev::new(&chain, 1e-12).unwrap();
        let mut orbits = Chebyshev::<_, f64>::with_space(space, &chain, 1e-12);
        let t_scale = 1.0 / chain.omega();
        for times in [uniform_times(3.0 * t_scale, 13), vec![0.4 * t_scale, 0.41 * t_scale], vec![5.0 * t_scale]] {
            let a = full.sample(&times).unwrap();
            let b = orbits.sample(&times).unwrap();
            for (x, y) in a.iter().zip(&b) {
                let scale = 1.0 + x.work.abs();
                assert!((x.work - y.work).abs() < 1e-10 * scale, "N = {n}: W({}) {} vs {}", x.t, x.work, y.work);
                assert!((x.rate - y.rate).abs() < 1e-9 * (scale + x.rate.abs()), "N = {n}: W'({})", x.t);
            }
        }
        // the planner's choice, the certified maximum and the observables through it
        let expect = if n >= 12 { SpaceKind::Orbits } else { SpaceKind::Full };
        assert_eq!(space_for(&chain), expect, "N = {n}");
        let p = Plan::new(&chain, Solver::Chebyshev, 1e-11, Precision::Double, Request::Work).unwrap();
        assert_eq!(p.space(), expect);
        let times = uniform_times(2.0 * t_scale, 5);
        let planned =
            charge(plan(&chain, Solver::Chebyshev, 1e-11).unwrap().as_mut(), &chain, &times, &Silent).unwrap();
        let reference = charge(&mut Chebyshev::new(&chain, 1e-11).unwrap(), &chain, &times, &Silent).unwrap();
        assert!(
            (planned.max_power.power - reference.max_power.power).abs() < 1e-9 * reference.max_power.power,
            "N = {n}: P_max {} vs {}",
            planned.max_power.power,
            reference.max_power.power
        );
        let set: ObservableSet = "all".parse().unwrap();
        let a = trajectory(&chain, Solver::Chebyshev, &times, &set, 1e-11, &Silent).unwrap();
        let w = Chebyshev::new(&chain, 1e-12).unwrap().sample(&times).unwrap();
        for (pt, d) in a.points.iter().zip(&w) {
            assert!((pt.work - d.work).abs() < 1e-9 * (1.0 + d.work.abs()), "N = {n}: observed W");
        }
        // translation invariance of the states handed out: every site's Bloch vector is the same
        for pt in &a.points {
            let b = pt.bloch.as_ref().unwrap();
            for v in b {
                for c in 0..3 {
                    assert!((v[c] - b[0][c]).abs() < 1e-9, "N = {n}: Bloch vectors differ along the ring");
                }
            }
        }
    }
}
