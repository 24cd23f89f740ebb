//! Propagators against closed forms (physics.md results 1–6) and against each other.

use crate::common::{random_chain, Rng};
use spinbat::analytic;
use spinbat::propagate::{plan, Chebyshev, Dense, Propagator};
use spinbat::{Chain, Couplings, Solver};

/// Both exact solvers for a chain.
fn exact_solvers(chain: &Chain, tol: f64) -> Vec<Box<dyn Propagator>> {
    vec![plan(chain, Solver::Dense, tol).unwrap(), plan(chain, Solver::Chebyshev, tol).unwrap()]
}

fn grid(t_max: f64, n: usize) -> Vec<f64> {
    (0..=n).map(|k| t_max * k as f64 / n as f64).collect()
}

#[test]
fn one_spin_matches_closed_form() {
    for &(b, omega) in &[(1.0, 4.0), (0.7, 1.3), (2.0, 0.25)] {
        let chain = Chain::builder(1).b(b).omega(omega).build().unwrap();
        for mut p in exact_solvers(&chain, 1e-12) {
            let times = grid(10.0 / omega, 40);
            for s in p.sample(&times).unwrap() {
                let w = analytic::one_spin_work(b, omega, s.t);
                let dw = 2.0 * b * omega * (2.0 * omega * s.t).sin();
                assert!((s.work - w).abs() < 1e-11, "{}: W({}) = {} vs {w}", p.name(), s.t, s.work);
                assert!((s.rate - dw).abs() < 1e-10 * omega.max(1.0), "{}: W'({})", p.name(), s.t);
            }
        }
    }
}

#[test]
fn xxx_and_free_chains_charge_like_independent_spins() {
    let mut rng = Rng::new(11);
    for n in [2, 3, 5, 7, 9] {
        let base = random_chain(&mut rng, n);
        for chain in [base.with_alpha(1.0).unwrap(), base.to_builder().g(0.0).build().unwrap()] {
            for mut p in exact_solvers(&chain, 1e-10) {
                let times = grid(4.0 / chain.omega(), 17);
                for s in p.sample(&times).unwrap() {
                    let w = analytic::independent_work(n, chain.b(), chain.omega(), s.t);
                    assert!((s.work - w).abs() < 1e-9, "{} N={n}: {} vs {w}", p.name(), s.work);
                }
            }
        }
    }
}

#[test]
fn weak_coupling_error_shrinks_as_g_squared() {
    // Eq. 18 is first order in g: at fixed t its error is O(g^2).
    let err = |g: f64| {
        let chain = Chain::builder(5).g(g).alpha(0.3).omega(2.0).build().unwrap();
        let mut exact = Dense::new(&chain).unwrap();
        let weak = analytic::WeakCoupling::new(&chain);
        let times = grid(1.5, 15);
        exact.sample(&times).unwrap().iter().map(|s| (s.work - weak.work(s.t)).abs()).fold(0.0, f64::max)
    };
    let (e1, e2, e3) = (err(0.04), err(0.02), err(0.01));
    for (a, b) in [(e1, e2), (e2, e3)] {
        let ratio = a / b;
        assert!((3.5..4.5).contains(&ratio), "error ratio {ratio} for halving g (expected 4)");
    }
    assert!(e3 < 1e-3);
}

/// Mean of `W` over one fast period `π/g` starting at each of `starts`.
fn fast_period_means(p: &mut dyn Propagator, starts: &[f64], g: f64) -> Vec<(f64, f64)> {
    starts
        .iter()
        .map(|&t0| {
            let ts: Vec<f64> = (0..64).map(|q| t0 + std::f64::consts::PI / g * (q as f64 + 0.5) / 64.0).collect();
            let mean = p.sample(&ts).unwrap().iter().map(|s| s.work).sum::<f64>() / 64.0;
            (t0 + 0.5 * std::f64::consts::PI / g, mean)
        })
        .collect()
}

#[test]
fn two_spins_strong_coupling_follow_eqs_13_to_15() {
    // α = 0, g ≫ ω. Early times, Eq. 13: W ≈ (4ω²/g) sin²(gt) (+ the slow term, still tiny).
    // Later, Eq. 14 after averaging out the fast part: W ≈ 2ω²/g + 4B sin²(ω²t/g).
    // Deviations, relative to the amplitude they are compared with, shrink with ω/g.
    let (b, omega) = (1.0, 3.0);
    let dev = |g: f64| {
        let chain = Chain::builder(2).couplings(Couplings::NearestNeighbour).g(g).omega(omega).build().unwrap();
        let mut worst_fast = 0.0f64;
        let mut worst_slow = 0.0f64;
        for mut p in exact_solvers(&chain, 1e-10) {
            for s in p.sample(&grid(3.0 * std::f64::consts::PI / g, 60)).unwrap() {
                let (fast, slow) = analytic::two_spin_strong_coupling(b, g, omega, s.t);
                let approx = fast + slow - 2.0 * omega * omega / g;
                worst_fast = worst_fast.max((s.work - approx).abs() / (4.0 * omega * omega / g));
            }
            let period = std::f64::consts::PI * g / (omega * omega);
            for (t, mean) in fast_period_means(p.as_mut(), &grid(period, 16), g) {
                let (_, slow) = analytic::two_spin_strong_coupling(b, g, omega, t);
                worst_slow = worst_slow.max((mean - slow).abs() / (4.0 * b));
            }
        }
        (worst_fast, worst_slow)
    };
    let (f1, s1) = dev(40.0);
    let (f2, s2) = dev(160.0);
    assert!(f1 < 0.2 && s1 < 0.05, "g = 40: relative deviations fast {f1}, slow {s1}");
    assert!(f2 < 0.5 * f1 && s2 < 0.5 * s1, "deviations do not shrink with g: {f1} -> {f2}, {s1} -> {s2}");
    assert!((analytic::two_spin_effective_coupling(40.0, 3.0) - 9.0 / 40.0).abs() < 1e-15);
}

#[test]
fn three_spins_strong_coupling_slow_part() {
    // all three pairs coupled with g (p = 0), α = 0: slow work 6B sin²(3ω³t/(8g²))
    let dev = |g: f64| {
        let (b, omega) = (1.0, 1.0);
        let chain = Chain::builder(3).couplings(Couplings::PowerLaw { p: 0.0 }).g(g).omega(omega).build().unwrap();
        let j = analytic::three_spin_effective_coupling(g, omega);
        let mut p = Dense::new(&chain).unwrap();
        fast_period_means(&mut p, &grid(std::f64::consts::PI / j, 24), g)
            .iter()
            .map(|&(t, mean)| (mean - analytic::three_spin_strong_coupling_slow(b, g, omega, t)).abs())
            .fold(0.0, f64::max)
    };
    // The slow formula is the leading order in ω/g: the neglected terms (the fast part's
    // mean, 2ω²/g for two spins, and the ω²/g shifts of the virtual states) are first order,
    // so the deviation must halve when g doubles (ratio in [0.4, 0.6]: first-order
    // convergence, which a wrong effective coupling 3ω³/(8g²) would not show, its phase error
    // growing with the slow period) and stay within N ω²/g, the order of those terms.
    // Measured: 0.086, 0.040, 0.020 at g = 20, 40, 80 (ratios 0.47, 0.48).
    let gs = [20.0, 40.0, 80.0];
    let d: Vec<f64> = gs.iter().map(|&g| dev(g)).collect();
    for k in 0..2 {
        let ratio = d[k + 1] / d[k];
        assert!((0.4..=0.6).contains(&ratio), "not first-order convergence in omega/g: {d:?}");
    }
    for (&g, &dk) in gs.iter().zip(&d) {
        assert!(dk < 3.0 / g, "g = {g}: deviation {dk} above N omega^2/g = {}", 3.0 / g);
    }
}

#[test]
fn chebyshev_conserves_norm_and_charging_energy() {
    let mut rng = Rng::new(5);
    let chain = random_chain(&mut rng, 8);
    let mut cheb = Chebyshev::new(&chain, 1e-10).unwrap();
    let ops = cheb.operators().clone();
    let e_h = |psi: &[num_complex::Complex64]| {
        let mut y = vec![num_complex::Complex64::new(0.0, 0.0); psi.len()];
        ops.apply_h(psi, &mut y);
        psi.iter().zip(&y).map(|(a, b)| (a.conj() * b).re).sum::<f64>()
    };
    let (psi0, _) = cheb.state();
    let h_start = e_h(psi0);
    for t in [0.5, 3.0, 20.0] {
        cheb.sample(&[t]).unwrap();
        let (psi, now) = cheb.state();
        assert!(now >= t, "the propagator stands at {now}, before the request {t}");
        let norm: f64 = psi.iter().map(|a| a.norm_sqr()).sum();
        assert!((norm - 1.0).abs() < 1e-12, "norm {norm} at t = {now}");
        assert!((e_h(psi) - h_start).abs() < 1e-10, "<H> drifts at t = {now}");
    }
}

#[test]
fn dense_and_chebyshev_agree_on_random_chains() {
    let mut rng = Rng::new(2024);
    for trial in 0..12 {
        let n = 2 + rng.below(9); // 2..=10
        let chain = random_chain(&mut rng, n);
        let times: Vec<f64> = grid(rng.uniform(0.5, 4.0), 9);
        let d = Dense::new(&chain).unwrap().sample(&times).unwrap();
        let mut cheb = Chebyshev::new(&chain, 1e-10).unwrap();
        let c = cheb.sample(&times).unwrap();
        for (x, y) in d.iter().zip(&c) {
            assert!(
                (x.work - y.work).abs() < 1e-10,
                "trial {trial} N={n} t={}: dense {} chebyshev {} ({chain:?})",
                x.t,
                x.work,
                y.work
            );
            let scale = 1.0 + x.rate.abs();
            assert!((x.rate - y.rate).abs() < 1e-9 * scale, "trial {trial}: W' {} vs {}", x.rate, y.rate);
        }
    }
}

#[test]
fn stepping_onwards_agrees_with_dense() {
    // one call per time: after the first (real path from t = 0), each continues the
    // complex path from the previous state
    let mut rng = Rng::new(404);
    for _ in 0..4 {
        let n = 3 + rng.below(6);
        let chain = random_chain(&mut rng, n);
        let times = grid(6.0, 30);
        let exact = Dense::new(&chain).unwrap().sample(&times).unwrap();
        let mut cheb = Chebyshev::new(&chain, 1e-10).unwrap();
        for (t, e) in times.iter().zip(&exact) {
            let s = cheb.sample(&[*t]).unwrap()[0];
            assert!((s.work - e.work).abs() < 1e-10, "N={n} t={t}: {} vs {}", s.work, e.work);
            assert!((s.rate - e.rate).abs() < 1e-9 * (1.0 + e.rate.abs()));
        }
    }
}

#[test]
fn chebyshev_error_follows_tol_and_is_bounded() {
    let mut rng = Rng::new(77);
    let chain = random_chain(&mut rng, 8);
    let times = grid(5.0, 25);
    let mut dense = Dense::new(&chain).unwrap();
    let exact = dense.sample(&times).unwrap();
    // the reference itself is good to its rounding estimate (~1e-12 here)
    let slack = dense.error_bound();
    assert!(slack < 1e-11);
    let mut last_terms = 0;
    for tol in [1e-2, 1e-5, 1e-8, 1e-10] {
        let mut cheb = Chebyshev::new(&chain, tol).unwrap();
        let got = cheb.sample(&times).unwrap();
        let err = exact.iter().zip(&got).map(|(a, b)| (a.work - b.work).abs()).fold(0.0, f64::max);
        assert!(err <= tol + slack, "tol {tol}: error {err}");
        assert!(err <= cheb.error_bound() + slack, "bound {} below actual error {err}", cheb.error_bound());
        assert!(cheb.error_bound() <= tol, "reported bound {} above tol {tol}", cheb.error_bound());
        assert!(cheb.terms() >= last_terms, "a tighter tol must not use fewer terms");
        last_terms = cheb.terms();
    }
}

#[test]
fn going_back_in_time_reproduces_the_same_work() {
    let mut rng = Rng::new(3);
    let chain = random_chain(&mut rng, 6);
    let mut cheb = Chebyshev::new(&chain, 1e-11).unwrap();
    let first = cheb.sample(&[0.3, 0.9, 2.0]).unwrap();
    cheb.anchor(0.6).unwrap();
    let again = cheb.sample(&[0.9]).unwrap();
    let restart = cheb.sample(&[0.3]).unwrap();
    assert!((first[1].work - again[0].work).abs() < 1e-10);
    assert!((first[0].work - restart[0].work).abs() < 1e-10);
}

#[test]
fn chebyshev_beyond_one_kernel_block_keeps_closed_forms() {
    // N = 14: 2^14 amplitudes span several kernel blocks (high bits cross blocks)
    let mut rng = Rng::new(14);
    let base = random_chain(&mut rng, 14);
    for chain in [base.with_alpha(1.0).unwrap(), base.to_builder().g(0.0).build().unwrap()] {
        let mut cheb = Chebyshev::new(&chain, 1e-10).unwrap();
        // a batch from t = 0 (real path), then short steps onwards (complex path)
        let mut samples = cheb.sample(&grid(3.0 / chain.omega(), 7)).unwrap();
        for k in 1..=3 {
            samples.extend(cheb.sample(&[(3.0 + 0.2 * k as f64) / chain.omega()]).unwrap());
        }
        for s in samples {
            let w = analytic::independent_work(14, chain.b(), chain.omega(), s.t);
            assert!((s.work - w).abs() < 1e-9, "t = {}: {} vs {w}", s.t, s.work);
        }
    }
}

/// `W`, `W'` of one propagator against another at `times`, within `tol` on `W` (and
/// `10 tol` relative on `W'`); the reported bounds within `bound` too.
fn assert_same_curve(a: &mut dyn Propagator, b: &mut dyn Propagator, times: &[f64], tol: f64, what: &str) {
    let (x, y) = (a.sample(times).unwrap(), b.sample(times).unwrap());
    for (p, q) in x.iter().zip(&y) {
        assert!((p.work - q.work).abs() < tol, "{what} t = {}: W {} vs {}", p.t, p.work, q.work);
        let scale = 1.0 + p.rate.abs();
        assert!((p.rate - q.rate).abs() < 10.0 * tol * scale, "{what} t = {}: W' {} vs {}", p.t, p.rate, q.rate);
    }
}

#[test]
fn gram_segments_agree_with_accumulated_states_on_every_space() {
    // The default dense output (Gram products of the kept Chebyshev terms, over several
    // segments: the first real from all-down, then complex) against accumulating and
    // measuring each state, on the full space, the reflection sector and a ring's orbits;
    // alpha != 0 (the work operator applied column by column) and = 0 (a row scaling), and
    // alpha = 1.5 (H0 - E0 not proved >= 0: the products of (H0 - E0) v too).
    use spinbat::symmetry::{OrbitSpace, ReflectionSector};
    let tol = 1e-10;
    let open = |n, alpha, g| Chain::builder(n).alpha(alpha).g(g).omega(2.5).build().unwrap();
    let ring = |n, alpha| Chain::builder(n).alpha(alpha).boundary(spinbat::Boundary::Periodic).build().unwrap();
    let times: Vec<f64> = (0..=300).map(|k| 0.02 * k as f64).collect();
    for chain in [open(9, 0.4, 1.0), open(9, 0.0, 1.3), open(8, 1.5, 0.8)] {
        let mut gram = Chebyshev::new(&chain, tol).unwrap();
        assert!(gram.gram_output());
        let mut acc = Chebyshev::new(&chain, tol).unwrap().with_gram_output(false);
        assert!(!acc.gram_output());
        assert_same_curve(&mut gram, &mut acc, &times, 1e-11, &format!("full {chain:?}"));
        assert_same_curve(&mut gram, &mut Dense::new(&chain).unwrap(), &times, 1e-10, "full vs dense");
        assert!(
            gram.error_bound() <= tol,
            "bound {} (batches {}) for {chain:?}",
            gram.error_bound(),
            acc.error_bound()
        );
        assert!(gram.terms() < acc.terms(), "Gram {} terms, batches {}", gram.terms(), acc.terms());
    }
    for chain in [open(14, 0.3, 1.0), open(14, 0.0, 1.0)] {
        let space = || ReflectionSector::new(&chain).unwrap();
        let mut gram = Chebyshev::<_, f64>::with_space(space(), &chain, tol);
        let mut acc = Chebyshev::<_, f64>::with_space(space(), &chain, tol).with_gram_output(false);
        assert_same_curve(&mut gram, &mut acc, &times[..120], 1e-11, "reflection sector");
    }
    for chain in [ring(12, 0.5), ring(12, 0.0)] {
        let space = || OrbitSpace::new(&chain).unwrap();
        let mut gram = Chebyshev::<_, f64>::with_space(space(), &chain, tol);
        let mut acc = Chebyshev::<_, f64>::with_space(space(), &chain, tol).with_gram_output(false);
        assert_same_curve(&mut gram, &mut acc, &times[..120], 1e-11, "ring orbits");
    }
}

#[test]
fn short_gram_segments_where_memory_is_tight_agree_with_the_batches() {
    // where the memory holds fewer than GRAM_MIN_TERMS complex terms (N = 26 on a 24 GiB
    // machine) the segments keep what it holds, down to GRAM_FIT_TERMS: many short
    // segments, each restarted from the last one's end state, give the same curve as the
    // batches and the dense propagator, with the error bound within tol
    use spinbat::propagate::GRAM_FIT_TERMS;
    let tol = 1e-10;
    let times: Vec<f64> = (0..=200).map(|k| 0.01 * k as f64).collect();
    for chain in [
        Chain::builder(9).alpha(0.0).g(1.2).omega(3.0).build().unwrap(),
        Chain::builder(8).alpha(0.6).g(0.9).omega(2.0).build().unwrap(),
    ] {
        let mut full = Chebyshev::new(&chain, tol).unwrap();
        assert!(full.gram_output());
        full.sample(&times).unwrap();
        let mut short = Chebyshev::new(&chain, tol).unwrap().with_gram_max_terms(GRAM_FIT_TERMS);
        assert!(short.gram_output(), "{GRAM_FIT_TERMS} terms still make segments");
        let mut acc = Chebyshev::new(&chain, tol).unwrap().with_gram_output(false);
        assert_same_curve(&mut short, &mut acc, &times, 1e-11, &format!("short segments {chain:?}"));
        assert_same_curve(&mut short, &mut Dense::new(&chain).unwrap(), &times, 1e-10, "short vs dense");
        assert!(short.error_bound() <= tol, "bound {} for {chain:?}", short.error_bound());
        // several segments, none longer than the cap: more terms than the uncapped run's
        // (each segment pays its tail again)
        assert!(short.terms() > full.terms(), "capped {} terms, uncapped {}", short.terms(), full.terms());
        let off = Chebyshev::new(&chain, tol).unwrap().with_gram_max_terms(GRAM_FIT_TERMS - 1);
        assert!(!off.gram_output(), "fewer than GRAM_FIT_TERMS: batches");
    }
}

#[test]
fn gram_segments_serve_earlier_times_without_propagating() {
    // once a segment covers a time, asking for it again (the maximum search's refinement)
    // costs no terms, and gives the same W
    let mut rng = Rng::new(12);
    let chain = random_chain(&mut rng, 9);
    let mut cheb = Chebyshev::new(&chain, 1e-10).unwrap();
    let first = cheb.sample(&grid(3.0, 30)).unwrap();
    let terms = cheb.terms();
    let again = cheb.sample(&[first[3].t, first[7].t, first[20].t]).unwrap();
    assert_eq!(cheb.terms(), terms, "earlier times cost no propagation");
    for s in again {
        let f = first.iter().find(|f| f.t == s.t).unwrap();
        assert_eq!(s.work, f.work);
    }
}

#[test]
fn gram_products_equal_direct_inner_products() {
    // gram_sums against inner products taken one pair at a time, with the sector's row
    // weights, the work operator applied by work_block (alpha != 0) or as a diagonal; 40
    // columns, so a diagonal block of 4096 rows is taken in sub-blocks (1600 real rows,
    // 1216 complex: the last one shorter)
    use num_complex::Complex64;
    use spinbat::operator::gram_sums;
    use spinbat::symmetry::{ReflectionSector, Space};
    let mut rng = Rng::new(8);
    for alpha in [0.0, 0.45] {
        let chain = Chain::builder(14).alpha(alpha).g(0.9).build().unwrap();
        let space = ReflectionSector::new(&chain).unwrap();
        let (dim, k) = (space.dim(), 40);
        // states of the sector (a random vector is not: the sector's diagonal tiles hold
        // both s and its mirror, equal in every reflection-even state): random
        // combinations of H^a |all-down>
        let mut krylov = vec![vec![Complex64::new(0.0, 0.0); dim]; 8];
        krylov[0][0] = Complex64::new(1.0, 0.0);
        for a in 1..8 {
            let (done, rest) = krylov.split_at_mut(a);
            for c in 0..space.blocks() {
                let rows = space.block_rows(c);
                space.h_block(&done[a - 1], c, &mut rest[0][rows]);
            }
            let norm = rest[0].iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
            rest[0].iter_mut().for_each(|z| *z /= norm);
        }
        let mut cols = vec![Complex64::new(0.0, 0.0); dim * k];
        for a in 0..k {
            for v in &krylov {
                let c = Complex64::new(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
                for (x, y) in cols[a * dim..(a + 1) * dim].iter_mut().zip(v) {
                    *x += c * y;
                }
            }
        }
        let apply = |x: &[Complex64]| {
            let mut y = vec![Complex64::new(0.0, 0.0); dim];
            for c in 0..space.blocks() {
                let rows = space.block_rows(c);
                space.work_block(x, 1, c, &mut y[rows]);
            }
            y
        };
        let dot = |x: &[Complex64], y: &[Complex64]| -> Complex64 {
            (0..space.blocks())
                .map(|c| {
                    let w = space.block_weight(c);
                    space.block_rows(c).map(|s| x[s].conj() * y[s] * w).sum::<Complex64>()
                })
                .sum()
        };
        // the real parts of the products of w_a = (-i)^a v_a: Re(i^a (-i)^b <v_a|X|v_b>),
        // for complex columns and for real ones (their parts, kept as real storage: the
        // products of unequal parity vanish)
        let real_cols: Vec<f64> = cols.iter().map(|z| z.re).collect();
        let real_as_complex: Vec<Complex64> = real_cols.iter().map(|&x| Complex64::new(x, 0.0)).collect();
        let rot = |a: usize, b: usize| Complex64::i().powu(a as u32) * (-Complex64::i()).powu(b as u32);
        for (label, stored, sums) in [
            ("complex", &cols, gram_sums(&space, &cols, k, true)),
            ("real", &real_as_complex, gram_sums(&space, &real_cols, k, true)),
        ] {
            let col = |a: usize| &stored[a * dim..(a + 1) * dim];
            let av: Vec<Vec<Complex64>> = (0..k).map(|a| apply(col(a))).collect();
            for a in 0..k {
                assert!((sums.diag[a] - dot(col(a), col(a)).re).abs() < 1e-9 * sums.diag[a]);
                if a + 1 < k {
                    assert!((sums.sup[a] - dot(col(a), col(a + 1)).re).abs() < 1e-9 * sums.diag[a]);
                }
                for b in 0..k {
                    let g = (rot(a, b) * dot(col(a), &av[b])).re;
                    let g2 = (rot(a, b) * dot(&av[a], &av[b])).re;
                    assert!(
                        (sums.g[a * k + b] - g).abs() < 1e-9 * (1.0 + g.abs()),
                        "{label} alpha {alpha} G[{a}][{b}] = {} vs {g}",
                        sums.g[a * k + b],
                    );
                    let s2 = sums.g2.as_ref().unwrap()[a * k + b];
                    assert!((s2 - g2).abs() < 1e-9 * (1.0 + g2.abs()), "{label} alpha {alpha} G2[{a}][{b}]");
                }
            }
        }
    }
}

#[test]
fn combined_terms_equal_sums_taken_term_by_term() {
    // combine_terms (blocked faer products) against Σ_a c_a v_a summed directly, for real
    // (f64, f32) and complex terms, across block boundaries (dim not a multiple of 1024),
    // with few terms and with as many as a tap's group combines (75: 150 real columns of
    // complex terms)
    for k in [7usize, 75] {
        combined_terms_case(k);
    }
}

fn combined_terms_case(k: usize) {
    use num_complex::Complex64;
    use spinbat::operator::combine_terms;
    let mut rng = crate::common::Rng::new(5);
    let (dim, m) = (2500usize, 3usize);
    let c: Vec<Complex64> =
        (0..k * m).map(|_| Complex64::new(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0))).collect();
    let real: Vec<f64> = (0..dim * k).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let complex: Vec<Complex64> =
        (0..dim * k).map(|_| Complex64::new(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0))).collect();
    let direct = |v: &dyn Fn(usize) -> Complex64| -> Vec<Complex64> {
        let mut out = Vec::with_capacity(dim * m);
        for j in 0..m {
            for i in 0..dim {
                out.push((0..k).map(|a| c[j * k + a] * v(a * dim + i)).sum::<Complex64>());
            }
        }
        out
    };
    let check = |got: &[Complex64], want: &[Complex64], what: &str| {
        let worst = got.iter().zip(want).map(|(x, y)| (x - y).norm()).fold(0.0, f64::max);
        assert!(worst < 1e-13, "{what}: off by {worst:.1e}");
    };
    let mut out = vec![Complex64::new(0.0, 0.0); dim * m];
    combine_terms(&real, dim, k, &c, m, &mut out);
    check(&out, &direct(&|x| Complex64::new(real[x], 0.0)), "f64");
    let single: Vec<f32> = real.iter().map(|&x| x as f32).collect();
    combine_terms(&single, dim, k, &c, m, &mut out);
    check(&out, &direct(&|x| Complex64::new(single[x] as f64, 0.0)), "f32");
    combine_terms(&complex, dim, k, &c, m, &mut out);
    check(&out, &direct(&|x| complex[x]), "complex");
    // a Chebyshev series' coefficients: real for even terms, imaginary for odd ones (the
    // product skips the vanishing parts), and one term whose coefficient is zero throughout
    let series: Vec<Complex64> = (0..k * m)
        .map(|x| {
            let a = x % k;
            let v = if a == 3 { 0.0 } else { rng.uniform(-1.0, 1.0) };
            if a.is_multiple_of(2) {
                Complex64::new(v, 0.0)
            } else {
                Complex64::new(0.0, v)
            }
        })
        .collect();
    let direct_series = |v: &dyn Fn(usize) -> Complex64| -> Vec<Complex64> {
        (0..m)
            .flat_map(|j| (0..dim).map(move |i| (j, i)))
            .map(|(j, i)| (0..k).map(|a| series[j * k + a] * v(a * dim + i)).sum())
            .collect()
    };
    combine_terms(&real, dim, k, &series, m, &mut out);
    check(&out, &direct_series(&|x| Complex64::new(real[x], 0.0)), "f64, series coefficients");
    combine_terms(&complex, dim, k, &series, m, &mut out);
    check(&out, &direct_series(&|x| complex[x]), "complex, series coefficients");
    // all coefficients zero: the states are zero (the buffer held the last result)
    let zero = vec![Complex64::new(0.0, 0.0); k * m];
    combine_terms(&complex, dim, k, &zero, m, &mut out);
    assert!(out.iter().all(|z| z.norm() == 0.0), "zero coefficients give zero states");
}
