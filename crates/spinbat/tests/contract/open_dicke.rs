//! The open battery on the Dicke states (all couplings equal, collective decay): the
//! `(N + 1) × (N + 1)` density matrix against the full-space `2^N × 2^N` one (the work on a
//! grid, the state projected onto the symmetric states), the closed Dicke solver at `Γ = 0`,
//! the superradiant cascade in storage (closed forms at `N = 1, 2`, the population
//! equations integrated independently beyond), and the properties of a density matrix.

use crate::common::Rng;
use faer::Mat;
use num_complex::Complex64 as C;
use spinbat::observe;
use spinbat::open::{Generator, Noise};
use spinbat::propagate::{plan, plan_noisy, DensityMatrix, Plan, Precision, Propagator, Request, SpaceKind};
use spinbat::{Chain, Couplings, Silent, Solver, SpinbatError};

/// A chain with all couplings equal and random `B`, `g`, `α`, `ω`.
fn symmetric_chain(rng: &mut Rng, n: usize) -> Chain {
    Chain::builder(n)
        .couplings(Couplings::PowerLaw { p: 0.0 })
        .b(rng.uniform(0.5, 1.5))
        .g(rng.uniform(0.2, 1.5))
        .alpha(rng.uniform(-0.5, 1.0))
        .omega(rng.uniform(0.5, 3.0))
        .build()
        .unwrap()
}

/// The normalised Dicke state `|k⟩` (`k` up spins) on the full space.
fn dicke_vector(n: usize, k: usize) -> Vec<f64> {
    let states: Vec<usize> = (0..1usize << n).filter(|s| s.count_ones() as usize == k).collect();
    let a = 1.0 / (states.len() as f64).sqrt();
    let mut v = vec![0.0; 1 << n];
    for s in states {
        v[s] = a;
    }
    v
}

/// `⟨r|ρ|c⟩` for the Dicke states `r, c` of a full-space `ρ` (by columns).
fn project(rho: &[C], n: usize) -> Vec<C> {
    let big = 1usize << n;
    let d = n + 1;
    let vs: Vec<Vec<f64>> = (0..d).map(|k| dicke_vector(n, k)).collect();
    let mut out = vec![C::new(0.0, 0.0); d * d];
    for c in 0..d {
        for r in 0..d {
            let mut acc = C::new(0.0, 0.0);
            for (b, &vc) in vs[c].iter().enumerate().filter(|(_, &v)| v != 0.0) {
                for (a, &vr) in vs[r].iter().enumerate().filter(|(_, &v)| v != 0.0) {
                    acc += rho[b * big + a] * (vr * vc);
                }
            }
            out[c * d + r] = acc;
        }
    }
    out
}

fn smallest_eigenvalue(rho: &[C], d: usize) -> f64 {
    let m = Mat::<C>::from_fn(d, d, |r, c| rho[c * d + r]);
    m.self_adjoint_eigenvalues(faer::Side::Lower).unwrap().iter().copied().fold(f64::INFINITY, f64::min)
}

#[test]
fn dicke_density_matrix_equals_the_full_space_density_matrix() {
    let mut rng = Rng::new(1515);
    let times: Vec<f64> = (0..=30).map(|k| 0.04 * k as f64).collect();
    for n in 2..=6 {
        let chain = symmetric_chain(&mut rng, n);
        let noise = Noise { collective_decay: rng.uniform(0.05, 0.6), ..Noise::default() };
        let mut full = DensityMatrix::new(&chain, &noise, 1e-11).unwrap();
        let mut dicke = DensityMatrix::dicke(&chain, &noise, 1e-11).unwrap();
        let want = full.sample(&times).unwrap();
        let got = dicke.sample(&times).unwrap();
        for (a, b) in got.iter().zip(&want) {
            assert!((a.work - b.work).abs() < 1e-9, "N = {n}, t = {}: W {} vs {}", a.t, a.work, b.work);
            assert!((a.rate - b.rate).abs() < 1e-8 * (1.0 + b.rate.abs()), "N = {n}, t = {}: W'", a.t);
        }
        assert!(dicke.error_bound() < 1e-10 && dicke.error_bound() > 0.0);
        for t in [0.37, 1.1] {
            let rho_full = full.density_at(t).unwrap().to_vec();
            let rho = dicke.density_at(t).unwrap().to_vec();
            let projected = project(&rho_full, n);
            let d = n + 1;
            // the full state has no weight outside the symmetric states: the projection keeps
            // the whole trace
            let trace: f64 = (0..d).map(|k| projected[k * d + k].re).sum();
            assert!((trace - 1.0).abs() < 1e-10, "N = {n}: trace on the Dicke states {trace}");
            let err = rho.iter().zip(&projected).map(|(a, b)| (a - b).norm()).fold(0.0, f64::max);
            assert!(err < 1e-10, "N = {n}, t = {t}: rho differs by {err}");
        }
        // and the certified maximum agrees
        let a = observe::charge(&mut full, &chain, &times, &Silent).unwrap();
        let b = observe::charge(&mut dicke, &chain, &times, &Silent).unwrap();
        assert!((a.max_power.power - b.max_power.power).abs() < 1e-8 * a.max_power.power, "N = {n}");
        assert!((a.max_power.time - b.max_power.time).abs() < 1e-7 * a.max_power.time, "N = {n}");
    }
}

#[test]
fn zero_decay_gives_the_closed_dicke_solver() {
    let mut rng = Rng::new(7);
    let times: Vec<f64> = (0..=40).map(|k| 0.025 * k as f64).collect();
    for n in [2, 5, 12, 40] {
        let chain = symmetric_chain(&mut rng, n);
        let mut closed = plan(&chain, Solver::Dicke, 1e-12).unwrap();
        let want = closed.sample(&times).unwrap();
        // the normal generator (no channel) and a vanishing rate (the open path, Crouzeix)
        for gamma in [0.0, 1e-14] {
            let noise = Noise { collective_decay: gamma, ..Noise::default() };
            let mut p = DensityMatrix::dicke(&chain, &noise, 1e-11).unwrap();
            for (a, b) in p.sample(&times).unwrap().iter().zip(&want) {
                let scale = 1.0 + b.work.abs();
                assert!((a.work - b.work).abs() < 1e-9 * scale, "N = {n}, t = {}: {} vs {}", a.t, a.work, b.work);
                assert!((a.rate - b.rate).abs() < 1e-8 * (1.0 + b.rate.abs()), "N = {n}, t = {}: W'", a.t);
            }
        }
        // the planner's density matrix at zero noise runs on the Dicke states, and its
        // certified maximum is the closed one
        let mut p = plan_noisy(&chain, Solver::DensityMatrix, 1e-11, &Noise::default()).unwrap();
        assert!(p.accuracy_note().contains("Dicke"), "{}", p.accuracy_note());
        let a = observe::charge(p.as_mut(), &chain, &times, &Silent).unwrap();
        let b = observe::charge(closed.as_mut(), &chain, &times, &Silent).unwrap();
        assert!((a.max_power.power - b.max_power.power).abs() < 1e-9 * b.max_power.power, "N = {n}");
    }
}

/// `W(s) = Σ_k ε_k p_k(s)` of the superradiant cascade from `|N⟩` in storage, with
/// `ε_k = 2Bk + 2g(1 − α)k(N − k)`: the populations obey `p_k' = −r_k p_k + r_{k+1} p_{k+1}`,
/// `r_k = Γ k(N − k + 1)` (coherences stay zero: `H0` is diagonal on the Dicke states),
/// integrated here by RK4 with steps `h r_max = 10⁻³`.
fn cascade_work(n: usize, b: f64, g: f64, alpha: f64, gamma: f64, s: f64) -> f64 {
    let r: Vec<f64> = (0..=n + 1).map(|k| gamma * (k * (n + 1 - k)) as f64).collect();
    let eps: Vec<f64> = (0..=n).map(|k| 2.0 * b * k as f64 + 2.0 * g * (1.0 - alpha) * (k * (n - k)) as f64).collect();
    let deriv = |p: &[f64]| -> Vec<f64> {
        (0..=n).map(|k| -r[k] * p[k] + if k < n { r[k + 1] * p[k + 1] } else { 0.0 }).collect()
    };
    let r_max = r.iter().copied().fold(0.0, f64::max);
    let steps = ((s * r_max / 1e-3).ceil() as usize).max(1);
    let h = s / steps as f64;
    let mut p = vec![0.0; n + 1];
    p[n] = 1.0;
    for _ in 0..steps {
        let k1 = deriv(&p);
        let y2: Vec<f64> = p.iter().zip(&k1).map(|(a, d)| a + 0.5 * h * d).collect();
        let k2 = deriv(&y2);
        let y3: Vec<f64> = p.iter().zip(&k2).map(|(a, d)| a + 0.5 * h * d).collect();
        let k3 = deriv(&y3);
        let y4: Vec<f64> = p.iter().zip(&k3).map(|(a, d)| a + h * d).collect();
        let k4 = deriv(&y4);
        for k in 0..=n {
            p[k] += h / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]);
        }
    }
    p.iter().zip(&eps).map(|(p, e)| p * e).sum()
}

#[test]
fn superradiant_decay_in_storage_follows_the_cascade() {
    // the fully charged state |N⟩⟨N| in storage under collective decay Γ
    let fully_charged = |n: usize| {
        let d = n + 1;
        let mut rho = vec![C::new(0.0, 0.0); d * d];
        rho[d * d - 1] = C::new(1.0, 0.0);
        rho
    };
    // N = 1: one spin, W = 2B e^{−Γs}; N = 2 (g = 0): p_2 = e^{−2Γs}, p_1 = 2Γs e^{−2Γs},
    // W = 4B e^{−2Γs}(1 + Γs)
    let (b, gamma) = (0.8, 0.45);
    for n in [1, 2] {
        let chain = Chain::builder(n).couplings(Couplings::PowerLaw { p: 0.0 }).b(b).g(0.0).build().unwrap();
        let noise = Noise { collective_decay: gamma, ..Noise::default() };
        let mut p =
            DensityMatrix::dicke_with_initial(&chain, &noise, Generator::Storage, fully_charged(n), 1e-12).unwrap();
        let times: Vec<f64> = (0..=40).map(|k| 0.1 * k as f64).collect();
        for s in p.sample(&times).unwrap() {
            let want = match n {
                1 => 2.0 * b * (-gamma * s.t).exp(),
                _ => 4.0 * b * (-2.0 * gamma * s.t).exp() * (1.0 + gamma * s.t),
            };
            assert!((s.work - want).abs() < 1e-11, "N = {n}, s = {}: {} vs {want}", s.t, s.work);
        }
    }
    // larger N with couplings (H0 diagonal: the populations alone), against the cascade
    for (n, g, alpha) in [(7, 0.6, 0.3), (30, 0.2, -0.4)] {
        let chain = Chain::builder(n).couplings(Couplings::PowerLaw { p: 0.0 }).b(b).g(g).alpha(alpha).build().unwrap();
        let gamma = 0.05;
        let noise = Noise { collective_decay: gamma, ..Noise::default() };
        let mut p =
            DensityMatrix::dicke_with_initial(&chain, &noise, Generator::Storage, fully_charged(n), 1e-12).unwrap();
        // the superradiant burst comes at s ≈ ln N/(ΓN)
        let end = 4.0 * (n as f64).ln() / (gamma * n as f64);
        let times: Vec<f64> = (0..=12).map(|k| end * k as f64 / 12.0).collect();
        for s in p.sample(&times).unwrap() {
            let want = cascade_work(n, b, g, alpha, gamma, s.t);
            assert!((s.work - want).abs() < 1e-8 * (1.0 + want), "N = {n}, s = {}: {} vs {want}", s.t, s.work);
        }
    }
}

#[test]
fn the_dicke_state_stays_a_density_matrix_along_a_noisy_charge() {
    let mut rng = Rng::new(99);
    for n in [3, 20, 60] {
        let chain = symmetric_chain(&mut rng, n);
        let noise = Noise { collective_decay: rng.uniform(0.02, 0.3), ..Noise::default() };
        let mut p = DensityMatrix::dicke(&chain, &noise, 1e-10).unwrap();
        let d = n + 1;
        for t in [0.05, 0.2, 0.6] {
            let rho = p.density_at(t).unwrap().to_vec();
            let trace: C = (0..d).map(|k| rho[k * d + k]).sum();
            assert!((trace - 1.0).norm() < 1e-10, "N = {n}, t = {t}: trace {trace}");
            let herm = (0..d)
                .flat_map(|r| (0..d).map(move |c| (r, c)))
                .map(|(r, c)| (rho[c * d + r] - rho[r * d + c].conj()).norm())
                .fold(0.0, f64::max);
            assert!(herm < 1e-10, "N = {n}, t = {t}: not Hermitian by {herm}");
            // the trace-norm bound on the state error bounds how negative an eigenvalue may be
            let tol = p.state_error() + 1e-12;
            let low = smallest_eigenvalue(&rho, d);
            assert!(low >= -tol, "N = {n}, t = {t}: eigenvalue {low} below -{tol}");
        }
    }
}

#[test]
fn the_planner_puts_collective_decay_at_p_0_on_the_dicke_states() {
    let chain = Chain::builder(1000).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
    let collective = Noise { collective_decay: 0.1, ..Noise::default() };
    for solver in [Solver::Auto, Solver::DensityMatrix] {
        let plan = Plan::with_noise(&chain, solver, 1e-10, Precision::Double, Request::Work, &collective).unwrap();
        assert_eq!((plan.solver(), plan.space()), (Solver::DensityMatrix, SpaceKind::DickeDensityMatrix));
        // three (N + 1)² complex matrices and a little
        assert!(plan.bytes() < 1e8, "{}", plan.bytes());
        let p = plan.propagator(&chain).unwrap();
        assert_eq!(p.name(), "density-matrix");
    }
    // a local channel leaves the symmetric states: the full space, which does not fit
    let local = Noise { dephasing: 0.1, ..collective };
    let err = Plan::with_noise(&chain, Solver::Auto, 1e-10, Precision::Double, Request::Work, &local).unwrap_err();
    assert!(matches!(err, SpinbatError::TooLarge { .. }), "{err}");
    // unequal couplings: the full space too
    let p1 = Chain::builder(4).build().unwrap();
    let plan = Plan::with_noise(&p1, Solver::Auto, 1e-10, Precision::Double, Request::Work, &collective).unwrap();
    assert_eq!(plan.space(), SpaceKind::DensityMatrix);
}

/// The ergotropy family measured on the Dicke density matrix (`observe::dicke`, from the
/// spectrum of `H0` by total spin) against the full-space measurements of the same state
/// (the full density matrix, whose ρ lies on the Dicke states, and the dense spectrum of
/// `H0`): every key, charged and then in storage, and the one-site Bloch vectors.
#[test]
fn the_ergotropy_family_on_the_dicke_states_is_that_of_the_full_density_matrix() {
    use spinbat::observe::dicke::DickeObserver;
    use spinbat::observe::ergotropy::{ErgotropyContext, H0Spectrum};
    let mut rng = Rng::new(2027);
    for n in 2..=6 {
        let chain = symmetric_chain(&mut rng, n);
        let noise = Noise { collective_decay: rng.uniform(0.1, 0.8), ..Noise::default() };
        let t = rng.uniform(0.2, 0.9);
        let mut full = DensityMatrix::new(&chain, &noise, 1e-12).unwrap();
        let mut dicke = DensityMatrix::dicke(&chain, &noise, 1e-12).unwrap();
        let observer = DickeObserver::new(&chain).unwrap();
        let context = ErgotropyContext::new(&chain).unwrap();
        let spectrum = H0Spectrum::new(&chain).unwrap();
        let e0 = chain.initial_energy();
        let check = |rho_full: &[C], rho: &[C], what: &str| {
            let d = n + 1;
            let h0: f64 = (0..d).map(|k| rho[k * d + k].re * observer.diagonal()[k]).sum();
            let want = context.measure_density(rho_full, &spectrum, h0 - e0).unwrap();
            let (got, bloch) = observer.measure(rho).unwrap();
            let pairs = [
                ("ergotropy", got.ergotropy.unwrap(), want.ergotropy.unwrap()),
                ("ergotropy_hb", got.ergotropy_hb, want.ergotropy_hb),
                ("local", got.local_ergotropy, want.local_ergotropy),
                ("locked", got.locked_ergotropy, want.locked_ergotropy),
                ("coherent", got.coherent_ergotropy, want.coherent_ergotropy),
                ("incoherent", got.incoherent_ergotropy, want.incoherent_ergotropy),
                ("capacity", got.capacity.unwrap(), want.capacity.unwrap()),
                ("variance_hb", got.variance_hb, want.variance_hb),
            ];
            for (key, a, b) in pairs {
                assert!((a - b).abs() < 1e-8 * (1.0 + b.abs()), "N = {n}, {what}: {key} {a} vs full space {b}");
            }
            let full_bloch = observe::correlations::density_bloch(rho_full, n).unwrap();
            for r in &full_bloch {
                for a in 0..3 {
                    assert!((r[a] - bloch[a]).abs() < 1e-9, "N = {n}, {what}: bloch {r:?} vs {bloch:?}");
                }
            }
            assert!(got.ergotropy.unwrap() > 1e-3, "N = {n}, {what}: a charged state holds ergotropy");
        };
        let (rf, rd) = (full.density_at(t).unwrap().to_vec(), dicke.density_at(t).unwrap().to_vec());
        check(&rf, &rd, "charged");
        // storage from there: collective decay under H0 (a matrix with no coherence left
        // between some levels, and the passive filling of decayed populations)
        let mut full_s = DensityMatrix::with_initial(&chain, &noise, Generator::Storage, rf, 1e-12).unwrap();
        let mut dicke_s = DensityMatrix::dicke_with_initial(&chain, &noise, Generator::Storage, rd, 1e-12).unwrap();
        let s = rng.uniform(0.5, 2.0);
        let (rf, rd) = (full_s.density_at(s).unwrap().to_vec(), dicke_s.density_at(s).unwrap().to_vec());
        check(&rf, &rd, "stored");
    }
}
