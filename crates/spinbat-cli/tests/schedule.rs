//! `spinbat charge --omega-schedule/--drive` and `spinbat optimize`: the promised JSON keys,
//! agreement with the closed form, and bad input refused with status 2 and one line.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn spinbat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spinbat")).args(args).output().expect("run spinbat")
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spinbat-schedule-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn refused(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(2), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{what}: one line, got {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
}

#[test]
fn a_schedule_charges_independent_spins_by_the_integrated_field() {
    // g = 0: W = 2BN sin²(∫ω); ∫ω = 0.3·2 + 0.2·0 + 0.5·1 = 1.1 at t = 1
    let s = tmp("s.txt", "# t_end omega\n0.3 2\n\n0.5 0\n1.0 1 # last\n");
    let out = spinbat(&["charge", "--n", "3", "--g", "0", "--omega-schedule", s.to_str().unwrap(), "--json", "-"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = v["series"]["t"].as_array().unwrap();
    assert_eq!(t.last().unwrap().as_f64().unwrap(), 1.0, "the window ends with the schedule");
    let w = v["series"]["work"].as_array().unwrap().last().unwrap().as_f64().unwrap();
    assert!((w - 6.0 * 1.1f64.sin().powi(2)).abs() < 1e-9, "{w}");
    assert_eq!(v["protocol"]["schedule"]["ends"].as_array().unwrap().len(), 3);
    assert!(v["certified_until"].as_f64().unwrap() <= 1.0);
}

#[test]
fn a_drive_in_the_exact_solvers_turns_independent_spins_by_the_integrated_angle() {
    // g = 0: W = 2BN sin²θ, θ = ωt + (A/ν) sin νt; ω = 2, A = 0.5, ν = 3 at t = 1
    for solver in ["dense", "chebyshev"] {
        let out = spinbat(&[
            "charge",
            "--n",
            "3",
            "--g",
            "0",
            "--omega",
            "2",
            "--drive",
            "0.5",
            "--drive-frequency",
            "3",
            "--solver",
            solver,
            "--t-max",
            "1",
            "--json",
            "-",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let w = v["series"]["work"].as_array().unwrap().last().unwrap().as_f64().unwrap();
        let theta = 2.0 + 0.5 / 3.0 * 3f64.sin();
        assert!((w - 6.0 * theta.sin().powi(2)).abs() < 1e-8, "{solver}: {w}");
        let est = v["drive_step_error_estimate"].as_f64().expect("the drive's step-error estimate");
        assert!((0.0..1e-8).contains(&est), "{solver}: {est}");
        assert!(v["accuracy"].as_str().unwrap().contains("estimate"));
        assert_eq!(v["protocol"]["drive"]["frequency"].as_f64(), Some(3.0));
    }
}

/// The summary's bound line for a drive: `W(t)/t <= c/t + d` with `c`, `d` of physics.md
/// (recomputed here from N, B, omega, A, nu), printed with `W(T*)` and `c + d T*`, which
/// holds; the JSON carries the same `drive_power_bound`, and the step-error estimate beside
/// its rounding floor.
#[test]
fn a_drive_prints_its_power_bound_and_the_charge_stays_under_it() {
    let args = [
        "charge",
        "--n",
        "6",
        "--coupling",
        "nn",
        "--b",
        "1",
        "--omega",
        "2",
        "--drive",
        "0.7",
        "--drive-frequency",
        "5",
        "--solver",
        "chebyshev",
    ];
    let out = spinbat(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("bound W(t)/t <= c/t + d")).expect("the drive's bound line");
    // c = N(|B| + B) + N(|omega| + 2|A|), d = 2N|A|nu/pi
    let (c, d) = (6.0 * 2.0 + 6.0 * (2.0 + 1.4), 2.0 * 6.0 * 0.7 * 5.0 / std::f64::consts::PI);
    assert!(line.contains(&format!("= {c:.5}")), "{line}");
    assert!(line.contains(&format!("{:.5}", d)[..6]), "{line}");
    let mut json_args = args.to_vec();
    json_args.extend(["--json", "-"]);
    let out = spinbat(&json_args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let bound = &v["drive_power_bound"];
    assert!((bound["c"].as_f64().unwrap() - c).abs() < 1e-12 && (bound["d"].as_f64().unwrap() - d).abs() < 1e-12);
    let (t, w) = (v["max_power"]["time"].as_f64().unwrap(), v["max_power"]["work"].as_f64().unwrap());
    assert!(w <= c + d * t, "W(T*) = {w} > {}", c + d * t);
    // the whole curve stays under the bound too
    let times = v["series"]["t"].as_array().unwrap();
    for (t, w) in times.iter().zip(v["series"]["work"].as_array().unwrap()) {
        let (t, w) = (t.as_f64().unwrap(), w.as_f64().unwrap());
        assert!(w <= c + d * t + 1e-9, "W({t}) = {w}");
    }
    assert!(v["drive_step_error_floor"].as_f64().is_some_and(|f| f >= 0.0));
}

/// `spinbat scan --vary drive_frequency=...`: a row equals `spinbat charge --drive` run on
/// its own, the static charge comes beside it, the CSV has every scan's columns; a drive
/// scan without its fixed part, or drive flags with another parameter, exit with status 2.
#[test]
fn a_floquet_scan_row_is_the_charge_of_its_drive() {
    let csv = tmp("floquet.csv", "");
    let out = spinbat(&[
        "scan",
        "--vary",
        "drive_frequency=3,7",
        "--drive",
        "1.5",
        "--n",
        "5",
        "--coupling",
        "nn",
        "--power-only",
        "--json",
        "-",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["vary"].as_str(), Some("drive_frequency"));
    assert_eq!(v["drive"]["amplitude"].as_f64(), Some(1.5));
    let row = &v["rows"][1];
    assert_eq!(row["value"].as_f64(), Some(7.0));
    let charge: Value = serde_json::from_slice(
        &spinbat(&[
            "charge",
            "--n",
            "5",
            "--coupling",
            "nn",
            "--drive",
            "1.5",
            "--drive-frequency",
            "7",
            "--solver",
            "chebyshev",
            "--json",
            "-",
        ])
        .stdout,
    )
    .unwrap();
    let (a, b) = (row["max_power"]["power"].as_f64().unwrap(), charge["max_power"]["power"].as_f64().unwrap());
    assert!((a - b).abs() < 1e-10 * b, "scan {a} vs charge {b}");
    let stat = v["static_rows"][0]["max_power"]["power"].as_f64().unwrap();
    let plain: Value =
        serde_json::from_slice(&spinbat(&["charge", "--n", "5", "--coupling", "nn", "--json", "-"]).stdout).unwrap();
    assert!((stat - plain["max_power"]["power"].as_f64().unwrap()).abs() < 1e-12);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("value,solver,method,n,max_power"), "{text}");
    assert_eq!(text.lines().count(), 3);
    refused(&spinbat(&["scan", "--vary", "drive_frequency=1,2", "--n", "3"]), "no amplitude");
    refused(&spinbat(&["scan", "--vary", "drive=1,2", "--n", "3", "--drive", "1"]), "no frequency");
    refused(&spinbat(&["scan", "--vary", "alpha=0,1", "--n", "3", "--drive", "1"]), "drive flags without a drive");
    refused(&spinbat(&["scan", "--vary", "drive_frequency=1,-2", "--drive", "1", "--n", "3"]), "negative nu");
    refused(
        &spinbat(&["scan", "--vary", "drive_frequency=1", "--drive", "1", "--n", "3", "--solvers", "weak-coupling"]),
        "weak coupling",
    );
}

#[test]
fn bad_schedules_and_drives_are_refused_with_one_line() {
    for (name, text, line) in [
        ("unsorted.txt", "1 1\n0.5 1\n", "line 2"),
        ("dup.txt", "1 1\n1 2\n", "line 2"),
        ("neg.txt", "1 -1\n", "line 1"),
        ("nan.txt", "1 NaN\n", "line 1"),
        ("empty.txt", "# nothing\n", "empty"),
    ] {
        let s = tmp(name, text);
        let out = spinbat(&["charge", "--n", "3", "--omega-schedule", s.to_str().unwrap()]);
        refused(&out, name);
        assert!(String::from_utf8_lossy(&out.stderr).contains(line), "{name}");
    }
    let s = tmp("ok.txt", "1 1\n");
    refused(
        &spinbat(&["charge", "--n", "3", "--omega-schedule", s.to_str().unwrap(), "--t-max", "2"]),
        "t-max past the end",
    );
    refused(&spinbat(&["charge", "--n", "3", "--omega-schedule", "/nonexistent/s.txt"]), "missing file");
    refused(&spinbat(&["charge", "--n", "3", "--drive", "1"]), "drive without frequency");
    refused(
        &spinbat(&[
            "charge",
            "--n",
            "6",
            "--drive",
            "1",
            "--drive-frequency",
            "2",
            "--solver",
            "chebyshev",
            "--precision",
            "single",
        ]),
        "a drive in single precision",
    );
    refused(
        &spinbat(&["charge", "--n", "3", "--omega-schedule", s.to_str().unwrap(), "--dephasing", "0.1"]),
        "noise with a schedule",
    );
    refused(&spinbat(&["optimize", "--n", "2", "--charge-time", "1", "--omega-max", "0"]), "omega-max 0");
    refused(
        &spinbat(&["optimize", "--n", "2", "--charge-time", "1", "--omega-max", "1", "--objective", "x"]),
        "objective",
    );
}

#[test]
fn optimize_reports_the_promised_keys_and_beats_no_bound() {
    let csv = tmp("o.csv", "");
    let out = spinbat(&[
        "optimize",
        "--n",
        "1",
        "--charge-time",
        "0.4",
        "--segments",
        "5",
        "--omega-max",
        "2",
        "--starts",
        "2",
        "--json",
        "-",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["work", "power", "schedule", "constant_field", "gradient_check"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let bound = 2.0 * (2.0f64 * 0.4).sin().powi(2);
    let w = v["work"].as_f64().unwrap();
    assert!(w <= bound + 1e-9 && w > bound - 1e-7, "{w} vs {bound}");
    assert!((v["power"].as_f64().unwrap() - w / 0.4).abs() < 1e-12);
    assert_eq!(v["schedule"]["omegas"].as_array().unwrap().len(), 5);
    assert!(v["gradient_check"]["max_relative_difference"].as_f64().unwrap() < 1e-5);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 6);
    assert!(text.starts_with("segment,t_start,t_end,omega"));
}

/// `optimize --solver mean-field` at N = 300 independent spins (g = 0): the same keys, and
/// the one-spin bound times N, `W = 2BN sin²(W_max T)`, reached by the bang at `W_max`.
#[test]
fn optimize_with_the_mean_field_reaches_the_independent_spin_bound() {
    let out = spinbat(&[
        "optimize",
        "--n",
        "300",
        "--g",
        "0",
        "--charge-time",
        "0.3",
        "--segments",
        "6",
        "--omega-max",
        "2",
        "--starts",
        "2",
        "--solver",
        "mean-field",
        "--json",
        "-",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["work", "power", "schedule", "constant_field", "gradient_check"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["solver"], "mean-field");
    let bound = 2.0 * 300.0 * (2.0f64 * 0.3).sin().powi(2);
    let w = v["work"].as_f64().unwrap();
    assert!((w - bound).abs() < 1e-6 * bound, "{w} vs {bound}");
    assert!(v["gradient_check"]["max_relative_difference"].as_f64().unwrap() < 1e-4);
    refused(
        &spinbat(&["optimize", "--n", "3", "--charge-time", "1", "--omega-max", "1", "--solver", "dense"]),
        "optimize with dense",
    );
}
