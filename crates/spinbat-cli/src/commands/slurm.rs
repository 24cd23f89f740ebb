//! `spinbat slurm STUDY.toml --tasks M`: the Slurm job array of `spinbat run --shard K/M`
//! (task `K` = shard `K`) and a merge job (`spinbat merge`) that waits for every task
//! (`--dependency=afterok:ARRAY`); written as two batch scripts and, with `--submit`,
//! submitted with `sbatch`. A thin layer over `run --shard` and `merge`: nothing is computed
//! here.

use crate::commands::run::{shard_path, Shard};
use crate::study_file;
use crate::CliError;
use anyhow::anyhow;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Options of `spinbat slurm`.
#[derive(Debug, Args)]
#[command(after_help = "\
Writes two batch scripts into the output folder (default: the study file's folder):
  STEM.array.sbatch   a job array, task K of 1..M runs
                      spinbat run STUDY.toml --shard K/M --threads $SLURM_CPUS_PER_TASK
                      (its records go to STEM.shard-K-of-M.jsonl beside the study's records)
  STEM.merge.sbatch   spinbat merge STUDY.toml (the records, CSV and plot of the whole grid)
with absolute paths to this spinbat binary and to the study, logs STEM-JOBID_K.out in the
output folder. --submit runs `sbatch --parsable STEM.array.sbatch` and then
`sbatch --dependency=afterok:JOBID STEM.merge.sbatch` and prints both job ids; without
it, the commands to do so are printed. The study file is checked first (exit status 2).

A task that was cancelled, failed or hit its time limit resumes where it stopped when it
runs again (every finished job of a shard is on disk): sbatch --array=K STEM.array.sbatch,
then sbatch --dependency=afterok:NEWID STEM.merge.sbatch (a merge job waiting on a failed
array never starts: cancel it with scancel).

Examples:
  spinbat slurm study.toml --tasks 8 --cpus-per-task 4 --time 04:00:00 --partition short
  spinbat slurm study.toml --tasks 8 --submit")]
pub struct SlurmArgs {
    /// The study file (TOML) to run as a job array.
    #[arg(value_name = "STUDY.toml")]
    pub study: PathBuf,
    /// Number of array tasks M (shards; 1 <= M <= the study's grid points).
    #[arg(long, value_name = "M")]
    pub tasks: usize,
    /// Slurm partition of both jobs (#SBATCH --partition); default: the cluster's default.
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Time limit of each array task and of the merge job (#SBATCH --time), e.g. 04:00:00
    /// (Slurm's forms: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS).
    #[arg(long, value_name = "HH:MM:SS")]
    pub time: Option<String>,
    /// CPUs of each array task (#SBATCH --cpus-per-task; spinbat's --threads).
    #[arg(long, value_name = "C", default_value_t = 1)]
    pub cpus_per_task: usize,
    /// Folder of the scripts and the jobs' logs (created); default: the study file's folder.
    #[arg(long, value_name = "D")]
    pub output_dir: Option<PathBuf>,
    /// Submit both jobs with sbatch (the merge after the array: afterok) and print their ids.
    #[arg(long)]
    pub submit: bool,
}

/// The two batch scripts of a study.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    /// Path and text of the array script.
    pub array: (PathBuf, String),
    /// Path and text of the merge script.
    pub merge: (PathBuf, String),
}

/// `s` quoted for bash: as it is when it holds only safe characters, else in single quotes.
fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Whether `t` has the form of a Slurm time limit: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`,
/// `D-HH:MM` or `D-HH:MM:SS` (every field digits), or `UNLIMITED`/`INFINITE`.
fn is_slurm_time(t: &str) -> bool {
    if matches!(t, "UNLIMITED" | "INFINITE" | "unlimited" | "infinite") {
        return true;
    }
    let digits = |s: &str| !s.is_empty() && s.len() <= 6 && s.chars().all(|c| c.is_ascii_digit());
    let (days, rest) = match t.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, t),
    };
    let fields: Vec<&str> = rest.split(':').collect();
    let ok_fields = fields.iter().all(|f| digits(f));
    match days {
        Some(d) => digits(d) && ok_fields && (1..=3).contains(&fields.len()),
        None => ok_fields && (1..=3).contains(&fields.len()),
    }
}

/// `path` made absolute against the working folder (a job starts elsewhere).
fn absolute(path: &Path) -> Result<PathBuf, CliError> {
    std::path::absolute(path).map_err(|e| CliError::input(anyhow!("{}: {e}", path.display())))
}

/// The `#SBATCH` lines both jobs share.
fn common_directives(args: &SlurmArgs) -> String {
    let mut s = String::new();
    if let Some(p) = &args.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = &args.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    s
}

/// Checks the arguments and the study file, and makes the two scripts (nothing written).
///
/// # Errors
/// Exit status 2: `--tasks 0` or more tasks than grid points, `--cpus-per-task 0`, a
/// malformed `--time` or `--partition`, an output folder with white space in its name, or
/// the study file missing or refused (every problem with its line).
pub fn scripts(args: &SlurmArgs) -> Result<Scripts, CliError> {
    if args.tasks == 0 {
        return Err(CliError::input(anyhow!("--tasks 0: a job array needs at least one task (M >= 1)")));
    }
    if args.cpus_per_task == 0 {
        return Err(CliError::input(anyhow!("--cpus-per-task 0: each task needs at least one CPU")));
    }
    if let Some(t) = &args.time {
        if !is_slurm_time(t) {
            return Err(CliError::input(anyhow!(
                "--time {t}: expected a Slurm time limit such as 04:00:00 (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or \
                 D-HH:MM:SS)"
            )));
        }
    }
    if let Some(p) = &args.partition {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || "_-.,".contains(c)) {
            return Err(CliError::input(anyhow!(
                "--partition '{p}': expected a partition name (letters, digits, _ - . and commas between names)"
            )));
        }
    }
    let file = study_file::load(&args.study)?;
    let points = file.study.grid().len();
    if args.tasks > points {
        return Err(CliError::input(anyhow!(
            "--tasks {}: {} has {points} grid point{}, so at most {points} tasks have work (each task takes whole \
             points)",
            args.tasks,
            args.study.display(),
            if points == 1 { "" } else { "s" }
        )));
    }
    let study = absolute(&args.study)?;
    let dir = match &args.output_dir {
        Some(d) => absolute(d)?,
        None => study.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
    };
    if dir.to_string_lossy().chars().any(char::is_whitespace) {
        return Err(CliError::input(anyhow!(
            "output folder '{}': Slurm's #SBATCH --output cannot hold white space; pick another --output-dir",
            dir.display()
        )));
    }
    let exe = std::env::current_exe()
        .and_then(|e| e.canonicalize())
        .map_err(|e| CliError::runtime(anyhow!("finding the spinbat binary: {e}")))?;
    let stem = args.study.file_stem().and_then(|s| s.to_str()).unwrap_or("study").to_string();
    let m = args.tasks;
    let (exe_q, study_q) = (quote(&exe.to_string_lossy()), quote(&study.to_string_lossy()));
    let shard_files = shard_path(&absolute(&file.records)?, Shard { k: 0, m: 0 })
        .display()
        .to_string()
        .replace("0-of-0", &format!("K-of-{m}"));
    let common = common_directives(args);
    let array_text = format!(
        "#!/bin/bash\n\
         # spinbat study {study}, as {m} shards: task K runs shard K of {m} (records in\n\
         # {shard_files}); written by `spinbat slurm`. A task that stopped resumes\n\
         # where it stopped when it runs again: sbatch --array=K this-script\n\
         #SBATCH --job-name=spinbat-{stem}\n\
         #SBATCH --array=1-{m}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         {common}\
         #SBATCH --output={out}/{stem}-%A_%a.out\n\
         set -euo pipefail\n\
         exec {exe_q} run {study_q} --shard \"${{SLURM_ARRAY_TASK_ID}}/{m}\" --threads \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"\n",
        study = study.display(),
        cpus = args.cpus_per_task,
        out = dir.display(),
    );
    let merge_text = format!(
        "#!/bin/bash\n\
         # spinbat study {study}: merges the {m} shards of {stem}.array.sbatch into the study's\n\
         # records, CSV and plot; submit with --dependency=afterok:ARRAY_JOB_ID. Written by `spinbat slurm`.\n\
         #SBATCH --job-name=spinbat-{stem}-merge\n\
         #SBATCH --cpus-per-task=1\n\
         {common}\
         #SBATCH --output={out}/{stem}-merge-%j.out\n\
         set -euo pipefail\n\
         exec {exe_q} merge {study_q}\n",
        study = study.display(),
        out = dir.display(),
    );
    Ok(Scripts {
        array: (dir.join(format!("{stem}.array.sbatch")), array_text),
        merge: (dir.join(format!("{stem}.merge.sbatch")), merge_text),
    })
}

/// `sbatch --parsable ARGS`: the job id (the text before `;cluster`).
fn sbatch(args: &[&str]) -> Result<String, CliError> {
    let out = Command::new("sbatch").arg("--parsable").args(args).output().map_err(|e| {
        CliError::runtime(anyhow!(
            "running sbatch: {e} (submit from a machine with Slurm's client commands, or run the printed sbatch \
             commands there)"
        ))
    })?;
    if !out.status.success() {
        return Err(CliError::runtime(anyhow!(
            "sbatch --parsable {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(CliError::runtime(anyhow!("sbatch --parsable printed '{}', not a job id", text.trim())));
    }
    Ok(id)
}

pub fn run(args: SlurmArgs) -> Result<(), CliError> {
    let s = scripts(&args)?;
    let dir = s.array.0.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&dir).map_err(|e| CliError::runtime(anyhow!("creating {}: {e}", dir.display())))?;
    for (path, text) in [&s.array, &s.merge] {
        std::fs::write(path, text).map_err(|e| CliError::runtime(anyhow!("writing {}: {e}", path.display())))?;
    }
    let (array, merge) = (s.array.0.display().to_string(), s.merge.0.display().to_string());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "wrote       {array} (job array: {} tasks, task K = shard K/{})", args.tasks, args.tasks);
    let _ = writeln!(out, "wrote       {merge} (spinbat merge, after every task)");
    if !args.submit {
        let _ = writeln!(out, "submit      jobid=$(sbatch --parsable {})", quote(&array));
        let _ = writeln!(out, "            sbatch --dependency=afterok:${{jobid}} {}", quote(&merge));
        let _ = writeln!(out, "            (or spinbat slurm ... --submit)");
        return Ok(());
    }
    drop(out);
    let array_id = sbatch(&[&array])?;
    let merge_id = sbatch(&[&format!("--dependency=afterok:{array_id}"), &merge])?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "submitted   array job {array_id} ({} tasks)", args.tasks);
    let _ = writeln!(out, "submitted   merge job {merge_id} (after array job {array_id} succeeds)");
    let _ = writeln!(
        out,
        "a task K that failed: sbatch --array=K {} (it resumes), then scancel {merge_id} and sbatch \
         --dependency=afterok:NEWID {}",
        quote(&array),
        quote(&merge)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_time_limits_are_recognised() {
        for t in ["30", "30:00", "04:00:00", "1-12", "1-12:30", "2-00:00:00", "UNLIMITED"] {
            assert!(is_slurm_time(t), "{t}");
        }
        for t in ["", "4h", "1:2:3:4", "-1", "1-", "::", "04:00:0x", "1-2-3"] {
            assert!(!is_slurm_time(t), "{t}");
        }
    }

    #[test]
    fn quoting_keeps_safe_paths_and_quotes_the_rest() {
        assert_eq!(quote("/a/b-c_d.toml"), "/a/b-c_d.toml");
        assert_eq!(quote("/a b/c"), "'/a b/c'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
