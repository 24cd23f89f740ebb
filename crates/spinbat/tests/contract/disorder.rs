//! Per-site storage fields and disorder ensembles: the operators against a dense `H0`
//! built here from Pauli matrices, the solvers against each other and against the closed
//! forms of independent spins and XXX, the symmetry sectors with and without mirror
//! symmetric fields, and the ensemble's statistics against a recomputation from the
//! realisations.

use crate::common::{random_chain, Rng};
use num_complex::Complex64 as C;
use spinbat::analytic::one_spin_max_power;
use spinbat::meanfield::MeanField;
use spinbat::model::Disorder;
use spinbat::observe::disorder::{charge_disorder, DisorderCharging};
use spinbat::observe::{charge, uniform_times};
use spinbat::open::Noise;
use spinbat::operator::Operators;
use spinbat::propagate::{space_for, Chebyshev, Dense, DensityMatrix, Precision, Propagator, SpaceKind};
use spinbat::symmetry::{ReflectionSector, Symmetries};
use spinbat::{Boundary, Chain, Couplings, Silent, Solver};

/// `chain` with random fields `B_i` in `[0.3, 2)`.
fn with_random_fields(rng: &mut Rng, chain: &Chain) -> Chain {
    let fields = (0..chain.n_sites()).map(|_| rng.uniform(0.3, 2.0)).collect();
    chain.to_builder().site_fields(fields).build().unwrap()
}

/// A Pauli matrix on one site of a basis state `s` (bit set = up, `Z|↑⟩ = |↑⟩`): the
/// coefficient and the state it maps `s` to.
fn pauli(p: char, site: usize, s: usize) -> (C, usize) {
    let up = (s >> site) & 1 == 1;
    let flipped = s ^ (1 << site);
    match p {
        'X' => (C::new(1.0, 0.0), flipped),
        // Y|↑⟩ = i|↓⟩, Y|↓⟩ = −i|↑⟩
        'Y' => (if up { C::new(0.0, 1.0) } else { C::new(0.0, -1.0) }, flipped),
        _ => (C::new(if up { 1.0 } else { -1.0 }, 0.0), s),
    }
}

/// `H0` (`charging = false`) or `H = H_g + ω Σ X_i` as a dense complex matrix, row-major,
/// from products of Pauli matrices: `Σ_i B_i Z_i − Σ_{i<j} g_ij [Z_iZ_j + α(X_iX_j + Y_iY_j)]`.
fn dense(chain: &Chain, charging: bool) -> Vec<C> {
    let n = chain.n_sites();
    let d = 1usize << n;
    let mut m = vec![C::new(0.0, 0.0); d * d];
    for s in 0..d {
        let mut add = |row: usize, v: C| m[row * d + s] += v;
        for i in 0..n {
            if charging {
                let (c, r) = pauli('X', i, s);
                add(r, c * chain.omega());
            } else {
                let (c, r) = pauli('Z', i, s);
                add(r, c * chain.field(i));
            }
            for j in i + 1..n {
                let g = chain.coupling(i, j);
                for (p, w) in [('Z', 1.0), ('X', chain.alpha()), ('Y', chain.alpha())] {
                    let (c1, r1) = pauli(p, j, s);
                    let (c2, r2) = pauli(p, i, r1);
                    add(r2, -g * w * c1 * c2);
                }
            }
        }
    }
    m
}

fn mat_vec(m: &[C], x: &[C]) -> Vec<C> {
    let d = x.len();
    (0..d).map(|r| (0..d).map(|c| m[r * d + c] * x[c]).sum()).collect()
}

fn dot(a: &[C], b: &[C]) -> C {
    a.iter().zip(b).map(|(x, y)| x.conj() * y).sum()
}

#[test]
fn operators_with_site_fields_equal_a_dense_h0_built_from_pauli_matrices() {
    let mut rng = Rng::new(1501);
    for n in 1..=6 {
        for _ in 0..3 {
            let base = random_chain(&mut rng, n);
            let chain = with_random_fields(&mut rng, &base);
            let ops = Operators::new(&chain).unwrap();
            let (h0, h) = (dense(&chain, false), dense(&chain, true));
            let d = 1usize << n;
            // E_0 = ⟨↓…↓|H0|↓…↓⟩ = −Σ B_i − G
            assert!((h0[0].re - chain.initial_energy()).abs() < 1e-12, "N = {n}: E0");
            let x: Vec<C> = (0..d).map(|_| C::new(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0))).collect();
            let mut y = vec![C::new(0.0, 0.0); d];
            ops.apply_h0(&x, &mut y);
            let want = mat_vec(&h0, &x);
            let err = y.iter().zip(&want).map(|(a, b)| (a - b).norm()).fold(0.0, f64::max);
            assert!(err < 1e-12, "N = {n}: H0 x off by {err}");
            // W = ⟨x|H0 − E_0|x⟩/⟨x|x⟩ and W' = i⟨x|[H, H0]|x⟩/⟨x|x⟩ from the dense matrices
            let norm = dot(&x, &x).re;
            let work = dot(&x, &want).re / norm - h0[0].re;
            let (hh0, h0h) = (mat_vec(&h, &want), mat_vec(&h0, &mat_vec(&h, &x)));
            let comm: Vec<C> = hh0.iter().zip(&h0h).map(|(a, b)| a - b).collect();
            let rate = (C::new(0.0, 1.0) * dot(&x, &comm)).re / norm;
            let m = ops.work_and_rate(&x);
            let scale = 1.0 + work.abs() + rate.abs();
            assert!((m.unit_work() - work).abs() < 1e-11 * scale, "N = {n}: W {} vs {work}", m.unit_work());
            assert!(
                (m.unit_rate() - rate).abs() < 1e-11 * scale,
                "N = {n}, alpha = {}: W' {} vs {rate}",
                chain.alpha(),
                m.unit_rate()
            );
        }
    }
}

#[test]
fn chebyshev_dense_and_the_density_matrix_agree_with_random_fields() {
    let mut rng = Rng::new(1502);
    for n in 2..=7 {
        let base = random_chain(&mut rng, n);
        let chain = with_random_fields(&mut rng, &base);
        let times = uniform_times(2.5 / chain.omega(), 21);
        let mut dense = Dense::new(&chain).unwrap();
        let mut cheb = Chebyshev::new(&chain, 1e-12).unwrap();
        // the density matrix's rate is Tr((H0 − E_0) 𝓛ρ): no commutator formula involved
        let mut rho = DensityMatrix::new(&chain, &Noise::default(), 1e-11).unwrap();
        let want = dense.sample(&times).unwrap();
        for other in [cheb.sample(&times).unwrap(), rho.sample(&times).unwrap()] {
            for (a, b) in other.iter().zip(&want) {
                let scale = 1.0 + b.work.abs() + b.rate.abs();
                assert!((a.work - b.work).abs() < 1e-9 * scale, "N = {n}, t = {}: W {} vs {}", a.t, a.work, b.work);
                assert!((a.rate - b.rate).abs() < 1e-8 * scale, "N = {n}, t = {}: W' {} vs {}", a.t, a.rate, b.rate);
            }
        }
        let a = charge(&mut Dense::new(&chain).unwrap(), &chain, &times, &Silent).unwrap();
        let b = charge(&mut Chebyshev::new(&chain, 1e-12).unwrap(), &chain, &times, &Silent).unwrap();
        assert!((a.max_power.power - b.max_power.power).abs() < 1e-9 * a.max_power.power, "N = {n}: P_max");
    }
}

#[test]
fn independent_spins_with_random_fields_charge_as_two_b_i_sin_squared() {
    // g = 0: each spin rotates alone (the field is off while charging), W = 2 Σ_i B_i sin²(ωt)
    let mut rng = Rng::new(1503);
    for n in [1usize, 3, 6, 9] {
        let clean = Chain::builder(n).g(0.0).omega(rng.uniform(1.0, 5.0)).build().unwrap();
        let chain = with_random_fields(&mut rng, &clean);
        let sum_b = chain.field_sum();
        let w = chain.omega();
        let times = uniform_times(3.0 / w, 31);
        let props: Vec<(&str, Box<dyn Propagator>)> = vec![
            ("dense", Box::new(Dense::new(&chain).unwrap())),
            ("chebyshev", Box::new(Chebyshev::new(&chain, 1e-12).unwrap())),
            ("mean field", Box::new(MeanField::new(&chain, 1e-11).unwrap())),
        ];
        for (name, mut p) in props {
            for s in p.sample(&times).unwrap() {
                let (sin, cos) = (w * s.t).sin_cos();
                let (work, rate) = (2.0 * sum_b * sin * sin, 4.0 * sum_b * w * sin * cos);
                assert!((s.work - work).abs() < 1e-9 * (1.0 + work), "{name} N = {n}: W({}) {} vs {work}", s.t, s.work);
                assert!((s.rate - rate).abs() < 1e-8 * (1.0 + rate.abs()), "{name} N = {n}: W'({})", s.t);
            }
            let r = charge(p.as_mut(), &chain, &times, &Silent).unwrap();
            let (p1, t1) = one_spin_max_power(sum_b, w);
            assert!((r.max_power.power - p1).abs() < 1e-9 * p1, "{name} N = {n}: P_max {} vs {p1}", r.max_power.power);
            assert!((r.max_power.time - t1).abs() < 1e-6 * t1, "{name} N = {n}: T*");
            assert!((r.power_ratio - 1.0).abs() < 1e-9, "{name} N = {n}: independent spins are the reference");
        }
    }
}

#[test]
fn mirror_symmetric_fields_keep_the_reflection_sector_and_random_ones_do_not() {
    let mut rng = Rng::new(1504);
    for n in [5usize, 8, 14, 15] {
        let clean = Chain::builder(n).g(0.8).omega(3.0).build().unwrap();
        let half: Vec<f64> = (0..n.div_ceil(2)).map(|_| rng.uniform(0.5, 1.5)).collect();
        let mirrored: Vec<f64> = (0..n).map(|i| half[i.min(n - 1 - i)]).collect();
        let sym = clean.to_builder().site_fields(mirrored).build().unwrap();
        let random = with_random_fields(&mut rng, &clean);
        assert!(Symmetries::of(&sym).reflection && ReflectionSector::applies(&sym), "N = {n}");
        assert!(!Symmetries::of(&random).reflection && !ReflectionSector::applies(&random), "N = {n}");
        if n >= 14 {
            assert_eq!(space_for(&sym), SpaceKind::ReflectionEven, "N = {n}");
            assert_eq!(space_for(&random), SpaceKind::Full, "N = {n}");
        }
        // the sector reproduces the full space (work, rate, certified maximum)
        let times = uniform_times(2.0 / sym.omega(), 11);
        let mut full = Chebyshev::new(&sym, 1e-12).unwrap();
        let mut sector = Chebyshev::in_reflection_sector(&sym, 1e-12).unwrap();
        for (a, b) in full.sample(&times).unwrap().iter().zip(&sector.sample(&times).unwrap()) {
            let scale = 1.0 + a.work.abs() + a.rate.abs();
            assert!((a.work - b.work).abs() < 1e-10 * scale, "N = {n}: W({})", a.t);
            assert!((a.rate - b.rate).abs() < 1e-9 * scale, "N = {n}: W'({})", a.t);
        }
        let a = charge(&mut Chebyshev::new(&sym, 1e-12).unwrap(), &sym, &times, &Silent).unwrap();
        let b = charge(&mut Chebyshev::in_reflection_sector(&sym, 1e-12).unwrap(), &sym, &times, &Silent).unwrap();
        assert!((a.max_power.power - b.max_power.power).abs() < 1e-10 * a.max_power.power, "N = {n}: P_max");
        // random fields: the sector refuses, the full space still agrees with dense below N = 10
        assert!(Chebyshev::in_reflection_sector(&random, 1e-12).is_err());
    }
    // flip-flops with mirror-symmetric per-site fields: the sector measures the rate's extra
    // part i<[H_g, H_B]> itself (Space::field_flip_rate) and reproduces the full space
    let xxz = Chain::builder(6).alpha(0.5).site_fields(vec![1.0, 1.2, 0.7, 0.7, 1.2, 1.0]).build().unwrap();
    assert!(Symmetries::of(&xxz).reflection && ReflectionSector::applies(&xxz));
    let times = uniform_times(2.0 / xxz.omega(), 11);
    let full = Chebyshev::new(&xxz, 1e-12).unwrap().sample(&times).unwrap();
    let sector = Chebyshev::in_reflection_sector(&xxz, 1e-12).unwrap().sample(&times).unwrap();
    for (a, b) in full.iter().zip(&sector) {
        let scale = 1.0 + a.work.abs() + a.rate.abs();
        assert!((a.work - b.work).abs() < 1e-10 * scale && (a.rate - b.rate).abs() < 1e-9 * scale, "XXZ: t = {}", a.t);
    }
    // a ring keeps its translations only with one field; all-to-all keeps the Dicke states only so
    let mut ring =
        Chain::builder(12).couplings(Couplings::NearestNeighbour).boundary(Boundary::Periodic).build().unwrap();
    assert!(Symmetries::of(&ring).translation);
    ring = with_random_fields(&mut rng, &ring);
    assert!(!Symmetries::of(&ring).translation);
    assert_eq!(space_for(&ring), SpaceKind::Full);
    let all =
        with_random_fields(&mut rng, &Chain::builder(6).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap());
    assert!(!Symmetries::of(&all).permutation);
    assert_eq!(spinbat::propagate::resolve(&all, Solver::Auto), Solver::Dense);
    assert!(spinbat::propagate::dicke::Dicke::new(&all, 1e-10).is_err());
}

fn ensemble(chain: &Chain, d: &Disorder, times: &[f64]) -> DisorderCharging {
    charge_disorder(chain, d, Solver::Auto, 1e-10, Precision::Double, &Noise::default(), times, &Silent).unwrap()
}

#[test]
fn no_disorder_reproduces_the_clean_chain_exactly() {
    let chain = Chain::builder(6).alpha(0.3).g(1.2).build().unwrap();
    let times = uniform_times(1.5, 16);
    let clean = charge(&mut Dense::new(&chain).unwrap(), &chain, &times, &Silent).unwrap();
    let d = Disorder { disorder_g: 0.0, disorder_field: 0.0, realisations: 4, seed: 3 };
    let e = ensemble(&chain, &d, &times);
    for (k, p) in clean.series.iter().enumerate() {
        assert_eq!(e.charging.series[k].work, p.work, "t = {}", p.t);
        assert_eq!(e.work_stderr[k], 0.0);
    }
    assert_eq!(e.summary.max_power.mean, clean.max_power.power);
    assert_eq!(e.summary.t_star.mean, clean.max_power.time);
    assert_eq!(e.summary.max_power.stderr, 0.0);
    assert_eq!(e.summary.max_work.mean, clean.max_work.work);
}

#[test]
fn the_same_seed_gives_the_same_ensemble_on_any_number_of_threads() {
    let chain = Chain::builder(7).alpha(0.4).build().unwrap();
    let times = uniform_times(1.0, 11);
    let d = Disorder { disorder_g: 0.5, disorder_field: 0.3, realisations: 5, seed: 42 };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| ensemble(&chain, &d, &times))
    };
    let (a, b) = (run(1), run(3));
    assert_eq!(a.curves, b.curves);
    assert_eq!(a.work_stderr, b.work_stderr);
    assert_eq!(a.summary.realisations, b.summary.realisations);
    assert_eq!(a.summary.max_power, b.summary.max_power);
    assert_eq!(a.summary.quantiles, b.summary.quantiles);
    // another seed, other chains
    let c = charge_disorder(
        &chain,
        &Disorder { seed: 43, ..d },
        Solver::Auto,
        1e-10,
        Precision::Double,
        &Noise::default(),
        &times,
        &Silent,
    )
    .unwrap();
    assert_ne!(a.curves, c.curves);
}

#[test]
fn ensemble_statistics_equal_a_recomputation_from_the_realisations() {
    let chain = Chain::builder(6).alpha(0.2).g(0.9).build().unwrap();
    let times = uniform_times(1.2, 13);
    let d = Disorder { disorder_g: 0.6, disorder_field: 0.4, realisations: 7, seed: 5 };
    let e = ensemble(&chain, &d, &times);
    let r = d.realisations;
    let mut curves = Vec::new();
    let mut p_max = Vec::new();
    for k in 0..r {
        let realised = d.realise(&chain, k).unwrap();
        // Chebyshev here against the ensemble's dense runs: independent solvers
        let c = charge(&mut Chebyshev::new(&realised, 1e-12).unwrap(), &realised, &times, &Silent).unwrap();
        let got = &e.summary.realisations[k];
        assert_eq!(got.seed_index, k);
        assert!((got.p_max - c.max_power.power).abs() < 1e-9 * c.max_power.power, "realisation {k}: P_max");
        assert!((got.t_star - c.max_power.time).abs() < 1e-7 * c.max_power.time, "realisation {k}: T*");
        assert!((got.max_work - c.max_work.work).abs() < 1e-9 * (1.0 + c.max_work.work), "realisation {k}");
        curves.push(c.series.iter().map(|p| p.work).collect::<Vec<_>>());
        p_max.push(c.max_power.power);
    }
    // mean and standard error by Welford's update, another summation
    let stats = |x: &[f64]| {
        let (mut mean, mut m2) = (0.0, 0.0);
        for (i, v) in x.iter().enumerate() {
            let delta = v - mean;
            mean += delta / (i + 1) as f64;
            m2 += delta * (v - mean);
        }
        (mean, (m2 / ((x.len() - 1) * x.len()) as f64).sqrt())
    };
    for (k, &t) in times.iter().enumerate() {
        let (mean, se) = stats(&curves.iter().map(|c| c[k]).collect::<Vec<_>>());
        assert!((e.charging.series[k].work - mean).abs() < 1e-9 * (1.0 + mean), "t = {t}: mean");
        assert!((e.work_stderr[k] - se).abs() < 1e-8 * (1.0 + se), "t = {t}: stderr {} vs {se}", e.work_stderr[k]);
        assert!(t == 0.0 || se > 0.0, "disorder spreads the curves");
    }
    let (mean, se) = stats(&p_max);
    assert!((e.summary.max_power.mean - mean).abs() < 1e-9 * mean);
    assert!((e.summary.max_power.stderr - se).abs() < 1e-7 * se);
    assert_eq!(e.charging.max_power.power, e.summary.max_power.mean);
    let mut sorted = p_max.clone();
    sorted.sort_by(f64::total_cmp);
    assert!((e.summary.quantiles.p_max.median - sorted[3]).abs() < 1e-9 * sorted[3]);
    assert!((e.summary.quantiles.p_max.min - sorted[0]).abs() < 1e-9 * sorted[0]);
}

#[test]
fn xxx_ensembles_charge_as_two_sum_b_i_sin_squared_whatever_the_couplings() {
    // α = 1: V commutes with H_g and all-down is an eigenstate of H_g, so every realisation
    // charges as independent spins with its own fields, W_r = 2 Σ_i B_i^r sin²(ωt)
    let chain = Chain::builder(5).alpha(1.0).g(1.5).build().unwrap();
    let w = chain.omega();
    let times = uniform_times(2.0 / w, 9);
    let d = Disorder { disorder_g: 0.5, disorder_field: 0.5, realisations: 6, seed: 9 };
    let e = ensemble(&chain, &d, &times);
    for (k, curve) in e.curves.iter().enumerate() {
        let sum_b = d.realise(&chain, k).unwrap().field_sum();
        for (&t, &work) in times.iter().zip(curve) {
            let want = 2.0 * sum_b * (w * t).sin().powi(2);
            assert!((work - want).abs() < 1e-9 * (1.0 + want), "realisation {k}, t = {t}: {work} vs {want}");
        }
        let (p1, t1) = one_spin_max_power(sum_b, w);
        let got = e.summary.realisations[k];
        assert!((got.p_max - p1).abs() < 1e-9 * p1 && (got.t_star - t1).abs() < 1e-6 * t1, "realisation {k}");
    }
}

#[test]
fn bad_disorder_and_unsupported_combinations_are_refused() {
    let chain = Chain::builder(4).build().unwrap();
    let times = uniform_times(1.0, 5);
    let ok = Disorder { disorder_g: 0.1, disorder_field: 0.1, realisations: 3, seed: 0 };
    let run = |d: &Disorder, solver: Solver, noise: Noise| {
        charge_disorder(&chain, d, solver, 1e-10, Precision::Double, &noise, &times, &Silent)
    };
    for bad in [
        Disorder { disorder_g: 1.0, ..ok },
        Disorder { disorder_field: -0.2, ..ok },
        Disorder { disorder_g: f64::NAN, ..ok },
        Disorder { realisations: 1, ..ok },
    ] {
        assert!(matches!(
            run(&bad, Solver::Auto, Noise::default()),
            Err(spinbat::SpinbatError::InvalidParameter { .. })
        ));
    }
    assert!(run(&ok, Solver::Dicke, Noise::default()).is_err());
    assert!(run(&ok, Solver::Trajectories, Noise { dephasing: 0.1, ..Noise::default() }).is_err());
    let thermal = Noise { decay: 0.1, temperature: Some(1.0), ..Noise::default() };
    assert!(run(&ok, Solver::Auto, thermal).is_err());
    // field disorder alone with dephasing: each realisation a density-matrix run
    let e = run(&ok, Solver::Auto, Noise { dephasing: 0.05, ..Noise::default() }).unwrap();
    assert_eq!(e.charging.solver, "density-matrix");
    // per-site fields: not in the builder's range
    assert!(Chain::builder(3).site_fields(vec![1.0, 0.0, 1.0]).build().is_err());
    assert!(Chain::builder(3).site_fields(vec![1.0, 1.0]).build().is_err());
    let fields = Chain::builder(3).site_fields(vec![1.0, 0.5, 1.0]).build().unwrap();
    assert!(spinbat::observe::ergotropy::ErgotropyContext::new(&fields).is_err());
}

#[test]
fn field_disorder_moves_the_work_by_the_clean_chains_populations_only() {
    // the field is off while charging: ψ(t) does not see the B_i, so each realisation's work
    // is the clean one plus Σ_i (B_i − B)(⟨Z_i⟩_t + 1), with ⟨Z_i⟩ of the clean chain's state
    use spinbat::observe::trajectory::{trajectory, ObservableSet};
    let chain = Chain::builder(6).alpha(0.0).g(1.3).b(0.8).build().unwrap();
    let times = uniform_times(1.0, 11);
    let d = Disorder { disorder_g: 0.0, disorder_field: 0.5, realisations: 5, seed: 21 };
    let e = ensemble(&chain, &d, &times);
    let set: ObservableSet = "bloch".parse().unwrap();
    let clean = trajectory(&chain, Solver::Dense, &times, &set, 1e-12, &Silent).unwrap();
    for (r, curve) in e.curves.iter().enumerate() {
        let realised = d.realise(&chain, r).unwrap();
        for (k, p) in clean.points.iter().enumerate() {
            let shift: f64 = p
                .bloch
                .as_ref()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, b)| (realised.field(i) - chain.b()) * (b[2] + 1.0))
                .sum();
            let want = p.work + shift;
            assert!(
                (curve[k] - want).abs() < 1e-9 * (1.0 + want),
                "realisation {r}, t = {}: {} vs {want}",
                p.t,
                curve[k]
            );
        }
    }
}
