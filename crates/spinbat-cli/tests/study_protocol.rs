//! Study files with a time-dependent field (`[drive]`, `[model] omega_schedule`, the
//! `[sweep]` axes `drive`, `drive_frequency` and `gamma`): every record is the certified
//! charge `spinbat charge` gives with the same flags, the settings hash covers the field
//! (and only the fixed part of it), and bad entries are refused with their line.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn spinbat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spinbat")).args(args).output().expect("run spinbat")
}

/// A fresh folder per test.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spinbat-study-protocol-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_study(dir: &Path, text: &str) -> String {
    let path = dir.join("study.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn keys(recs: &[Value]) -> Vec<String> {
    recs.iter().map(|r| r["key"].as_str().unwrap().to_string()).collect()
}

/// `spinbat charge ARGS --json -`.
fn charge(args: &[&str]) -> Value {
    let mut all = vec!["charge"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "-"]);
    serde_json::from_str(&ok(&spinbat(&all))).unwrap()
}

/// The record's `P_max`, `T*` and maximal work equal the charge's (relative `1e-12`: the
/// same certified search of the same propagator).
fn assert_record_is_the_charge(record: &Value, charged: &Value) {
    let f = |v: &Value, a: &str, b: &str| v[a][b].as_f64().unwrap_or_else(|| panic!("{a}.{b} in {v}"));
    for (a, b) in [("max_power", "power"), ("max_power", "time"), ("max_work", "work")] {
        let (x, y) = (f(record, a, b), f(charged, a, b));
        assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{}: {a}.{b} {x} vs charge {y}", record["key"]);
    }
    assert_eq!(record["method"], charged["solver"], "{}", record["key"]);
}

#[test]
fn a_swept_drive_gives_the_charge_of_each_amplitude_and_frequency() {
    let dir = folder("drive");
    let study = write_study(
        &dir,
        "[model]\nn = 4\ncoupling = \"nn\"\nalpha = 0.5\n[drive]\nfrequency = 6.0\n\
         [sweep]\ndrive = [0.0, 1.5]\n[run]\nsolvers = [\"quantum\", \"mean-field\"]\ntol = 1e-9\n",
    );
    ok(&spinbat(&["run", &study]));
    let recs = records(&dir.join("study.jsonl"));
    assert_eq!(keys(&recs), ["drive=0|quantum", "drive=0|mean-field", "drive=1.5|quantum", "drive=1.5|mean-field"]);
    for r in &recs {
        let a = r["point"]["drive"].as_f64().unwrap().to_string();
        let solver = if r["solver"] == "quantum" { "auto" } else { "mean-field" };
        let charged = charge(&[
            "--n",
            "4",
            "--coupling",
            "nn",
            "--alpha",
            "0.5",
            "--drive",
            &a,
            "--drive-frequency",
            "6",
            "--solver",
            solver,
            "--tol",
            "1e-9",
        ]);
        assert_record_is_the_charge(r, &charged);
        // the fixed frequency is in the settings, the varied amplitude is not
        assert_eq!(r["settings"]["protocol"], serde_json::json!({"drive_frequency": 6.0}));
    }
    // a drive changes P_max: the study did not silently charge with the constant field
    let p = |k: usize| recs[k]["max_power"]["power"].as_f64().unwrap();
    assert!((p(0) - p(2)).abs() > 1e-3 * p(0), "{} vs {}", p(0), p(2));

    // the frequency swept against a fixed amplitude
    let study = write_study(
        &dir,
        "[model]\nn = 3\n[drive]\namplitude = 2.0\n[sweep]\ndrive_frequency = [1.0, 9.0]\n[output]\nrecords = \"nu.jsonl\"\n",
    );
    ok(&spinbat(&["run", &study]));
    let recs = records(&dir.join("nu.jsonl"));
    assert_eq!(keys(&recs), ["drive_frequency=1|quantum", "drive_frequency=9|quantum"]);
    for (r, nu) in recs.iter().zip(["1", "9"]) {
        assert_record_is_the_charge(r, &charge(&["--n", "3", "--drive", "2", "--drive-frequency", nu]));
        assert_eq!(r["settings"]["protocol"], serde_json::json!({"drive": 2.0}));
    }
}

#[test]
fn a_schedule_inline_or_in_a_file_is_the_charge_with_that_schedule_and_hashes_alike() {
    let dir = folder("schedule");
    std::fs::write(dir.join("field.txt"), "# t_end omega\n0.2 4\n0.5 0\n0.9 2.5\n").unwrap();
    let inline = "[model]\nn = 5\nalpha = 0.3\nomega_schedule = [[0.2, 4], [0.5, 0.0], [0.9, 2.5]]\n\
                  [sweep]\ng = [0.5, 2.0]\n[run]\nsolvers = [\"quantum\", \"dense\", \"mean-field\"]\n\
                  [output]\nrecords = \"inline.jsonl\"\n";
    ok(&spinbat(&["run", &write_study(&dir, inline)]));
    let from_file =
        inline.replace("[[0.2, 4], [0.5, 0.0], [0.9, 2.5]]", "\"field.txt\"").replace("inline.jsonl", "file.jsonl");
    ok(&spinbat(&["run", &write_study(&dir, &from_file)]));
    let (a, b) = (records(&dir.join("inline.jsonl")), records(&dir.join("file.jsonl")));
    assert_eq!(keys(&a), keys(&b));
    let schedule = dir.join("field.txt");
    for (r, s) in a.iter().zip(&b) {
        assert_eq!(r["study"], s["study"], "the same schedule is the same study, however it is written");
        let g = r["point"]["g"].as_f64().unwrap().to_string();
        let solver = if r["solver"] == "quantum" { "auto" } else { r["solver"].as_str().unwrap() };
        let charged = charge(&[
            "--n",
            "5",
            "--alpha",
            "0.3",
            "--g",
            &g,
            "--omega-schedule",
            schedule.to_str().unwrap(),
            "--solver",
            solver,
        ]);
        assert_record_is_the_charge(r, &charged);
        // the maximal work's window is the schedule's end, as charge's default t_max
        assert_eq!(r["window"], 0.9);
        assert_eq!(r["settings"]["protocol"]["omega_schedule"]["ends"], serde_json::json!([0.2, 0.5, 0.9]));
    }
}

#[test]
fn gamma_is_a_sweep_axis_and_each_record_is_the_xyz_charge() {
    let dir = folder("gamma");
    let study = write_study(&dir, "[model]\nn = 5\nalpha = 0.6\np = 1.5\n[sweep]\ngamma = [0.0, -0.4, 0.7]\n");
    ok(&spinbat(&["run", &study]));
    let recs = records(&dir.join("study.jsonl"));
    assert_eq!(keys(&recs), ["gamma=0|quantum", "gamma=-0.4|quantum", "gamma=0.7|quantum"]);
    for r in &recs {
        let gamma = r["point"]["gamma"].as_f64().unwrap().to_string();
        assert_record_is_the_charge(r, &charge(&["--n", "5", "--alpha", "0.6", "--p", "1.5", "--gamma", &gamma]));
        assert!(r["settings"].get("protocol").is_none(), "no field, no protocol in the settings");
    }
}

/// The settings hash: a changed fixed drive is a new study (its records are not reused);
/// more values of a varied drive setting are the same study; a study without a field hashes
/// as one written before fields existed (no `protocol` key in its settings).
#[test]
fn the_settings_hash_covers_the_fixed_field_only() {
    let dir = folder("hash");
    let run = |text: &str| -> Vec<Value> {
        let study = write_study(&dir, text);
        let _ = std::fs::remove_file(dir.join("study.jsonl"));
        ok(&spinbat(&["run", &study]));
        records(&dir.join("study.jsonl"))
    };
    let base = "[model]\nn = 3\n[sweep]\ng = [1.0]\n";
    let plain = run(base);
    let with_drive = run(&format!("{base}[drive]\namplitude = 1.0\nfrequency = 3.0\n"));
    let other_drive = run(&format!("{base}[drive]\namplitude = 1.0\nfrequency = 4.0\n"));
    let varied = run("[model]\nn = 3\n[drive]\nfrequency = 3.0\n[sweep]\ng = [1.0]\ndrive = [1.0]\n");
    let more = run("[model]\nn = 3\n[drive]\nfrequency = 3.0\n[sweep]\ng = [1.0]\ndrive = [1.0, 2.0]\n");
    let h = |r: &[Value]| r[0]["study"].as_str().unwrap().to_string();
    assert_ne!(h(&plain), h(&with_drive));
    assert_ne!(h(&with_drive), h(&other_drive));
    assert_eq!(h(&varied), h(&more));
    assert_ne!(h(&varied), h(&with_drive), "a varied amplitude is another study than a fixed one");
    assert!(plain[0]["settings"].get("protocol").is_none());
    // the same point by either route is the same charge
    let p = |r: &Value| r["max_power"]["power"].as_f64().unwrap();
    assert!((p(&with_drive[0]) - p(&varied[0])).abs() <= 1e-12 * p(&varied[0]));
    // the plain study's records are reused by the same study: nothing is recomputed
    let study = write_study(&dir, base);
    let _ = std::fs::remove_file(dir.join("study.jsonl"));
    ok(&spinbat(&["run", &study]));
    let again = ok(&spinbat(&["run", &study]));
    assert!(again.contains("1 done before"), "{again}");
}

#[test]
fn bad_field_entries_are_refused_with_their_line() {
    let dir = folder("bad");
    for (text, line, needle) in [
        (
            "[model]\nn = 3\n[drive]\namplitude = \"big\"\nfrequency = 1\n[sweep]\ng = [1]\n",
            4,
            "wrong type for [drive] amplitude",
        ),
        ("[model]\nn = 3\n[drive]\namplitude = 1\nfrequency = -1\n[sweep]\ng = [1]\n", 5, "[drive] frequency = -1"),
        (
            "[model]\nn = 3\n[drive]\namplitud = 1\n[sweep]\ng = [1]\n",
            4,
            "unknown key 'amplitud' in [drive] (did you mean 'amplitude'?)",
        ),
        ("[model]\nn = 3\n[drive]\namplitude = 1\n[sweep]\ng = [1]\n", 4, "needs drive_frequency"),
        ("[model]\nn = 3\n[sweep]\ng = [1]\ndrive = [1, 2]\n", 5, "needs drive_frequency"),
        ("[model]\nn = 3\n[sweep]\ndrive_frequency = [1, -2]\n", 4, "the value -2 is invalid"),
        ("[model]\nn = 3\nomega_schedule = [[1, -2]]\n[sweep]\ng = [1]\n", 3, "must be a finite number >= 0"),
        ("[model]\nn = 3\nomega_schedule = [[1, 2], [0.5, 1]]\n[sweep]\ng = [1]\n", 3, "strictly increasing"),
        ("[model]\nn = 3\nomega_schedule = [1, 2]\n[sweep]\ng = [1]\n", 3, "wrong type for [model] omega_schedule"),
        ("[model]\nn = 3\nomega_schedule = \"missing.txt\"\n[sweep]\ng = [1]\n", 3, "cannot read"),
        (
            "[model]\nn = 3\nomega_schedule = [[1, 2]]\n[drive]\namplitude = 1\nfrequency = 2\n[sweep]\ng = [1]\n",
            3,
            "exclude each other",
        ),
        ("[model]\nn = 3\ngamma = 0.2\n[drive]\namplitude = 1\nfrequency = 2\n[sweep]\ng = [1]\n", 4, "gamma"),
        (
            "[model]\nn = 3\n[drive]\namplitude = 1\nfrequency = 2\n[noise]\ndecay = 0.1\n[sweep]\ng = [1]\n",
            3,
            "closed",
        ),
        ("[model]\nn = 3\nomega_schedule = [[1, 2]]\n[sweep]\ng = [1]\n[run]\nwindow = 2\n", 7, "past the end"),
        (
            "[model]\nn = 3\n[drive]\namplitude = 1\nfrequency = 2\n[sweep]\ng = [1]\n[run]\nobserve = \"bloch\"\n",
            9,
            "time-dependent",
        ),
    ] {
        let study = write_study(&dir, text);
        let out = spinbat(&["run", "--check", &study]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        let want = format!("study.toml:{line}: ");
        assert!(err.lines().any(|l| l.contains(&want) && l.contains(needle)), "no '{want}...{needle}' in:\n{err}");
    }
}
