//! `spinbat merge STUDY.toml`: joins the shard files of `spinbat run --shard K/M` into the
//! study's records (and CSV and plot), after checking that every (point, solver) of the
//! grid is there exactly once.

use crate::commands::run::{check_hash, in_job_order, shard_path, write_outputs, Shard};
use crate::records::{self, Line};
use crate::study_file;
use crate::CliError;
use anyhow::anyhow;
use clap::Args;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Options of `spinbat merge`.
#[derive(Debug, Args)]
#[command(after_help = "\
Finds STEM.shard-K-of-M.EXT beside the study's records file (all of one M), checks that
they were made with this study's settings and that every (point, solver) of the grid
appears exactly once, then writes the records in grid order, the CSV and the plot. Missing
or duplicated jobs are listed (exit status 1) and nothing is written; rerun the shards that
miss jobs (`spinbat run STUDY.toml --shard K/M` resumes) and merge again.")]
pub struct MergeArgs {
    /// The study file (TOML) whose shards to merge.
    #[arg(value_name = "STUDY.toml")]
    pub study: PathBuf,
}

/// The shard files beside `records`: `(shard, path)`, sorted.
pub fn find_shards(records: &Path) -> Result<Vec<(Shard, PathBuf)>, CliError> {
    let dir = match records.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem = records.file_stem().and_then(|s| s.to_str()).unwrap_or("records");
    let ext = records.extension().and_then(|e| e.to_str()).map(|e| format!(".{e}")).unwrap_or_default();
    let prefix = format!("{stem}.shard-");
    let entries = std::fs::read_dir(&dir).map_err(|e| CliError::runtime(anyhow!("listing {}: {e}", dir.display())))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(middle) = name.strip_prefix(&prefix).and_then(|r| r.strip_suffix(&ext)) else { continue };
        let Some((k, m)) = middle.split_once("-of-") else { continue };
        if let (Ok(k), Ok(m)) = (k.parse::<usize>(), m.parse::<usize>()) {
            if k >= 1 && k <= m {
                let shard = Shard { k, m };
                // the name we would write, so `a.shard-01-of-3` is not taken for shard 1
                if shard_path(records, shard).file_name() == entry.path().file_name() {
                    out.push((shard, entry.path()));
                }
            }
        }
    }
    out.sort_by_key(|(s, _)| (s.m, s.k));
    Ok(out)
}

const LIST_AT_MOST: usize = 20;

pub fn run(args: MergeArgs) -> Result<(), CliError> {
    let file = study_file::load(&args.study)?;
    let study = &file.study;
    let shards = find_shards(&file.records)?;
    let pattern = shard_path(&file.records, Shard { k: 0, m: 0 }).display().to_string().replace("0-of-0", "K-of-M");
    if shards.is_empty() {
        return Err(CliError::input(anyhow!(
            "no shard files {pattern} found; run `spinbat run {} --shard K/M` for K = 1..M first",
            file.path.display()
        )));
    }
    let splits: BTreeSet<usize> = shards.iter().map(|(s, _)| s.m).collect();
    if splits.len() > 1 {
        let list: Vec<String> = splits.iter().map(|m| format!("of {m}")).collect();
        return Err(CliError::input(anyhow!(
            "shard files of different splits ({}) found beside {}; remove the stale ones and merge again",
            list.join(", "),
            file.records.display()
        )));
    }
    let m = shards[0].0.m;
    let present: HashSet<usize> = shards.iter().map(|(s, _)| s.k).collect();
    let absent: Vec<usize> = (1..=m).filter(|k| !present.contains(k)).collect();

    let jobs = study.jobs();
    let in_grid: HashSet<&str> = jobs.iter().map(|j| j.key.as_str()).collect();
    let mut found: HashMap<String, Vec<usize>> = HashMap::new();
    let mut lines: Vec<Line> = Vec::new();
    let mut torn = Vec::new();
    let mut extra = 0usize;
    for (shard, path) in &shards {
        let contents = records::read(path)?;
        check_hash(path, &contents, study)?;
        if contents.torn {
            torn.push(path.display().to_string());
        }
        for l in contents.lines {
            if !in_grid.contains(l.record.key.as_str()) {
                extra += 1;
                continue;
            }
            let seen = found.entry(l.record.key.clone()).or_default();
            seen.push(shard.k);
            if seen.len() == 1 {
                lines.push(l);
            }
        }
    }
    let missing: Vec<_> = jobs.iter().filter(|j| !found.contains_key(&j.key)).collect();
    let duplicated: BTreeMap<usize, (&str, &Vec<usize>)> = jobs
        .iter()
        .filter_map(|j| found.get(&j.key).filter(|s| s.len() > 1).map(|s| (j.index, (j.key.as_str(), s))))
        .collect();
    if !missing.is_empty() || !duplicated.is_empty() {
        let mut msg = format!(
            "merge of {} shard file{} ({pattern}, M = {m}) failed: {} of {} jobs missing, {} duplicated; nothing \
             was written",
            shards.len(),
            if shards.len() == 1 { "" } else { "s" },
            missing.len(),
            jobs.len(),
            duplicated.len()
        );
        for k in &absent {
            msg.push_str(&format!(
                "\n  shard {k} of {m}: no file {}",
                shard_path(&file.records, Shard { k: *k, m }).display()
            ));
        }
        for p in &torn {
            msg.push_str(&format!("\n  {p}: a torn last line was dropped"));
        }
        for j in missing.iter().take(LIST_AT_MOST) {
            msg.push_str(&format!("\n  missing {} (shard {} of {m})", j.key, j.point_index % m + 1));
        }
        if missing.len() > LIST_AT_MOST {
            msg.push_str(&format!("\n  ... and {} more missing", missing.len() - LIST_AT_MOST));
        }
        for (key, s) in duplicated.values().take(LIST_AT_MOST) {
            let list: Vec<String> = s.iter().map(|k| k.to_string()).collect();
            msg.push_str(&format!("\n  duplicated {key} (in shards {})", list.join(", ")));
        }
        if duplicated.len() > LIST_AT_MOST {
            msg.push_str(&format!("\n  ... and {} more duplicated", duplicated.len() - LIST_AT_MOST));
        }
        return Err(CliError::runtime(anyhow!(msg)));
    }
    let ordered = in_job_order(&jobs, lines);
    records::ensure_parent(&file.records)?;
    records::write_atomic(&file.records, ordered.iter().map(|l| l.text.as_str()))?;
    let refs: Vec<_> = ordered.iter().map(|l| &l.record).collect();
    let wrote = write_outputs(&file, &refs)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "merged      {} shards ({pattern}, M = {m}): {} records into {}",
        shards.len(),
        ordered.len(),
        file.records.display()
    );
    if extra > 0 {
        let _ = writeln!(out, "note        {extra} records of jobs no longer in the grid were left out");
    }
    if !wrote.is_empty() {
        let _ = writeln!(out, "wrote       {}", wrote.join(", "));
    }
    Ok(())
}
