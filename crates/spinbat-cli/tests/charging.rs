//! The generalised charging flags (`--gamma`, `--keep-field`, `--omega-sites`): echoed in
//! the JSON record, honoured (free spins against their closed form), read from study files,
//! and bad values refused with exit status 2.

use serde_json::Value;
use std::process::{Command, Output};

fn spinbat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spinbat")).args(args).output().expect("run spinbat")
}

fn json(args: &[&str]) -> Value {
    let out = spinbat(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON value")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn the_record_echoes_the_flags_and_free_spins_follow_their_closed_form() {
    // g = 0, field kept on: each spin Rabi-oscillates about (omega w_i, 0, B),
    // W = sum_i 2B (omega w_i)^2/(B^2 + (omega w_i)^2) sin^2(sqrt(B^2 + (omega w_i)^2) t)
    let args = [
        "charge",
        "--n",
        "3",
        "--g",
        "0",
        "--b",
        "1.5",
        "--omega",
        "2",
        "--alpha",
        "0.5",
        "--gamma",
        "0.4",
        "--omega-sites",
        "1,0,-0.5",
        "--keep-field",
        "--points",
        "21",
        "--json",
        "-",
    ];
    for solver in ["dense", "chebyshev", "mean-field"] {
        let v = json(&[&args[..], &["--solver", solver]].concat());
        let model = &v["model"];
        assert_eq!((model["gamma"].as_f64(), model["keep_field"].as_bool()), (Some(0.4), Some(true)));
        assert_eq!(floats(&model["omega_sites"]), vec![1.0, 0.0, -0.5]);
        // the bound with the field on: min(|omega| sum |w_i|, ...) = 3
        assert!(model["work_bound"].as_f64().unwrap() <= 3.0 + 1e-12);
        for (t, w) in floats(&v["series"]["t"]).into_iter().zip(floats(&v["series"]["work"])) {
            let want: f64 = [1.0, 0.0, -0.5]
                .iter()
                .map(|wi: &f64| {
                    let (b, o) = (1.5, 2.0 * wi);
                    let r = (b * b + o * o).sqrt();
                    2.0 * b * o * o / (r * r) * (r * t).sin().powi(2)
                })
                .sum();
            assert!((w - want).abs() < 1e-8, "{solver} t = {t}: {w} vs {want}");
        }
    }
    // without the flags the record is the paper chain's, key for key (and a study's settings
    // hash with it)
    let v = json(&["charge", "--n", "3", "--points", "3", "--json", "-"]);
    for key in ["gamma", "keep_field", "omega_sites"] {
        assert!(v["model"].get(key).is_none(), "{key} recorded for the paper's chain");
    }
}

#[test]
fn bad_values_exit_2_with_one_line() {
    for (args, needle) in [
        (vec!["--n", "4", "--omega-sites", "1,0"], "omega_sites"),
        (vec!["--n", "2", "--omega-sites", "1,inf"], "omega_sites"),
        (vec!["--n", "2", "--omega-sites", "0,0"], "omega_sites"),
        (vec!["--n", "3", "--gamma", "nan"], "gamma"),
        (vec!["--n", "4", "--p", "0", "--alpha", "0.5", "--gamma", "0.5", "--solver", "dicke"], "gamma"),
        (vec!["--n", "4", "--p", "0", "--keep-field", "--solver", "weak-coupling"], "keep_field"),
        (vec!["--n", "4", "--gamma", "0.5", "--alpha", "1", "--solver", "weak-coupling"], "gamma"),
        (vec!["--n", "4", "--omega-sites", "1,0,0,0", "--dephasing", "0.1"], "omega_sites"),
    ] {
        let out = spinbat(&[&["charge"][..], &args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn study_files_take_the_new_keys_and_report_bad_ones_on_their_line() {
    let dir = std::env::temp_dir().join(format!("spinbat-charging-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let study = |model: &str| {
        let path = dir.join("study.toml");
        std::fs::write(
            &path,
            format!(
                "[model]\nn = 4\ncoupling = \"nn\"\n{model}\n[sweep]\nalpha = [0.0, 0.5]\n\n[run]\nsolvers = \
                 [\"dense\"]\n\n[output]\nrecords = \"{}\"\n",
                dir.join("out.jsonl").display()
            ),
        )
        .unwrap();
        spinbat(&["run", path.to_str().unwrap()])
    };
    let out = study("gamma = 0.5\nkeep_field = true\nomega_sites = [1, 0, 0, 1]");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(dir.join("out.jsonl")).unwrap();
    for line in text.lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let model = &r["settings"]["model"];
        assert_eq!((model["gamma"].as_f64(), model["keep_field"].as_bool()), (Some(0.5), Some(true)));
        assert_eq!(floats(&model["omega_sites"]), vec![1.0, 0.0, 0.0, 1.0]);
        assert!(r["max_work"]["work"].as_f64().unwrap() <= 8.0 + 1e-9, "W <= |omega| sum |w_i| = 8");
    }
    for (model, line, needle) in [
        ("gamma = \"big\"", 4, "[model] gamma"),
        ("omega_sites = [1, 0]", 4, "[model] omega_sites"),
        ("keep_field = 1", 4, "[model] keep_field"),
    ] {
        let out = study(model);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{model}: {err}");
        assert!(err.contains(&format!("study.toml:{line}: ")) && err.contains(needle), "{model}: {err}");
    }
}
