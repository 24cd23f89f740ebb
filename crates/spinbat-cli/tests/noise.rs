//! `spinbat charge` with noise (`--dephasing`, `--decay`, `--temperature`,
//! `--collective-decay`): the density matrix runs under `auto`, its output has the keys of
//! the closed charge plus `noise`, zero noise gives the closed curve, and every bad setting
//! exits with status 2 and a one-line message.

mod common;

use common::{json, spinbat};
use serde_json::Value;

fn works(v: &Value) -> Vec<f64> {
    v["series"]["work"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn noise_runs_the_density_matrix_with_the_same_outputs() {
    let base = ["charge", "--n", "4", "--points", "11", "--t-max", "1", "--json", "-"];
    let v = json(&[&base[..], &["--dephasing", "0.2", "--decay", "0.1", "--temperature", "2"]].concat());
    assert_eq!(v["solver"], "density-matrix");
    assert_eq!(v["solver_requested"], "auto");
    for key in ["series", "max_power", "max_work", "certified_until", "error_bound", "accuracy", "provenance"] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(v["noise"]["dephasing"], 0.2);
    assert_eq!(v["noise"]["temperature"], 2.0);
    assert!(v["error_bound"].as_f64().unwrap() < 1e-10);
    // the closed charge has no noise key, and noise changes the curve
    let closed = json(&base);
    assert!(closed.get("noise").is_none());
    let diff = works(&v).iter().zip(works(&closed)).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(diff > 1e-3, "noise must change W: {diff}");
    // zero rates: the density matrix runs the closed battery and agrees with dense
    let zero = json(&[&base[..], &["--dephasing", "0", "--solver", "density-matrix"]].concat());
    let diff = works(&zero).iter().zip(works(&closed)).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(diff < 1e-9, "zero noise vs dense: {diff}");
    let (a, b) = (zero["max_power"]["power"].as_f64().unwrap(), closed["max_power"]["power"].as_f64().unwrap());
    assert!((a - b).abs() < 1e-9 * b);
}

#[test]
fn bad_noise_settings_exit_2_with_one_line() {
    for (args, needle) in [
        (vec!["--dephasing", "-0.1"], "dephasing"),
        (vec!["--decay", "nan"], "decay"),
        (vec!["--collective-decay", "-1"], "collective_decay"),
        (vec!["--temperature", "1"], "needs a decay rate"),
        (vec!["--decay", "0.1", "--temperature", "-2"], "temperature"),
        (vec!["--dephasing", "0.1", "--solver", "chebyshev"], "closed battery"),
        (vec!["--dephasing", "0.1", "--solver", "mean-field"], "closed battery"),
        (vec!["--dephasing", "0.1", "--observe", "entanglement"], "not its entanglement"),
        (vec!["--dephasing", "0.1", "--precision", "single"], "single"),
    ] {
        let all = [&["charge", "--n", "3"][..], &args[..]].concat();
        let out = spinbat(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: status {:?}, stderr {err}", out.status);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // a density matrix that does not fit: refused before anything is allocated
    let out = spinbat(&["charge", "--n", "16", "--dephasing", "0.1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("density-matrix solver for N = 16 needs about"), "{err}");
}

#[test]
fn observables_of_the_density_matrix_in_json_and_csv() {
    // --observe all with noise: every observable of a mixed state (no entropy), the
    // ergotropy keys at every time and at T*; the work equals the curve's
    let dir = std::env::temp_dir().join(format!("spinbat-noise-obs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json_path, csv_path) = (dir.join("o.json"), dir.join("o.csv"));
    let out = spinbat(&[
        "charge",
        "--n",
        "4",
        "--decay",
        "0.2",
        "--observe",
        "all",
        "--points",
        "6",
        "--json",
        json_path.to_str().unwrap(),
        "--csv",
        csv_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let obs = &v["observables"];
    assert_eq!(obs["solver"], "density-matrix");
    let points = obs["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    for (p, w) in points.iter().zip(v["series"]["work"].as_array().unwrap()) {
        assert!(p.get("entropy").is_none_or(|e| e.is_null()), "{p}");
        assert!((p["work"].as_f64().unwrap() - w.as_f64().unwrap()).abs() < 1e-9);
        for key in ["ergotropy", "ergotropy_hb", "local_ergotropy", "locked_ergotropy", "capacity", "variance_hb"] {
            assert!(p[key].is_number(), "{key} in {p}");
        }
    }
    assert!(obs["at_t_star"]["ergotropy"].is_number());
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.lines().next().unwrap().contains("locked_ergotropy"), "{csv}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn trajectories_report_the_mean_with_its_standard_error_and_agree_with_the_density_matrix() {
    let base = ["charge", "--n", "4", "--points", "9", "--t-max", "0.8", "--dephasing", "0.3", "--decay", "0.2"];
    let run = |threads: &str| {
        json(
            &[
                &base[..],
                &["--solver", "trajectories", "--trajectories", "300", "--seed", "5", "--threads", threads],
                &["--json", "-"],
            ]
            .concat(),
        )
    };
    let v = run("2");
    assert_eq!(v["solver"], "trajectories");
    assert_eq!(v["trajectories"]["trajectories"], 300);
    assert_eq!(v["trajectories"]["seed"], 5);
    assert!(v["trajectories"]["note"].as_str().unwrap().contains("not certified"));
    assert!(v["certified_until"].is_null() && v["error_bound"].is_null(), "nothing certified, statistical error");
    let stderr: Vec<f64> = v["series"]["work_stderr"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let exact = json(&[&base[..], &["--solver", "density-matrix", "--json", "-"]].concat());
    for ((w, se), want) in works(&v).iter().zip(&stderr).zip(works(&exact)) {
        assert!((w - want).abs() <= 4.0 * se + 1e-9, "{w} +- {se} vs {want}");
    }
    assert!(stderr[1..].iter().all(|&s| s > 0.0));
    // one-site states and the local ergotropy of the mean, against the density matrix's (2000
    // trajectories: with few jumps each the per-trajectory values are far from Gaussian, and
    // a standard error from a few hundred can be off by tens of percent)
    let observed = json(
        &[
            &base[..],
            &["--solver", "trajectories", "--trajectories", "2000", "--seed", "5", "--observe", "bloch,ergotropy"],
            &["--json", "-"],
        ]
        .concat(),
    );
    let plain = json(
        &[&base[..], &["--solver", "trajectories", "--trajectories", "2000", "--seed", "5", "--json", "-"]].concat(),
    );
    assert_eq!(observed["series"], plain["series"], "observing does not change the trajectories");
    let exact_obs =
        json(&[&base[..], &["--solver", "density-matrix", "--observe", "bloch,ergotropy", "--json", "-"]].concat());
    let (points, want) =
        (observed["observables"]["points"].as_array().unwrap(), exact_obs["observables"]["points"].as_array().unwrap());
    assert_eq!(points.len(), 9);
    for (p, q) in points.iter().zip(want) {
        let (e, se, exact) = (
            p["local_ergotropy"].as_f64().unwrap(),
            p["local_ergotropy_stderr"].as_f64().unwrap(),
            q["local_ergotropy"].as_f64().unwrap(),
        );
        assert!((e - exact).abs() <= 4.0 * se + 1e-8, "t = {}: {e} +- {se} vs {exact}", p["t"]);
        for (site, (r, s)) in
            p["bloch"].as_array().unwrap().iter().zip(p["bloch_stderr"].as_array().unwrap()).enumerate()
        {
            for a in 0..3 {
                let (m, se, x) =
                    (r[a].as_f64().unwrap(), s[a].as_f64().unwrap(), q["bloch"][site][a].as_f64().unwrap());
                assert!((m - x).abs() <= 4.0 * se + 1e-8, "t = {}, site {site}: {m} +- {se} vs {x}", p["t"]);
            }
        }
        assert!(p.get("ergotropy_hb").is_none(), "not linear in the state: not estimated");
    }
    // the same seed on one thread: the same numbers
    assert_eq!(run("1")["series"], v["series"]);
    // the CSV has the standard error column
    let dir = std::env::temp_dir().join(format!("spinbat-traj-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("t.csv");
    let out = spinbat(
        &[&base[..], &["--solver", "trajectories", "--trajectories", "20", "--csv", csv.to_str().unwrap()]].concat(),
    );
    assert!(out.status.success());
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("t,work,work_stderr,power\n"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_trajectory_settings_exit_2_with_one_line() {
    for (args, needle) in [
        (vec!["--solver", "trajectories", "--dephasing", "0.1", "--trajectories", "0"], "at least 2"),
        (vec!["--solver", "trajectories"], "needs noise"),
        (vec!["--solver", "trajectories", "--collective-decay", "0.1"], "collective decay"),
        (vec!["--solver", "trajectories", "--dephasing", "0.1", "--observe", "entanglement"], "not linear"),
        (vec!["--solver", "trajectories", "--dephasing", "0.1", "--observe", "zz"], "bloch,ergotropy"),
        (vec!["--dephasing", "0.1", "--trajectories", "10"], "need --solver trajectories"),
        (vec!["--seed", "3"], "need --solver trajectories"),
    ] {
        let out = spinbat(&[&["charge", "--n", "3"][..], &args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line, got {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn a_thermal_start_runs_the_density_matrix_and_echoes_its_temperature() {
    let base = ["charge", "--n", "4", "--points", "6", "--t-max", "0.5", "--json", "-"];
    let warm = json(&[&base[..], &["--initial-temperature", "0.7"]].concat());
    assert_eq!(warm["solver"], "density-matrix");
    assert_eq!(warm["initial_temperature"], 0.7);
    // W is measured from the Gibbs state's energy, above the all-down E0 = -N B - G
    let e_beta = warm["initial_energy"].as_f64().unwrap();
    let e0 = warm["model"]["initial_energy"].as_f64().unwrap();
    assert!(e_beta > e0);
    assert!(works(&warm)[0].abs() < 1e-12);
    // T0 = 0 on a chain whose ground state is all-down: the all-down run, the same numbers
    let closed = json(&base);
    let zero = json(&[&base[..], &["--initial-temperature", "0"]].concat());
    assert_eq!(zero["solver"], closed["solver"]);
    assert_eq!(works(&zero), works(&closed));
    assert_eq!(zero["initial_temperature"], 0.0);
    assert!(zero.get("initial_energy").is_none() && closed.get("initial_temperature").is_none());
    // a warmer start charges less than the cold one (N independent spins: by tanh(B/T0))
    let hot = json(&[&base[..], &["--initial-temperature", "3"]].concat());
    let p = |v: &Value| v["max_power"]["power"].as_f64().unwrap();
    assert!(p(&hot) < p(&warm) && p(&warm) <= p(&closed) * (1.0 + 1e-9), "{} {} {}", p(&hot), p(&warm), p(&closed));
    // the trajectories run it without noise too (each from a sampled eigenstate of H0), hot
    // enough that many levels are drawn (at T0 = 0.7 nearly all draws are the ground state,
    // and a sample without any excited one has no spread to estimate its error from)
    let traj = json(
        &[&base[..], &["--initial-temperature", "3", "--solver", "trajectories", "--trajectories", "200"]].concat(),
    );
    assert!(traj.get("noise").is_none() && traj["initial_temperature"] == 3.0);
    for ((a, b), se) in works(&traj).iter().zip(works(&hot)).zip(traj["series"]["work_stderr"].as_array().unwrap()) {
        let se = se.as_f64().unwrap();
        assert!((a - b).abs() <= 4.0 * se + 1e-9, "{a} +- {se} vs {b}");
    }
}

#[test]
fn bad_initial_temperatures_exit_2_with_one_line() {
    for (args, needle) in [
        (vec!["--initial-temperature", "-1"], "initial_temperature"),
        (vec!["--initial-temperature", "NaN"], "initial_temperature"),
        (vec!["--initial-temperature", "inf"], "initial_temperature"),
        (vec!["--initial-temperature", "1", "--solver", "dense"], "mixed"),
        (vec!["--initial-temperature", "1", "--solver", "chebyshev"], "mixed"),
        (vec!["--initial-temperature", "1", "--precision", "single"], "single"),
        (vec!["--initial-temperature", "1", "--observe", "entanglement"], "not its entanglement"),
    ] {
        for command in ["charge", "store"] {
            if command == "store" && args.iter().any(|a| a.contains("single") || a.contains("entanglement")) {
                continue;
            }
            let all = [&[command, "--n", "3"][..], &args[..]].concat();
            let out = spinbat(&all);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{all:?}: status {:?}, stderr {err}", out.status);
            assert_eq!(err.trim_end().lines().count(), 1, "{all:?}: {err}");
            assert!(err.contains(needle), "{all:?}: {err}");
        }
    }
}
