//! `spinbat scan` over the noise rates (`--vary dephasing=...`, `decay`, `collective_decay`,
//! `temperature`): every point is the `charge` with the same rate, the zero-rate point is the
//! closed battery, and bad settings exit with status 2 and one line.

mod common;

use common::{json, spinbat};
use serde_json::Value;

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The scan's rows with `charge` run alone at each value (`flag` the charge's noise flag; no
/// flag at zero, the closed battery): the same certified maximum, its time and the maximal
/// work in the same window.
fn check_points_against_charge(model: &[&str], vary: &str, flag: &str, values: &[&str], power_only: bool) {
    let spec = format!("{vary}={}", values.join(","));
    let mut args = vec!["scan", "--vary", &spec, "--json", "-"];
    args.extend_from_slice(model);
    if power_only {
        args.push("--power-only");
    }
    let scan = json(&args);
    assert_eq!(scan["vary"], vary);
    assert!(scan.get("noise").is_some(), "a noise scan records its base noise");
    let rows = scan["rows"].as_array().unwrap();
    assert_eq!(rows.len(), values.len());
    for (row, value) in rows.iter().zip(values) {
        let mut charge = vec!["charge", "--json", "-"];
        charge.extend_from_slice(model);
        let zero = value.parse::<f64>().unwrap() == 0.0;
        if !zero {
            charge.extend_from_slice(&[flag, value]);
        }
        let one = json(&charge);
        assert_eq!(row["method"], one["solver"], "{vary} = {value}");
        if zero {
            // the closed battery: its own exact solver, no noise in the charge record
            assert!(one.get("noise").is_none());
            assert_ne!(row["method"], "density-matrix");
        } else {
            assert_eq!(row["method"], "density-matrix");
        }
        let (a, b) = (num(&row["max_power"]["power"]), num(&one["max_power"]["power"]));
        assert!((a - b).abs() < 1e-9 * b, "{vary} = {value}: P_max {a} vs {b}");
        let (a, b) = (num(&row["max_power"]["time"]), num(&one["max_power"]["time"]));
        assert!((a - b).abs() < 1e-8 * b, "{vary} = {value}: T* {a} vs {b}");
        if !power_only {
            let (a, b) = (num(&row["max_work"]["work"]), num(&one["max_work"]["work"]));
            assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{vary} = {value}: W_max {a} vs {b}");
        }
    }
    // the rate matters
    let p: Vec<f64> = rows.iter().map(|r| num(&r["max_power"]["power"])).collect();
    assert!(p.windows(2).any(|w| (w[0] - w[1]).abs() > 1e-6 * w[0]), "{vary}: P_max does not move: {p:?}");
}

#[test]
fn a_dephasing_scan_point_is_the_charge_with_that_rate() {
    check_points_against_charge(
        &["--n", "4", "--alpha", "0.3"],
        "dephasing",
        "--dephasing",
        &["0", "0.1", "0.3"],
        false,
    );
}

#[test]
fn a_decay_scan_point_is_the_charge_with_that_rate() {
    check_points_against_charge(&["--n", "3"], "decay", "--decay", &["0", "0.2"], false);
}

#[test]
fn a_collective_decay_scan_at_p_0_runs_on_the_dicke_states() {
    check_points_against_charge(
        &["--n", "40", "--p", "0", "--g", "0.5"],
        "collective_decay",
        "--collective-decay",
        &["0", "0.05", "0.2"],
        true,
    );
}

#[test]
fn a_temperature_scan_keeps_the_base_decay() {
    let v = json(&["scan", "--vary", "temperature=0.5,2", "--decay", "0.2", "--n", "3", "--power-only", "--json", "-"]);
    assert_eq!(v["noise"]["decay"], 0.2);
    let rows = v["rows"].as_array().unwrap();
    let one = json(&["charge", "--n", "3", "--decay", "0.2", "--temperature", "2", "--json", "-"]);
    let (a, b) = (num(&rows[1]["max_power"]["power"]), num(&one["max_power"]["power"]));
    assert!((a - b).abs() < 1e-9 * b, "T = 2: {a} vs {b}");
}

#[test]
fn bad_noise_scans_exit_2_with_one_line() {
    for (args, needle) in [
        (vec!["--vary", "dephasing=0,-0.1"], "dephasing"),
        (vec!["--vary", "temperature=1"], "needs a decay rate"),
        (vec!["--vary", "dephasing=0.1", "--solvers", "mean-field"], "closed battery"),
        (vec!["--vary", "collective=0.1"], "unknown parameter"),
    ] {
        let all = [&["scan", "--n", "3"][..], &args[..]].concat();
        let out = spinbat(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: status {:?}, stderr {err}", out.status);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // a density matrix that does not fit: refused before any point runs
    let out = spinbat(&["scan", "--n", "16", "--vary", "decay=0,0.1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("density-matrix solver for N = 16 needs about"), "{err}");
}
