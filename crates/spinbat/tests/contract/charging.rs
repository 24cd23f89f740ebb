//! The generalised charging Hamiltonian (issue 17): per-site weights of the charging field
//! (`V = ω Σ_i w_i X_i`), the storage field kept on (`H = H0 + V`) and XYZ couplings
//! (`H_g = −Σ g_ij [Z_iZ_j + α((1+γ) X_iX_j + (1−γ) Y_iY_j)]`), against dense matrices built
//! here from Kronecker products of Pauli matrices, against closed forms (one spin under
//! `BZ + ωX`, independent spins), the certified work bound, and the mean field's conserved
//! classical energy.

use crate::common::{random_chain, Rng};
use faer::{Mat, Side};
use num_complex::Complex64 as C;
use spinbat::meanfield::{BlochModel, MeanField};
use spinbat::propagate::{plan, Propagator};
use spinbat::symmetry::Symmetries;
use spinbat::{observe, Chain, ChainSpec, Couplings, Silent, Solver, SpinbatError};

/// Operator `op` (`op[new bit][old bit]`, bit 1 = up) on site `i`, identity elsewhere.
fn site(n: usize, i: usize, op: [[C; 2]; 2]) -> Mat<C> {
    let d = 1usize << n;
    Mat::from_fn(d, d, |r, c| if (r ^ c) & !(1 << i) != 0 { C::new(0.0, 0.0) } else { op[(r >> i) & 1][(c >> i) & 1] })
}

/// `H0` and the charging Hamiltonian `H` of `chain` from Pauli matrices:
/// `H_g = −Σ g_ij [ZZ + α((1+γ)XX + (1−γ)YY)]`, `H_B = Σ B_i Z_i`, `V = ω Σ w_i X_i`,
/// `H0 = H_B + H_g`, `H = H_g + V` or `H0 + V` with the field kept on.
fn dense_pair(chain: &Chain) -> (Mat<C>, Mat<C>) {
    let n = chain.n_sites();
    let (o, one, i) = (C::new(0.0, 0.0), C::new(1.0, 0.0), C::new(0.0, 1.0));
    let x = [[o, one], [one, o]];
    let y = [[o, -i], [i, o]];
    let z = [[-one, o], [o, one]];
    let s = |v: f64| faer::Scale(C::new(v, 0.0));
    let d = 1usize << n;
    let (alpha, gamma) = (chain.alpha(), chain.gamma());
    let mut hb = Mat::<C>::zeros(d, d);
    let mut hg = Mat::<C>::zeros(d, d);
    let mut v = Mat::<C>::zeros(d, d);
    for a in 0..n {
        hb += site(n, a, z) * s(chain.field(a));
        v += site(n, a, x) * s(chain.omega() * chain.omega_weight(a));
        for b in a + 1..n {
            let g = chain.coupling(a, b);
            let pair = site(n, a, z) * site(n, b, z)
                + site(n, a, x) * site(n, b, x) * s(alpha * (1.0 + gamma))
                + site(n, a, y) * site(n, b, y) * s(alpha * (1.0 - gamma));
            hg -= pair * s(g);
        }
    }
    let h0 = &hb + &hg;
    let h = if chain.keep_field() { &h0 + &v } else { &hg + &v };
    (h0, h)
}

/// `W(t)` and `W'(t) = i⟨[H, H0]⟩ = −2 Im⟨Hψ|H0ψ⟩` from all-down by the eigendecomposition
/// of the dense `H` (real: checked).
fn reference(chain: &Chain, times: &[f64]) -> Vec<(f64, f64)> {
    let (h0, h) = dense_pair(chain);
    let d = h.nrows();
    let imag = (0..d).flat_map(|r| (0..d).map(move |c| (r, c))).map(|(r, c)| h[(r, c)].im.abs()).fold(0.0, f64::max);
    assert!(imag < 1e-14, "H is real in the Z basis (largest imaginary part {imag})");
    let hr = Mat::<f64>::from_fn(d, d, |r, c| h[(r, c)].re);
    let evd = hr.self_adjoint_eigen(Side::Lower).unwrap();
    let (u, e) = (evd.U(), evd.S().column_vector());
    let e0 = h0[(0, 0)].re;
    times
        .iter()
        .map(|&t| {
            let psi = Mat::<C>::from_fn(d, 1, |s, _| {
                (0..d).map(|m| C::from_polar(u[(0, m)] * u[(s, m)], -e[m] * t)).sum::<C>()
            });
            let h0psi = &h0 * &psi;
            let hpsi = &h * &psi;
            let work = (0..d).map(|s| (psi[(s, 0)].conj() * h0psi[(s, 0)]).re).sum::<f64>() - e0;
            let rate = -2.0 * (0..d).map(|s| (hpsi[(s, 0)].conj() * h0psi[(s, 0)]).im).sum::<f64>();
            (work, rate)
        })
        .collect()
}

fn grid(t_max: f64, n: usize) -> Vec<f64> {
    (0..=n).map(|k| t_max * k as f64 / n as f64).collect()
}

/// A random chain with a random charging Hamiltonian: weights, field kept on, `γ`.
fn random_charging(rng: &mut Rng, n: usize, weights: bool, keep: bool, xyz: bool) -> Chain {
    let mut b = random_chain(rng, n).to_builder();
    if weights {
        b = b.omega_sites((0..n).map(|_| rng.uniform(-1.0, 2.0)).collect());
    }
    if xyz {
        b = b.gamma(rng.uniform(-1.5, 1.5));
        if rng.below(2) == 0 {
            // per-site fields too: the rate's i<[H_g, H_B]> with pair flips
            b = b.site_fields((0..n).map(|_| rng.uniform(0.5, 2.0)).collect());
        }
    }
    b.keep_field(keep).build().unwrap()
}

#[test]
fn every_exact_solver_agrees_with_kronecker_products_for_random_chains() {
    let mut rng = Rng::new(1717);
    for n in [1usize, 2, 3, 5, 7] {
        for case in 0..8 {
            let (weights, keep, xyz) = (case & 1 != 0, case & 2 != 0, case & 4 != 0);
            let chain = random_charging(&mut rng, n, weights, keep, xyz);
            let times = grid(3.0 / chain.omega(), 9);
            let want = reference(&chain, &times);
            let scale = chain.work_bound().max(1.0);
            for solver in [Solver::Dense, Solver::Chebyshev] {
                let mut p = plan(&chain, solver, 1e-11).unwrap();
                for (s, &(w, r)) in p.sample(&times).unwrap().iter().zip(&want) {
                    let what = format!("{solver} N = {n} case {case} ({}) t = {}", chain.charging_extensions(), s.t);
                    assert!((s.work - w).abs() < 1e-9 * scale, "{what}: W {} vs {w}", s.work);
                    assert!(
                        (s.rate - r).abs() < 1e-8 * scale * chain.local_energy_scale(),
                        "{what}: W' {} vs {r}",
                        s.rate
                    );
                    assert!(s.work <= p.work_bound(&chain) + 1e-9 * scale, "{what}: W above the certified bound");
                }
            }
        }
    }
}

#[test]
fn n_eight_xyz_with_weights_and_the_field_on() {
    let chain = Chain::builder(8)
        .couplings(Couplings::PowerLaw { p: 1.2 })
        .alpha(0.6)
        .gamma(0.4)
        .omega(1.5)
        .omega_sites(vec![1.0, 0.0, 0.5, 0.0, 0.0, 0.7, 0.0, 1.0])
        .keep_field(true)
        .build()
        .unwrap();
    let times = grid(2.0, 5);
    let want = reference(&chain, &times);
    for solver in [Solver::Dense, Solver::Chebyshev] {
        let mut p = plan(&chain, solver, 1e-11).unwrap();
        for (s, &(w, r)) in p.sample(&times).unwrap().iter().zip(&want) {
            assert!((s.work - w).abs() < 1e-8 && (s.rate - r).abs() < 1e-7, "{solver} t = {}: {} vs {w}", s.t, s.work);
        }
    }
}

#[test]
fn the_paper_chain_is_unchanged_bit_for_bit() {
    let mut rng = Rng::new(5);
    for n in [3usize, 6, 9] {
        let base = random_chain(&mut rng, n);
        let same = base.to_builder().gamma(0.0).keep_field(false).omega_sites(vec![1.0; n]).build().unwrap();
        assert!(same.has_paper_charging());
        assert_eq!(base.work_bound(), same.work_bound());
        let times = grid(2.0, 7);
        for solver in [Solver::Dense, Solver::Chebyshev, Solver::MeanField] {
            let a = plan(&base, solver, 1e-10).unwrap().sample(&times).unwrap();
            let b = plan(&same, solver, 1e-10).unwrap().sample(&times).unwrap();
            assert_eq!(a, b, "{solver} N = {n}");
        }
    }
}

/// `W(t) = 2B ω²/(B² + ω²) sin²(√(B² + ω²) t)`: one spin under `H = BZ + ωX` from `|↓⟩`.
fn rabi(b: f64, omega: f64, t: f64) -> f64 {
    let r = (b * b + omega * omega).sqrt();
    2.0 * b * omega * omega / (r * r) * (r * t).sin().powi(2)
}

#[test]
fn spins_with_the_field_on_charge_by_rabi_oscillations_in_every_solver() {
    // one spin, then N free spins (g = 0) with per-site weights: each spin Rabi-oscillates
    // about (omega w_i, 0, B); the mean field is exact for free spins
    for (n, b, omega, weights) in [
        (1usize, 1.0, 4.0, vec![1.0]),
        (1, 0.7, 0.3, vec![1.0]),
        (4, 1.3, 2.0, vec![1.0, 0.0, -0.5, 2.0]),
        (6, 1.0, 1.0, vec![0.2, 0.4, 0.6, 0.8, 1.0, 1.2]),
    ] {
        let chain = Chain::builder(n).b(b).g(0.0).alpha(0.4).gamma(0.3).omega(omega).omega_sites(weights.clone());
        let chain = chain.keep_field(true).build().unwrap();
        let times = grid(6.0, 23);
        for solver in [Solver::Dense, Solver::Chebyshev, Solver::MeanField] {
            let mut p = plan(&chain, solver, 1e-11).unwrap();
            for s in p.sample(&times).unwrap() {
                let w: f64 = weights.iter().map(|&wi| rabi(b, omega * wi, s.t)).sum();
                assert!((s.work - w).abs() < 1e-8, "{solver} N = {n}: W({}) = {} vs {w}", s.t, s.work);
            }
        }
    }
}

#[test]
fn free_spins_with_weights_charge_as_sin_squared_of_their_own_field() {
    // g = 0, field off: W = 2B Σ_i sin²(ω w_i t)
    let weights = vec![1.0, 0.0, 0.0, 0.5, -2.0];
    let chain = Chain::builder(5).g(0.0).b(0.8).omega(1.5).omega_sites(weights.clone()).build().unwrap();
    for solver in [Solver::Dense, Solver::Chebyshev, Solver::MeanField] {
        let mut p = plan(&chain, solver, 1e-11).unwrap();
        for s in p.sample(&grid(4.0, 17)).unwrap() {
            let w: f64 = weights.iter().map(|&wi| 2.0 * 0.8 * (1.5 * wi * s.t).sin().powi(2)).sum();
            assert!((s.work - w).abs() < 1e-8, "{solver}: W({}) = {} vs {w}", s.t, s.work);
        }
    }
}

#[test]
fn the_certified_maximum_agrees_between_solvers_and_respects_the_bound() {
    // the field kept on: W = -<V>_t <= |omega| sum |w_i|, and W <= lambda_max(H0) - E0
    let chain = Chain::builder(6)
        .couplings(Couplings::NearestNeighbour)
        .alpha(0.5)
        .gamma(-0.3)
        .omega(0.8)
        .omega_sites(vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0])
        .keep_field(true)
        .build()
        .unwrap();
    assert!(chain.work_bound() <= chain.omega() * 2.0 + 1e-15, "min(|omega| sum|w_i|, ...)");
    let times = grid(10.0, 101);
    let mut results = Vec::new();
    for solver in [Solver::Dense, Solver::Chebyshev] {
        let mut p = plan(&chain, solver, 1e-10).unwrap();
        let r = observe::charge(p.as_mut(), &chain, &times, &Silent).unwrap();
        for point in &r.series {
            assert!(point.work <= chain.work_bound() + 1e-9);
        }
        results.push(r.max_power);
    }
    let (a, b) = (results[0], results[1]);
    assert!((a.power - b.power).abs() < 1e-8 * a.power && (a.time - b.time).abs() < 1e-6 * a.time, "{a:?} {b:?}");
}

#[test]
fn the_mean_field_conserves_its_classical_charging_energy() {
    // XYZ with weights and the field on: H_C = -sum g [zz + a(1+c)xx + a(1-c)yy] + omega sum w x + sum B z
    let chain = Chain::builder(9)
        .couplings(Couplings::PowerLaw { p: 0.8 })
        .alpha(0.7)
        .gamma(0.5)
        .omega(1.2)
        .omega_sites((0..9).map(|i| 0.3 + 0.1 * i as f64).collect())
        .keep_field(true)
        .build()
        .unwrap();
    let model = BlochModel::new(&chain);
    let mut mf = MeanField::new(&chain, 1e-10).unwrap();
    let start = model.charging_energy(model.initial_state().as_flattened());
    // all-down: H_C = E0 exactly (no transverse components)
    assert!((start - chain.initial_energy()).abs() < 1e-12);
    for t in [0.5, 1.7, 4.0] {
        let s = mf.sample(&[t]).unwrap()[0];
        let state = mf.bloch_vectors().as_flattened().to_vec();
        let e = model.charging_energy(&state);
        assert!((e - start).abs() < 1e-7, "t = {t}: H_C drifted by {}", e - start);
        // the field on: W = -omega sum w_i x_i
        let v: f64 = (0..9).map(|i| chain.omega() * chain.omega_weight(i) * state[3 * i]).sum();
        assert!((s.work + v).abs() < 1e-7, "t = {t}: W = {} but -<V> = {}", s.work, -v);
    }
}

#[test]
fn one_spin_mean_field_is_exact_for_xyz_couplings_too() {
    // a lone spin has no couplings: gamma changes nothing, and the classical precession is
    // the quantum one (with the field kept on and off)
    for keep in [false, true] {
        let chain = Chain::builder(1).alpha(0.8).gamma(1.4).omega(2.0).keep_field(keep).build().unwrap();
        let times = grid(3.0, 11);
        let exact = plan(&chain, Solver::Dense, 1e-12).unwrap().sample(&times).unwrap();
        let mf = plan(&chain, Solver::MeanField, 1e-11).unwrap().sample(&times).unwrap();
        for (a, b) in exact.iter().zip(&mf) {
            assert!((a.work - b.work).abs() < 1e-8, "keep = {keep}: {} vs {}", a.work, b.work);
        }
    }
}

#[test]
fn symmetries_need_the_weights_mapped_onto_themselves() {
    let base = Chain::builder(6).couplings(Couplings::NearestNeighbour);
    let mirrored = base.clone().omega_sites(vec![1.0, 0.5, 0.2, 0.2, 0.5, 1.0]).build().unwrap();
    let end = base.clone().omega_sites(vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0]).build().unwrap();
    assert!(Symmetries::of(&mirrored).reflection);
    assert!(!Symmetries::of(&end).reflection);
    let ring = base.boundary(spinbat::Boundary::Periodic);
    assert!(
        !Symmetries::of(&ring.clone().omega_sites(vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]).build().unwrap()).translation
    );
    let all = Chain::builder(5).couplings(Couplings::PowerLaw { p: 0.0 });
    assert!(!Symmetries::of(&all.omega_sites(vec![1.0, 1.0, 1.0, 1.0, 2.0]).build().unwrap()).permutation);
}

#[test]
fn solvers_without_the_generalised_hamiltonian_refuse_it() {
    let all_to_all = Chain::builder(5).couplings(Couplings::PowerLaw { p: 0.0 }).alpha(0.5);
    // the Dicke states take the field kept on
    let keep = all_to_all.clone().keep_field(true).build().unwrap();
    assert_eq!(plan(&keep, Solver::Auto, 1e-10).unwrap().name(), "dicke");
    for solver in [Solver::WeakCoupling, Solver::DensityMatrix, Solver::Trajectories] {
        assert!(matches!(plan(&keep, solver, 1e-10), Err(SpinbatError::Unsupported { .. })), "{solver}");
    }
    for chain in [
        all_to_all.clone().gamma(0.5).build().unwrap(),
        all_to_all.omega_sites(vec![1.0, 0.0, 0.0, 0.0, 0.0]).build().unwrap(),
    ] {
        // auto does not take the Dicke states; the exact solvers run
        let p = plan(&chain, Solver::Auto, 1e-10).unwrap();
        assert_eq!(p.name(), "dense", "{}", chain.charging_extensions());
        for solver in [Solver::Dicke, Solver::WeakCoupling, Solver::DensityMatrix] {
            assert!(
                matches!(plan(&chain, solver, 1e-10), Err(SpinbatError::Unsupported { .. })),
                "{solver} must refuse {}",
                chain.charging_extensions()
            );
        }
    }
    // bad input, named by its key
    let bad = |spec: ChainSpec| match spec.build(std::path::Path::new("")) {
        Err(SpinbatError::InvalidParameter { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(bad(ChainSpec { gamma: f64::NAN, ..ChainSpec::default() }), "gamma");
    assert_eq!(bad(ChainSpec { n: 3, omega_sites: Some(vec![1.0, 0.0]), ..ChainSpec::default() }), "omega_sites");
    assert_eq!(
        bad(ChainSpec { n: 2, omega_sites: Some(vec![1.0, f64::INFINITY]), ..ChainSpec::default() }),
        "omega_sites"
    );
    assert_eq!(bad(ChainSpec { n: 2, omega_sites: Some(vec![0.0, 0.0]), ..ChainSpec::default() }), "omega_sites");
}

#[test]
fn the_reflection_sector_takes_mirror_symmetric_weights_and_the_field_kept_on() {
    use spinbat::propagate::{space_for, Chebyshev, SpaceKind};
    use spinbat::symmetry::ReflectionSector;
    let mut rng = Rng::new(99);
    // N = 8, 9: one tile (and the middle site); N = 15: partner tiles beyond the tile, odd
    for n in [8usize, 9, 15] {
        for keep in [false, true] {
            let half: Vec<f64> = (0..n.div_ceil(2)).map(|_| rng.uniform(-1.0, 2.0)).collect();
            let w: Vec<f64> = (0..n).map(|i| half[i.min(n - 1 - i)]).collect();
            let chain = Chain::builder(n)
                .couplings(Couplings::PowerLaw { p: 1.5 })
                .alpha(0.4)
                .omega(1.3)
                .omega_sites(w)
                .keep_field(keep)
                .build()
                .unwrap();
            assert!(ReflectionSector::applies(&chain));
            if n >= 14 {
                assert_eq!(space_for(&chain), SpaceKind::ReflectionEven);
            }
            let times = grid(2.5, 7);
            // the full space: dense, or Chebyshev on the 2^N operators
            let want = if n <= 10 {
                plan(&chain, Solver::Dense, 1e-11).unwrap().sample(&times).unwrap()
            } else {
                Chebyshev::new(&chain, 1e-11).unwrap().sample(&times).unwrap()
            };
            let sector = ReflectionSector::new(&chain).unwrap();
            let mut p = Chebyshev::<_, f64>::with_space(sector, &chain, 1e-11);
            for (s, r) in p.sample(&times).unwrap().iter().zip(&want) {
                assert!((s.work - r.work).abs() < 1e-9, "N = {n} keep = {keep} t = {}: {} vs {}", s.t, s.work, r.work);
                assert!((s.rate - r.rate).abs() < 1e-8, "N = {n} keep = {keep}: W' {} vs {}", s.rate, r.rate);
            }
        }
    }
    // weights that are not mirror symmetric: not the sector; gamma keeps the mirror
    // symmetry (tests/contract/xyz_sectors.rs)
    let end = Chain::builder(14).omega_sites([vec![1.0], vec![0.0; 13]].concat()).build().unwrap();
    assert!(!ReflectionSector::applies(&end) && space_for(&end) == SpaceKind::Full);
    let xyz = Chain::builder(14).alpha(0.5).gamma(0.2).build().unwrap();
    assert!(ReflectionSector::applies(&xyz) && space_for(&xyz) == SpaceKind::ReflectionEven);
}

#[test]
fn the_dicke_states_charge_with_the_field_kept_on() {
    // all-to-all: H = H0 + V keeps the symmetric states; the diagonal of H is eps_k
    for (n, alpha, t_max) in [(2usize, 0.0, 3.0), (6, 0.5, 4.0), (9, -0.3, 2.0)] {
        let chain = Chain::builder(n)
            .couplings(Couplings::PowerLaw { p: 0.0 })
            .alpha(alpha)
            .g(0.7)
            .omega(1.1)
            .keep_field(true)
            .build()
            .unwrap();
        let times = grid(t_max, 13);
        let want = reference(&chain, &times);
        let mut p = plan(&chain, Solver::Dicke, 1e-11).unwrap();
        for (s, &(w, r)) in p.sample(&times).unwrap().iter().zip(&want) {
            assert!((s.work - w).abs() < 1e-9 && (s.rate - r).abs() < 1e-8, "N = {n}: {} vs {w}", s.work);
        }
    }
    // N = 60: the Dicke solver against the mean field's exact limit for free spins (g = 0)
    let chain = Chain::builder(60).couplings(Couplings::PowerLaw { p: 0.0 }).g(0.0).omega(0.8).keep_field(true);
    let chain = chain.build().unwrap();
    let mut p = plan(&chain, Solver::Dicke, 1e-10).unwrap();
    for s in p.sample(&grid(5.0, 11)).unwrap() {
        let w = 60.0 * rabi(1.0, 0.8, s.t);
        assert!((s.work - w).abs() < 1e-8 * 60.0, "t = {}: {} vs {w}", s.t, s.work);
    }
}
