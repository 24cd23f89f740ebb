//! Strong coupling: the exact effective coupling of all-down and all-up against closed forms
//! derived by hand, against dense eigenvalues of the parity sectors and of the full space,
//! its `ω^N/g^{N−1}` scaling, and the slow oscillation against direct time evolution.

use spinbat::effective::{self, ParitySector, Partition};
use spinbat::propagate::{plan, Dense};
use spinbat::{analytic, Chain, Couplings, Solver, SpinbatError};

fn chain(n: usize, g: f64, omega: f64, alpha: f64, couplings: Couplings) -> Chain {
    Chain::builder(n).g(g).omega(omega).alpha(alpha).couplings(couplings).build().unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// Two spins: the even sector {(|dd⟩+|uu⟩)/√2, (|ud⟩+|du⟩)/√2} has
/// `[[−g, 2ω], [2ω, g(1 − 2α)]]` and the odd ground level is `−g` (`V` annihilates
/// `|dd⟩ − |uu⟩`), so `J = (E_+ − E_−)/2 = −2ω² / (g(1−α) + √(g²(1−α)² + 4ω²))`, which tends
/// to `−ω²/(g(1 − α))` (Eq. 15 for `α = 0`).
#[test]
fn two_spins_match_the_closed_form_for_any_alpha() {
    let omega: f64 = 4.0;
    for alpha in [0.0, 0.5, -0.3] {
        for g in [5.0, 100.0, 1e4] {
            let j = effective::effective_coupling(&chain(2, g, omega, alpha, Couplings::NearestNeighbour)).unwrap();
            let a = g * (1.0 - alpha);
            let exact = -2.0 * omega * omega / (a + (a * a + 4.0 * omega * omega).sqrt());
            assert!(rel(j.j_eff, exact) < 1e-14, "alpha {alpha} g {g}: {} vs {exact}", j.j_eff);
            assert!(rel(j.delta, 2.0 * exact.abs()) < 1e-14);
            assert!(rel(j.c_n, -1.0 / (1.0 - alpha)) < 1e-14, "c_2 = {}", j.c_n);
            assert!(j.shift_odd == 0.0, "the odd level is E_d exactly: {}", j.shift_odd);
        }
    }
    // Eq. 15: |J| → ω²/g with a relative deviation ~ (ω/g)²
    let dev: Vec<f64> = [10.0, 100.0, 1000.0]
        .iter()
        .map(|&r| {
            let j =
                effective::effective_coupling(&chain(2, r * omega, omega, 0.0, Couplings::NearestNeighbour)).unwrap();
            rel(j.j_eff.abs(), analytic::two_spin_effective_coupling(r * omega, omega))
        })
        .collect();
    for k in 0..2 {
        let ratio = dev[k] / dev[k + 1];
        assert!((ratio - 100.0).abs() < 5.0, "deviation should drop 100x per decade of g/omega: {dev:?}");
    }
    assert!(dev[2] < 2e-6, "{dev:?}");
}

/// One spin: `H = ω X` on {|D⟩, |U⟩}, `J = ω`, and the slow part is the whole
/// `W = 2B sin²(ωt)`, maximal `2B` at `π/(2ω)`.
#[test]
fn one_spin_is_exact() {
    let c = chain(1, 0.0, 3.0, 0.0, Couplings::NearestNeighbour);
    let j = effective::effective_coupling(&c).unwrap();
    assert_eq!((j.j_eff, j.delta, j.c_n), (3.0, 6.0, 1.0));
    let s = effective::slow_oscillation(&c).unwrap();
    assert!((s.work - 2.0).abs() < 1e-14 && (s.time - std::f64::consts::PI / 6.0).abs() < 1e-15);
    for t in [0.1, 0.7, 2.3] {
        assert!((s.work_at(t) - analytic::one_spin_work(1.0, 3.0, t)).abs() < 1e-14);
    }
}

/// Three spins all coupled with `g` (`α = 0`) stay in the Dicke states; the parity sectors
/// are 2×2: `[[−3g, √3ω], [√3ω, g ± 2ω]]`, so
/// `E_± = −g ± ω − √((2g ± ω)² + 3ω²)` and, without cancellation,
/// `J = ω [3ω²/(√a + 2g + ω) + 3ω²/(√b + 2g − ω)] / (√a + √b)`, `a, b = (2g ± ω)² + 3ω²`.
#[test]
fn three_all_coupled_spins_match_the_closed_form() {
    let omega: f64 = 4.0;
    let all_ones = vec![vec![0.0, 1.0, 1.0], vec![1.0, 0.0, 1.0], vec![1.0, 1.0, 0.0]];
    let mut dev = Vec::new();
    for r in [10.0, 100.0, 1000.0] {
        let g = r * omega;
        let sa = ((2.0 * g + omega).powi(2) + 3.0 * omega * omega).sqrt();
        let sb = ((2.0 * g - omega).powi(2) + 3.0 * omega * omega).sqrt();
        let exact = omega
            * (3.0 * omega * omega / (sa + 2.0 * g + omega) + 3.0 * omega * omega / (sb + 2.0 * g - omega))
            / (sa + sb);
        for couplings in [Couplings::PowerLaw { p: 0.0 }, Couplings::Matrix { m: all_ones.clone() }] {
            let c = chain(3, g, omega, 0.0, couplings);
            let j = effective::effective_coupling(&c).unwrap();
            assert!(rel(j.j_eff, exact) < 1e-13, "g {g}: {} vs {exact}", j.j_eff);
            assert!(rel(j.c_n, 0.375) < 1e-14, "c_3 = {} (3/8 for all coupled)", j.c_n);
            let (_, paper) = effective::closed_form(&c).expect("three all-coupled spins have a closed form");
            assert!(rel(paper, analytic::three_spin_effective_coupling(g, omega)) < 1e-15);
        }
        dev.push(rel(exact, analytic::three_spin_effective_coupling(g, omega)));
    }
    for k in 0..2 {
        let ratio = dev[k] / dev[k + 1];
        assert!((ratio - 100.0).abs() < 5.0, "deviation from 3w^3/(8g^2) should drop like (omega/g)^2: {dev:?}");
    }
}

/// Where `Δ` is large (moderate `g`), plain eigenvalues resolve it: `J` must equal half the
/// difference of the two sector ground levels, and `|J|` half the lowest gap of the full
/// spectrum (an independent eigensolver), to `~ε_mach ‖H‖`. The sectors together rebuild
/// the full spectrum, and `Z_±` are the weights `2⟨±|D⟩²`.
#[test]
fn coupling_matches_dense_eigenvalues_where_resolvable() {
    let omega: f64 = 4.0;
    let mut worst: f64 = 0.0;
    for n in 3..=6 {
        for (g, alpha, couplings) in [
            (10.0, 0.0, Couplings::NearestNeighbour),
            (20.0, 0.0, Couplings::NearestNeighbour),
            (5.0, 0.0, Couplings::PowerLaw { p: 1.0 }),
            (20.0, 0.0, Couplings::PowerLaw { p: 1.0 }),
            (20.0, 0.4, Couplings::PowerLaw { p: 2.0 }),
            (30.0, -0.3, Couplings::NearestNeighbour),
        ] {
            let c = chain(n, g, omega, alpha, couplings.clone());
            let j = effective::effective_coupling(&c).unwrap();
            let even = ParitySector::without_symmetry(&c, 1).unwrap();
            let odd = ParitySector::without_symmetry(&c, -1).unwrap();
            let full = Dense::new(&c).unwrap();
            let h_norm = full.energies().iter().fold(0.0f64, |a, e| a.max(e.abs()));
            let tol = 64.0 * f64::EPSILON * h_norm;
            let sectors = (even.energies()[0] - odd.energies()[0]) / 2.0;
            let gap = (full.energies()[1] - full.energies()[0]) / 2.0;
            let what = format!("N {n} g {g} alpha {alpha} {couplings:?}");
            assert!((j.j_eff - sectors).abs() < tol, "{what}: J {} vs sectors {sectors}", j.j_eff);
            assert!((j.j_eff.abs() - gap).abs() < tol, "{what}: |J| {} vs full gap/2 {gap}", j.j_eff);
            assert!((j.shift_even - even.levels()[0]).abs() < tol && (j.shift_odd - odd.levels()[0]).abs() < tol);
            worst = worst.max((j.j_eff - sectors).abs() / h_norm);
            let mut union: Vec<f64> = even.energies().into_iter().chain(odd.energies()).collect();
            union.sort_by(f64::total_cmp);
            // eigensolver errors ~ dim ε ‖H‖ on individual levels
            let spectrum_tol = 4.0 * (1usize << n) as f64 * f64::EPSILON * h_norm;
            for (a, b) in union.iter().zip(full.energies()) {
                assert!((a - b).abs() < spectrum_tol, "{what}: sector level {a} vs full {b}");
            }
            for (sector, z) in [(&even, j.z_even), (&odd, j.z_odd)] {
                let weight = 2.0 * sector.overlap(0).powi(2);
                assert!((weight - z).abs() < 1e-12, "{what}: weight {weight} vs Z {z}");
            }
            // the symmetry-reduced sectors keep the doublet, and each of their levels is a level of H
            for parity in [1, -1] {
                let reduced = ParitySector::new(&c, parity).unwrap();
                let plain = if parity > 0 { &even } else { &odd };
                assert!((reduced.levels()[0] - plain.levels()[0]).abs() < tol, "{what}: reduced ground level");
                for e in reduced.energies() {
                    assert!(
                        full.energies().iter().any(|f| (e - f).abs() < spectrum_tol),
                        "{what}: {e} not a level of H"
                    );
                }
            }
        }
    }
    assert!(worst < 16.0 * f64::EPSILON, "worst |J - J_dense| / ||H|| = {worst:e}");
}

/// The identity `J = Z t̄` is exact; the textbook Brillouin–Wigner form `Z(E̅) t(E̅)` at the
/// root of `E̅ = E_d + s(E̅)` differs by `O((Δ/gap)²)` relative: negligible at `g = 100`,
/// visible at `g = 10`, where the exact form still matches the dense eigenvalues.
#[test]
fn textbook_form_agrees_at_strong_coupling_and_the_exact_one_everywhere() {
    let omega: f64 = 4.0;
    for (n, g) in [(3, 100.0), (4, 100.0), (3, 10.0), (4, 10.0)] {
        let c = chain(n, g, omega, 0.0, Couplings::NearestNeighbour);
        let j = effective::effective_coupling(&c).unwrap();
        let part = Partition::new(&c).unwrap();
        // E̅ by Newton on ε − s(ε) = 0 (monotone from ε = 0)
        let mut eps = 0.0;
        let mut r = part.evaluate(eps).unwrap();
        for _ in 0..30 {
            let step = (eps - r.s) / (1.0 + r.norm2);
            eps -= step;
            r = part.evaluate(eps).unwrap();
            if step.abs() < 1e-15 * eps.abs() {
                break;
            }
        }
        let textbook = r.t / (1.0 + r.norm2);
        let even = ParitySector::new(&c, 1).unwrap();
        let odd = ParitySector::new(&c, -1).unwrap();
        let dense = (even.levels()[0] - odd.levels()[0]) / 2.0;
        let gap = even.levels()[1].min(odd.levels()[1]) - even.levels()[0].max(odd.levels()[0]);
        let predicted = (j.delta / gap).powi(2);
        let diff = rel(textbook, j.j_eff);
        assert!(
            diff < 4.0 * predicted + 1e-14,
            "N {n} g {g}: textbook differs by {diff:e}, (Delta/gap)^2 = {predicted:e}"
        );
        if g == 10.0 {
            assert!(diff > 1e3 * rel(j.j_eff, dense), "N {n}: the exact identity should beat the textbook form");
        }
    }
}

/// `J ≈ c_N ω^N/g^{N−1}`: doubling `g` divides `J` by `2^{N−1}` up to `O((ω/g)²)`, and `J` is
/// exactly homogeneous of degree 1 in `(g, ω)`.
#[test]
fn coupling_scales_as_omega_to_the_n_over_g_to_the_n_minus_one() {
    let omega: f64 = 4.0;
    for couplings in [Couplings::NearestNeighbour, Couplings::PowerLaw { p: 1.0 }] {
        for n in 2..=9 {
            let at = |g: f64, w: f64| effective::effective_coupling(&chain(n, g, w, 0.0, couplings.clone())).unwrap();
            let (j1, j2) = (at(100.0, omega), at(200.0, omega));
            let small = 2.0 * (omega / 100.0f64).powi(2);
            let ratio = j1.j_eff / j2.j_eff / 2f64.powi(n as i32 - 1);
            assert!((ratio - 1.0).abs() < small, "{couplings:?} N {n}: J(g)/J(2g)/2^(N-1) = {ratio}");
            assert!((j1.ratio_to_leading_order() - 1.0).abs() < small, "{couplings:?} N {n}: J/J_pert");
            assert!(rel(j1.c_n, j2.c_n) < 1e-13, "c_N is independent of g");
            assert!(j1.j_eff.signum() == (-1f64).powi(n as i32 - 1), "alpha = 0: sign (-1)^(N-1)");
            let scaled = at(100.0 * 0.37, omega * 0.37);
            assert!(rel(scaled.j_eff, 0.37 * j1.j_eff) < 1e-13, "{couplings:?} N {n}: homogeneity");
        }
    }
}

/// Hann-window average of `W` around `centre` (trapezoid, four samples per period of the
/// fastest frequency `spread`): suppresses a term of frequency `ν` by `~(νw)^{-3}`.
fn windowed_work(p: &mut dyn spinbat::Propagator, centre: f64, width: f64, spread: f64) -> f64 {
    let h = 2.0 * std::f64::consts::PI / (4.0 * spread);
    let m = (width / h).ceil() as usize;
    let times: Vec<f64> = (0..=m).map(|k| centre - width / 2.0 + width * k as f64 / m as f64).collect();
    let samples = p.sample(&times).unwrap();
    let weight = |t: f64| 1.0 + (2.0 * std::f64::consts::PI * (t - centre) / width).cos();
    let (num, den) = samples.iter().fold((0.0, 0.0), |(a, b), s| (a + weight(s.t) * s.work, b + weight(s.t)));
    num / den
}

/// The same Hann average of `cos(Δ(t − centre))`: `sinc(x) π²/(π² − x²)`, `x = Δw/2`.
fn hann_factor(delta: f64, width: f64) -> f64 {
    let x = delta * width / 2.0;
    let pi2 = std::f64::consts::PI.powi(2);
    x.sin() / x * pi2 / (pi2 - x * x)
}

/// Direct evolution (dense eigendecomposition of the full `H`) averaged over a window of many
/// fast periods but `≪ 1/Δ` reproduces `W_slow` at its maximum `T_w` to `≪ (ω/g)²`
/// relative, and the average is lower `10%` of `T_w` either side. For two spins the maximum
/// is the paper's `2ω²/g + 4B` at `πg/(2ω²)` to `O((ω/g)²)`.
#[test]
fn slow_oscillation_matches_direct_evolution() {
    let (g, omega): (f64, f64) = (100.0, 4.0);
    let small = (omega / g).powi(2);
    for couplings in [Couplings::NearestNeighbour, Couplings::PowerLaw { p: 1.0 }] {
        for n in 2..=4 {
            let c = chain(n, g, omega, 0.0, couplings.clone());
            let slow = effective::slow_oscillation(&c).unwrap();
            let what = format!("{couplings:?} N {n}");
            // A = 2 a_+ a_− ⟨+|H_B|−⟩ → −NB as Z → 1
            assert!(
                slow.amplitude < 0.0 && rel(slow.amplitude, -(n as f64)) < 2.0 * small,
                "{what}: A = {}",
                slow.amplitude
            );
            assert!((slow.delta_eigen - slow.delta).abs() < 1e3 * f64::EPSILON * g * n as f64);
            assert!(slow.fast_gap > 1e2 * slow.delta, "{what}: Delta not separated");
            assert!((slow.weight_even - slow.coupling.z_even).abs() < 1e-12);
            let mut p = plan(&c, Solver::Dense, 1e-10).unwrap();
            let d = Dense::new(&c).unwrap();
            let spread = d.energies().last().unwrap() - d.energies()[0];
            let width = (0.1 / slow.delta).min(100.0);
            let factor = hann_factor(slow.delta, width);
            let expected = |t: f64| slow.mean + slow.amplitude * (slow.delta * t).cos() * factor;
            let at_max = windowed_work(p.as_mut(), slow.time, width, spread);
            assert!(
                rel(at_max, expected(slow.time)) < 0.1 * small,
                "{what}: window mean {at_max} vs W_slow {} (T_w = {})",
                expected(slow.time),
                slow.time
            );
            // half way up, the slope |A| Δ is largest: a wrong Δ shows here
            let half = windowed_work(p.as_mut(), 0.5 * slow.time, width, spread);
            assert!(
                rel(half, expected(0.5 * slow.time)) < 0.1 * small,
                "{what}: at T_w/2 {half} vs {}",
                expected(0.5 * slow.time)
            );
            for side in [0.9, 1.1] {
                let off = windowed_work(p.as_mut(), side * slow.time, width, spread);
                assert!(off < at_max - 0.02 * n as f64, "{what}: mean at {side} T_w = {off} not below {at_max}");
                assert!(rel(off, expected(side * slow.time)) < 0.1 * small);
            }
            if n == 2 {
                let t_paper = std::f64::consts::PI * g / (2.0 * omega * omega);
                let (_, w_paper) = analytic::two_spin_strong_coupling(1.0, g, omega, t_paper);
                assert!(
                    rel(slow.work, w_paper) < 2.0 * small && rel(slow.time, t_paper) < 2.0 * small,
                    "{what}: vs Eq. 14"
                );
            }
        }
    }
}

#[test]
fn outside_the_strong_coupling_regime_errors_are_typed() {
    let unsupported = |c: Chain| matches!(effective::effective_coupling(&c), Err(SpinbatError::Unsupported { .. }));
    assert!(unsupported(chain(4, 1.0, 4.0, 0.0, Couplings::NearestNeighbour)), "weak coupling");
    assert!(unsupported(chain(4, 100.0, 4.0, 1.0, Couplings::NearestNeighbour)), "XXX: no gap");
    assert!(unsupported(chain(3, 0.0, 4.0, 0.0, Couplings::NearestNeighbour)), "g = 0");
    let split =
        vec![vec![0.0, 1.0, 0.0, 0.0], vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 0.0, 0.0, 1.0], vec![0.0, 0.0, 1.0, 0.0]];
    assert!(unsupported(chain(4, 100.0, 4.0, 0.0, Couplings::Matrix { m: split })), "disconnected");
    assert!(matches!(
        effective::effective_coupling(&chain(17, 100.0, 4.0, 0.0, Couplings::NearestNeighbour)),
        Err(SpinbatError::InvalidParameter { name: "n_sites", .. })
    ));
    assert!(matches!(
        effective::slow_oscillation(&chain(15, 100.0, 4.0, 0.0, Couplings::NearestNeighbour)),
        Err(SpinbatError::InvalidParameter { name: "n_sites", .. })
    ));
}
