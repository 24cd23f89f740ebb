//! `spinbat store`: the JSON keys of the record (`series {t, work}`, `observables.points[]`
//! with the ergotropy keys, the half-lives), the one-spin half-life of decay, storage after
//! a closed charge against `spinbat charge` at the same time, the CSV and plot files, and
//! every bad input exits with status 2 and a one-line message.

mod common;

use common::{json, spinbat};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn store_records_the_series_the_ergotropy_points_and_the_half_lives() {
    // one spin charged to |up> (omega T = pi/2), decay 0.5 in storage: W = 2B e^{-s/2}
    let t = std::f64::consts::FRAC_PI_2.to_string();
    let v = json(&[
        "store",
        "--n",
        "1",
        "--omega",
        "1",
        "--charge-time",
        &t,
        "--decay",
        "0.5",
        "--noise-during",
        "storage",
        "--times",
        "0,0.5,1,2,3",
        "--json",
        "-",
    ]);
    for key in
        ["model", "solver", "noise", "noise_during", "charge", "series", "observables", "half_lives", "provenance"]
    {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(v["noise_during"], "storage");
    assert_eq!(v["charge"]["time_from"], "given");
    let (s, w) = (floats(&v["series"]["t"]), floats(&v["series"]["work"]));
    assert_eq!(s, vec![0.0, 0.5, 1.0, 2.0, 3.0]);
    for (s, w) in s.iter().zip(&w) {
        assert!((w - 2.0 * (-0.5 * s).exp()).abs() < 1e-9, "s = {s}: {w}");
    }
    let points = v["observables"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    for key in ["t", "work", "ergotropy", "ergotropy_hb", "local_ergotropy", "locked_ergotropy", "capacity"] {
        assert!(points[2].get(key).is_some(), "points[] missing {key}");
    }
    let half = v["half_lives"]["work"]["time"].as_f64().unwrap();
    assert!((half - 2f64.ln() / 0.5).abs() < 1e-9, "{half}");
    let half = v["half_lives"]["ergotropy"]["time"].as_f64().unwrap();
    assert!((half - (4f64 / 3.0).ln() / 0.5).abs() < 1e-7, "{half}");
}

#[test]
fn storage_after_a_closed_charge_starts_at_the_charge_s_work() {
    let model = ["--n", "4", "--alpha", "0.3", "--coupling", "nn"];
    let stored = json(
        &[
            &["store"][..],
            &model,
            &["--charge-time", "0.3", "--dephasing", "0.2", "--noise-during", "storage"],
            &["--times", "0,1", "--json", "-"],
        ]
        .concat(),
    );
    let charged = json(&[&["charge"][..], &model, &["--times", "0.3", "--json", "-"]].concat());
    let (a, b) = (floats(&stored["series"]["work"])[0], floats(&charged["series"]["work"])[0]);
    assert!((a - b).abs() < 1e-9, "W at the start of storage {a} vs charge at T {b}");
    // noise only while charging: W stays at the noisy charge's W(T)
    let v = json(
        &[
            &["store"][..],
            &model,
            &["--charge-time", "0.3", "--decay", "0.3", "--noise-during", "charge"],
            &["--times", "0,1,2", "--json", "-"],
        ]
        .concat(),
    );
    let noisy = json(&[&["charge"][..], &model, &["--decay", "0.3", "--times", "0.3", "--json", "-"]].concat());
    let w_t = floats(&noisy["series"]["work"])[0];
    for w in floats(&v["series"]["work"]) {
        assert!((w - w_t).abs() < 1e-9, "{w} vs {w_t}");
    }
}

#[test]
fn store_writes_csv_and_plot() {
    let dir = std::env::temp_dir().join(format!("spinbat-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (csv, png) = (dir.join("s.csv"), dir.join("s.png"));
    let out = spinbat(&[
        "store",
        "--n",
        "3",
        "--dephasing",
        "0.1",
        "--points",
        "6",
        "--observe",
        "bloch",
        "--csv",
        csv.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("t,work,rate,ergotropy,ergotropy_hb") && header.ends_with("z_0,z_1,z_2"), "{header}");
    assert_eq!(text.lines().count(), 7);
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("half-life"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_store_input_exits_2_with_one_line() {
    for (args, needle) in [
        (vec!["--times", "0,-1"], "times"),
        (vec!["--times", "1,0.5"], "sorted"),
        (vec!["--charge-time", "-1"], "charge_time"),
        (vec!["--noise-during", "sometimes"], "noise_during"),
        (vec!["--decay", "-0.2"], "decay"),
        (vec!["--t-max", "-3"], "t_max"),
        (vec!["--solver", "chebyshev", "--decay", "0.1"], "density matrix"),
        (vec!["--solver", "mean-field"], "exact states"),
        (vec!["--observe", "entanglement", "--decay", "0.1"], "not its entanglement"),
        (vec!["--n", "13", "--dephasing", "0.1"], "N <= 12"),
        (vec!["--n", "40"], "needs about"),
        (vec!["--solver", "trajectories", "--trajectories", "1", "--decay", "0.1"], "at least 2"),
        (vec!["--seed", "3", "--decay", "0.1"], "need --solver trajectories"),
        (vec!["--solver", "trajectories", "--observe", "zz", "--decay", "0.1"], "zz"),
        (vec!["--solver", "trajectories"], "closed evolution"),
    ] {
        let n: &[&str] = if args.contains(&"--n") { &[] } else { &["--n", "2"] };
        let out = spinbat(&[&["store"][..], n, &args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn storage_from_the_gibbs_state_of_h_b_under_its_own_bath_keeps_w_at_zero() {
    // g = 0: the Gibbs state of H0 = H_B at T0 = T is the fixed point of the local bath
    let v = json(&[
        "store",
        "--n",
        "3",
        "--g",
        "0",
        "--initial-temperature",
        "0.9",
        "--decay",
        "0.5",
        "--temperature",
        "0.9",
        "--noise-during",
        "storage",
        "--charge-time",
        "0",
        "--times",
        "0,1,3",
        "--json",
        "-",
    ]);
    assert_eq!(v["initial_temperature"], 0.9);
    assert_eq!(v["charge"]["initial_temperature"], 0.9);
    assert!(v["charge"]["initial_energy"].as_f64().is_some());
    for w in v["series"]["work"].as_array().unwrap() {
        assert!(w.as_f64().unwrap().abs() < 1e-9, "{w}");
    }
}

#[test]
fn storage_by_trajectories_reports_standard_errors_a_band_and_the_density_matrix_within_them() {
    let dir = std::env::temp_dir().join(format!("spinbat-store-traj-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (csv, png) = (dir.join("t.csv"), dir.join("t.png"));
    let model = ["--n", "4", "--alpha", "0.5", "--coupling", "nn", "--charge-time", "0.4"];
    let noise = ["--dephasing", "0.2", "--decay", "0.2", "--times", "0,1,2"];
    let exact = json(&[&["store"][..], &model, &noise, &["--json", "-"]].concat());
    let traj_args = ["--solver", "trajectories", "--trajectories", "1000", "--seed", "4"];
    let files = ["--csv", csv.to_str().unwrap(), "--plot", png.to_str().unwrap(), "--json", "-"];
    let v = json(&[&["store"][..], &model, &noise, &traj_args, &files].concat());
    assert_eq!(v["solver"], "trajectories");
    assert_eq!(v["ensemble"]["trajectories"], 1000);
    let (w, se, want) =
        (floats(&v["series"]["work"]), floats(&v["series"]["work_stderr"]), floats(&exact["series"]["work"]));
    for k in 0..3 {
        assert!((w[k] - want[k]).abs() <= 4.0 * se[k] + 1e-8, "s = {k}: {} +- {} vs {}", w[k], se[k], want[k]);
    }
    let points = v["observables"]["points"].as_array().unwrap();
    assert!(points[1]["local_ergotropy"].as_f64().is_some() && points[1]["local_ergotropy_stderr"].as_f64().is_some());
    assert!(v["half_lives"]["ergotropy"]["time"].is_null());
    let header = std::fs::read_to_string(&csv).unwrap().lines().next().unwrap().to_string();
    assert_eq!(header, "t,work,rate,work_stderr,local_ergotropy,local_ergotropy_stderr");
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    std::fs::remove_dir_all(&dir).unwrap();
}
