//! Storage and self-discharge (`observe::storage`): the one-spin closed forms of decay and
//! dephasing in storage and their half-lives, the conservation laws of noiseless storage,
//! noise while charging only against the noisy charge, noise in storage only against the
//! closed charge, what positivity and unit trace imply for the measured keys, and the
//! refusals.

use crate::common::{noise_case_chain, noise_case_noise, random_chain, Rng};
use spinbat::observe::storage::{store, NoiseDuring, StorageSpec};
use spinbat::open::Noise;
use spinbat::propagate::{plan, plan_noisy};
use spinbat::{Chain, Couplings, Silent, Solver, SpinbatError};
use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, LN_2};

fn times(t_max: f64, points: usize) -> Vec<f64> {
    (0..points).map(|k| t_max * k as f64 / (points - 1) as f64).collect()
}

#[test]
fn one_spin_decay_in_storage_follows_the_closed_forms_and_half_lives() {
    // charged to |↑⟩ at ωT = π/2, then decay γ in storage: W = 2B e^{−γs},
    // ergotropy 2B max(0, 2e^{−γs} − 1) (H0 = H_B for one spin)
    for (b, omega, gamma) in [(1.0, 1.0, 0.5), (0.7, 2.3, 1.3)] {
        let chain = Chain::builder(1).b(b).omega(omega).build().unwrap();
        let mut spec = StorageSpec::new(times(3.0 / gamma, 31));
        spec.charge_time = Some(FRAC_PI_2 / omega);
        spec.noise = Noise { decay: gamma, ..Noise::default() };
        spec.noise_during = NoiseDuring::Storage;
        let s = store(&chain, &spec, &Silent).unwrap();
        assert!((s.charge.work - 2.0 * b).abs() < 1e-10, "fully charged: {}", s.charge.work);
        for (w, p) in s.series.iter().zip(&s.trajectory.points) {
            let decayed = (-gamma * w.t).exp();
            assert!((w.work - 2.0 * b * decayed).abs() < 1e-9, "s = {}: W = {}", w.t, w.work);
            let e = p.ergotropy.unwrap();
            let want = 2.0 * b * (2.0 * decayed - 1.0).max(0.0);
            assert!((e.ergotropy.unwrap() - want).abs() < 1e-9, "s = {}: {:?} vs {want}", p.t, e.ergotropy);
            assert!((e.ergotropy_hb - want).abs() < 1e-9);
        }
        let h = &s.half_lives;
        assert!((h.work.time.unwrap() - LN_2 / gamma).abs() < 1e-9, "{:?}", h.work);
        let erg = (4.0f64 / 3.0).ln() / gamma;
        assert!((h.ergotropy.time.unwrap() - erg).abs() < 1e-7, "{:?} vs {erg}", h.ergotropy);
        assert!((h.ergotropy_hb.time.unwrap() - erg).abs() < 1e-7);
        assert!(s.work_error < 1e-8);
    }
}

#[test]
fn one_spin_dephasing_in_storage_keeps_the_energy_and_loses_ergotropy_as_exp_minus_2_gamma_t() {
    // ωT = π/4: an equatorial state, W = B; dephasing keeps W, ergotropy B e^{−2γs}
    let (b, omega, gamma) = (1.2, 1.7, 0.4);
    let chain = Chain::builder(1).b(b).omega(omega).build().unwrap();
    let mut spec = StorageSpec::new(times(2.0, 21));
    spec.charge_time = Some(FRAC_PI_4 / omega);
    spec.noise = Noise { dephasing: gamma, ..Noise::default() };
    spec.noise_during = NoiseDuring::Storage;
    let s = store(&chain, &spec, &Silent).unwrap();
    for (w, p) in s.series.iter().zip(&s.trajectory.points) {
        assert!((w.work - b).abs() < 1e-9, "energy kept: {}", w.work);
        let want = b * (-2.0 * gamma * p.t).exp();
        let e = p.ergotropy.unwrap();
        assert!((e.ergotropy.unwrap() - want).abs() < 1e-9, "s = {}: {:?} vs {want}", p.t, e.ergotropy);
        // all of it coherent: the populations are those of the passive state's mirror
        assert!(e.incoherent_ergotropy.abs() < 1e-9);
    }
    assert!(s.half_lives.work.time.is_none() && s.half_lives.work.reason.is_some());
    let want = LN_2 / (2.0 * gamma);
    assert!((s.half_lives.ergotropy.time.unwrap() - want).abs() < 1e-7, "{:?}", s.half_lives.ergotropy);
}

#[test]
fn noiseless_storage_conserves_the_work_and_the_ergotropies_for_h0_and_h_b() {
    // [H0, e^{−iH0 s}] = 0 and [H_B, H_g] = 0: W, E(ρ, H0), E(ρ, H_B) stay; the local
    // ergotropy moves (the flip-flops of α ≠ 0 exchange the sites' states)
    let mut rng = Rng::new(15);
    for n in [3, 4] {
        let chain = Chain::builder(n)
            .couplings(Couplings::PowerLaw { p: 1.0 })
            .alpha(0.6)
            .g(rng.uniform(0.5, 1.5))
            .omega(2.0)
            .build()
            .unwrap();
        let spec = StorageSpec::new(times(3.0, 13));
        let s = store(&chain, &spec, &Silent).unwrap();
        assert_eq!(s.charge.time_from, "t_star");
        let w0 = s.charge.work;
        assert!(w0 > 0.1);
        let e0 = s.start.ergotropy.unwrap();
        let mut local = Vec::new();
        for (w, p) in s.series.iter().zip(&s.trajectory.points) {
            assert!((w.work - w0).abs() < 1e-9 && w.rate.abs() < 1e-8, "N = {n}, s = {}: {w:?}", w.t);
            let e = p.ergotropy.unwrap();
            assert!((e.ergotropy.unwrap() - e0.ergotropy.unwrap()).abs() < 1e-8);
            assert!((e.ergotropy_hb - e0.ergotropy_hb).abs() < 1e-8);
            assert!((e.incoherent_ergotropy - e0.incoherent_ergotropy).abs() < 1e-8);
            local.push(e.local_ergotropy);
        }
        let spread = local.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            - local.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(spread > 1e-3, "N = {n}: the local ergotropy moves in storage ({spread})");
        assert!(s.half_lives.work.time.is_none() && s.half_lives.ergotropy.time.is_none());
    }
}

#[test]
fn the_default_charge_time_is_the_closed_t_star() {
    let chain = Chain::builder(3).couplings(Couplings::NearestNeighbour).alpha(0.0).build().unwrap();
    let mut spec = StorageSpec::new(vec![0.0, 0.5]);
    spec.noise = Noise { dephasing: 0.2, ..Noise::default() };
    let s = store(&chain, &spec, &Silent).unwrap();
    let mut closed = plan(&chain, Solver::Dense, 1e-10).unwrap();
    let c = spinbat::observe::charge(closed.as_mut(), &chain, &[0.0], &Silent).unwrap();
    assert!((s.charge.time - c.max_power.time).abs() < 1e-9);
    assert_eq!(s.charge.closed_max_power.unwrap().time, s.charge.time);
}

#[test]
fn noise_while_charging_only_then_storage_conserves_the_noisy_charge() {
    let mut rng = Rng::new(7);
    for n in [2, 4] {
        let chain = random_chain(&mut rng, n);
        let t = rng.uniform(0.2, 1.0);
        let noise = Noise { dephasing: 0.3, decay: 0.2, temperature: Some(1.0), ..Noise::default() };
        let mut spec = StorageSpec::new(times(2.0, 9));
        spec.charge_time = Some(t);
        spec.noise = noise;
        spec.noise_during = NoiseDuring::Charge;
        let s = store(&chain, &spec, &Silent).unwrap();
        let mut charge = plan_noisy(&chain, Solver::DensityMatrix, 1e-11, &noise).unwrap();
        let w_t = charge.sample(&[t]).unwrap()[0].work;
        assert!((s.charge.work - w_t).abs() < 1e-9, "N = {n}: W(T) {} vs the noisy charge {w_t}", s.charge.work);
        for w in &s.series {
            assert!((w.work - w_t).abs() < 1e-9, "N = {n}: W conserved in closed storage, {w:?}");
        }
        let e0 = s.start.ergotropy.unwrap().ergotropy.unwrap();
        assert!(e0 < s.charge.work, "noise leaves ergotropy below the work");
        for p in &s.trajectory.points {
            assert!((p.ergotropy.unwrap().ergotropy.unwrap() - e0).abs() < 1e-8);
        }
    }
}

#[test]
fn noise_in_storage_only_starts_from_the_closed_charge_and_discharges() {
    let mut rng = Rng::new(11);
    for n in [2, 3, 5] {
        let chain = random_chain(&mut rng, n);
        let t = rng.uniform(0.2, 1.0);
        let mut spec = StorageSpec::new(times(4.0, 17));
        spec.charge_time = Some(t);
        spec.noise = Noise { decay: 0.4, ..Noise::default() };
        spec.noise_during = NoiseDuring::Storage;
        let s = store(&chain, &spec, &Silent).unwrap();
        let mut closed = plan(&chain, Solver::Dense, 1e-10).unwrap();
        let w_t = closed.sample(&[t]).unwrap()[0].work;
        assert!((s.charge.work - w_t).abs() < 1e-8, "N = {n}: {} vs closed {w_t}", s.charge.work);
        assert!((s.series[0].work - w_t).abs() < 1e-8);
        // decay towards all-down: the work falls (for an Ising bond energy it may wiggle, so
        // only the end is compared)
        assert!(s.series.last().unwrap().work < 0.5 * w_t, "N = {n}: decay discharges");
    }
}

#[test]
fn measured_keys_respect_positivity_and_unit_trace() {
    // ρ ≥ 0 with Tr ρ = 1: Bloch vectors in the unit ball, 0 ≤ E(ρ, H_B) and
    // 0 ≤ E(ρ, H0) ≤ Tr ρH0 − E_min, local ≤ E(ρ, H_B) + slack (superadditivity aside, each
    // one-site ergotropy is ≥ 0)
    let mut rng = Rng::new(3);
    let chain = random_chain(&mut rng, 4);
    let mut spec = StorageSpec::new(times(3.0, 11));
    spec.charge_time = Some(0.7);
    spec.noise = Noise { dephasing: 0.2, decay: 0.3, collective_decay: 0.1, ..Noise::default() };
    spec.observe.bloch = true;
    let s = store(&chain, &spec, &Silent).unwrap();
    let e_min = spinbat::observe::ground::spectral_range(&chain).unwrap().unwrap().0;
    for p in &s.trajectory.points {
        let e = p.ergotropy.unwrap();
        assert!(e.ergotropy.unwrap() >= -1e-10 && e.ergotropy_hb >= -1e-10 && e.local_ergotropy >= -1e-10);
        let top = p.work + chain.initial_energy() - e_min;
        assert!(e.ergotropy.unwrap() <= top + 1e-9, "E(ρ, H0) <= Tr ρH0 - E_min");
        for v in p.bloch.as_ref().unwrap() {
            assert!(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] <= 1.0 + 1e-10);
        }
    }
}

#[test]
fn storage_refuses_bad_input_before_running() {
    let chain = Chain::builder(3).build().unwrap();
    let mut spec = StorageSpec::new(vec![0.0, -1.0]);
    assert!(matches!(store(&chain, &spec, &Silent), Err(SpinbatError::InvalidTimes { .. })));
    spec.times = vec![0.0, 1.0];
    spec.charge_time = Some(-0.5);
    assert!(matches!(store(&chain, &spec, &Silent), Err(SpinbatError::InvalidParameter { name: "charge_time", .. })));
    spec.charge_time = None;
    spec.noise = Noise { decay: -0.1, ..Noise::default() };
    assert!(matches!(store(&chain, &spec, &Silent), Err(SpinbatError::InvalidParameter { .. })));
    spec.noise = Noise::default();
    spec.solver = Solver::MeanField;
    assert!(matches!(store(&chain, &spec, &Silent), Err(SpinbatError::Unsupported { .. })));
    // with noise: the density matrix only, no entanglement of a mixed state, N <= 12
    spec.noise = Noise { dephasing: 0.1, ..Noise::default() };
    spec.solver = Solver::Chebyshev;
    assert!(matches!(store(&chain, &spec, &Silent), Err(SpinbatError::Unsupported { .. })));
    spec.solver = Solver::Auto;
    spec.observe.entanglement = true;
    assert!(matches!(store(&chain, &spec, &Silent), Err(SpinbatError::Unsupported { .. })));
    let big = Chain::builder(13).build().unwrap();
    let mut noisy = StorageSpec::new(vec![1.0]);
    noisy.noise = Noise { decay: 0.1, ..Noise::default() };
    assert!(matches!(store(&big, &noisy, &Silent), Err(SpinbatError::Unsupported { .. })));
    let huge = Chain::builder(40).build().unwrap();
    assert!(matches!(store(&huge, &StorageSpec::new(vec![1.0]), &Silent), Err(SpinbatError::TooLarge { .. })));
    assert!("sometimes".parse::<NoiseDuring>().is_err());
    assert_eq!("storage".parse::<NoiseDuring>().unwrap(), NoiseDuring::Storage);
}

#[test]
fn closed_storage_on_pure_states_equals_the_density_matrix() {
    // two independent routes: psi(T), then Chebyshev under H_g and the phases of H_B, against
    // the Lindblad propagator with H0 and no channel on rho(T)
    let mut rng = Rng::new(21);
    for n in [3, 4] {
        let chain = random_chain(&mut rng, n);
        let mut spec = StorageSpec::new(times(2.5, 6));
        spec.charge_time = Some(rng.uniform(0.2, 0.8));
        spec.observe.bloch = true;
        let pure = store(&chain, &spec, &Silent).unwrap();
        assert_eq!(pure.trajectory.solver, "chebyshev");
        spec.solver = Solver::DensityMatrix;
        let dm = store(&chain, &spec, &Silent).unwrap();
        assert_eq!(dm.trajectory.solver, "density-matrix");
        for (p, q) in pure.trajectory.points.iter().zip(&dm.trajectory.points) {
            assert!((p.work - q.work).abs() < 1e-9, "N = {n}, s = {}: {} vs {}", p.t, p.work, q.work);
            let (e, f) = (p.ergotropy.unwrap(), q.ergotropy.unwrap());
            for (x, y) in e.values().iter().zip(f.values()).take(8) {
                if let (Some(x), Some(y)) = (x, y) {
                    assert!((x - y).abs() < 1e-8, "N = {n}, s = {}: {e:?} vs {f:?}", p.t);
                }
            }
            for (u, v) in p.bloch.as_ref().unwrap().iter().zip(q.bloch.as_ref().unwrap()) {
                for k in 0..3 {
                    assert!((u[k] - v[k]).abs() < 1e-8, "N = {n}, s = {}: bloch {u:?} vs {v:?}", p.t);
                }
            }
        }
    }
}

#[test]
fn closed_storage_runs_beyond_the_density_matrix_with_pure_states() {
    // N = 13: no density matrix, but the pure state stores; W and E(H_B) stay, entanglement
    // may be observed
    let chain = Chain::builder(13).couplings(Couplings::NearestNeighbour).alpha(0.5).build().unwrap();
    let mut spec = StorageSpec::new(vec![0.0, 0.5, 1.0]);
    spec.observe.entanglement = true;
    let s = store(&chain, &spec, &Silent).unwrap();
    let e0 = s.start.ergotropy.unwrap();
    for p in &s.trajectory.points {
        assert!((p.work - s.charge.work).abs() < 1e-8);
        assert!((p.ergotropy.unwrap().ergotropy_hb - e0.ergotropy_hb).abs() < 1e-8);
        assert!(p.entropy.unwrap() > 0.0);
        // the charge's speed limit and Robertson bound (ΔH of H = H_g + V) are not storage's
        assert!(p.ergotropy.unwrap().qsl_time.is_none() && p.ergotropy.unwrap().power_bound.is_none());
    }
    assert!(s.half_lives.work.time.is_none() && s.half_lives.ergotropy_hb.time.is_none());
}

/// Storage against QuTiP `mesolve` (`tests/data/noise_reference.json`, `storage_cases`, from
/// `scripts/reference/make_noise_reference.py`: the charge, then storage from its end state,
/// cross-checked there against a dense superoperator): `W(s)` and the ergotropies for `H0`
/// and for `H_B` at every storage time, with noise while charging, in storage, or both.
#[test]
fn storage_matches_qutip_mesolve() {
    use serde_json::Value;
    let doc: Value = serde_json::from_str(include_str!("../data/noise_reference.json")).unwrap();
    let cases = doc["storage_cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    let floats = |v: &Value| -> Vec<f64> { v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let chain = noise_case_chain(case);
        let mut spec = StorageSpec::new(floats(&case["times"]));
        spec.charge_time = Some(case["charge_time"].as_f64().unwrap());
        spec.noise = noise_case_noise(&case["noise"]);
        spec.noise_during = case["noise_during"].as_str().unwrap().parse().unwrap();
        spec.solver = Solver::DensityMatrix;
        spec.tol = 1e-11;
        let accuracy = case["max_qutip_vs_dense"].as_f64().unwrap();
        assert!(accuracy < 1e-10, "{name}: the reference itself is off by {accuracy}");
        let s = store(&chain, &spec, &Silent).unwrap();
        let (work, erg, erg_hb) = (floats(&case["work"]), floats(&case["ergotropy"]), floats(&case["ergotropy_hb"]));
        // W: the stated bound; the ergotropies: the state's trace-norm error moves them by at
        // most twice the operator norm (a few B here) times it, far below 1e-8
        let allowed = 2.0 * accuracy + s.work_error + 1e-12;
        for (k, (sample, point)) in s.series.iter().zip(&s.trajectory.points).enumerate() {
            assert!(
                (sample.work - work[k]).abs() < allowed,
                "{name} s = {}: W {} vs QuTiP {}",
                sample.t,
                sample.work,
                work[k]
            );
            let e = point.ergotropy.expect("the ergotropy family is always measured");
            let got = e.ergotropy.expect("H0's spectrum is known at these sizes");
            assert!((got - erg[k]).abs() < 1e-8, "{name} s = {}: ergotropy {got} vs QuTiP {}", point.t, erg[k]);
            assert!(
                (e.ergotropy_hb - erg_hb[k]).abs() < 1e-8,
                "{name} s = {}: ergotropy_hb {} vs QuTiP {}",
                point.t,
                e.ergotropy_hb,
                erg_hb[k]
            );
        }
    }
}

/// `|mean − want| ≤ 4σ` (plus rounding) for each storage time.
fn assert_within_4_sigma(what: &str, mean: f64, se: f64, want: f64) {
    let dev = (mean - want).abs();
    assert!(
        dev <= 4.0 * se + 1e-8 * (1.0 + want.abs()),
        "{what}: trajectories {mean} +- {se} vs density matrix {want} ({:.1} sigma)",
        dev / se.max(f64::MIN_POSITIVE)
    );
}

#[test]
fn storage_by_trajectories_is_the_density_matrix_within_4_standard_errors() {
    // noise while charging, in storage and both: the two-stage trajectories (one random
    // stream through charge and storage) against the density matrix, for W, its rate, the
    // Bloch vectors and the local ergotropy of the mean one-site states
    let mut rng = Rng::new(23);
    let cases = [
        (NoiseDuring::Both, Noise { dephasing: 0.2, decay: 0.3, temperature: Some(1.0), ..Noise::default() }),
        (NoiseDuring::Storage, Noise { decay: 0.4, ..Noise::default() }),
        (NoiseDuring::Charge, Noise { dephasing: 0.5, ..Noise::default() }),
    ];
    for (case, (during, noise)) in cases.into_iter().enumerate() {
        let n = 3 + case;
        let chain = random_chain(&mut rng, n);
        let mut spec = StorageSpec::new(times(2.0, 5));
        spec.charge_time = Some(rng.uniform(0.3, 0.8));
        spec.noise = noise;
        spec.noise_during = during;
        spec.observe.bloch = true;
        let exact = store(&chain, &spec, &Silent).unwrap();
        spec.solver = Solver::Trajectories;
        spec.trajectories = 600;
        spec.seed = 5 + case as u64;
        let traj = store(&chain, &spec, &Silent).unwrap();
        let ens = traj.ensemble.as_ref().expect("an ensemble");
        assert!(ens.mean_jumps > 0.0, "the noise must act");
        assert_eq!(traj.trajectory.solver, "trajectories");
        for (k, (w, e)) in traj.series.iter().zip(&exact.series).enumerate() {
            let what = format!("{during:?}, N = {n}, s = {}", w.t);
            assert_within_4_sigma(&format!("W, {what}"), w.work, ens.work_stderr[k], e.work);
            let (p, q) = (&traj.trajectory.points[k], &exact.trajectory.points[k]);
            let local = q.ergotropy.unwrap().local_ergotropy;
            let se = p.local_ergotropy_stderr.unwrap();
            assert_within_4_sigma(&format!("local ergotropy, {what}"), p.mean_local_ergotropy.unwrap(), se, local);
            let (b, bse, want) =
                (p.bloch.as_ref().unwrap(), p.bloch_stderr.as_ref().unwrap(), q.bloch.as_ref().unwrap());
            for i in 0..n {
                for a in 0..3 {
                    assert_within_4_sigma(&format!("bloch[{i}][{a}], {what}"), b[i][a], bse[i][a], want[i][a]);
                }
            }
        }
        assert_within_4_sigma("W at s = 0", traj.charge.work, ens.work_stderr[0], exact.charge.work);
        assert!(traj.half_lives.ergotropy.time.is_none() && traj.half_lives.ergotropy.reason.is_some());
    }
}

#[test]
fn noiseless_storage_by_trajectories_keeps_each_trajectorys_work() {
    // noise while charging only: in storage every trajectory evolves by e^{-i H0 s}, which
    // conserves its own <H0>, so the mean W and its standard error stay exactly as at s = 0
    let mut rng = Rng::new(29);
    let chain = random_chain(&mut rng, 5);
    let mut spec = StorageSpec::new(times(3.0, 7));
    spec.charge_time = Some(0.6);
    spec.noise = Noise { dephasing: 0.4, decay: 0.2, ..Noise::default() };
    spec.noise_during = NoiseDuring::Charge;
    spec.solver = Solver::Trajectories;
    spec.trajectories = 50;
    let s = store(&chain, &spec, &Silent).unwrap();
    let ens = s.ensemble.unwrap();
    for (k, w) in s.series.iter().enumerate() {
        assert!((w.work - s.series[0].work).abs() < 1e-8, "s = {}: {} vs {}", w.t, w.work, s.series[0].work);
        assert!((ens.work_stderr[k] - ens.work_stderr[0]).abs() < 1e-8);
        assert!(w.rate.abs() < 1e-8, "closed storage: no rate, got {}", w.rate);
    }
    // the same seed gives the same numbers
    let again = store(&chain, &spec, &Silent).unwrap();
    assert_eq!(again.series, s.series);
    // and no noise at all is refused (every trajectory would be the closed evolution)
    spec.noise = Noise::default();
    assert!(matches!(store(&chain, &spec, &Silent), Err(SpinbatError::Unsupported { .. })));
}

#[test]
fn superradiant_storage_on_the_dicke_states_follows_the_cascade_and_its_ergotropy() {
    // two free spins (g = 0) charged to all-up (ωT = π/2), then collective decay Γ in
    // storage: the populations p2 = e^{−2Γs}, p1 = 2Γs e^{−2Γs} (physics.md), ρ stays
    // diagonal on the Dicke states, so with H_B's levels −2B, 0, 0, 2B the ergotropy is
    // Tr ρH_B − (−2B) max_k p_k = 2B(p2 − p0 + max(p0, p1, p2))
    let (b, gamma) = (0.9, 0.35);
    let chain = Chain::builder(2).couplings(Couplings::PowerLaw { p: 0.0 }).g(0.0).b(b).omega(1.0).build().unwrap();
    let mut spec = StorageSpec::new(times(4.0, 9));
    spec.charge_time = Some(FRAC_PI_2);
    spec.noise = Noise { collective_decay: gamma, ..Noise::default() };
    spec.noise_during = NoiseDuring::Storage;
    spec.observe.bloch = true;
    spec.observe.variance = true;
    let s = store(&chain, &spec, &Silent).unwrap();
    assert!(s.trajectory.solver.contains("density"), "{}", s.trajectory.solver);
    for (w, p) in s.series.iter().zip(&s.trajectory.points) {
        let x = gamma * w.t;
        let (p2, p1) = ((-2.0 * x).exp(), 2.0 * x * (-2.0 * x).exp());
        let p0 = 1.0 - p1 - p2;
        assert!((w.work - 2.0 * b * (p1 + 2.0 * p2)).abs() < 1e-8, "s = {}: W {}", w.t, w.work);
        let e = p.ergotropy.unwrap();
        let want = 2.0 * b * (p2 - p0 + p0.max(p1).max(p2));
        assert!((e.ergotropy_hb - want).abs() < 1e-8, "s = {}: {} vs {want}", w.t, e.ergotropy_hb);
        assert!((e.ergotropy.unwrap() - want).abs() < 1e-8, "g = 0: H0 = H_B + const");
        // no coherence: the dephased state is the state; each site up with p1/2 + p2
        assert!(e.coherent_ergotropy.abs() < 1e-8);
        let z = 2.0 * (0.5 * p1 + p2) - 1.0;
        assert!((p.bloch.as_ref().unwrap()[1][2] - z).abs() < 1e-8);
        let var = 4.0 * b * b * (p1 + 4.0 * p2 - (p1 + 2.0 * p2).powi(2));
        assert!((p.variance.unwrap() - var).abs() < 1e-7, "Var(H0) {} vs {var}", p.variance.unwrap());
    }
    let half = s.half_lives.work.time.unwrap();
    let w = |s: f64| (2.0 * gamma * s * (-2.0 * gamma * s).exp() + 2.0 * (-2.0 * gamma * s).exp()) / 2.0;
    assert!((w(half) - 0.5).abs() < 1e-8, "W(s_1/2) = W(0)/2: {}", w(half));
}

#[test]
fn superradiant_storage_runs_past_the_full_density_matrix() {
    // N = 200 > 12 on the Dicke states: the energy decays, the trace-norm bound is carried
    let chain = Chain::builder(200).couplings(Couplings::PowerLaw { p: 0.0 }).g(0.002).build().unwrap();
    let mut spec = StorageSpec::new(times(0.05, 5));
    spec.charge_time = Some(0.3);
    spec.noise = Noise { collective_decay: 0.02, ..Noise::default() };
    let s = store(&chain, &spec, &Silent).unwrap();
    let first = s.series.first().unwrap().work;
    let last = s.series.last().unwrap().work;
    assert!(first > 0.0 && last < first, "superradiance discharges: {first} -> {last}");
    for p in &s.trajectory.points {
        let e = p.ergotropy.unwrap();
        // all-down is the ground state (B > 0, g >= 0): 0 <= ergotropy <= W
        assert!(e.ergotropy.unwrap() <= p.work + 1e-8 && e.ergotropy.unwrap() >= -1e-8);
    }
    assert!(s.work_error < 1e-6);
}
