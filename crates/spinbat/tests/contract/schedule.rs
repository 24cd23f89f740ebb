//! Time-dependent charging (`model::Protocol`, `propagate::schedule`): piecewise-constant
//! fields against products of dense exponentials built here from Kronecker products (every
//! exact method and space), the closed form `W = 2BN sin²(∫ω)` of independent spins (the
//! mean field too), the certified maximal power against a fine grid, the bounds on `W` and
//! `W'` for time-dependent fields, and a drive with `A = 0` against the static charge.

use crate::common::{random_chain, Rng};
use faer::Mat;
use num_complex::Complex64 as C;
use spinbat::model::{Drive, Protocol, Schedule};
use spinbat::observe;
use spinbat::propagate::schedule::{ChebyshevSegments, Scheduled};
use spinbat::propagate::{Plan, Precision, Propagator, Request};
use spinbat::symmetry::{DickeSpace, OrbitSpace, ReflectionSector};
use spinbat::{Boundary, Chain, Couplings, Silent, Solver, SpinbatError};

/// Operator `op` (`op[new bit][old bit]`, bit 1 = up) on site `i`, identity elsewhere.
fn site(n: usize, i: usize, op: [[C; 2]; 2]) -> Mat<C> {
    let d = 1usize << n;
    Mat::from_fn(d, d, |r, c| if (r ^ c) & !(1 << i) != 0 { C::new(0.0, 0.0) } else { op[(r >> i) & 1][(c >> i) & 1] })
}

/// `(H_g, V1 = Σ X_i, H0 = B Σ Z_i + H_g)` from Pauli matrices.
pub(crate) fn dense_parts(chain: &Chain) -> (Mat<C>, Mat<C>, Mat<C>) {
    let n = chain.n_sites();
    let (o, one, i) = (C::new(0.0, 0.0), C::new(1.0, 0.0), C::new(0.0, 1.0));
    let x = [[o, one], [one, o]];
    let y = [[o, -i], [i, o]];
    let z = [[-one, o], [o, one]];
    let d = 1usize << n;
    let (mut hg, mut v, mut hb) = (Mat::<C>::zeros(d, d), Mat::<C>::zeros(d, d), Mat::<C>::zeros(d, d));
    for a in 0..n {
        hb += site(n, a, z) * faer::Scale(C::new(chain.b(), 0.0));
        v += site(n, a, x);
        for b in a + 1..n {
            let pair = site(n, a, z) * site(n, b, z)
                + (site(n, a, x) * site(n, b, x) + site(n, a, y) * site(n, b, y))
                    * faer::Scale(C::new(chain.alpha(), 0.0));
            hg -= pair * faer::Scale(C::new(chain.coupling(a, b), 0.0));
        }
    }
    let h0 = &hb + &hg;
    (hg, v, h0)
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

/// `W(t)`, `W'(t)` by the product of the segments' exponentials, `W' = 2 Im⟨H0ψ|Hψ⟩`
/// with the field of the segment holding `t` (`(t_{k−1}, t_k]`).
fn reference(chain: &Chain, s: &Schedule, times: &[f64]) -> Vec<(f64, f64)> {
    let (hg, v, h0) = dense_parts(chain);
    let d = hg.nrows();
    let mut psi0 = Mat::<C>::zeros(d, 1);
    psi0[(0, 0)] = C::new(1.0, 0.0);
    let e0 = (psi0.adjoint() * &h0 * &psi0)[(0, 0)].re;
    let h = |w: f64| &hg + &v * faer::Scale(C::new(w, 0.0));
    let evolve = |w: f64, tau: f64, psi: &Mat<C>| expm(&(h(w) * faer::Scale(C::new(0.0, -tau)))) * psi;
    times
        .iter()
        .map(|&t| {
            let k = s.segment_of(t);
            let mut psi = psi0.clone();
            for j in 0..k {
                psi = evolve(s.omegas()[j], s.ends()[j] - s.start_of(j), &psi);
            }
            psi = evolve(s.omegas()[k], t - s.start_of(k), &psi);
            let w = (psi.adjoint() * &h0 * &psi)[(0, 0)].re - e0;
            let rate = 2.0 * ((&h0 * &psi).adjoint() * (h(s.omegas()[k]) * &psi))[(0, 0)].im;
            (w, rate)
        })
        .collect()
}

fn random_schedule(rng: &mut Rng, segments: usize, t_end: f64) -> Schedule {
    let mut cuts: Vec<f64> = (0..segments - 1).map(|_| rng.uniform(0.05, 0.95) * t_end).collect();
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    cuts.push(t_end);
    let omegas = cuts.iter().map(|_| rng.uniform(0.0, 4.0)).collect();
    Schedule::new(cuts, omegas).unwrap()
}

fn plan(chain: &Chain, solver: Solver) -> Plan {
    Plan::new(chain, solver, 1e-10, Precision::Double, Request::Work).unwrap()
}

/// Output times spread over the schedule, its segment ends among them.
fn times_for(s: &Schedule) -> Vec<f64> {
    let mut ts: Vec<f64> = (0..=23).map(|j| s.end() * j as f64 / 23.0).collect();
    ts.extend_from_slice(s.ends());
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    ts
}

fn check_against(prop: &mut dyn Propagator, chain: &Chain, s: &Schedule, what: &str) {
    let ts = times_for(s);
    let want = reference(chain, s, &ts);
    let got = prop.sample(&ts).unwrap();
    for (g, (w, r)) in got.iter().zip(&want) {
        assert!((g.work - w).abs() < 1e-9, "{what}: W({}) = {} vs dense {w}", g.t, g.work);
        assert!((g.rate - r).abs() < 1e-8 * (1.0 + r.abs()), "{what}: W'({}) = {} vs dense {r}", g.t, g.rate);
    }
    // back in time: from t = 0 again, the same numbers
    let again = prop.sample(&ts[ts.len() / 3..ts.len() / 2]).unwrap();
    for (g, (w, _)) in again.iter().zip(&want[ts.len() / 3..]) {
        assert!((g.work - w).abs() < 1e-9, "{what}, resampled: W({}) = {} vs {w}", g.t, g.work);
    }
    assert!(prop.error_bound() < 1e-9, "{what}: error bound {}", prop.error_bound());
}

#[test]
fn piecewise_schedules_match_products_of_dense_exponentials() {
    let mut rng = Rng::new(170);
    for n in [2, 3, 5, 6] {
        let chain = random_chain(&mut rng, n);
        let (k, t_end) = (2 + rng.below(4), rng.uniform(0.5, 2.0));
        let s = random_schedule(&mut rng, k, t_end);
        let protocol = Protocol::Schedule(s.clone());
        for solver in [Solver::Dense, Solver::Chebyshev] {
            let mut prop = plan(&chain, solver).protocol_propagator(&chain, &protocol).unwrap();
            check_against(prop.as_mut(), &chain, &s, &format!("{solver} N = {n} {chain:?}"));
        }
    }
}

#[test]
fn schedules_in_every_sector_match_the_dense_product() {
    let mut rng = Rng::new(171);
    let s = random_schedule(&mut rng, 4, 1.3);
    // mirror symmetric: the reflection-even sector; a ring: the coupling orbits
    let open = Chain::builder(7).alpha(0.6).g(0.9).couplings(Couplings::PowerLaw { p: 1.5 }).build().unwrap();
    let mut refl = Scheduled::new(
        ChebyshevSegments::<_, f64>::new(ReflectionSector::new(&open).unwrap(), &open, 1e-10),
        s.clone(),
    );
    check_against(&mut refl, &open, &s, "reflection-even sector");
    let ring = Chain::builder(6)
        .alpha(-0.4)
        .g(1.2)
        .couplings(Couplings::NearestNeighbour)
        .boundary(Boundary::Periodic)
        .build()
        .unwrap();
    let mut orbits =
        Scheduled::new(ChebyshevSegments::<_, f64>::new(OrbitSpace::new(&ring).unwrap(), &ring, 1e-10), s.clone());
    check_against(&mut orbits, &ring, &s, "coupling orbits");
    let all = Chain::builder(5).alpha(0.3).g(0.7).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
    let mut dicke = plan(&all, Solver::Dicke).protocol_propagator(&all, &Protocol::Schedule(s.clone())).unwrap();
    check_against(dicke.as_mut(), &all, &s, "Dicke states");
    let _ = DickeSpace::new(&all).expect("p = 0 is permutation symmetric");
}

/// Independent spins (`g = 0`) turn by the angle `θ(t) = ∫_0^t ω`: `W = 2BN sin²θ`, for
/// every method, the mean field included.
#[test]
fn independent_spins_turn_by_the_integrated_field() {
    let s = Schedule::new(vec![0.3, 0.5, 0.9, 1.4], vec![1.0, 0.0, 2.5, 0.7]).unwrap();
    let theta =
        |t: f64| (0..s.len()).map(|k| s.omegas()[k] * (t.min(s.ends()[k]) - s.start_of(k)).max(0.0)).sum::<f64>();
    let chain = Chain::builder(4).g(0.0).b(1.3).build().unwrap();
    let ts = times_for(&s);
    for solver in [Solver::Dense, Solver::Chebyshev, Solver::MeanField] {
        let mut prop = plan(&chain, solver).protocol_propagator(&chain, &Protocol::Schedule(s.clone())).unwrap();
        for w in prop.sample(&ts).unwrap() {
            let want = 2.0 * 1.3 * 4.0 * theta(w.t).sin().powi(2);
            assert!((w.work - want).abs() < 1e-9, "{solver}: W({}) = {} vs {want}", w.t, w.work);
            // W' = 2BN sin 2θ · ω(t)
            let rate = 2.0 * 1.3 * 4.0 * (2.0 * theta(w.t)).sin() * s.omegas()[s.segment_of(w.t)];
            assert!((w.rate - rate).abs() < 1e-8, "{solver}: W'({}) = {} vs {rate}", w.t, w.rate);
        }
    }
}

/// The certified search stops at the schedule's end; its `P_max` beats every point of a
/// fine grid of the dense product and is attained (within the grid's `O(h²)`).
#[test]
fn certified_max_power_with_a_schedule_agrees_with_a_fine_grid() {
    let mut rng = Rng::new(172);
    for n in [3, 4] {
        let chain = random_chain(&mut rng, n);
        let s = random_schedule(&mut rng, 3, 1.2);
        let mut prop =
            plan(&chain, Solver::Chebyshev).protocol_propagator(&chain, &Protocol::Schedule(s.clone())).unwrap();
        let times = observe::uniform_times(s.end(), 11);
        let r = observe::charge(prop.as_mut(), &chain, &times, &Silent).unwrap();
        let grid: Vec<f64> = (1..=1200).map(|j| s.end() * j as f64 / 1200.0).collect();
        let best = reference(&chain, &s, &grid).iter().zip(&grid).map(|((w, _), t)| w / t).fold(f64::MIN, f64::max);
        assert!(r.max_power.power >= best - 1e-9, "N = {n}: P_max {} below the grid's {best}", r.max_power.power);
        assert!(
            r.max_power.power - best < 1e-3 * best.abs().max(1.0),
            "N = {n}: P_max {} vs grid {best}",
            r.max_power.power
        );
        assert!(r.max_power.time <= s.end() && r.certified_until <= s.end());
        let (w, _) = reference(&chain, &s, &[r.max_power.time])[0];
        assert!((w - r.max_power.work).abs() < 1e-9);
    }
}

/// `|W'(t)| ≤ |ω(t)| (2Σ|B_i| + 4|1 − α|Σ|g_ij|)` and `W(t) ≤` the bound with the schedule's
/// largest field plus its total variation, on random chains and schedules.
#[test]
fn work_and_rate_stay_within_their_time_dependent_bounds() {
    let mut rng = Rng::new(173);
    for _ in 0..12 {
        let n = 2 + rng.below(4);
        let chain = random_chain(&mut rng, n);
        let (k, t_end) = (2 + rng.below(6), rng.uniform(0.5, 3.0));
        let s = random_schedule(&mut rng, k, t_end);
        let mut prop = plan(&chain, Solver::Dense).protocol_propagator(&chain, &Protocol::Schedule(s.clone())).unwrap();
        let ts: Vec<f64> = (0..=200).map(|j| s.end() * j as f64 / 200.0).collect();
        let bound = prop.work_bound(&chain);
        for w in prop.sample(&ts).unwrap() {
            let omega = s.omegas()[s.segment_of(w.t)];
            let r = omega.abs() * chain.rate_bound_per_field();
            assert!(w.rate.abs() <= r * (1.0 + 1e-12) + 1e-12, "|W'({})| = {} > {r}", w.t, w.rate.abs());
            assert!(w.work <= bound + 1e-9, "W({}) = {} > {bound}", w.t, w.work);
        }
    }
}

#[test]
fn requests_past_the_end_are_refused_and_a_drive_without_amplitude_is_the_static_charge() {
    let chain = Chain::builder(5).alpha(0.5).g(0.8).omega(1.7).build().unwrap();
    let s = Schedule::new(vec![0.5, 1.0], vec![1.0, 2.0]).unwrap();
    let mut prop = plan(&chain, Solver::Chebyshev).protocol_propagator(&chain, &Protocol::Schedule(s)).unwrap();
    assert!(matches!(prop.sample(&[0.2, 1.5]), Err(SpinbatError::InvalidTimes { .. })));
    assert_eq!(prop.end_time(), Some(1.0));

    let times = observe::uniform_times(3.0, 31);
    for solver in [Solver::Dense, Solver::Chebyshev, Solver::MeanField] {
        let p = plan(&chain, solver);
        let drive = Protocol::Drive(Drive::new(chain.omega(), 0.0, 3.0).unwrap());
        let a =
            observe::charge(p.protocol_propagator(&chain, &drive).unwrap().as_mut(), &chain, &times, &Silent).unwrap();
        let b = observe::charge(p.propagator(&chain).unwrap().as_mut(), &chain, &times, &Silent).unwrap();
        assert_eq!(a.series, b.series, "{solver}");
        assert_eq!(a.max_power, b.max_power, "{solver}");
    }
    let noisy = Plan::with_noise(
        &chain,
        Solver::Auto,
        1e-10,
        Precision::Double,
        Request::Work,
        &spinbat::open::Noise { dephasing: 0.1, ..Default::default() },
    )
    .unwrap();
    let s = Schedule::new(vec![1.0], vec![1.0]).unwrap();
    assert!(matches!(noisy.protocol_propagator(&chain, &Protocol::Schedule(s)), Err(SpinbatError::Unsupported { .. })));
}

/// Runs of equal `ω_k` are one series: a constant schedule of 20 segments gives the numbers
/// and costs the terms of the one-segment schedule (the static charge). A request back in
/// time resumes from the kept segment end before it: the same numbers, at the cost of one
/// segment's series instead of the whole way from `t = 0`.
#[test]
fn equal_fields_share_one_series_and_requests_back_in_time_resume_at_a_segment_end() {
    use spinbat::operator::Operators;
    let chain = Chain::builder(6).alpha(0.4).g(0.9).couplings(Couplings::NearestNeighbour).build().unwrap();
    let segments = |s: Schedule| {
        Scheduled::new(ChebyshevSegments::<_, f64>::new(Operators::new(&chain).unwrap(), &chain, 1e-10), s)
    };
    let ts = observe::uniform_times(1.0, 41);
    let mut split = segments(Schedule::uniform(1.0, vec![2.0; 20]).unwrap());
    let mut whole = segments(Schedule::new(vec![1.0], vec![2.0]).unwrap());
    assert_eq!(split.joined_schedule().len(), 1);
    assert_eq!(split.sample(&ts).unwrap(), whole.sample(&ts).unwrap());
    assert_eq!(split.method().terms(), whole.method().terms());
    // through the planner a one-run schedule is the static charge itself, ended at t_K
    let by_plan = plan(&chain, Solver::Chebyshev)
        .protocol_propagator(&chain, &Protocol::Schedule(Schedule::uniform(1.0, vec![2.0; 20]).unwrap()))
        .unwrap()
        .sample(&ts)
        .unwrap();
    let single = chain.to_builder().omega(2.0).build().unwrap();
    assert_eq!(by_plan, plan(&single, Solver::Chebyshev).propagator(&single).unwrap().sample(&ts).unwrap());

    let alternating = Schedule::uniform(1.0, (0..20).map(|k| if k % 2 == 0 { 2.0 } else { 1.5 }).collect()).unwrap();
    let want = reference(&chain, &alternating, &ts);
    let mut p = segments(alternating);
    assert!(p.boundary_budget() == 20, "20 states of 64 amplitudes fit");
    let first = p.sample(&ts).unwrap();
    let cost = p.method().terms();
    // t = 0.9 and 0.925: the end of segment 18 and a time inside segment 19
    let late = [ts[36], ts[37]];
    let again = p.sample(&late).unwrap();
    assert_eq!(again[..], first[36..38]);
    for (g, (w, _)) in first.iter().zip(&want) {
        assert!((g.work - w).abs() < 1e-9, "W({}) = {} vs dense {w}", g.t, g.work);
    }
    let extra = p.method().terms() - cost;
    assert!(extra * 10 < cost, "resampling cost {extra} terms of the first pass's {cost}");
}

/// `spinbat optimize`'s engine: `W(T)` of a schedule against the dense product, the
/// adjoint gradient against central differences, on random chains and fields of both signs.
#[test]
fn control_work_and_gradients_match_dense_products_and_finite_differences() {
    use spinbat::control::Control;
    let mut rng = Rng::new(174);
    for n in [1, 3, 4, 6] {
        let chain = random_chain(&mut rng, n);
        let k = 5;
        let t = rng.uniform(0.3, 1.5);
        let omegas: Vec<f64> = (0..k).map(|_| rng.uniform(-2.5, 2.5)).collect();
        let mut control = Control::new(&chain, t, k, 1e-12).unwrap();
        let (work, grad) = control.work_and_gradient(&omegas);
        // the dense reference takes fields of any sign: ω ↦ −ω is Π Z_i, which keeps W
        let s = Schedule::uniform(t, omegas.clone()).unwrap();
        let (want, _) = reference(&chain, &s, &[t])[0];
        assert!((work - want).abs() < 1e-9, "N = {n}: W(T) = {work} vs dense {want}");
        let h = 1e-5;
        for j in 0..k {
            let mut p = omegas.clone();
            p[j] += h;
            let wp = control.work(&p);
            p[j] -= 2.0 * h;
            let wm = control.work(&p);
            let fd = (wp - wm) / (2.0 * h);
            assert!(
                (grad[j] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "N = {n}, segment {j}: adjoint {} vs fd {fd}",
                grad[j]
            );
        }
    }
}

/// One spin from `|↓⟩` under `|ω(t)| ≤ W`: `W(T) = 2B sin²(∫ω) ≤ 2B sin²(WT)` for
/// `T ≤ π/(2W)`, reached by the constant field `W` (the optimiser must find it), and
/// `2B` at `T = π/(2W)`.
#[test]
fn one_spin_optimum_is_the_constant_field_at_the_bound() {
    use spinbat::control::{optimize, ControlSpec, Objective};
    let b = 1.3;
    let chain = Chain::builder(1).b(b).build().unwrap();
    let w_max = 2.0;
    for t in [0.2, 0.5, std::f64::consts::FRAC_PI_2 / w_max] {
        let spec = ControlSpec {
            charge_time: t,
            segments: 6,
            omega_max: w_max,
            objective: Objective::Work,
            seed: 7,
            starts: 3,
            tol: 1e-10,
            max_iterations: 200,
        };
        let r = optimize(&chain, &spec, Some(-b)).unwrap();
        let bound = 2.0 * b * (w_max * t).sin().powi(2);
        assert!(r.work <= bound + 1e-9 && r.work > bound - 1e-7, "T = {t}: {} vs {bound}", r.work);
        assert!((r.constant_field.omega - w_max).abs() < 1e-6 && (r.constant_field.work - bound).abs() < 1e-9);
        assert!(r.schedule.omegas().iter().all(|w| (w.abs() - w_max).abs() < 1e-4), "{:?}", r.schedule.omegas());
        assert!(r.gradient_check.max_relative_difference < 1e-5, "{:?}", r.gradient_check);
        assert_eq!(r.ergotropy, Some(r.work), "all-down is the ground state: ergotropy = work");
    }
    // every random schedule stays below the bound
    let mut rng = Rng::new(175);
    let t = 0.6;
    let mut control = spinbat::control::Control::new(&chain, t, 8, 1e-12).unwrap();
    for _ in 0..50 {
        let omegas: Vec<f64> = (0..8).map(|_| rng.uniform(-w_max, w_max)).collect();
        assert!(control.work(&omegas) <= 2.0 * b * (w_max * t).sin().powi(2) + 1e-12);
    }
}

/// The mean field under a drive `ω + A cos(νt)`: independent spins (`g = 0`) turn by
/// `θ = ωt + (A/ν) sin(νt)`, `W = 2BN sin²θ`; the work bound falls back to the spectral one.
#[test]
fn the_mean_field_follows_a_drive_by_its_integrated_angle() {
    let chain = Chain::builder(3).g(0.0).b(0.8).omega(1.5).build().unwrap();
    let (a, nu) = (0.7, 3.0);
    let drive = Protocol::Drive(Drive::new(chain.omega(), a, nu).unwrap());
    let mut prop = plan(&chain, Solver::MeanField).protocol_propagator(&chain, &drive).unwrap();
    let ts: Vec<f64> = (0..=40).map(|j| 0.1 * j as f64).collect();
    for w in prop.sample(&ts).unwrap() {
        let theta = 1.5 * w.t + a / nu * (nu * w.t).sin();
        let want = 2.0 * 0.8 * 3.0 * theta.sin().powi(2);
        assert!((w.work - want).abs() < 1e-8, "W({}) = {} vs {want}", w.t, w.work);
    }
    assert_eq!(prop.end_time(), None);
    let r = observe::charge(prop.as_mut(), &chain, &observe::uniform_times(4.0, 9), &Silent).unwrap();
    assert!(r.max_power.power > 0.0 && r.certified_until.is_finite());
}

/// The mean field's adjoint gradient (`control::MeanFieldControl`) against central
/// differences of its own `W_C(T)`, on random chains (dense product) and a nearest-neighbour
/// chain of 40 sites (FFT product), fields of both signs.
#[test]
fn mean_field_adjoint_gradients_match_finite_differences() {
    use spinbat::control::{ControlModel, MeanFieldControl};
    let mut rng = Rng::new(176);
    let mut chains: Vec<Chain> = [3, 5, 8].iter().map(|&n| random_chain(&mut rng, n)).collect();
    chains.push(Chain::builder(40).alpha(0.3).g(0.7).couplings(Couplings::NearestNeighbour).build().unwrap());
    for chain in chains {
        let k = 5;
        let t = rng.uniform(0.3, 1.0);
        let omegas: Vec<f64> = (0..k).map(|_| rng.uniform(-2.5, 2.5)).collect();
        let mut control = MeanFieldControl::new(&chain, t, k, 1e-12).unwrap();
        let (work, grad) = control.work_and_gradient(&omegas).unwrap();
        assert!((work - control.work(&omegas).unwrap()).abs() < 1e-12);
        let h = 1e-4;
        let scale = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
        for j in 0..k {
            let mut p = omegas.clone();
            p[j] += h;
            let wp = control.work(&p).unwrap();
            p[j] -= 2.0 * h;
            let wm = control.work(&p).unwrap();
            let fd = (wp - wm) / (2.0 * h);
            assert!(
                (grad[j] - fd).abs() < 1e-6 * scale.max(1.0),
                "N = {}, segment {j}: adjoint {} vs fd {fd}",
                chain.n_sites(),
                grad[j]
            );
        }
    }
}

/// Independent spins (`g = 0`) and the mean-field XXX chain (`α = 1`: parallel spins feel
/// no torque from the couplings) turn as one spin: under `|ω| ≤ W` the optimum by
/// `T < π/(2W)` is `W = 2BN sin²(WT)`, reached by the bang at `±W` (physics.md, one spin).
#[test]
fn mean_field_optimum_of_independent_or_xxx_spins_is_the_one_spin_bound() {
    use spinbat::control::{optimize_mean_field, ControlSpec, Objective};
    let (b, w_max, t) = (1.2, 2.0, 0.35);
    for chain in [
        Chain::builder(200).b(b).g(0.0).build().unwrap(),
        Chain::builder(60).b(b).alpha(1.0).g(0.8).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap(),
    ] {
        let spec = ControlSpec {
            charge_time: t,
            segments: 6,
            omega_max: w_max,
            objective: Objective::Work,
            seed: 3,
            starts: 2,
            tol: 1e-10,
            max_iterations: 100,
        };
        let r = optimize_mean_field(&chain, &spec).unwrap();
        let n = chain.n_sites() as f64;
        let bound = 2.0 * b * n * (w_max * t).sin().powi(2);
        assert!((r.work - bound).abs() < 1e-7 * bound, "N = {n}: {} vs {bound}", r.work);
        assert!((r.constant_field.omega - w_max).abs() < 1e-6);
        let sign = r.schedule.omegas()[0].signum();
        assert!(r.schedule.omegas().iter().all(|w| (w - sign * w_max).abs() < 1e-4), "{:?}", r.schedule.omegas());
        assert!(r.gradient_check.max_relative_difference < 1e-4, "{:?}", r.gradient_check);
        assert_eq!(r.ergotropy, None);
    }
}

/// Two Ising-coupled spins (`α = 0`, `g = B = 1`) charged from all-down by `|ω(t)| ≤ 1` by
/// `T = 2`: Pontryagin's principle (physics.md, "Two Ising spins") allows bangs at `±W`
/// and singular arcs at `ω = 0` only. The best bang–singular–bang schedule
/// (`+W` on `[0, t1]`, `0` on `(t1, t2]`, `±W` after), optimised over `t1 ≤ t2` and the
/// sign by dense matrices built here, must bound the optimiser's `W(T)` from above (no
/// piecewise-constant schedule beats the optimum) and be reached to the segments'
/// resolution; the optimiser's 40 segments must show the same structure: bang, the
/// singular value `0`, bang of the opposite sign, away from the switches; its gradient
/// (the switching function) must have the sign of the field on the bangs; and the result
/// must beat the best constant field.
#[test]
fn two_ising_spins_are_charged_best_by_bang_singular_bang() {
    use spinbat::control::{optimize, Control, ControlSpec, Objective};
    let chain = Chain::builder(2).alpha(0.0).g(1.0).couplings(Couplings::NearestNeighbour).build().unwrap();
    let (w_max, t_end, k) = (1.0, 2.0, 40);
    // the bang–singular–bang family by dense products
    let bsb = |t1: f64, t2: f64, last: f64| -> f64 {
        let mut ends = Vec::new();
        let mut omegas = Vec::new();
        for (e, w) in [(t1, w_max), (t2, 0.0), (t_end, last)] {
            if e > ends.last().copied().unwrap_or(0.0) + 1e-12 {
                ends.push(e);
                omegas.push(w);
            }
        }
        let s = Schedule::new(ends, omegas).unwrap();
        reference(&chain, &s, &[t_end])[0].0
    };
    let mut best = (f64::MIN, 0.0, 0.0, 0.0);
    for last in [w_max, -w_max] {
        for i in 0..=40 {
            for j in i..=40 {
                let (t1, t2) = (t_end * i as f64 / 40.0, t_end * j as f64 / 40.0);
                let w = bsb(t1, t2, last);
                if w > best.0 {
                    best = (w, t1, t2, last);
                }
            }
        }
    }
    // pattern search on (t1, t2) to 1e-6
    let (mut wb, mut t1, mut t2, last) = best;
    let mut h = t_end / 40.0;
    while h > 1e-6 {
        let mut moved = false;
        for (d1, d2) in [(h, 0.0), (-h, 0.0), (0.0, h), (0.0, -h), (h, h), (-h, -h)] {
            let (a, b) = (t1 + d1, t2 + d2);
            if 0.0 <= a && a <= b && b <= t_end {
                let w = bsb(a, b, last);
                if w > wb + 1e-14 {
                    (wb, t1, t2, moved) = (w, a, b, true);
                }
            }
        }
        if !moved {
            h *= 0.5;
        }
    }
    // a genuine singular arc, and a final bang opposite to the first
    assert!((bsb(t_end - t2, t_end - t1, last) - wb).abs() < 1e-12, "the mirror pair");
    assert!(t2 - t1 > 0.2 && t1 > 0.2 && t_end - t2 > 0.2 && last < 0.0, "t1 {t1}, t2 {t2}, last {last}");

    let spec = ControlSpec {
        charge_time: t_end,
        segments: k,
        omega_max: w_max,
        objective: Objective::Work,
        seed: 5,
        starts: 3,
        tol: 1e-12,
        max_iterations: 300,
    };
    let r = optimize(&chain, &spec, None).unwrap();
    assert!(r.work <= wb + 1e-9, "the optimiser {} beats the optimum {wb}", r.work);
    assert!(r.work > wb - 1e-3, "the optimiser {} short of the optimum {wb}", r.work);
    assert!(r.work > 1.1 * r.constant_field.work, "{} vs constant {:?}", r.work, r.constant_field);
    let tau = t_end / k as f64;
    let sign = r.schedule.omegas()[0].signum();
    // W(T) of a schedule equals that of the schedule run backwards (checked just below on
    // a random one): the optimum comes as a mirror pair (t1, t2), (T − t2, T − t1); take
    // the one whose first bang matches the optimiser's
    let mut rng = Rng::new(177);
    let forward: Vec<f64> = (0..5).map(|_| rng.uniform(-w_max, w_max)).collect();
    let backward: Vec<f64> = forward.iter().rev().copied().collect();
    let at_end = |w: Vec<f64>| reference(&chain, &Schedule::uniform(t_end, w).unwrap(), &[t_end])[0].0;
    assert!((at_end(forward) - at_end(backward)).abs() < 1e-12, "time reversal");
    let first = r.schedule.omegas().iter().take_while(|&&w| (w * sign - w_max).abs() < 1e-6).count() as f64 * tau;
    let (t1, t2) = if (first - t1).abs() <= (first - (t_end - t2)).abs() { (t1, t2) } else { (t_end - t2, t_end - t1) };
    let mut control = Control::new(&chain, t_end, k, 1e-12).unwrap();
    let (_, grad) = control.work_and_gradient(r.schedule.omegas());
    for (j, &w) in r.schedule.omegas().iter().enumerate() {
        let mid = (j as f64 + 0.5) * tau;
        let w = w * sign;
        if mid < t1 - 1.5 * tau {
            assert!((w - w_max).abs() < 1e-6, "segment {j} at {mid}: first bang, got {w}");
            assert!(grad[j] * sign > 0.0, "segment {j}: switching function {}", grad[j]);
        } else if mid > t1 + 3.5 * tau && mid < t2 - 3.5 * tau {
            assert!(w.abs() < 0.05 * w_max, "segment {j} at {mid}: singular arc at 0, got {w}");
        } else if mid > t2 + 1.5 * tau {
            assert!((w + w_max).abs() < 1e-6, "segment {j} at {mid}: last bang, got {w}");
            assert!(grad[j] * sign < 0.0, "segment {j}: switching function {}", grad[j]);
        }
    }
}
