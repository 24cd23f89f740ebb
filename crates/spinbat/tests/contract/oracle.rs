//! Outside oracle: QuTiP reference values.
//!
//! `tests/data/qutip_reference.json` holds `W(t)` and `W'(t)` for a dozen chains (N = 1..10,
//! nearest-neighbour and power-law couplings, open and periodic, α ∈ {−0.3, 0, 0.5, 1},
//! weak and strong coupling) computed by `qutip.sesolve` on Hamiltonians assembled from
//! QuTiP's own Pauli operators, each value cross-checked in Python against a separate
//! numpy/scipy exact diagonalisation; the file records the largest discrepancy per case.
//! A few small cases also carry the certified maximal power from that exact computation.
//! Regenerate with `scripts/reference/make_qutip_reference.py` (see its README).
//!
//! Tolerances follow from the reference's stated accuracy: `max(1e-9, 10 × discrepancy)`
//! on `W`, the same relative to `max(1, |W'|)` on the rate.

use super::common::{OracleCase as Case, OracleFile};
use serde_json::Value;
use spinbat::observe;
use spinbat::propagate::plan;
use spinbat::{Silent, Solver};

const DATA: &str = include_str!("../data/qutip_reference.json");

/// Solvers checked against the oracle, with the tolerance passed to `plan`.
const SOLVERS: [(Solver, f64); 2] = [(Solver::Dense, 1e-10), (Solver::Chebyshev, 1e-10)];

const ORACLE: OracleFile = OracleFile {
    name: "qutip_reference.json",
    text: DATA,
    diff_keys: ("max_abs_diff_work_sesolve_vs_exact", "max_abs_diff_rate_sesolve_vs_exact"),
    matrices: &[],
};

fn document() -> Value {
    ORACLE.document()
}

fn cases() -> Vec<Case> {
    ORACLE.cases()
}

fn describe(c: &Case) -> String {
    let ch = &c.chain;
    format!(
        "{:?} (N={}, B={}, g={}, alpha={}, omega={}, {:?}, {:?})",
        c.label,
        ch.n_sites(),
        ch.b(),
        ch.g(),
        ch.alpha(),
        ch.omega(),
        ch.couplings(),
        ch.boundary()
    )
}

#[test]
fn oracle_file_is_complete_and_accurate() {
    let doc = document();
    for key in ["qutip_version", "numpy_version", "scipy_version", "date", "description"] {
        assert!(doc[key].is_string(), "qutip_reference.json lacks {key:?}");
    }
    let cases = cases();
    assert!(cases.len() >= 8, "only {} oracle cases", cases.len());
    assert!(cases.iter().any(|c| c.chain.n_sites() == 10), "no N = 10 case");
    assert!(cases.iter().any(|c| c.chain.g() >= 5.0), "no strong-coupling case");
    for c in &cases {
        let n = c.times.len();
        assert!(n >= 4 && c.work.len() == n && c.rate.len() == n, "case {}: ragged arrays", describe(c));
        assert!(c.times.windows(2).all(|w| w[0] < w[1]), "case {}: times not ascending", describe(c));
        // the reference is only useful if sesolve and exact diagonalisation agreed
        assert!(
            c.diff_work < 1e-9 && c.diff_rate < 1e-8,
            "case {}: reference itself inaccurate (sesolve vs exact: W {:.2e}, W' {:.2e})",
            describe(c),
            c.diff_work,
            c.diff_rate
        );
    }
}

#[test]
fn oracle_initial_energy_matches() {
    for c in cases() {
        let e0 = c.chain.initial_energy();
        assert!(
            (e0 - c.e0).abs() <= 1e-12 * (1.0 + e0.abs()),
            "case {}: spinbat E_0 = {e0} vs QuTiP <psi0|H0|psi0> = {}",
            describe(&c),
            c.e0
        );
    }
}

#[test]
fn oracle_work_and_rate_match_qutip() {
    let mut failures = Vec::new();
    let mut worst = 0.0f64;
    for c in cases() {
        let tol_w = (10.0 * c.diff_work).max(1e-9);
        let tol_r = (10.0 * c.diff_rate).max(1e-9);
        for (solver, tol) in SOLVERS {
            let mut prop = plan(&c.chain, solver, tol).unwrap();
            let samples = prop.sample(&c.times).unwrap();
            assert_eq!(samples.len(), c.times.len());
            for (k, s) in samples.iter().enumerate() {
                assert_eq!(s.t, c.times[k]);
                let dw = (s.work - c.work[k]).abs();
                let dr = (s.rate - c.rate[k]).abs();
                worst = worst.max(dw);
                if dw > tol_w {
                    failures.push(format!(
                        "{solver} on {}: W({}) = {:.15} vs QuTiP {:.15} (|diff| {dw:.2e} > tol {tol_w:.1e})",
                        describe(&c),
                        s.t,
                        s.work,
                        c.work[k]
                    ));
                }
                if dr > tol_r * c.rate[k].abs().max(1.0) {
                    failures.push(format!(
                        "{solver} on {}: W'({}) = {:.15} vs QuTiP {:.15} (|diff| {dr:.2e} > tol {:.1e})",
                        describe(&c),
                        s.t,
                        s.rate,
                        c.rate[k],
                        tol_r * c.rate[k].abs().max(1.0)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreement(s) with the QuTiP oracle (worst |dW| {worst:.2e}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn oracle_max_power_matches_exact_reference() {
    let mut checked = 0;
    for c in cases() {
        let Some((p_ref, t_ref, w_ref)) = c.max_power.as_ref().map(|m| (m.power, m.time, m.work)) else {
            continue;
        };
        checked += 1;
        for (solver, tol) in SOLVERS {
            let mut prop = plan(&c.chain, solver, tol).unwrap();
            let res = observe::charge(prop.as_mut(), &c.chain, &c.times, &Silent).unwrap();
            let mp = res.max_power;
            // P is stationary at T*, so P is as accurate as W; T* is the simple root of
            // T W' - W, found by Brent on both sides.
            assert!(
                (mp.power - p_ref).abs() <= 1e-9 * p_ref.max(1.0),
                "{solver} on {}: P_max = {:.15} vs reference {p_ref:.15}",
                describe(&c),
                mp.power
            );
            assert!(
                (mp.time - t_ref).abs() <= 1e-7 * t_ref.max(1.0),
                "{solver} on {}: T* = {:.15} vs reference {t_ref:.15}",
                describe(&c),
                mp.time
            );
            assert!(
                (mp.work - w_ref).abs() <= 1e-8 * w_ref.max(1.0),
                "{solver} on {}: W(T*) = {:.15} vs reference {w_ref:.15}",
                describe(&c),
                mp.work
            );
        }
    }
    assert!(checked >= 2, "only {checked} oracle cases carry a maximal power");
}
