//! Second outside oracle: random chains N = 5..18 from QuTiP (N ≤ 12) and QuSpin (N ≥ 14).
//!
//! `tests/data/large_reference.json` (+ `oracle_matrix_n*.txt`) is written by
//! `scripts/reference/make_large_reference.py`, which builds `H0` and `H` from the Pauli
//! strings of physics.md without any spinbat code (QuTiP tensors, QuSpin's own basis and
//! operator strings with `pauli=1`) and cross-checks every value against a third
//! construction (scipy sparse matrices from bit-string actions, `expm_multiply`). Coverage:
//! nearest neighbour, power law p ∈ {0.5, 1, 1.5, 2, 3}, open and periodic (minimum image),
//! two explicit coupling-matrix files, α ∈ [−1.5, 1.5], times up to 10/ω, and the certified
//! `P_max`, `T*` for seven chains with N ≤ 12.
//!
//! **Tolerances (derived).** For a sample at time `t`:
//! `|W_spinbat − W_ref| ≤ |W_spinbat − W| + |W − W_ref| ≤ ε_solver + ε_ref`, with
//! * `ε_solver = prop.error_bound()`: rigorous for Chebyshev (series tails, plus its
//!   rounding estimate `4u` per term, which in single precision dominates), a rounding
//!   estimate `2‖H0‖u(2^N + ‖H‖t)` for dense;
//! * `ε_ref = D + ρ`: `D` the oracle's stated accuracy, the largest disagreement of its two
//!   independent computations for that case (`max_abs_diff_work`), and `ρ = 2‖H0‖u(‖H‖t + 2^{N/2})`
//!   the rounding of the cross-check itself (a unitary propagation of length `‖H‖t` and a
//!   `2^N`-term sum, pairwise: `√(2^N)` relative growth), so that the sum bounds its error.
//!
//! A state error `δ` moves `W` by `≤ 2‖H0‖δ` and `W' = 2 Im⟨H0ψ|Hψ⟩` by `≤ 4‖H0‖‖H‖δ`, so
//! the rate gets `2‖H‖ ε_solver + D' + 2‖H‖ρ` (`D'` = `max_abs_diff_rate`). The norms are the
//! triangle-inequality bounds `‖H0‖ ≤ N|B| + Σ|g_ij|(1 + 2|α|)` and
//! `‖H‖ ≤ N|ω| + Σ|g_ij|(1 + 2|α|)`, computed here from the couplings as read from the JSON.
//!
//! The N = 18 chain runs in the full space and in the reflection sector at 8 times up to
//! 10/ω (a few seconds in release).

use super::common::{OracleCase as Case, OracleFile};
use serde_json::Value;
use spinbat::observe;
use spinbat::propagate::{plan, plan_with, uses_reflection_sector, Chebyshev, Precision};
use spinbat::symmetry::ReflectionSector;
use spinbat::{Boundary, Chain, Couplings, Propagator, Silent, Solver};

const DATA: &str = include_str!("../data/large_reference.json");
const MATRIX_N7: &str = include_str!("../data/oracle_matrix_n7.txt");
const MATRIX_N14: &str = include_str!("../data/oracle_matrix_n14.txt");

/// Target tolerance passed to the Chebyshev solver (its `error_bound()` is what is used).
const TOL: f64 = 1e-10;
/// Unit roundoff of `f64`.
const U: f64 = f64::EPSILON / 2.0;
/// spinbat's Brent tolerance on `T*`, relative (`observe::REFINE_XTOL`, private).
const REFINE_XTOL: f64 = 1e-13;

const ORACLE: OracleFile = OracleFile {
    name: "large_reference.json",
    text: DATA,
    diff_keys: ("max_abs_diff_work", "max_abs_diff_rate"),
    matrices: &[("oracle_matrix_n7.txt", MATRIX_N7), ("oracle_matrix_n14.txt", MATRIX_N14)],
};

fn document() -> Value {
    ORACLE.document()
}

fn cases() -> Vec<Case> {
    ORACLE.cases()
}

/// The code that computed the case (`qutip` or `quspin`).
fn primary(c: &Case) -> &str {
    c.primary.as_deref().unwrap_or("?")
}

fn describe(c: &Case) -> String {
    let ch = &c.chain;
    format!(
        "{:?} [{}] (N={}, B={}, g={}, alpha={}, omega={}, {:?})",
        c.label,
        primary(c),
        ch.n_sites(),
        ch.b(),
        ch.g(),
        ch.alpha(),
        ch.omega(),
        ch.boundary()
    )
}

/// `Σ_{i<j} |g_ij| (1 + 2|α|)`: the norm bound of `H_g` (`‖Z Z‖ = 1`, `‖XX + YY‖ = 2`).
fn h_g_norm(ch: &Chain) -> f64 {
    let n = ch.n_sites();
    let sum: f64 = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).map(|(i, j)| ch.coupling(i, j).abs()).sum();
    sum * (1.0 + 2.0 * ch.alpha().abs())
}

fn h0_norm(ch: &Chain) -> f64 {
    ch.n_sites() as f64 * ch.b().abs() + h_g_norm(ch)
}

fn h_norm(ch: &Chain) -> f64 {
    ch.n_sites() as f64 * ch.omega().abs() + h_g_norm(ch)
}

/// Rounding of the oracle's cross-check at time `t` (see the module doc).
fn oracle_rounding(ch: &Chain, t: f64) -> f64 {
    2.0 * h0_norm(ch) * U * (h_norm(ch) * t + (ch.n_sites() as f64 / 2.0).exp2())
}

/// The solvers checked on a case: dense (N ≤ 10), Chebyshev in the full space, in the
/// reflection-even sector when the chain is mirror symmetric (what `plan` picks from N = 14,
/// [`uses_reflection_sector`]), in the coupling orbits of a ring (what `plan` picks from
/// N = 12), and single precision from N = 14 (where it is meant for).
fn solvers(ch: &Chain) -> Vec<(String, Box<dyn Propagator>)> {
    let mut out: Vec<(String, Box<dyn Propagator>)> = Vec::new();
    if ch.n_sites() <= 10 {
        out.push(("dense".into(), plan(ch, Solver::Dense, TOL).unwrap()));
    }
    out.push(("chebyshev full space".into(), Box::new(Chebyshev::new(ch, TOL).unwrap())));
    if ReflectionSector::applies(ch) {
        out.push(("chebyshev reflection sector".into(), Box::new(Chebyshev::in_reflection_sector(ch, TOL).unwrap())));
    }
    if spinbat::symmetry::Symmetries::of(ch).translation {
        let orbits = spinbat::symmetry::OrbitSpace::new(ch).unwrap();
        out.push(("chebyshev coupling orbits".into(), Box::new(Chebyshev::<_, f64>::with_space(orbits, ch, TOL))));
    }
    if ch.n_sites() >= 14 {
        out.push(("chebyshev single".into(), plan_with(ch, Solver::Chebyshev, TOL, Precision::Single).unwrap()));
    }
    out
}

#[test]
fn oracle_large_file_covers_the_brief() {
    let doc = document();
    for key in ["qutip_version", "quspin_version", "numpy_version", "scipy_version", "date", "seed"] {
        assert!(!doc[key].is_null(), "large_reference.json lacks {key:?}");
    }
    let cases = cases();
    let has = |f: &dyn Fn(&Case) -> bool| cases.iter().any(f);
    for n in [14, 16, 18] {
        assert!(has(&|c| c.chain.n_sites() == n && primary(c) == "quspin"), "no QuSpin case with N = {n}");
    }
    assert!(has(&|c| c.chain.n_sites() >= 11 && primary(c) == "qutip"), "no QuTiP case past N = 10");
    for p in [0.5, 1.0, 1.5, 2.0, 3.0] {
        assert!(has(&|c| *c.chain.couplings() == Couplings::PowerLaw { p }), "no power law p = {p}");
    }
    assert!(has(&|c| matches!(c.chain.couplings(), Couplings::Matrix { .. })), "no coupling-matrix case");
    assert!(has(&|c| c.chain.boundary() == Boundary::Periodic), "no periodic case");
    assert!(has(&|c| c.chain.alpha() < 0.0) && has(&|c| c.chain.alpha() > 1.0), "alpha not spread over [-1.5, 1.5]");
    assert!(
        has(&|c| uses_reflection_sector(&c.chain))
            && has(&|c| c.chain.n_sites() >= 14 && !uses_reflection_sector(&c.chain)),
        "need N >= 14 chains both in and outside the reflection sector"
    );
    assert!(cases.iter().filter(|c| c.max_power.is_some()).count() >= 4, "too few maximal powers");
    for c in &cases {
        let w2 = c.max_power.as_ref().map(|m| m.w2);
        assert!(w2 != Some(None), "case {}: maximal power without second_derivative_work", describe(c));
    }
    for c in &cases {
        let k = c.times.len();
        assert!(k >= 4 && c.work.len() == k && c.rate.len() == k, "case {}: ragged arrays", describe(c));
        let t_end = *c.times.last().unwrap();
        assert!((t_end * c.chain.omega() - 10.0).abs() < 1e-9, "case {}: window is not 10/omega", describe(c));
        // the oracle is only useful if its two computations agreed
        assert!(c.diff_work < 1e-9 && c.diff_rate < 1e-8, "case {}: oracle's two codes disagree", describe(c));
        let e0 = c.chain.initial_energy();
        assert!((e0 - c.e0).abs() <= 1e-12 * (1.0 + e0.abs()), "case {}: E_0 {e0} vs oracle {}", describe(c), c.e0);
    }
}

#[test]
fn oracle_large_work_and_rate_match() {
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for c in cases() {
        let ch = &c.chain;
        for (name, mut prop) in solvers(ch) {
            let samples = prop.sample(&c.times).unwrap();
            let eps = prop.error_bound();
            assert!(eps.is_finite(), "{name} on {}: error bound not finite", describe(&c));
            let (mut worst_w, mut worst_r) = (0.0f64, 0.0f64);
            for (k, s) in samples.iter().enumerate() {
                assert_eq!(s.t, c.times[k]);
                let rho = oracle_rounding(ch, s.t);
                let tol_w = eps + c.diff_work + rho;
                let tol_r = 2.0 * h_norm(ch) * (eps + rho) + c.diff_rate;
                let dw = (s.work - c.work[k]).abs();
                let dr = (s.rate - c.rate[k]).abs();
                worst_w = worst_w.max(dw);
                worst_r = worst_r.max(dr);
                if dw.is_nan() || dw > tol_w {
                    failures.push(format!(
                        "{name} on {}: W({}) = {:.15} vs oracle {:.15} (|diff| {dw:.2e} > tol {tol_w:.2e})",
                        describe(&c),
                        s.t,
                        s.work,
                        c.work[k]
                    ));
                }
                if dr.is_nan() || dr > tol_r {
                    failures.push(format!(
                        "{name} on {}: W'({}) = {:.15} vs oracle {:.15} (|diff| {dr:.2e} > tol {tol_r:.2e})",
                        describe(&c),
                        s.t,
                        s.rate,
                        c.rate[k]
                    ));
                }
            }
            report.push(format!(
                "{:<34} {name:<28} |dW| {worst_w:.1e} |dW'| {worst_r:.1e} (bound {eps:.1e}, oracle {:.1e})",
                c.label, c.diff_work
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreement(s) with the oracle:\n{}\nper solver:\n{}",
        failures.len(),
        failures.join("\n"),
        report.join("\n")
    );
}

/// `P_max`, `T*`, `W(T*)` of `observe::charge` against the oracle's certified search.
/// With `ε` the total error on `W` (solver bound + oracle accuracy, as above) and `ε'` on
/// `W'`: `f = T W' − W` is off by `≤ T ε' + ε` on each side, so `|ΔT*| ≤ 2(T ε' + ε)/|T W''|`
/// plus both Brent tolerances; `P = W/T` is stationary at `T*` (`P'' = W''/T` there), so
/// `|ΔP| ≤ ε/T + |W''| ΔT²/(2T)`; `|ΔW(T*)| ≤ ε + |W'(T*)| ΔT + |W''| ΔT²/2`.
#[test]
fn oracle_large_max_power_matches() {
    let mut checked = 0;
    for c in cases() {
        let Some(mp) = &c.max_power else { continue };
        let w2 = mp.w2.unwrap_or_else(|| panic!("case {}: no second_derivative_work", describe(&c)));
        let ch = &c.chain;
        let mut props: Vec<(&str, Box<dyn Propagator>)> =
            vec![("chebyshev", plan(ch, Solver::Chebyshev, TOL).unwrap())];
        if ch.n_sites() <= 10 {
            props.push(("dense", plan(ch, Solver::Dense, TOL).unwrap()));
        }
        for (name, mut prop) in props {
            let res = observe::charge(prop.as_mut(), ch, &c.times, &Silent).unwrap();
            let got = res.max_power;
            let t = mp.time;
            let rho = oracle_rounding(ch, got.time.max(t));
            let eps = prop.error_bound() + c.diff_work + rho;
            let eps_rate = 2.0 * h_norm(ch) * (prop.error_bound() + rho) + c.diff_rate;
            let dt = 2.0 * (t * eps_rate + eps) / (t * w2).abs() + REFINE_XTOL * 2.0 * t + 1e-14;
            let tol_p = eps / t + w2.abs() * dt * dt / (2.0 * t);
            let tol_w = eps + (mp.work / t) * dt + w2.abs() * dt * dt / 2.0;
            let label = describe(&c);
            assert!(
                (got.time - t).abs() <= dt,
                "{name} on {label}: T* = {:.15} vs oracle {t:.15} (tol {dt:.1e})",
                got.time
            );
            assert!(
                (got.power - mp.power).abs() <= tol_p,
                "{name} on {label}: P_max = {:.15} vs oracle {:.15} (tol {tol_p:.1e})",
                got.power,
                mp.power
            );
            assert!(
                (got.work - mp.work).abs() <= tol_w,
                "{name} on {label}: W(T*) = {:.15} vs oracle {:.15} (tol {tol_w:.1e})",
                got.work,
                mp.work
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} maximal powers checked");
}
