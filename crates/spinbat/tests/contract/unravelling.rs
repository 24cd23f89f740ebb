//! Quantum trajectories of the open battery against the exact density matrix (the mean
//! within 4 standard errors on random chains), closed forms of one spin, the closed
//! Chebyshev propagator at zero noise, and reproducibility across thread counts.

use crate::common::{random_chain, Rng};
use num_complex::Complex64 as C;
use spinbat::observe::ensemble::charge_trajectories;
use spinbat::open::{Generator, Noise};
use spinbat::propagate::{plan, DensityMatrix, Ensemble, Propagator, Unravelling, WorkSample};
use spinbat::{Chain, Silent, Solver};

/// Mean and standard error over the trajectories of `f(k, i)` (trajectory `k`, time `i`).
fn mean_and_stderr(e: &Ensemble, i: usize, rate: bool) -> (f64, f64) {
    let v: Vec<f64> = e.trajectories.iter().map(|t| if rate { t.rate[i] } else { t.work[i] }).collect();
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0);
    (mean, (var / k).sqrt())
}

/// Every time: `|mean − exact| ≤ 4σ` (plus a floor far below any σ, for times where every
/// trajectory agrees), for `W` and for the rate of the averaged work.
fn assert_within_4_sigma(e: &Ensemble, exact: &[WorkSample], what: &str) {
    for (i, s) in exact.iter().enumerate() {
        for (rate, want) in [(false, s.work), (true, s.rate)] {
            let (mean, se) = mean_and_stderr(e, i, rate);
            let dev = (mean - want).abs();
            assert!(
                dev <= 4.0 * se + 1e-8 * (1.0 + want.abs()),
                "{what}, t = {}: {} {mean} +- {se} vs density matrix {want} ({:.1} sigma)",
                s.t,
                if rate { "W'" } else { "W" },
                dev / se
            );
        }
    }
}

#[test]
fn the_mean_of_the_trajectories_is_the_density_matrix_within_4_standard_errors() {
    let mut rng = Rng::new(1515);
    let noises = [
        Noise { dephasing: 0.3, ..Noise::default() },
        Noise { decay: 0.4, ..Noise::default() },
        Noise { decay: 0.3, temperature: Some(1.5), ..Noise::default() },
        Noise { dephasing: 0.2, decay: 0.25, temperature: Some(0.7), collective_decay: 0.0 },
    ];
    let times: Vec<f64> = (0..=8).map(|k| 0.25 * k as f64).collect();
    for (case, noise) in noises.iter().enumerate() {
        for n in [3, 5] {
            let chain = random_chain(&mut rng, n);
            let exact = DensityMatrix::new(&chain, noise, 1e-10).unwrap().sample(&times).unwrap();
            let e =
                Unravelling::new(&chain, noise, 1e-10).unwrap().run(&times, 400, 77 + case as u64, &Silent).unwrap();
            assert!(e.trajectories.iter().any(|t| t.jumps > 0), "the noise must act");
            assert_within_4_sigma(&e, &exact, &format!("{noise:?}, N = {n}"));
        }
    }
}

#[test]
fn eight_sites_with_dephasing_and_a_thermal_bath_agree_with_the_density_matrix() {
    let chain = random_chain(&mut Rng::new(88), 8);
    let noise = Noise { dephasing: 0.15, decay: 0.2, temperature: Some(1.0), collective_decay: 0.0 };
    let times = [0.0, 0.3, 0.7, 1.2];
    let exact = DensityMatrix::new(&chain, &noise, 1e-10).unwrap().sample(&times).unwrap();
    let e = Unravelling::new(&chain, &noise, 1e-10).unwrap().run(&times, 200, 8, &Silent).unwrap();
    assert_within_4_sigma(&e, &exact, "N = 8");
}

#[test]
fn vanishing_noise_gives_the_closed_chebyshev_curve() {
    let mut rng = Rng::new(2027);
    let times: Vec<f64> = (0..=30).map(|k| 0.1 * k as f64).collect();
    for n in [1, 4, 7] {
        let chain = random_chain(&mut rng, n);
        let want = plan(&chain, Solver::Chebyshev, 1e-12).unwrap().sample(&times).unwrap();
        // no noise at all, and rates so small that no jump comes (probability ~1e-10)
        for noise in
            [Noise::default(), Noise { dephasing: 1e-12, decay: 1e-12, temperature: Some(1.0), collective_decay: 0.0 }]
        {
            let e = Unravelling::new(&chain, &noise, 1e-11).unwrap().run(&times, 3, 5, &Silent).unwrap();
            for tr in &e.trajectories {
                assert_eq!(tr.jumps, 0);
                for (i, s) in want.iter().enumerate() {
                    assert!((tr.work[i] - s.work).abs() < 1e-9, "N = {n}, t = {}: {} vs {}", s.t, tr.work[i], s.work);
                    assert!((tr.rate[i] - s.rate).abs() < 1e-8 * (1.0 + s.rate.abs()), "N = {n}, t = {}: W'", s.t);
                }
            }
            assert!(e.work_error < 1e-10);
        }
    }
}

#[test]
fn one_spin_decays_from_up_as_exp_minus_gamma_t_in_the_mean() {
    // storage (H0 = B Z), decay γ from |↑⟩: each trajectory holds 2B until its one jump at
    // an exponential time, so the mean is 2B e^{−γt}
    let (b, gamma) = (0.9, 0.5);
    let chain = Chain::builder(1).b(b).build().unwrap();
    let noise = Noise { decay: gamma, ..Noise::default() };
    let up = vec![C::new(0.0, 0.0), C::new(1.0, 0.0)];
    let times: Vec<f64> = (0..=12).map(|k| 0.25 * k as f64).collect();
    let u = Unravelling::with_initial(&chain, &noise, Generator::Storage, up, 1e-12).unwrap();
    let e = u.run(&times, 4000, 2024, &Silent).unwrap();
    for (i, &t) in times.iter().enumerate() {
        let want = 2.0 * b * (-gamma * t).exp();
        let (mean, se) = mean_and_stderr(&e, i, false);
        assert!((mean - want).abs() <= 4.0 * se + 1e-12, "t = {t}: {mean} +- {se} vs {want}");
        // every trajectory is either still up (2B) or down (0): no intermediate work
        assert!(e.trajectories.iter().all(|tr| tr.work[i].abs() < 1e-10 || (tr.work[i] - 2.0 * b).abs() < 1e-10));
        // the rate of the mean: W' = -γ W
        let (rate, rate_se) = mean_and_stderr(&e, i, true);
        assert!((rate + gamma * want).abs() <= 4.0 * rate_se + 1e-12, "t = {t}: W' {rate}");
    }
    assert!(e.trajectories.iter().all(|t| t.jumps <= 1));
}

#[test]
fn one_spin_dephasing_keeps_the_energy_of_an_equatorial_state_in_every_trajectory() {
    let b = 1.3;
    let chain = Chain::builder(1).b(b).build().unwrap();
    let noise = Noise { dephasing: 0.8, ..Noise::default() };
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let plus = vec![C::new(s, 0.0), C::new(s, 0.0)];
    let u = Unravelling::with_initial(&chain, &noise, Generator::Storage, plus, 1e-12).unwrap();
    let e = u.run(&[0.0, 1.0, 3.0], 50, 3, &Silent).unwrap();
    assert!(e.trajectories.iter().map(|t| t.jumps).sum::<usize>() > 50, "about N gamma t = 2.4 kicks each");
    for tr in &e.trajectories {
        assert!(tr.work.iter().all(|w| (w - b).abs() < 1e-12), "Z kicks keep <H0>: {:?}", tr.work);
    }
}

#[test]
fn the_same_seed_gives_the_same_numbers_on_one_and_two_threads() {
    let chain = random_chain(&mut Rng::new(4), 6);
    let noise = Noise { dephasing: 0.2, decay: 0.3, temperature: Some(2.0), collective_decay: 0.0 };
    let times = spinbat::observe::uniform_times(1.0, 11);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let u = Unravelling::new(&chain, &noise, 1e-10).unwrap();
            charge_trajectories(&u, &chain, &noise, 24, 99, &times, &Silent).unwrap()
        })
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.work_stderr, two.work_stderr);
    assert_eq!(one.charging.series, two.charging.series);
    assert_eq!(one.charging.max_power, two.charging.max_power);
    assert_eq!(one.summary.mean_jumps, two.summary.mean_jumps);
    // another seed gives other numbers
    let other = {
        let u = Unravelling::new(&chain, &noise, 1e-10).unwrap();
        charge_trajectories(&u, &chain, &noise, 24, 100, &times, &Silent).unwrap()
    };
    assert_ne!(one.charging.series, other.charging.series);
}

#[test]
fn the_ensemble_maximum_agrees_with_the_density_matrix_maximum() {
    let chain = Chain::builder(5).omega(2.0).build().unwrap();
    let noise = Noise { dephasing: 0.2, ..Noise::default() };
    let times = spinbat::observe::uniform_times(1.5, 31);
    let u = Unravelling::new(&chain, &noise, 1e-10).unwrap();
    let e = charge_trajectories(&u, &chain, &noise, 300, 11, &times, &Silent).unwrap();
    let mut dm = DensityMatrix::new(&chain, &noise, 1e-10).unwrap();
    let exact = spinbat::observe::charge(&mut dm, &chain, &times, &Silent).unwrap();
    let (p, se) = (e.charging.max_power.power, e.summary.max_power_stderr);
    assert!(se > 0.0 && (p - exact.max_power.power).abs() <= 4.0 * se, "{p} +- {se} vs {}", exact.max_power.power);
    assert!(!e.charging.max_power.at_window_end);
    for (s, se) in e.charging.series.iter().zip(&e.work_stderr) {
        let want = exact.series.iter().find(|x| x.t == s.t).unwrap().work;
        assert!((s.work - want).abs() <= 4.0 * se + 1e-9, "t = {}", s.t);
    }
    // the bad inputs: fewer than two trajectories
    assert!(charge_trajectories(&u, &chain, &noise, 1, 11, &times, &Silent).is_err());
    assert!(u.run(&times, 0, 1, &Silent).is_err());
    // collective decay is not unravelled
    let collective = Noise { collective_decay: 0.1, ..Noise::default() };
    assert!(matches!(Unravelling::new(&chain, &collective, 1e-10), Err(spinbat::SpinbatError::Unsupported { .. })));
}

/// The one-site states and the local ergotropy of the mean one-site states, against the
/// density matrix's, within 4 standard errors; dephasing alone (trajectories resumed from
/// the shared jump-free one) and decay with dephasing (every trajectory on its own).
#[test]
fn bloch_vectors_and_local_ergotropy_of_the_mean_agree_with_the_density_matrix() {
    use spinbat::observe::correlations::density_bloch;
    use spinbat::observe::ensemble::charge_trajectories_observed;
    use spinbat::observe::trajectory::ObservableSet;
    let mut rng = Rng::new(2626);
    let set = ObservableSet { bloch: true, ergotropy: true, ..ObservableSet::default() };
    let noises =
        [Noise { dephasing: 0.3, ..Noise::default() }, Noise { dephasing: 0.1, decay: 0.3, ..Noise::default() }];
    for (case, noise) in noises.iter().enumerate() {
        let chain = random_chain(&mut rng, 4);
        let n = chain.n_sites();
        let times = spinbat::observe::uniform_times(1.2, 7);
        let u = Unravelling::new(&chain, noise, 1e-10).unwrap();
        let e = charge_trajectories_observed(&u, &chain, noise, 400, 5 + case as u64, &times, &set, &Silent).unwrap();
        let obs = e.observables.expect("observables asked for");
        let mut dm = DensityMatrix::new(&chain, noise, 1e-10).unwrap();
        let b = chain.b();
        for p in &obs.points {
            let rho = dm.density_at(p.t).unwrap().to_vec();
            let exact = density_bloch(&rho, n).unwrap();
            let (mean, se) = (p.bloch.as_ref().unwrap(), p.bloch_stderr.as_ref().unwrap());
            for i in 0..n {
                for a in 0..3 {
                    let dev = (mean[i][a] - exact[i][a]).abs();
                    assert!(
                        dev <= 4.0 * se[i][a] + 1e-8,
                        "{noise:?}, t = {}, site {i}, component {a}: {} +- {} vs {}",
                        p.t,
                        mean[i][a],
                        se[i][a],
                        exact[i][a]
                    );
                }
            }
            let local: f64 =
                exact.iter().map(|r| b * r[2] + b.abs() * (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt()).sum();
            let (got, got_se) = (p.mean_local_ergotropy.unwrap(), p.local_ergotropy_stderr.unwrap());
            // first-order error bars (the O(1/K) bias of a smooth function of means is far below)
            assert!(
                (got - local).abs() <= 4.0 * got_se + 1e-8,
                "{noise:?}, t = {}: local ergotropy {got} +- {got_se} vs {local}",
                p.t
            );
            assert_eq!(p.work_stderr, Some(e.work_stderr[obs.points.iter().position(|q| q.t == p.t).unwrap()]));
        }
        // at t = 0 every trajectory is all down: exact, no spread
        let first = &obs.points[0];
        assert!(first.bloch.as_ref().unwrap().iter().all(|r| (r[2] + 1.0).abs() < 1e-12));
        assert_eq!(first.mean_local_ergotropy, Some(0.0));
    }
    // what is not linear in the state is refused
    let chain = Chain::builder(3).build().unwrap();
    let noise = Noise { dephasing: 0.1, ..Noise::default() };
    let u = Unravelling::new(&chain, &noise, 1e-10).unwrap();
    let entropy = ObservableSet { entanglement: true, ..ObservableSet::default() };
    let times = [0.0, 0.1];
    let refused = charge_trajectories_observed(&u, &chain, &noise, 4, 1, &times, &entropy, &Silent);
    assert!(matches!(refused, Err(spinbat::SpinbatError::Unsupported { .. })));
}
