//! The open battery: the density-matrix solver against closed forms of one spin, the
//! properties any density matrix keeps (trace, hermiticity, positivity), the Gibbs state of
//! the thermal bath, the closed Chebyshev propagator at zero noise, and QuTiP `mesolve`
//! (`tests/data/noise_reference.json`, from `scripts/reference/make_noise_reference.py`).

use crate::common::{noise_case_chain, noise_case_noise, random_chain, Rng};
use faer::Mat;
use num_complex::Complex64 as C;
use serde_json::Value;
use spinbat::observe;
use spinbat::open::{Generator, Liouvillian, Noise};
use spinbat::propagate::{plan, plan_noisy, DensityMatrix, Propagator};
use spinbat::{Chain, Couplings, Silent, Solver};

const DATA: &str = include_str!("../data/noise_reference.json");

/// `|s⟩⟨s|`-free one-spin state `[[ρ↓↓, ρ↓↑], [ρ↑↓, ρ↑↑]]` by columns (index 0 = down).
fn one_spin(down_down: f64, coherence: C, up_up: f64) -> Vec<C> {
    vec![C::new(down_down, 0.0), coherence.conj(), coherence, C::new(up_up, 0.0)]
}

#[test]
fn one_spin_decays_from_up_as_exp_minus_gamma_t() {
    // storage (H0 = B Z), decay γ from |↑⟩: p↑ = e^{−γt}, W = ⟨H0⟩ + B = 2B e^{−γt}
    for (b, gamma) in [(1.0, 0.3), (0.7, 1.1)] {
        let chain = Chain::builder(1).b(b).build().unwrap();
        let noise = Noise { decay: gamma, ..Noise::default() };
        let rho0 = one_spin(0.0, C::new(0.0, 0.0), 1.0);
        let mut p = DensityMatrix::with_initial(&chain, &noise, Generator::Storage, rho0, 1e-12).unwrap();
        let times: Vec<f64> = (0..=40).map(|k| 0.1 * k as f64).collect();
        for s in p.sample(&times).unwrap() {
            let w = 2.0 * b * (-gamma * s.t).exp();
            assert!((s.work - w).abs() < 1e-12, "t = {}: {} vs {w}", s.t, s.work);
            assert!((s.rate + gamma * w).abs() < 1e-11, "W' = -gamma W at t = {}: {}", s.t, s.rate);
        }
        assert!(p.error_bound() < 1e-12);
    }
}

#[test]
fn dephasing_keeps_the_energy_and_kills_the_coherence_as_exp_minus_2_gamma_t() {
    // |+⟩ = (|↓⟩ + |↑⟩)/√2 in storage: ⟨Z⟩ = 0 stays, |ρ↓↑| = e^{−2γt}/2
    let (b, gamma) = (1.3, 0.25);
    let chain = Chain::builder(1).b(b).build().unwrap();
    let noise = Noise { dephasing: gamma, ..Noise::default() };
    let rho0 = one_spin(0.5, C::new(0.5, 0.0), 0.5);
    let mut p = DensityMatrix::with_initial(&chain, &noise, Generator::Storage, rho0, 1e-12).unwrap();
    for s in p.sample(&[0.0, 0.5, 1.0, 3.0]).unwrap() {
        assert!((s.work - b).abs() < 1e-13, "energy kept: W = B, got {}", s.work);
    }
    for t in [0.3, 1.0, 2.5] {
        let rho = p.density_at(t).unwrap();
        let coherence = rho[2].norm(); // ρ_{↓↑}: row 0, column 1
        assert!((coherence - 0.5 * (-2.0 * gamma * t).exp()).abs() < 1e-12, "t = {t}: {coherence}");
        // the phase turns at the splitting 2B: ρ↓↑ ∝ e^{+2iBt} (⟨↓|e^{−iBZt}ρe^{iBZt}|↑⟩)
        let phase = rho[2].arg();
        let want = (2.0 * b * t + std::f64::consts::PI).rem_euclid(2.0 * std::f64::consts::PI) - std::f64::consts::PI;
        assert!((phase - want).abs() < 1e-10, "t = {t}: phase {phase} vs {want}");
    }
}

/// Smallest eigenvalue of a Hermitian matrix stored by columns.
fn smallest_eigenvalue(rho: &[C], d: usize) -> f64 {
    let m = Mat::<C>::from_fn(d, d, |r, c| rho[c * d + r]);
    let ev = m.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    ev.iter().copied().fold(f64::INFINITY, f64::min)
}

#[test]
fn the_state_stays_a_density_matrix_along_a_noisy_charge() {
    let mut rng = Rng::new(15);
    let noises = [
        Noise { dephasing: 0.3, ..Noise::default() },
        Noise { decay: 0.4, temperature: Some(0.8), ..Noise::default() },
        Noise { dephasing: 0.1, decay: 0.2, temperature: None, collective_decay: 0.15 },
    ];
    for noise in noises {
        let chain = random_chain(&mut rng, 4);
        let mut p = DensityMatrix::new(&chain, &noise, 1e-10).unwrap();
        let d = 16;
        for t in [0.1, 0.7, 2.0, 5.0] {
            let rho = p.density_at(t).unwrap().to_vec();
            let trace: f64 = (0..d).map(|s| rho[s * d + s].re).sum();
            let herm = (0..d * d).map(|k| (rho[k] - rho[(k % d) * d + k / d].conj()).norm()).fold(0.0, f64::max);
            let lowest = smallest_eigenvalue(&rho, d);
            assert!((trace - 1.0).abs() < 1e-12, "{noise:?} t = {t}: trace {trace}");
            assert!(herm < 1e-13, "{noise:?} t = {t}: hermiticity {herm}");
            assert!(lowest > -1e-11, "{noise:?} t = {t}: smallest eigenvalue {lowest}");
        }
    }
}

/// The product Gibbs state of `H_B = B Σ Z_i` at temperature `T`: each site
/// `diag(p↓, p↑)`, `p↑/p↓ = e^{−2B/T}`.
fn gibbs_of_field(n: usize, b: f64, t: f64) -> Vec<C> {
    let d = 1usize << n;
    let up = 1.0 / (1.0 + (2.0 * b / t).exp());
    let mut rho = vec![C::new(0.0, 0.0); d * d];
    for s in 0..d {
        let k = s.count_ones() as i32;
        rho[s * d + s] = C::new(up.powi(k) * (1.0 - up).powi(n as i32 - k), 0.0);
    }
    rho
}

#[test]
fn the_gibbs_state_of_the_field_is_stationary_under_the_thermal_bath() {
    // Ising couplings (α = 0): H0 is diagonal, so it commutes with the diagonal Gibbs state of
    // H_B, which the local thermal bath leaves in place (detailed balance site by site)
    let (b, temp) = (1.0, 1.7);
    for chain in [
        Chain::builder(4).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.0).g(0.9).b(b).build().unwrap(),
        Chain::builder(3).couplings(Couplings::NearestNeighbour).alpha(0.7).g(0.0).b(b).build().unwrap(),
    ] {
        let n = chain.n_sites();
        let noise = Noise { decay: 0.5, temperature: Some(temp), dephasing: 0.2, collective_decay: 0.0 };
        let gibbs = gibbs_of_field(n, b, temp);
        let l = Liouvillian::new(&chain, &noise, Generator::Storage).unwrap();
        let mut out = vec![C::new(0.0, 0.0); gibbs.len()];
        let sums = l.apply(&gibbs, &mut out, &mut l.workspace());
        assert!(sums.frobenius_sq.sqrt() < 1e-14, "L(rho_G) = {}", sums.frobenius_sq.sqrt());
        let mut p = DensityMatrix::with_initial(&chain, &noise, Generator::Storage, gibbs.clone(), 1e-12).unwrap();
        let rho = p.density_at(3.0).unwrap();
        let dev = rho.iter().zip(&gibbs).map(|(a, b)| (a - b).norm()).fold(0.0, f64::max);
        assert!(dev < 1e-13, "N = {n}: moved by {dev}");
        // a bath at another temperature does move it: the test can fail
        let colder = Noise { temperature: Some(0.5 * temp), ..noise };
        let l = Liouvillian::new(&chain, &colder, Generator::Storage).unwrap();
        let sums = l.apply(&gibbs, &mut out, &mut l.workspace());
        assert!(sums.frobenius_sq.sqrt() > 1e-3);
    }
}

#[test]
fn zero_noise_gives_the_closed_chebyshev_curve() {
    let mut rng = Rng::new(2026);
    let times: Vec<f64> = (0..=60).map(|k| 0.05 * k as f64).collect();
    for n in 1..=6 {
        let chain = random_chain(&mut rng, n);
        let mut closed = plan(&chain, Solver::Chebyshev, 1e-12).unwrap();
        let want = closed.sample(&times).unwrap();
        // exactly closed (the normal generator) and a vanishing rate (the open path)
        for noise in [Noise::default(), Noise { dephasing: 1e-13, ..Noise::default() }] {
            let mut p = DensityMatrix::new(&chain, &noise, 1e-11).unwrap();
            let got = p.sample(&times).unwrap();
            for (a, b) in got.iter().zip(&want) {
                assert!((a.work - b.work).abs() < 1e-9, "N = {n}, t = {}: {} vs {}", a.t, a.work, b.work);
                assert!((a.rate - b.rate).abs() < 1e-8 * (1.0 + b.rate.abs()), "N = {n}, t = {}: W'", a.t);
            }
            assert!(p.error_bound() < 1e-10);
        }
        // and the certified maximum agrees
        let mut p = plan_noisy(&chain, Solver::DensityMatrix, 1e-11, &Noise::default()).unwrap();
        let a = observe::charge(p.as_mut(), &chain, &times, &Silent).unwrap();
        let b = observe::charge(closed.as_mut(), &chain, &times, &Silent).unwrap();
        assert!((a.max_power.power - b.max_power.power).abs() < 1e-9 * b.max_power.power.max(1.0), "N = {n}");
    }
}

#[test]
fn noise_changes_the_work_and_auto_picks_the_density_matrix() {
    let chain = Chain::builder(5).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.0).omega(4.0).build().unwrap();
    let noise = Noise { dephasing: 0.1, ..Noise::default() };
    let mut p = plan_noisy(&chain, Solver::Auto, 1e-10, &noise).unwrap();
    assert_eq!(p.name(), "density-matrix");
    let times = observe::uniform_times(1.0, 21);
    let open = observe::charge(p.as_mut(), &chain, &times, &Silent).unwrap();
    let mut closed = plan(&chain, Solver::Auto, 1e-10).unwrap();
    let closed = observe::charge(closed.as_mut(), &chain, &times, &Silent).unwrap();
    let diff = open.series.iter().zip(&closed.series).map(|(a, b)| (a.work - b.work).abs()).fold(0.0, f64::max);
    assert!(diff > 1e-3, "dephasing must change W(t): {diff}");
    // the certificate holds: no sampled work above the bound the search used
    let bound = open.certified_until * open.max_power.power;
    assert!(open.series.iter().all(|s| s.work <= bound));
    // closed-battery solvers refuse noise
    for solver in [Solver::Chebyshev, Solver::Dense, Solver::Dicke, Solver::MeanField, Solver::WeakCoupling] {
        assert!(plan_noisy(&chain, solver, 1e-10, &noise).is_err(), "{solver}");
    }
}

#[test]
fn matches_qutip_mesolve() {
    let doc: Value = serde_json::from_str(DATA).unwrap();
    assert!(doc["qutip"].is_string() && doc["mesolve_options"]["atol"].as_f64().unwrap() <= 1e-12);
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    for case in cases {
        let chain = noise_case_chain(case);
        let noise = noise_case_noise(&case["noise"]);
        let times: Vec<f64> = case["times"].as_array().unwrap().iter().map(|t| t.as_f64().unwrap()).collect();
        let work: Vec<f64> = case["work"].as_array().unwrap().iter().map(|w| w.as_f64().unwrap()).collect();
        // the reference is as accurate as its two computations agree
        let accuracy = case["max_qutip_vs_dense"].as_f64().unwrap();
        assert!(accuracy < 1e-11, "{}: the reference itself is off by {accuracy}", case["name"]);
        let mut p = DensityMatrix::new(&chain, &noise, 1e-11).unwrap();
        let got = p.sample(&times).unwrap();
        let allowed = 2.0 * accuracy + p.error_bound() + 1e-12;
        for (g, &w) in got.iter().zip(&work) {
            assert!(
                (g.work - w).abs() < allowed,
                "{} t = {}: {} vs QuTiP {w} (allowed {allowed:.1e})",
                case["name"],
                g.t,
                g.work
            );
        }
    }
}

/// The observables of the density matrix: at zero noise equal to those of the closed
/// Chebyshev states (every key but the entropy and the Robertson bound, which the density
/// matrix does not report); with decay and dephasing the ergotropy family keeps its order
/// (capacity ≥ ergotropy, global ≥ block ≥ local, coherent and incoherent parts ≥ 0), and
/// the capacity of the mixed state falls below the closed `E_max − E_min`.
#[test]
fn density_matrix_observables_equal_the_closed_states_at_zero_noise_and_keep_their_order_with_noise() {
    use spinbat::observe::trajectory::{plan_noisy, trajectory, trajectory_planned, ObservableSet};
    use spinbat::open::Noise;
    use spinbat::propagate::Precision;
    use spinbat::{Chain, Couplings, Silent, Solver};
    let chain = Chain::builder(5).alpha(0.4).g(0.9).couplings(Couplings::PowerLaw { p: 1.2 }).build().unwrap();
    let times = [0.0, 0.11, 0.3, 0.62];
    let set: ObservableSet = "bloch,zz,variance,ergotropy".parse::<ObservableSet>().unwrap().with_block(2);
    let closed = Noise::default();
    let plan = plan_noisy(&chain, Solver::DensityMatrix, 1e-11, Precision::Double, &closed).unwrap();
    assert_eq!(plan.solver(), Solver::DensityMatrix);
    let dm = trajectory_planned(&plan, &chain, &times, &set, &Silent).unwrap();
    let pure = trajectory(&chain, Solver::Chebyshev, &times, &set, 1e-11, &Silent).unwrap();
    assert!(dm.state_error.unwrap() < 1e-10);
    for (p, q) in dm.points.iter().zip(&pure.points) {
        let close = |a: f64, b: f64, key: &str| assert!((a - b).abs() < 1e-9, "t = {}: {key} {a} vs {b}", p.t);
        close(p.work, q.work, "W");
        for (x, y) in p.bloch.as_ref().unwrap().iter().zip(q.bloch.as_ref().unwrap()) {
            (0..3).for_each(|k| close(x[k], y[k], "Bloch"));
        }
        for (x, y) in p.zz.as_ref().unwrap().iter().flatten().zip(q.zz.as_ref().unwrap().iter().flatten()) {
            close(*x, *y, "ZZ");
        }
        close(p.variance.unwrap(), q.variance.unwrap(), "Var(H0)");
        let (e, f) = (p.ergotropy.unwrap(), q.ergotropy.unwrap());
        close(e.ergotropy.unwrap(), f.ergotropy.unwrap(), "ergotropy");
        close(e.ergotropy_hb, f.ergotropy_hb, "ergotropy_hb");
        close(e.local_ergotropy, f.local_ergotropy, "local");
        close(e.incoherent_ergotropy, f.incoherent_ergotropy, "incoherent");
        close(e.capacity.unwrap(), f.capacity.unwrap(), "capacity");
        close(e.variance_hb, f.variance_hb, "variance_hb");
        close(e.block_ergotropy.unwrap(), f.block_ergotropy.unwrap(), "block");
        assert!(p.entropy.is_none() && e.power_bound.is_none());
    }
    // with noise: the mixed states' family keeps its order
    let noise = Noise { decay: 0.3, dephasing: 0.2, ..Noise::default() };
    let plan = plan_noisy(&chain, Solver::Auto, 1e-10, Precision::Double, &noise).unwrap();
    assert_eq!(plan.solver(), Solver::DensityMatrix);
    let noisy = trajectory_planned(&plan, &chain, &[0.2, 0.6, 1.5, 3.0], &set, &Silent).unwrap();
    for p in &noisy.points {
        let e = p.ergotropy.unwrap();
        let erg = e.ergotropy.unwrap();
        assert!(erg >= -1e-10 && e.capacity.unwrap() >= erg - 1e-10, "t = {}: {e:?}", p.t);
        assert!(e.locked_ergotropy >= -1e-10 && e.coherent_ergotropy >= -1e-10 && e.incoherent_ergotropy >= -1e-10);
        assert!(
            e.block_ergotropy.unwrap() >= e.local_ergotropy - 1e-10
                && e.block_ergotropy.unwrap() <= e.ergotropy_hb + 1e-10
        );
        // a mixed state: its capacity falls below the closed one (E_max − E_min)
        let closed_capacity = pure.points[0].ergotropy.unwrap().capacity.unwrap();
        assert!(e.capacity.unwrap() < closed_capacity - 1e-6, "t = {}: the noise mixes the state", p.t);
    }
}
