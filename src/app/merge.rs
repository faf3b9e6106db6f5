//! `credsweep merge REPORT...`: the JSON reports of `credsweep repos --shard K/N` runs combined
//! into one report with a coverage record over the whole list: every repository with its
//! status (scanned, incomplete, failed with the reason, or missing from every report given),
//! its branch tips, commits, blobs and bytes. Coverage that is not complete is exit status 2.
//!
//! SARIF logs of `repos --format sarif` are merged the same way, into one log with a run per
//! repository (`--sarif-runs per-repo`, the default: each run keeps its own
//! `automationDetails.id`, so code scanning keeps each repository's alerts apart) or one run for
//! all (`--sarif-runs combined`: the rules of every run once, each result with `properties.repo`);
//! the coverage record is in the log's `properties.credsweep`.
//!
//! Reports are untrusted files: each is size-checked, parsed strictly (an unknown field, a
//! missing one, a repository not in the list, a shard or a repository given twice are errors
//! that name the file), and all must be of the same list and the same number of shards.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::repos::{Sink, sink_error};
use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, Notes};
use crate::fsutil::Links;
use crate::report::repos::{
    CoverageRow, Document, ListInfo, Repository, SCAN, SarifRecord, SarifWriter, ShardInfo, Totals,
    Writer, combine_runs,
};

/// The largest report `merge` reads.
pub const MAX_REPORT_SIZE: u64 = 1 << 30;

/// What `credsweep merge` combines.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    pub reports: Vec<PathBuf>,
    /// Write the merged report here instead of standard output.
    pub output: Option<PathBuf>,
    /// No summary on stderr unless coverage is incomplete.
    pub quiet: bool,
    /// How SARIF logs' runs are merged.
    pub sarif_runs: SarifRuns,
}

/// How the runs of SARIF reports are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SarifRuns {
    /// One run per repository, as `repos` writes them (each with its own category).
    #[default]
    PerRepo,
    /// One run: every repository's results, each with `properties.repo`.
    Combined,
}

/// One report read back: what every kind has (the list, the shards) and what is merged.
struct Input {
    name: String,
    list: ListInfo,
    shards: Vec<ShardInfo>,
    body: Body,
}

enum Body {
    /// A JSON report's repositories.
    Json(Vec<Repository>),
    /// A SARIF log's runs and coverage rows, by repository.
    Sarif {
        runs: Vec<(usize, serde_json::Value)>,
        coverage: Vec<CoverageRow>,
    },
}

/// Reads and checks one report: JSON or SARIF, as `credsweep repos` writes them.
fn read(path: &Path) -> Result<Input> {
    let name = crate::term::escape(&path.display().to_string()).into_owned();
    let bytes = crate::fsutil::read_bounded(path, MAX_REPORT_SIZE, Links::Follow)
        .with_context(|| format!("cannot read the report {name}"))?;
    let not_ours = || {
        format!(
            "{name} is not a report of `credsweep repos --format json` or `--format sarif` (or is cut short)"
        )
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).with_context(not_ours)?;
    drop(bytes);
    let input = if value.get("runs").is_some() {
        read_sarif(&name, value).with_context(not_ours)?
    } else {
        let doc: Document = serde_json::from_value(value).with_context(not_ours)?;
        if doc.scan != SCAN || doc.tool.name != "credsweep" {
            bail!(not_ours());
        }
        Input {
            name: name.clone(),
            list: doc.list,
            shards: doc.shards,
            body: Body::Json(doc.repositories),
        }
    };
    check(&input)?;
    Ok(input)
}

/// A SARIF log of `repos`: its runs, each labelled with its repository, and its record.
fn read_sarif(name: &str, mut log: serde_json::Value) -> Result<Input> {
    if log.get("version").and_then(|v| v.as_str()) != Some("2.1.0") {
        bail!("{name} is not a SARIF 2.1.0 log");
    }
    let record = log
        .pointer_mut("/properties/credsweep")
        .map(serde_json::Value::take)
        .ok_or_else(|| anyhow::anyhow!("{name} has no `properties.credsweep` record"))?;
    let record: SarifRecord = serde_json::from_value(record)
        .with_context(|| format!("{name}: its `properties.credsweep` record is not credsweep's"))?;
    let Some(runs) = log.get_mut("runs").and_then(|r| r.as_array_mut()) else {
        bail!("{name}: `runs` is not a list");
    };
    let mut labelled = Vec::new();
    for run in runs.drain(..) {
        let index = run
            .pointer("/properties/index")
            .and_then(serde_json::Value::as_u64)
            .and_then(|i| usize::try_from(i).ok());
        let repo = run.pointer("/properties/repo").and_then(|r| r.as_str());
        match (index, repo) {
            (Some(i), Some(repo))
                if record.list.repositories.get(i).map(String::as_str) == Some(repo) =>
            {
                labelled.push((i, run));
            }
            _ => bail!("{name}: a run does not name a repository of the report's list"),
        }
    }
    Ok(Input {
        name: name.to_string(),
        list: record.list,
        shards: record.shards,
        body: Body::Sarif {
            runs: labelled,
            coverage: record.coverage,
        },
    })
}

/// What every report must hold to be merged: a list, possible shards, repositories at their
/// places in the list.
fn check(input: &Input) -> Result<()> {
    let name = &input.name;
    if input.list.repositories.is_empty() {
        bail!("{name}: the report's list is empty");
    }
    if input.shards.is_empty() {
        bail!("{name} names no shard");
    }
    for s in &input.shards {
        if s.count == 0 || s.index == 0 || s.index > s.count || s.count != input.shards[0].count {
            bail!("{name} names an impossible shard {}/{}", s.index, s.count);
        }
    }
    let at_place = |index: usize, repo: &str| -> Result<()> {
        if input.list.repositories.get(index).map(String::as_str) != Some(repo) {
            bail!(
                "{name}: repository #{index} ({}) is not at that place in the report's list",
                crate::term::escape(repo)
            );
        }
        Ok(())
    };
    match &input.body {
        Body::Json(repos) => {
            for r in repos {
                at_place(r.index, &r.repo)?;
            }
        }
        Body::Sarif { coverage, .. } => {
            for r in coverage {
                at_place(r.index, &r.repo)?;
            }
        }
    }
    Ok(())
}

/// Runs `credsweep merge`; returns the exit status.
pub fn run(merge: &MergeOptions, notes: Notes<'_>) -> Result<i32> {
    if merge.reports.is_empty() {
        bail!("give the reports to merge: credsweep merge shard-1.json shard-2.json ...");
    }
    let mut list: Option<ListInfo> = None;
    let mut sarif: Option<bool> = None;
    let mut shards: BTreeMap<ShardInfo, String> = BTreeMap::new();
    let mut rows: BTreeMap<usize, CoverageRow> = BTreeMap::new();
    let mut repositories: BTreeMap<usize, Repository> = BTreeMap::new();
    let mut runs: BTreeMap<usize, Vec<serde_json::Value>> = BTreeMap::new();
    for path in &merge.reports {
        let input = read(path)?;
        let name = input.name.clone();
        match &list {
            None => list = Some(input.list.clone()),
            Some(l) if *l != input.list => bail!(
                "{name} is a report of another list ({}, not {}): merge reports of one list",
                input.list.digest,
                l.digest
            ),
            Some(_) => {}
        }
        let is_sarif = matches!(input.body, Body::Sarif { .. });
        if *sarif.get_or_insert(is_sarif) != is_sarif {
            bail!("{name}: merge JSON reports with JSON reports, SARIF logs with SARIF logs");
        }
        if let Some((first, _)) = shards.first_key_value()
            && first.count != input.shards[0].count
        {
            bail!(
                "{name} is one of {} shards, the reports before it of {}: merge the reports of one sharding",
                input.shards[0].count,
                first.count
            );
        }
        for s in &input.shards {
            if let Some(other) = shards.insert(*s, name.clone()) {
                bail!(
                    "shard {}/{} is in two reports ({other} and {name}): give each once",
                    s.index,
                    s.count
                );
            }
        }
        let twice = |index: usize| {
            anyhow::anyhow!(
                "{name}: repository #{index} is in two reports: give each shard's report once"
            )
        };
        match input.body {
            Body::Json(repos) => {
                for r in repos {
                    let index = r.index;
                    if rows.insert(index, r.coverage()).is_some() {
                        return Err(twice(index));
                    }
                    repositories.insert(index, r);
                }
            }
            Body::Sarif {
                runs: these,
                coverage,
            } => {
                for r in coverage {
                    let index = r.index;
                    if rows.insert(index, r).is_some() {
                        return Err(twice(index));
                    }
                }
                for (index, run) in these {
                    if !rows.contains_key(&index) {
                        bail!("{name}: a run of repository #{index} has no coverage row");
                    }
                    runs.entry(index).or_default().push(run);
                }
            }
        }
    }
    let list = list.expect("at least one report was read");
    let shards: Vec<ShardInfo> = shards.into_keys().collect();
    let coverage: Vec<CoverageRow> = list
        .repositories
        .iter()
        .enumerate()
        .map(|(i, repo)| {
            rows.remove(&i)
                .unwrap_or_else(|| CoverageRow::missing(i, repo.clone()))
        })
        .collect();
    let totals = Totals::of(list.repositories.len(), &coverage);

    let out = merge.output.as_deref();
    let io = |e| sink_error(out, e);
    if sarif == Some(true) {
        let mut w = SarifWriter::start(Sink::open(out)?).map_err(io)?;
        let runs: Vec<serde_json::Value> = runs.into_values().flatten().collect();
        match merge.sarif_runs {
            SarifRuns::PerRepo => {
                for run in &runs {
                    w.run(run).map_err(io)?;
                }
            }
            SarifRuns::Combined => w.run(&combine_runs(&runs, &coverage)).map_err(io)?,
        }
        let record = SarifRecord {
            list,
            shards: shards.clone(),
            coverage: coverage.clone(),
            summary: totals.clone(),
        };
        w.finish(&record).map_err(io)?.close()?;
    } else {
        let mut w = Writer::start(Sink::open(out)?, &list, &shards).map_err(io)?;
        for r in repositories.values() {
            w.repository(r).map_err(io)?;
        }
        w.finish(&coverage, &totals).map_err(io)?.close()?;
    }
    let given: BTreeSet<u32> = shards.iter().map(|s| s.index).collect();
    let count = shards.first().map_or(1, |s| s.count);
    let absent: Vec<String> = (1..=count)
        .filter(|i| !given.contains(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !absent.is_empty() {
        notes(format!(
            "credsweep: no report of shard {} was given: its repositories are missing",
            absent.join(", ")
        ));
    }
    if !merge.quiet || !totals.complete() {
        for line in crate::report::repos::summary_lines(&totals, &shards, &coverage) {
            notes(line);
        }
    }
    Ok(if !totals.complete() {
        EXIT_ERROR
    } else if totals.findings > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}
