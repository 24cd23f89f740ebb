//! `spinbat run STUDY.toml` and `spinbat merge`: a study's records are the scans they
//! contain; bad files are refused whole with every problem and its line; shards merge to
//! the unsharded run; a killed run resumes without recomputing what it stored.

use serde_json::Value;
use spinbat::study::{self, ScanOptions, ScanSolver, Sweep};
use spinbat::{Chain, Couplings, Silent};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn spinbat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spinbat")).args(args).output().expect("run spinbat")
}

/// A fresh folder per test.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spinbat-study-test-{}-{name}", std::process::id()));
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
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'), "{} does not end in a complete line", path.display());
    text.lines().map(|l| serde_json::from_str(l).expect("every line is one JSON record")).collect()
}

fn keys(recs: &[Value]) -> Vec<String> {
    recs.iter().map(|r| r["key"].as_str().unwrap().to_string()).collect()
}

fn pmax(r: &Value) -> f64 {
    r["max_power"]["power"].as_f64().unwrap()
}

/// Same keys in the same order, `P_max` and `W_max` equal to 1e-12 (relative).
fn assert_same_results(a: &[Value], b: &[Value]) {
    assert_eq!(keys(a), keys(b));
    for (x, y) in a.iter().zip(b) {
        let (p, q) = (pmax(x), pmax(y));
        assert!((p - q).abs() <= 1e-12 * q.abs(), "{}: P_max {p} vs {q}", x["key"]);
        let (w, v) = (&x["max_work"]["work"], &y["max_work"]["work"]);
        if let (Some(w), Some(v)) = (w.as_f64(), v.as_f64()) {
            assert!((w - v).abs() <= 1e-12 * v.abs(), "{}: W_max {w} vs {v}", x["key"]);
        }
        assert_eq!(x["study"], y["study"]);
    }
}

/// `N done before, M computed` from the summary.
fn counts(stdout: &str) -> (usize, usize) {
    let line = stdout.lines().find(|l| l.starts_with("records")).expect("a records line");
    let num = |word: &str| -> usize {
        let before = line.split(word).next().unwrap();
        before.trim_end().rsplit([' ', ',', ':']).next().unwrap().parse().unwrap()
    };
    (num(" done before"), num(" computed"))
}

const GRID_STUDY: &str = r#"
[model]
n = 8
coupling = "power-law"
p = 1.0
g = 1.0
omega = 4.0

[sweep]
n = "2..4"
alpha = [0.0, 0.5]

[run]
solvers = ["quantum", "mean-field"]
tol = 1e-10
max_work = true

[output]
records = "out/study.jsonl"
csv = "out/study.csv"
plot = "out/study.png"
"#;

#[test]
fn a_toml_study_gives_one_record_per_point_and_solver_equal_to_direct_scans() {
    let dir = folder("roundtrip");
    let study = write_study(&dir, GRID_STUDY);
    let stdout = ok(&spinbat(&["run", &study]));
    assert_eq!(counts(&stdout), (0, 12));
    let recs = records(&dir.join("out/study.jsonl"));
    assert_eq!(recs.len(), 12);
    let mut expected = Vec::new();
    for n in 2..=4 {
        for alpha in ["0", "0.5"] {
            for s in ["quantum", "mean-field"] {
                expected.push(format!("n={n},alpha={alpha}|{s}"));
            }
        }
    }
    assert_eq!(keys(&recs), expected);
    // the same chains through the library's scan
    let solvers = ScanSolver::parse_list("quantum,mean-field").unwrap();
    let alpha: Sweep = "alpha=0,0.5".parse().unwrap();
    for n in 2..=4usize {
        let base = Chain::builder(n).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
        let rows = study::scan(&base, &alpha, &solvers, &ScanOptions::default(), &Silent).unwrap();
        for (k, row) in rows.iter().enumerate() {
            let r = &recs[(n - 2) * 4 + k];
            assert_eq!(r["point"]["n"].as_f64(), Some(n as f64));
            assert_eq!(r["point"]["alpha"].as_f64(), Some(row.value));
            assert_eq!(r["solver"], row.solver.as_str());
            assert_eq!(r["n_sites"].as_u64(), Some(n as u64));
            assert!((pmax(r) - row.max_power.power).abs() <= 1e-12 * row.max_power.power);
            let w = r["max_work"]["work"].as_f64().unwrap();
            assert!((w - row.max_work.unwrap().work).abs() <= 1e-12 * w);
            assert!(r["provenance"]["version"].is_string());
        }
    }
    let csv = std::fs::read_to_string(dir.join("out/study.csv")).unwrap();
    assert_eq!(csv.lines().count(), 13);
    assert!(csv.starts_with("key,n,alpha,solver,method,n_sites,max_power,"));
    assert!(std::fs::metadata(dir.join("out/study.png")).unwrap().len() > 10_000);

    // a second run finds everything done and computes nothing
    let stdout = ok(&spinbat(&["run", &study]));
    assert_eq!(counts(&stdout), (12, 0));
    assert_same_results(&records(&dir.join("out/study.jsonl")), &recs);
}

#[test]
fn bad_study_files_are_refused_whole_with_every_problem_and_its_line() {
    let dir = folder("bad");
    let study = write_study(
        &dir,
        r#"# line 1
[model]
n = 0
alpah = 0.5
omega = "four"

[sweep]
n = "10..4"
g = [0.5, 1.0]

[run]
solvers = ["quantum", "magic"]
max_work = "yes"
"#,
    );
    let out = spinbat(&["run", &study]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for (line, needle) in [
        (3, "[model] n = 0"),
        (4, "unknown key 'alpah' in [model]"),
        (5, "wrong type for [model] omega"),
        (8, "empty range"),
        (12, "'magic': unknown solver"),
        (13, "wrong type for [run] max_work"),
    ] {
        let want = format!("study.toml:{line}: ");
        assert!(err.lines().any(|l| l.contains(&want) && l.contains(needle)), "no '{want}...{needle}' in:\n{err}");
    }
    assert!(err.contains("6 problems"), "{err}");
    assert!(!dir.join("study.jsonl").exists(), "nothing may run");
    // --check says the same
    assert_eq!(spinbat(&["run", "--check", &study]).status.code(), Some(2));

    for (text, line, needle) in [
        ("[model]\nn = 4\n[sweep]\nalpha = [0, 1\n", 4, "TOML syntax error"),
        ("[sweep]\nn = \"2..3\"\nalpha = [0]\ng = [1]\n[output]\nplot = \"x.png\"\n", 6, "varies 3"),
        ("[model]\ncoupling = \"nn\"\n[sweep]\np = [1, 2]\n", 4, "power-law"),
        ("[modle]\nn = 3\n[sweep]\nn = [2]\n", 1, "unknown table [modle] (did you mean [model]?)"),
        ("[model]\nn = 4\n", 1, "no [sweep] table"),
        ("[sweep]\nn = \"40\"\n[run]\nsolvers = [\"dense\"]\n", 2, "needs about"),
        ("[noise]\ndephasing = -0.1\n[sweep]\nn = \"2..3\"\n", 2, "dephasing"),
        ("[noise]\ntemperature = 1.0\n[sweep]\nn = [2]\n", 2, "temperature"),
        (
            "[noise]\ndephazing = 0.1\n[sweep]\nn = [2]\n",
            2,
            "unknown key 'dephazing' in [noise] (did you mean 'dephasing'?)",
        ),
        ("[noise]\ndecay = 0.1\n[sweep]\nn = [2]\n[run]\nsolvers = [\"mean-field\"]\n", 6, "noise is set"),
        ("[noise]\ndecay = 0.1\n[sweep]\nn = [2, 3]\n[run]\nobserve = \"bloch\"\n", 6, "closed battery only"),
    ] {
        let study = write_study(&dir, text);
        let out = spinbat(&["run", &study]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        let want = format!("study.toml:{line}: ");
        assert!(err.lines().any(|l| l.contains(&want) && l.contains(needle)), "no '{want}...{needle}' in:\n{err}");
    }
}

const SHARD_STUDY: &str = r#"
[model]
coupling = "nn"
[sweep]
n = "2..5"
g = [0.5, 2.0]
[run]
solvers = ["quantum", "mean-field"]
max_work = false
[output]
records = "study.jsonl"
csv = "study.csv"
"#;

#[test]
fn three_shards_merge_to_the_unsharded_run_and_a_missing_shard_is_named() {
    let single = folder("single");
    let study = write_study(&single, SHARD_STUDY);
    ok(&spinbat(&["run", &study]));
    let reference = records(&single.join("study.jsonl"));
    assert_eq!(reference.len(), 16);

    let sharded = folder("sharded");
    let study = write_study(&sharded, SHARD_STUDY);
    let mut sizes = Vec::new();
    for k in 1..=3 {
        let out = ok(&spinbat(&["run", &study, "--shard", &format!("{k}/3")]));
        let shard = records(&sharded.join(format!("study.shard-{k}-of-3.jsonl")));
        // points 0, 3, 6 | 1, 4, 7 | 2, 5 with both solvers
        assert_eq!(counts(&out).1, shard.len());
        sizes.push(shard.len());
    }
    assert_eq!(sizes, [6, 6, 4]);
    assert!(!sharded.join("study.jsonl").exists(), "a shard writes only its own file");
    ok(&spinbat(&["merge", &study]));
    assert_same_results(&records(&sharded.join("study.jsonl")), &reference);
    assert_eq!(std::fs::read_to_string(sharded.join("study.csv")).unwrap().lines().count(), 17);

    // shard 2 lost: merge fails, names its points and writes nothing
    std::fs::remove_file(sharded.join("study.jsonl")).unwrap();
    let shard2 = sharded.join("study.shard-2-of-3.jsonl");
    let kept = std::fs::read_to_string(&shard2).unwrap();
    std::fs::remove_file(&shard2).unwrap();
    let out = spinbat(&["merge", &study]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("6 of 16 jobs missing"), "{err}");
    assert!(err.contains("shard 2 of 3: no file"), "{err}");
    for key in ["n=2,g=2|quantum", "n=2,g=2|mean-field", "n=4,g=0.5|quantum", "n=5,g=2|mean-field"] {
        assert!(err.contains(&format!("missing {key} (shard 2 of 3)")), "{key} not named in:\n{err}");
    }
    assert!(!sharded.join("study.jsonl").exists());

    // a record in two shards is a duplicate
    std::fs::write(&shard2, &kept).unwrap();
    let shard3 = sharded.join("study.shard-3-of-3.jsonl");
    let first_of_2 = kept.lines().next().unwrap();
    let mut text = std::fs::read_to_string(&shard3).unwrap();
    text.push_str(first_of_2);
    text.push('\n');
    std::fs::write(&shard3, text).unwrap();
    let out = spinbat(&["merge", &study]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 duplicated") && err.contains("duplicated n=2,g=2|quantum (in shards 2, 3)"), "{err}");
}

const RESUME_STUDY: &str = r#"
[model]
n = 9
coupling = "nn"
[sweep]
alpha = "0:1.1:0.1"
[run]
solvers = ["dense"]
max_work = true
"#;

/// Waits (up to 30 s) until the records file of a running study holds a line.
fn wait_for_a_record(file: &Path) {
    let start = Instant::now();
    while std::fs::read_to_string(file).map_or(0, |t| t.lines().count()) == 0
        && start.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_killed_run_resumes_where_it_stopped_without_recomputing() {
    // the uninterrupted run
    let full = folder("full");
    let study = write_study(&full, RESUME_STUDY);
    ok(&spinbat(&["run", &study, "--threads", "1"]));
    let reference = records(&full.join("study.jsonl"));
    assert_eq!(reference.len(), 12);
    let reference_text = std::fs::read_to_string(full.join("study.jsonl")).unwrap();

    // a kill simulated: the first 5 lines and a torn sixth
    let cut = folder("cut");
    let study = write_study(&cut, RESUME_STUDY);
    let lines: Vec<&str> = reference_text.lines().collect();
    let torn = format!("{}\n{}", lines[..5].join("\n"), &lines[5][..lines[5].len() / 2]);
    std::fs::write(cut.join("study.jsonl"), torn).unwrap();
    let stdout = ok(&spinbat(&["run", &study, "--threads", "1"]));
    assert_eq!(counts(&stdout), (5, 7));
    let resumed = std::fs::read_to_string(cut.join("study.jsonl")).unwrap();
    // the five stored records are kept byte for byte (same run times, same provenance)
    assert_eq!(resumed.lines().take(5).collect::<Vec<_>>(), lines[..5]);
    assert_same_results(&records(&cut.join("study.jsonl")), &reference);

    // a real kill: SIGKILL once the records file holds a record
    let killed = folder("killed");
    let study = write_study(&killed, RESUME_STUDY);
    let file = killed.join("study.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_spinbat"))
        .args(["run", &study, "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_a_record(&file);
    child.kill().unwrap();
    child.wait().unwrap();
    let stored = records(&file); // complete JSON lines, nothing torn
    assert!(!stored.is_empty() && stored.len() < 12, "killed with {} of 12 records", stored.len());
    let stdout = ok(&spinbat(&["run", &study, "--threads", "1"]));
    assert_eq!(counts(&stdout), (stored.len(), 12 - stored.len()));
    let after = records(&file);
    assert_same_results(&after, &reference);
    for r in &stored {
        let same = after.iter().find(|a| a["key"] == r["key"]).unwrap();
        assert_eq!(same["provenance"], r["provenance"], "{} was recomputed", r["key"]);
        assert_eq!(same["run_time_s"], r["run_time_s"]);
    }
}

#[test]
fn changed_settings_are_not_mixed_with_old_records() {
    let dir = folder("stale");
    let text = "[model]\nn = 3\n[sweep]\ng = [0.5, 1]\n[run]\nmax_work = false\n";
    let study = write_study(&dir, text);
    ok(&spinbat(&["run", &study]));
    // more values and another solver reuse the stored records
    let study = write_study(
        &dir,
        "[model]\nn = 3\n[sweep]\ng = [0.5, 1, 2]\n[run]\nmax_work = false\nsolvers = [\"quantum\", \"mean-field\"]\n",
    );
    assert_eq!(counts(&ok(&spinbat(&["run", &study]))), (2, 4));
    // another tolerance does not: refused, then started over with --fresh
    let study = write_study(&dir, "[model]\nn = 3\n[sweep]\ng = [0.5, 1]\n[run]\nmax_work = false\ntol = 1e-8\n");
    let out = spinbat(&["run", &study]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("of a different study") && err.contains("--fresh"), "{err}");
    assert!(err.contains("[run] tol: 1e-10 in the file, 1e-8 in this study"), "names the key: {err}");
    assert_eq!(records(&dir.join("study.jsonl")).len(), 6, "the old records are untouched");
    assert_eq!(counts(&ok(&spinbat(&["run", &study, "--fresh"]))), (0, 2));
    assert_eq!(records(&dir.join("study.jsonl")).len(), 2);
}

#[test]
fn a_refused_study_names_the_keys_that_changed_and_old_records_stay_readable() {
    let dir = folder("changed-key");
    let text = "[model]\nn = 3\nalpha = 0.5\ncoupling = \"nn\"\n[sweep]\ng = [0.5, 1]\n[run]\nmax_work = false\n";
    let study = write_study(&dir, text);
    ok(&spinbat(&["run", &study]));
    let file = dir.join("study.jsonl");
    assert!(records(&file).iter().all(|r| r["settings"]["model"]["alpha"].as_f64() == Some(0.5)));
    // one model key and one run key changed: both named, with both values; nothing run
    let changed =
        text.replace("alpha = 0.5", "alpha = 0.3").replace("max_work = false", "max_work = false\ntol = 1e-9");
    let out = spinbat(&["run", &write_study(&dir, &changed)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[model] alpha: 0.5 in the file, 0.3 in this study"), "{err}");
    assert!(err.contains("[run] tol: 1e-10 in the file, 1e-9 in this study"), "{err}");
    assert!(!err.contains("[model] g") && !err.contains("[model] n"), "varied and unchanged keys are not named: {err}");
    // another coupling: the key and what follows from it (p exists only for a power law)
    let power = text.replace("coupling = \"nn\"", "coupling = \"power-law\"\np = 2.0");
    let err = String::from_utf8_lossy(&spinbat(&["run", &write_study(&dir, &power)]).stderr).to_string();
    assert!(err.contains("[model] coupling: \"nn\" in the file, \"power-law\" in this study"), "{err}");
    assert!(err.contains("[model] p: not set in the file, 2.0 in this study"), "{err}");
    // records written before settings were stored (no "settings" field) are still read:
    // the same study resumes from them, a changed one is refused with the hashes
    let old: Vec<String> = records(&file)
        .into_iter()
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("settings");
            r.to_string()
        })
        .collect();
    std::fs::write(&file, old.join("\n") + "\n").unwrap();
    assert_eq!(counts(&ok(&spinbat(&["run", &write_study(&dir, text)]))), (2, 0));
    let out = spinbat(&["run", &write_study(&dir, &changed)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("of a different study") && err.contains("do not store their settings"), "{err}");
}

const OBSERVE_STUDY: &str = r#"
[model]
coupling = "nn"
alpha = 0.0
[sweep]
n = "3..5"
g = [1.0, 2.0]
[run]
solvers = ["quantum", "mean-field"]
max_work = false
observe = ["entanglement", "variance"]
[output]
csv = "study.csv"
"#;

/// `observables.peak_entropy` etc. of `spinbat charge ... --observe ... --json -`.
fn charge_observables(args: &[&str]) -> Value {
    let mut all = vec!["charge"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--observe", "entanglement,variance", "--json", "-"]);
    let rec: Value = serde_json::from_str(&ok(&spinbat(&all))).unwrap();
    rec["observables"].clone()
}

fn close(a: &Value, b: &Value, what: &str) {
    let (x, y) = (a.as_f64().unwrap(), b.as_f64().unwrap());
    assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{what}: {x} vs {y}");
}

#[test]
fn observables_in_a_study_are_what_charge_observe_reports_and_change_the_study() {
    let dir = folder("observe");
    let study = write_study(&dir, OBSERVE_STUDY);
    let stdout = ok(&spinbat(&["run", &study]));
    assert!(stdout.contains("observe     entanglement,variance at 201 times"), "{stdout}");
    let recs = records(&dir.join("study.jsonl"));
    assert_eq!(recs.len(), 12);
    for r in &recs {
        let (n, g) = (r["point"]["n"].as_f64().unwrap(), r["point"]["g"].as_f64().unwrap());
        let solver = r["solver"].as_str().unwrap();
        let (n, g) = (format!("{n}"), format!("{g}"));
        let mut args = vec!["--n", &n, "--g", &g, "--coupling", "nn", "--alpha", "0"];
        if solver == "mean-field" {
            args.extend_from_slice(&["--solver", "mean-field"]);
        }
        let theirs = charge_observables(&args);
        let mine = &r["observables"];
        assert_eq!(mine["solver"], theirs["solver"], "{}", r["key"]);
        assert_eq!(mine["cut"], theirs["cut"]);
        assert_eq!(mine["points"].as_u64(), Some(201));
        close(&mine["peak_entropy"]["value"], &theirs["peak_entropy"]["value"], "peak entropy");
        close(&mine["peak_entropy"]["time"], &theirs["peak_entropy"]["time"], "its time");
        if solver == "quantum" {
            close(&mine["max_variance"]["value"], &theirs["max_variance"]["value"], "max Var(H0)");
            // an Ising chain entangles: far above the bound on the entropy's error
            let s = mine["peak_entropy"]["value"].as_f64().unwrap();
            assert!(s > 1e6 * mine["entropy_bound"].as_f64().unwrap(), "{}: S = {s}", r["key"]);
        } else {
            assert_eq!(mine["peak_entropy"]["value"].as_f64(), Some(0.0), "a product state");
            assert!(mine.get("max_variance").is_none() && theirs.get("max_variance").is_none());
        }
    }
    let csv = std::fs::read_to_string(dir.join("study.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",peak_entropy,t_peak_entropy,max_variance,t_max_variance"), "{header}");
    let mean_field_row = csv.lines().find(|l| l.contains("|mean-field")).unwrap();
    assert!(mean_field_row.ends_with(",,"), "no Var(H0) in the mean field: {mean_field_row}");

    // resumes with observables; other observables are another study
    assert_eq!(counts(&ok(&spinbat(&["run", &study]))), (12, 0));
    let other = OBSERVE_STUDY.replace(r#"observe = ["entanglement", "variance"]"#, r#"observe = ["entanglement"]"#);
    let study = write_study(&dir, &other);
    let out = spinbat(&["run", &study]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("of a different study"));
    // and a study without them is yet another one
    let plain = OBSERVE_STUDY.replace(r#"observe = ["entanglement", "variance"]"#, "");
    let study = write_study(&dir, &plain);
    assert_eq!(spinbat(&["run", &study]).status.code(), Some(2));
}

#[test]
fn bad_observables_are_refused_with_their_line() {
    let dir = folder("bad-observe");
    let study = write_study(
        &dir,
        r#"[model]
n = 4
[sweep]
alpha = [0.0, 1.0]
[run]
observe = [
  "entanglement",
  "entropyy",
]
points = 1
"#,
    );
    let out = spinbat(&["run", &study]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for (line, needle) in [(8, "'entropyy': unknown observable"), (10, "[run] points = 1: must be at least 2")] {
        let want = format!("study.toml:{line}: ");
        assert!(err.lines().any(|l| l.contains(&want) && l.contains(needle)), "no '{want}...{needle}' in:\n{err}");
    }
    assert!(err.contains("2 problems"), "{err}");
    for (text, line, needle) in [
        // a solver without a state, a cut that does not split N = 2, a cut without observables
        ("[sweep]\nn = [2, 3]\n[run]\nsolvers = [\"weak-coupling\"]\nobserve = \"variance\"\n", 5, "no state"),
        ("[sweep]\nn = [2, 3]\n[run]\nobserve = [\"all\"]\ncut = 2\n", 5, "must be in 1..=1 for N = 2"),
        ("[sweep]\nn = [2, 3]\n[run]\ncut = 1\n", 4, "[run] observe is missing"),
        ("[sweep]\nn = [2, 3]\n[run]\nobserve = []\n", 4, "name at least one observable"),
    ] {
        let study = write_study(&dir, text);
        let out = spinbat(&["run", "--check", &study]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        let want = format!("study.toml:{line}: ");
        assert!(err.lines().any(|l| l.contains(&want) && l.contains(needle)), "no '{want}...{needle}' in:\n{err}");
    }
}

#[test]
fn an_interrupted_run_says_how_many_jobs_are_saved_and_how_to_resume() {
    let dir = folder("sigint");
    let study = write_study(&dir, RESUME_STUDY);
    let file = dir.join("study.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_spinbat"))
        .args(["run", &study, "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_a_record(&file);
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted:") && err.contains("run the same command again"), "{err}");
    // the count it names is on disk (a job may finish between the count and the exit)
    let said: usize = err.split("interrupted: ").nth(1).and_then(|s| s.split(' ').next()).unwrap().parse().unwrap();
    assert!(err.contains("of 12 jobs saved"), "{err}");
    let stored = records(&file);
    assert!(said >= 1 && said <= stored.len() && stored.len() < 12, "said {said}, stored {}", stored.len());
    let stdout = ok(&spinbat(&["run", &study, "--threads", "1"]));
    assert_eq!(counts(&stdout), (stored.len(), 12 - stored.len()));
}

#[test]
fn a_matrix_in_the_study_file_as_rows_or_a_file_is_the_pattern_it_spells() {
    let dir = folder("matrix");
    std::fs::write(dir.join("ring.txt"), "0 1 1\n1 0 1\n1 1 0\n").unwrap();
    let run = |model: &str| {
        let text = format!("[model]\nn = 3\n{model}\n[sweep]\ng = [0.5, 2]\n[run]\nmax_work = false\n");
        let study = write_study(&dir, &text);
        ok(&spinbat(&["run", "--fresh", &study]));
        records(&dir.join("study.jsonl"))
    };
    // a ring of three: nearest neighbour, periodic
    let reference = run("coupling = \"nn\"\nboundary = \"periodic\"");
    for model in [
        "matrix = \"ring.txt\"",
        "matrix = [[0, 1, 1], [1, 0, 1], [1, 1, 0.0]]",
        "coupling = \"matrix\"\nmatrix = \"ring.txt\"",
    ] {
        let recs = run(model);
        assert_eq!(keys(&recs), keys(&reference));
        for (r, s) in recs.iter().zip(&reference) {
            assert!((pmax(r) - pmax(s)).abs() <= 1e-12 * pmax(s), "{model}: {} vs {}", pmax(r), pmax(s));
        }
    }
    for (model, line, needle) in [
        ("matrix = [[0, 1], [1, \"x\"]]", 3, "wrong type for [model] matrix"),
        ("matrix = [[0, 1], [1, 0]]", 3, "[model] matrix: invalid coupling matrix: has 2 rows but the chain has N = 3"),
        ("matrix = \"missing.txt\"", 3, "reading coupling matrix"),
    ] {
        let study = write_study(&dir, &format!("[model]\nn = 3\n{model}\n[sweep]\ng = [1]\n"));
        let out = spinbat(&["run", "--check", &study]);
        assert_eq!(out.status.code(), Some(2), "{model}");
        let err = String::from_utf8_lossy(&out.stderr);
        let want = format!("study.toml:{line}: ");
        assert!(err.lines().any(|l| l.contains(&want) && l.contains(needle)), "no '{want}...{needle}' in:\n{err}");
    }
}

#[test]
fn a_study_with_noise_records_the_open_battery_charge_of_each_point() {
    let dir = folder("noise");
    let study = write_study(
        &dir,
        "[model]\ncoupling = \"nn\"\nalpha = 0.5\n[noise]\ndecay = 0.2\n[sweep]\ndephasing = [0.0, 0.3]\nn = [3]\n",
    );
    ok(&spinbat(&["run", &study]));
    let recs = records(&dir.join("study.jsonl"));
    assert_eq!(keys(&recs), vec!["dephasing=0,n=3|quantum", "dephasing=0.3,n=3|quantum"]);
    for (r, gamma) in recs.iter().zip(["0", "0.3"]) {
        assert_eq!(r["method"], "density-matrix");
        assert_eq!(r["settings"]["noise"]["decay"], 0.2);
        let out = spinbat(&[
            "charge",
            "--n",
            "3",
            "--coupling",
            "nn",
            "--alpha",
            "0.5",
            "--decay",
            "0.2",
            "--dephasing",
            gamma,
            "--json",
            "-",
        ]);
        let v: Value = serde_json::from_str(&ok(&out)).unwrap();
        let want = v["max_power"]["power"].as_f64().unwrap();
        assert!((pmax(r) - want).abs() <= 1e-12 * want, "dephasing {gamma}: {} vs charge {want}", pmax(r));
    }
}
