//! XYZ couplings (`γ ≠ 0`) in the symmetry spaces: the pair flips `σ⁺_iσ⁺_j + σ⁻_iσ⁻_j`
//! keep `H` real and every symmetry of the couplings, so the reflection-even sector and the
//! coupling orbits hold them (and the rate's part `i⟨[H_g, H_B]⟩`, since the pair flips
//! change the magnetisation by ±2). Each space against the dense full space (itself checked
//! against a Hamiltonian built entry by entry in `charging.rs`) on random `γ`, `α`, `p`.

use crate::common::{random_chain, Rng};
use spinbat::observe::{charge, uniform_times};
use spinbat::propagate::{space_for, Chebyshev, Dense, Plan, Precision, Propagator, Request, SpaceKind};
use spinbat::symmetry::{OrbitSpace, ReflectionSector, Space};
use spinbat::{Boundary, Chain, Couplings, Silent, Solver};

/// `W` and `W'` of `prop` against the dense full space on a grid (and back in time), to
/// `1e-12` relative on `W`.
fn assert_matches_dense(prop: &mut dyn Propagator, chain: &Chain, what: &str) {
    let mut dense = Dense::new(chain).unwrap();
    let t_scale = 1.0 / chain.omega();
    for times in [uniform_times(3.0 * t_scale, 25), vec![0.37 * t_scale, 0.4 * t_scale]] {
        let a = dense.sample(&times).unwrap();
        let b = prop.sample(&times).unwrap();
        for (x, y) in a.iter().zip(&b) {
            let scale = 1.0 + x.work.abs();
            assert!((x.work - y.work).abs() < 1e-12 * scale, "{what}: W({}) {} vs dense {}", x.t, y.work, x.work);
            assert!(
                (x.rate - y.rate).abs() < 1e-10 * (scale + x.rate.abs()),
                "{what}: W'({}) {} vs dense {}",
                x.t,
                y.rate,
                x.rate
            );
        }
    }
}

#[test]
fn the_reflection_sector_holds_xyz_chains() {
    let mut rng = Rng::new(1717);
    for n in 2..=10 {
        for _ in 0..2 {
            let chain = random_chain(&mut rng, n).to_builder().gamma(rng.uniform(-1.5, 1.5)).build().unwrap();
            assert!(ReflectionSector::applies(&chain), "N = {n}");
            let what = format!("N = {n}, alpha = {}, gamma = {}", chain.alpha(), chain.gamma());
            let mut sector = Chebyshev::in_reflection_sector(&chain, 1e-14).unwrap();
            assert_matches_dense(&mut sector, &chain, &what);
            // the certified maximum on both
            let window = uniform_times(2.0 / chain.omega(), 9);
            let a = charge(&mut Dense::new(&chain).unwrap(), &chain, &window, &Silent).unwrap();
            let mut sector = Chebyshev::in_reflection_sector(&chain, 1e-13).unwrap();
            let b = charge(&mut sector, &chain, &window, &Silent).unwrap();
            let rel = (a.max_power.power - b.max_power.power).abs() / a.max_power.power;
            assert!(rel < 1e-10, "{what}: P_max {} vs dense {}", b.max_power.power, a.max_power.power);
        }
    }
}

#[test]
fn the_coupling_orbits_hold_xyz_rings_and_all_to_all_chains() {
    let mut rng = Rng::new(4242);
    // rings (the dihedral group) and p = 0 (every permutation: the orbits are the N + 1
    // Dicke states, so XYZ at p = 0 runs on N + 1 rows)
    for (n, couplings, boundary) in [
        (6, Couplings::NearestNeighbour, Boundary::Periodic),
        (8, Couplings::PowerLaw { p: 1.3 }, Boundary::Periodic),
        (9, Couplings::PowerLaw { p: 0.6 }, Boundary::Periodic),
        (4, Couplings::PowerLaw { p: 0.0 }, Boundary::Open),
        (7, Couplings::PowerLaw { p: 0.0 }, Boundary::Open),
        (8, Couplings::PowerLaw { p: 0.0 }, Boundary::Open),
    ] {
        let all_to_all = couplings == Couplings::PowerLaw { p: 0.0 };
        let chain = Chain::builder(n)
            .couplings(couplings.clone())
            .boundary(boundary)
            .alpha(rng.uniform(-0.8, 1.3))
            .gamma(rng.uniform(-1.2, 1.2))
            .g(rng.uniform(0.3, 1.5))
            .b(rng.uniform(0.5, 1.5))
            .omega(rng.uniform(1.0, 4.0))
            .build()
            .unwrap();
        let what = format!("N = {n}, {couplings:?}, alpha = {}, gamma = {}", chain.alpha(), chain.gamma());
        let space = OrbitSpace::new(&chain).unwrap();
        if all_to_all {
            assert_eq!(space.dim(), n + 1, "{what}: the Dicke states");
        }
        assert!(space.has_field_flip_rate(), "{what}");
        let mut orbits = Chebyshev::<_, f64>::with_space(space, &chain, 1e-14);
        assert_matches_dense(&mut orbits, &chain, &what);
    }
}

/// The planner now keeps XYZ chains in their symmetry space: the reflection sector for a
/// mirror-symmetric open chain, the orbits for a ring; and the planned charge is the dense
/// one.
#[test]
fn auto_plans_the_symmetry_space_for_xyz_chains() {
    let open = Chain::builder(14).alpha(0.6).gamma(0.3).build().unwrap();
    assert_eq!(space_for(&open), SpaceKind::ReflectionEven);
    let plan = Plan::new(&open, Solver::Auto, 1e-10, Precision::Double, Request::Work).unwrap();
    assert_eq!((plan.solver(), plan.space()), (Solver::Chebyshev, SpaceKind::ReflectionEven));
    let ring = Chain::builder(12).alpha(0.6).gamma(-0.4).boundary(Boundary::Periodic).build().unwrap();
    assert_eq!(space_for(&ring), SpaceKind::Orbits);
    // the generalisations the orbits do not hold still leave them
    let ring14 = ring.to_builder().n_sites(14).build().unwrap();
    assert_eq!(space_for(&ring14), SpaceKind::Orbits);
    let kept = ring14.to_builder().keep_field(true).build().unwrap();
    assert_eq!(space_for(&kept), SpaceKind::ReflectionEven);
    // N = 14 on the sector against the full-space Chebyshev propagator
    let chain = Chain::builder(14).alpha(0.8).gamma(0.5).couplings(Couplings::PowerLaw { p: 1.5 }).build().unwrap();
    let times = uniform_times(1.0, 9);
    let mut planned = spinbat::propagate::plan(&chain, Solver::Chebyshev, 1e-12).unwrap();
    let full = Chebyshev::new(&chain, 1e-12).unwrap().sample(&times).unwrap();
    for (x, y) in planned.sample(&times).unwrap().iter().zip(&full) {
        assert!((x.work - y.work).abs() < 1e-10 * (1.0 + y.work.abs()), "W({}) {} vs full {}", x.t, x.work, y.work);
    }
}
