//! `spinbat charge --disorder-g/--disorder-field --realisations R --seed S`: the JSON keys of
//! the ensemble (`series.work_stderr`, `disorder` with `realisations[]`), the CSV columns,
//! the same numbers on 1 and 2 threads, and every bad setting exits with status 2 and a
//! one-line message.

mod common;

use common::{json, spinbat};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn disorder_reports_the_mean_curve_and_the_distribution() {
    let args = |threads: &'static str| {
        vec![
            "charge",
            "--n",
            "5",
            "--disorder-g",
            "0.4",
            "--disorder-field",
            "0.3",
            "--realisations",
            "6",
            "--seed",
            "7",
            "--points",
            "11",
            "--threads",
            threads,
            "--json",
            "-",
        ]
    };
    let v = json(&args("1"));
    let d = &v["disorder"];
    assert_eq!(d["count"], 6);
    assert_eq!(d["seed"], 7);
    assert_eq!(d["disorder_g"], 0.4);
    let reals = d["realisations"].as_array().unwrap();
    assert_eq!(reals.len(), 6);
    let p_max: Vec<f64> = reals.iter().map(|r| r["p_max"].as_f64().unwrap()).collect();
    for (k, r) in reals.iter().enumerate() {
        assert_eq!(r["seed_index"], k);
        assert!(r["t_star"].as_f64().unwrap() > 0.0 && r["max_work"].as_f64().unwrap() > 0.0);
    }
    // the mean and its standard error from the listed values
    let mean = p_max.iter().sum::<f64>() / 6.0;
    let se = (p_max.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / 5.0 / 6.0).sqrt();
    assert!((d["max_power"]["mean"].as_f64().unwrap() - mean).abs() < 1e-12 * mean);
    assert!((d["max_power"]["stderr"].as_f64().unwrap() - se).abs() < 1e-9 * se);
    assert_eq!(v["max_power"]["power"], d["max_power"]["mean"]);
    let q = &d["quantiles"]["p_max"];
    let (lo, hi) = (p_max.iter().copied().fold(f64::INFINITY, f64::min), p_max.iter().copied().fold(0.0, f64::max));
    assert_eq!((q["min"].as_f64().unwrap(), q["max"].as_f64().unwrap()), (lo, hi));
    let stderr = floats(&v["series"]["work_stderr"]);
    assert_eq!(stderr.len(), 11);
    assert!(stderr[1..].iter().all(|&s| s > 0.0));
    assert!(v["certified_until"].is_null());
    // the same numbers on two threads
    let w = json(&args("2"));
    assert_eq!(v["series"]["work"], w["series"]["work"]);
    assert_eq!(v["disorder"]["realisations"], w["disorder"]["realisations"]);
    // the CSV: the mean, its standard error, the power and each realisation's curve
    let dir = std::env::temp_dir().join(format!("spinbat-disorder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("d.csv");
    let mut a = args("1");
    a.truncate(a.len() - 2);
    let out = spinbat(&[&a[..], &["--csv", csv.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(header[..4], ["t", "work", "work_stderr", "power"]);
    assert_eq!(header[4..], ["work_0", "work_1", "work_2", "work_3", "work_4", "work_5"]);
    assert_eq!(text.lines().count(), 12);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_disorder_settings_exit_2_with_one_line() {
    for (args, needle) in [
        (vec!["--disorder-g", "-0.1"], "[0, 1)"),
        (vec!["--disorder-g", "1"], "[0, 1)"),
        (vec!["--disorder-field", "nan"], "[0, 1)"),
        (vec!["--disorder-field", "0.2", "--realisations", "0"], "at least 2"),
        (vec!["--realisations", "5"], "needs --disorder-g or --disorder-field"),
        (vec!["--disorder-g", "0.1", "--solver", "trajectories", "--dephasing", "0.1"], "not implemented"),
        (vec!["--disorder-g", "0.1", "--observe", "bloch"], "not implemented"),
        (vec!["--disorder-field", "0.1", "--decay", "0.1", "--temperature", "1"], "thermal bath"),
    ] {
        let out = spinbat(&[&["charge", "--n", "3"][..], &args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line, got {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}
