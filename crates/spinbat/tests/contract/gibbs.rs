//! Thermal starting states (`open::Gibbs`, `Start::Thermal`): the Gibbs state by blocks
//! against a dense `e^{−βH0}` built here from Kronecker products, its energy against the
//! canonical `−∂ ln Z/∂β`, its passivity, the stationarity of the Gibbs state of `H_B`
//! under the local thermal bath (`g = 0`, and not for `g ≠ 0`), the maximally mixed limit,
//! `T0 = 0` against the all-down runs, and the trajectories against the density matrix.

use crate::common::{random_chain, Rng};
use faer::Mat;
use num_complex::Complex64 as C;
use spinbat::observe::storage::{store, NoiseDuring, StorageSpec};
use spinbat::observe::trajectory::{plan_start, trajectory_planned, ObservableSet};
use spinbat::open::{Gibbs, Noise, Start};
use spinbat::propagate::{DensityMatrix, Plan, Precision, Propagator, Request, Unravelling};
use spinbat::{Chain, Couplings, Silent, Solver, SpinbatError};
use std::sync::Arc;

/// Operator `op` (`op[new bit][old bit]`, bit 1 = up) on site `i`, identity elsewhere.
fn site(n: usize, i: usize, op: [[C; 2]; 2]) -> Mat<C> {
    let d = 1usize << n;
    Mat::from_fn(d, d, |r, c| if (r ^ c) & !(1 << i) != 0 { C::new(0.0, 0.0) } else { op[(r >> i) & 1][(c >> i) & 1] })
}

/// `H0 = B Σ Z_i − Σ_{i<j} g_ij (Z_iZ_j + α(X_iX_j + Y_iY_j))` from Pauli matrices.
fn dense_h0(chain: &Chain) -> Mat<C> {
    let n = chain.n_sites();
    let (o, one, i) = (C::new(0.0, 0.0), C::new(1.0, 0.0), C::new(0.0, 1.0));
    let x = [[o, one], [one, o]];
    let y = [[o, -i], [i, o]];
    let z = [[-one, o], [o, one]];
    let d = 1usize << n;
    let mut h = Mat::<C>::zeros(d, d);
    for a in 0..n {
        h += site(n, a, z) * faer::Scale(C::new(chain.b(), 0.0));
        for b in a + 1..n {
            let g = chain.coupling(a, b);
            let pair = site(n, a, z) * site(n, b, z)
                + (site(n, a, x) * site(n, b, x) + site(n, a, y) * site(n, b, y))
                    * faer::Scale(C::new(chain.alpha(), 0.0));
            h -= pair * faer::Scale(C::new(g, 0.0));
        }
    }
    h
}

/// `e^{A}` by scaling and squaring of the Taylor series (to 40 terms at `‖A‖ ≤ 1/2`).
fn expm(a: &Mat<C>) -> Mat<C> {
    let d = a.nrows();
    let norm: f64 = (0..d).map(|r| (0..d).map(|c| a[(r, c)].norm()).sum::<f64>()).fold(0.0, f64::max);
    let squarings = (norm / 0.5).log2().ceil().max(0.0) as i32;
    let scaled = a * faer::Scale(C::new(0.5f64.powi(squarings), 0.0));
    let mut sum = Mat::<C>::identity(d, d);
    let mut term = Mat::<C>::identity(d, d);
    for k in 1..40 {
        term = &term * &scaled * faer::Scale(C::new(1.0 / k as f64, 0.0));
        sum += &term;
    }
    for _ in 0..squarings {
        sum = &sum * &sum;
    }
    sum
}

fn trace(a: &Mat<C>) -> C {
    (0..a.nrows()).map(|k| a[(k, k)]).sum()
}

/// A random chain with `α ≠ 0` (flip-flops act, the blocks are not diagonal).
fn random_xxz(rng: &mut Rng, n: usize) -> Chain {
    loop {
        let c = random_chain(rng, n);
        if c.alpha().abs() > 0.05 && c.g() > 0.1 {
            return c;
        }
    }
}

#[test]
fn the_gibbs_state_by_blocks_is_the_dense_exponential_and_its_energy_the_canonical_mean() {
    let mut rng = Rng::new(1501);
    for n in [2, 4, 6] {
        let chain = random_xxz(&mut rng, n);
        let h0 = dense_h0(&chain);
        let d = 1usize << n;
        for t0 in [0.2, 1.0, 5.0] {
            let beta = 1.0 / t0;
            let g = Gibbs::new(&chain, t0).unwrap();
            let e = expm(&(&h0 * faer::Scale(C::new(-beta, 0.0))));
            let z = trace(&e).re;
            let rho = g.density_matrix();
            let err = (0..d * d).map(|k| (rho[k] - e[(k % d, k / d)] / z).norm()).fold(0.0, f64::max);
            assert!(err < 1e-12, "N = {n}, T0 = {t0}: |rho - e^(-beta H0)/Z| = {err:.1e}");
            // E_beta = −∂ ln Z/∂β by central differences of the dense traces
            let ln_z = |b: f64| trace(&expm(&(&h0 * faer::Scale(C::new(-b, 0.0))))).re.ln();
            let step = 1e-4 * beta;
            let canonical = -(ln_z(beta + step) - ln_z(beta - step)) / (2.0 * step);
            assert!((g.energy() - canonical).abs() < 1e-6 * (1.0 + canonical.abs()), "N = {n}, T0 = {t0}");
            // and Tr(H0 ρ) of the dense state
            let direct = trace(&(&h0 * &e)).re / z;
            assert!((g.energy() - direct).abs() < 1e-10 * (1.0 + direct.abs()));
            let field: f64 =
                (0..d).map(|s| rho[s * d + s].re * chain.b() * (2.0 * s.count_ones() as f64 - n as f64)).sum();
            assert!((g.field_energy() - field).abs() < 1e-12 * (1.0 + field.abs()));
        }
    }
}

#[test]
fn the_gibbs_state_is_passive_and_its_work_starts_at_zero() {
    let mut rng = Rng::new(1502);
    for n in [3, 5] {
        let chain = random_xxz(&mut rng, n);
        for t0 in [0.3, 2.0] {
            let set = ObservableSet { ergotropy: true, bloch: true, ..ObservableSet::default() };
            let noise = Noise { dephasing: 0.1, ..Noise::default() };
            let plan =
                plan_start(&chain, Solver::Auto, 1e-10, Precision::Double, &noise, Start::Thermal { temperature: t0 })
                    .unwrap();
            assert_eq!(plan.solver(), Solver::DensityMatrix);
            let g = plan.gibbs().unwrap();
            assert!((plan.reference_energy(&chain) - g.energy()).abs() < 1e-15);
            let tr = trajectory_planned(&plan, &chain, &[0.0, 0.5], &set, &Silent).unwrap();
            let p0 = &tr.points[0];
            assert!(p0.work.abs() < 1e-12, "W(0) = {}", p0.work);
            let e0 = p0.ergotropy.unwrap();
            // passive: the populations of ρ_β decrease with the energy of H0's levels
            assert!(e0.ergotropy.unwrap().abs() < 1e-10, "N = {n}, T0 = {t0}: ergotropy {:?}", e0.ergotropy);
            // the charge and its noise put ergotropy in: not everything is zero by construction
            let e1 = tr.points[1].ergotropy.unwrap();
            assert!(e1.ergotropy.unwrap() > 1e-6, "charged for 0.5: {:?}", e1.ergotropy);
            // capacity Σ r_k (ε_{d+1−k} − ε_k) from the Gibbs weights directly
            let mut p: Vec<f64> = g.levels().map(|(_, p)| p).collect();
            let mut levels: Vec<f64> = g.levels().map(|(e, _)| e).collect();
            p.sort_by(|a, b| b.total_cmp(a));
            levels.sort_by(f64::total_cmp);
            let cap: f64 = p.iter().enumerate().map(|(k, r)| r * (levels[levels.len() - 1 - k] - levels[k])).sum();
            assert!((e0.capacity.unwrap() - cap).abs() < 1e-9 * (1.0 + cap), "{:?} vs {cap}", e0.capacity);
        }
        // closed charge: ρ(t) = Uρ_βU† keeps the spectrum of the passive ρ_β, so every unit of
        // work put in is extractable, ergotropy(t) = W(t)
        let closed = plan_start(
            &chain,
            Solver::Auto,
            1e-10,
            Precision::Double,
            &Noise::default(),
            Start::Thermal { temperature: 0.7 },
        )
        .unwrap();
        let set = ObservableSet { ergotropy: true, ..ObservableSet::default() };
        let tr = trajectory_planned(&closed, &chain, &[0.0, 0.2, 0.45], &set, &Silent).unwrap();
        for p in &tr.points {
            let e = p.ergotropy.unwrap().ergotropy.unwrap();
            assert!((e - p.work).abs() < 1e-9 * (1.0 + p.work.abs()), "t = {}: ergotropy {e} vs W {}", p.t, p.work);
        }
        assert!(tr.points[2].work > 1e-3);
    }
}

#[test]
fn the_gibbs_state_of_h_b_is_stationary_under_the_local_thermal_bath_only_without_couplings() {
    // g = 0: H0 = H_B, ρ_β = ⊗ diag(p↓, p↑) with p↑/p↓ = e^{−2B/T}, the bath's fixed point at T
    let (t_bath, gamma) = (0.8, 0.7);
    let noise = Noise { decay: gamma, temperature: Some(t_bath), ..Noise::default() };
    let free = Chain::builder(4).g(0.0).b(1.2).build().unwrap();
    let mut spec = StorageSpec::new(vec![0.0, 0.5, 1.0, 2.0, 4.0]);
    spec.charge_time = Some(0.0);
    spec.noise = noise;
    spec.noise_during = NoiseDuring::Storage;
    spec.start = Start::Thermal { temperature: t_bath };
    let s = store(&free, &spec, &Silent).unwrap();
    for (w, p) in s.series.iter().zip(&s.trajectory.points) {
        assert!(w.work.abs() < 1e-9, "g = 0, s = {}: W = {}", w.t, w.work);
        assert!(p.ergotropy.unwrap().ergotropy.unwrap().abs() < 1e-9);
    }
    assert_eq!(s.charge.initial_temperature, Some(t_bath));
    // another temperature relaxes towards the bath's: the energy falls (a hotter start)
    spec.start = Start::Thermal { temperature: 2.0 * t_bath };
    let hot = store(&free, &spec, &Silent).unwrap();
    assert!(hot.series.last().unwrap().work < -1e-2, "a hotter start cools: {:?}", hot.series.last());
    // g ≠ 0 (Ising, so H0 is diagonal and ρ_β commutes with it): the local jumps do not
    // satisfy detailed balance for H_g, the Gibbs state of H0 is not their fixed point
    let coupled = Chain::builder(4).g(1.0).alpha(0.0).b(1.2).build().unwrap();
    spec.start = Start::Thermal { temperature: t_bath };
    let moved = store(&coupled, &spec, &Silent).unwrap();
    let last = moved.series.last().unwrap().work;
    assert!(last.abs() > 1e-3, "g = 1: W(s = 4) = {last} should move");
}

#[test]
fn a_very_hot_start_is_maximally_mixed_and_closed_dynamics_put_no_work_in() {
    let mut rng = Rng::new(1504);
    let chain = random_xxz(&mut rng, 5);
    let g = Gibbs::new(&chain, 1e9).unwrap();
    // p_k = (1 − (E_k − Ē)/T0 + …)/D: within ‖H0‖/T0 of 1/D
    assert!(g.levels().all(|(_, p)| (p - 1.0 / 32.0).abs() < 1e-7 / 32.0));
    let mut dm = DensityMatrix::thermal(&chain, &Noise::default(), &g, 1e-10).unwrap();
    let times: Vec<f64> = (0..=20).map(|k| 0.1 * k as f64).collect();
    for s in dm.sample(&times).unwrap() {
        // ρ = 1/D commutes with everything: W ≡ 0 up to O(β)
        assert!(s.work.abs() < 1e-7 && s.rate.abs() < 1e-7, "t = {}: W = {}, W' = {}", s.t, s.work, s.rate);
    }
    // the same at a moderate temperature charges
    let warm = Gibbs::new(&chain, 1.0).unwrap();
    let mut dm = DensityMatrix::thermal(&chain, &Noise::default(), &warm, 1e-10).unwrap();
    let w = dm.sample(&times).unwrap();
    assert!(w.iter().any(|s| s.work.abs() > 1e-2));
}

#[test]
fn zero_temperature_reproduces_the_all_down_curve() {
    let mut rng = Rng::new(1505);
    let times: Vec<f64> = (0..=15).map(|k| 0.1 * k as f64).collect();
    for n in [3, 5] {
        // proved ground state (B > 0, g ≥ 0, |α| ≤ 1): the plan is the all-down plan, same numbers
        let chain = Chain::builder(n).alpha(rng.uniform(-1.0, 1.0)).g(rng.uniform(0.1, 2.0)).build().unwrap();
        for noise in [Noise::default(), Noise { dephasing: 0.2, decay: 0.1, ..Noise::default() }] {
            let zero = Start::Thermal { temperature: 0.0 };
            let a =
                Plan::with_start(&chain, Solver::Auto, 1e-10, Precision::Double, Request::Work, &noise, zero).unwrap();
            let b = Plan::with_noise(&chain, Solver::Auto, 1e-10, Precision::Double, Request::Work, &noise).unwrap();
            assert_eq!(a.solver(), b.solver());
            assert!(a.gibbs().is_none());
            let (wa, wb) = (
                a.propagator(&chain).unwrap().sample(&times).unwrap(),
                b.propagator(&chain).unwrap().sample(&times).unwrap(),
            );
            assert_eq!(wa, wb, "exactly the all-down numbers");
            // and the Gibbs machinery itself at T0 = 0 gives the all-down density matrix's curve
            let g = Gibbs::new(&chain, 0.0).unwrap();
            let thermal = DensityMatrix::thermal(&chain, &noise, &g, 1e-10).unwrap().sample(&times).unwrap();
            let plain = DensityMatrix::new(&chain, &noise, 1e-10).unwrap().sample(&times).unwrap();
            for (x, y) in thermal.iter().zip(&plain) {
                assert!((x.work - y.work).abs() < 1e-9 && (x.rate - y.rate).abs() < 1e-8, "t = {}", x.t);
            }
        }
    }
    // outside the proved case the start at T0 = 0 is the true ground state, not all-down
    let frustrated = Chain::builder(4).alpha(1.8).g(1.0).b(0.3).build().unwrap();
    let g = Gibbs::new(&frustrated, 0.0).unwrap();
    assert!(g.ground_energy() < frustrated.initial_energy() - 1e-6);
    assert!((g.energy() - g.ground_energy()).abs() < 1e-10);
}

#[test]
fn the_closed_thermal_charge_stays_below_its_work_bound_and_its_maximum_is_certified() {
    let mut rng = Rng::new(1506);
    let chain = random_xxz(&mut rng, 4);
    let g = Gibbs::new(&chain, 1.5).unwrap();
    let mut dm = DensityMatrix::thermal(&chain, &Noise::default(), &g, 1e-11).unwrap();
    let bound = dm.work_bound(&chain);
    let grid: Vec<f64> = (0..=4000).map(|k| 0.005 * k as f64).collect();
    let brute = dm.sample(&grid).unwrap();
    assert!(brute.iter().all(|s| s.work <= bound + 1e-9), "W <= {bound}");
    let best = brute.iter().skip(1).map(|s| s.work / s.t).fold(f64::NEG_INFINITY, f64::max);
    let mut fresh = DensityMatrix::thermal(&chain, &Noise::default(), &g, 1e-11).unwrap();
    let c = spinbat::observe::charge(&mut fresh, &chain, &[0.0, 1.0], &Silent).unwrap();
    assert!(c.max_power.power >= best - 1e-9, "certified {} vs grid {best}", c.max_power.power);
    assert!(c.max_power.power <= best * (1.0 + 1e-4), "the grid of 0.005 is near the maximum");
}

#[test]
fn thermal_trajectories_agree_with_the_density_matrix_within_4_standard_errors() {
    let mut rng = Rng::new(1507);
    let times: Vec<f64> = (0..=6).map(|k| 0.25 * k as f64).collect();
    let noises = [
        Noise::default(),
        Noise { dephasing: 0.3, ..Noise::default() },
        Noise { dephasing: 0.2, decay: 0.25, temperature: Some(0.7), collective_decay: 0.0 },
    ];
    for (case, noise) in noises.iter().enumerate() {
        for n in [3, 6, 8] {
            let chain = if n == 8 { random_chain(&mut rng, n) } else { random_xxz(&mut rng, n) };
            let t0 = rng.uniform(0.3, 3.0);
            let g = Arc::new(Gibbs::new(&chain, t0).unwrap());
            let exact = DensityMatrix::thermal(&chain, noise, &g, 1e-10).unwrap().sample(&times).unwrap();
            let count = if n == 8 { 150 } else { 300 };
            let u = Unravelling::new(&chain, noise, 1e-10).unwrap().with_thermal_start(Arc::clone(&g)).unwrap();
            let e = u.run(&times, count, 31 + case as u64, &Silent).unwrap();
            for (i, s) in exact.iter().enumerate() {
                for (rate, want) in [(false, s.work), (true, s.rate)] {
                    let v: Vec<f64> = e.trajectories.iter().map(|t| if rate { t.rate[i] } else { t.work[i] }).collect();
                    let k = v.len() as f64;
                    let mean = v.iter().sum::<f64>() / k;
                    let se = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0) / k).sqrt();
                    assert!(
                        (mean - want).abs() <= 4.0 * se + 1e-8 * (1.0 + want.abs()),
                        "{noise:?}, N = {n}, T0 = {t0}, t = {}: {mean} +- {se} vs {want}",
                        s.t
                    );
                }
            }
            // W_k(0) = 0 for every trajectory; they start in different eigenstates
            assert!(e.trajectories.iter().all(|t| t.work[0].abs() < 1e-12));
            assert!(e.trajectories.iter().any(|t| t.work.last() != e.trajectories[0].work.last()));
        }
    }
}

#[test]
fn thermal_trajectories_are_reproducible_whatever_the_thread_count() {
    let chain = random_xxz(&mut Rng::new(1508), 5);
    let g = Arc::new(Gibbs::new(&chain, 1.0).unwrap());
    let noise = Noise { dephasing: 0.2, ..Noise::default() };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let u = Unravelling::new(&chain, &noise, 1e-10).unwrap().with_thermal_start(Arc::clone(&g)).unwrap();
            u.run(&[0.0, 0.4, 0.8], 20, 5, &Silent).unwrap()
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn a_thermal_start_refuses_pure_state_solvers_and_bad_temperatures() {
    let chain = Chain::builder(4).couplings(Couplings::NearestNeighbour).alpha(0.5).build().unwrap();
    let warm = Start::Thermal { temperature: 1.0 };
    for solver in [Solver::Dense, Solver::Chebyshev, Solver::MeanField, Solver::WeakCoupling] {
        let r = Plan::with_start(&chain, solver, 1e-10, Precision::Double, Request::Work, &Noise::default(), warm);
        assert!(matches!(r, Err(SpinbatError::Unsupported { .. })), "{solver:?}");
    }
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Start::from_temperature(Some(bad)),
            Err(SpinbatError::InvalidParameter { name: "initial_temperature", .. })
        ));
        let r = Plan::with_start(
            &chain,
            Solver::Auto,
            1e-10,
            Precision::Double,
            Request::Work,
            &Noise::default(),
            Start::Thermal { temperature: bad },
        );
        assert!(r.is_err());
    }
    // α ≠ 0 beyond the largest block diagonalised densely
    let big = Chain::builder(16).alpha(0.5).build().unwrap();
    assert!(matches!(Gibbs::new(&big, 1.0), Err(SpinbatError::Unsupported { .. })));
    // α = 0: any N (diagonal), the levels are the diagonal energies
    let ising = Chain::builder(14).alpha(0.0).build().unwrap();
    let g = Gibbs::new(&ising, 1.0).unwrap();
    assert!((g.levels().map(|(_, p)| p).sum::<f64>() - 1.0).abs() < 1e-12);
}
