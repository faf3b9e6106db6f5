//! The report of `credsweep repos` and `credsweep merge`: many repositories in one JSON
//! document, written as each repository finishes so that memory does not grow with their
//! number, and read back by `merge`.
//!
//! ```text
//! { "tool": {..}, "scan": "repos",
//!   "list": { "digest": "sha256:..", "repositories": ["<line>", ..], "duplicates": 0 },
//!   "shards": [ { "index": K, "count": N } ],
//!   "repositories": [ { "index", "repo", "status", "reason"?, "heads", "commits", "blobs",
//!                       "bytes", "errors", "suppressed", "by_provider", "findings": [..],
//!                       "skipped": [..], "notes": [..] }, .. ],
//!   "coverage": [ { "index", "repo", "status", "reason"?, "heads", "commits", "blobs",
//!                   "bytes", "findings" }, .. ],
//!   "summary": { .. } }
//! ```
//!
//! `repositories` are in the order of the list (whatever order they finished in), so the same
//! list gives the same document; `coverage` has a row for every repository the report answers
//! for (its shard's; after `merge`, the whole list's, `missing` for those no report covered).

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Deserialize, Serialize};

/// What became of one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Scanned in full.
    Scanned,
    /// Scanned, but some of it could not be read (its `skipped` list says what).
    Incomplete,
    /// Not scanned: it could not be cloned or opened (`reason` says why).
    Failed,
    /// In the list, but in no report given to `merge`.
    Missing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scanned => "scanned",
            Status::Incomplete => "incomplete",
            Status::Failed => "failed",
            Status::Missing => "missing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Tool {
        Tool {
            name: "credsweep".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// The list the report is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListInfo {
    /// Of the list's keys ([`crate::sources::repo_list::RepoList::digest`]).
    pub digest: String,
    /// Every repository of the list, as reports show it, in order; `index` points here.
    pub repositories: Vec<String>,
    /// Lines left out as repeats of an earlier one.
    pub duplicates: usize,
}

/// A shard: `index` of `count`, 1-based. An unsharded run is 1 of 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
}

/// A branch tip the scan started from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    #[serde(rename = "ref")]
    pub name: String,
    pub commit: String,
}

/// One repository's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repository {
    pub index: usize,
    pub repo: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Branch tips (`refs/heads/*`, or `HEAD` when detached), at most [`MAX_HEADS`].
    pub heads: Vec<Head>,
    /// Branch tips past [`MAX_HEADS`], only counted.
    pub heads_omitted: usize,
    pub commits: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub errors: usize,
    pub suppressed: usize,
    /// Findings by provider (the rule's `provider`, else its id).
    pub by_provider: BTreeMap<String, usize>,
    /// As in `credsweep git --format json`, each with `repo`.
    pub findings: Vec<serde_json::Value>,
    pub skipped: Vec<serde_json::Value>,
    pub notes: Vec<String>,
}

/// The most branch tips a repository's record lists.
pub const MAX_HEADS: usize = 100;

impl Repository {
    /// A repository that was not scanned, and why.
    pub fn failed(index: usize, repo: String, reason: String) -> Repository {
        Repository {
            index,
            repo,
            status: Status::Failed,
            reason: Some(reason),
            heads: Vec::new(),
            heads_omitted: 0,
            commits: 0,
            blobs: 0,
            bytes: 0,
            errors: 0,
            suppressed: 0,
            by_provider: BTreeMap::new(),
            findings: Vec::new(),
            skipped: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Its row in the coverage record.
    pub fn coverage(&self) -> CoverageRow {
        CoverageRow {
            index: self.index,
            repo: self.repo.clone(),
            status: self.status,
            reason: self.reason.clone(),
            heads: self.heads.clone(),
            heads_omitted: self.heads_omitted,
            commits: self.commits,
            blobs: self.blobs,
            bytes: self.bytes,
            findings: self.findings.len(),
            by_provider: self.by_provider.clone(),
        }
    }
}

/// A row of the coverage record: what a reviewer needs to see that a repository was covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageRow {
    pub index: usize,
    pub repo: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub heads: Vec<Head>,
    pub heads_omitted: usize,
    pub commits: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub findings: usize,
    pub by_provider: BTreeMap<String, usize>,
}

impl CoverageRow {
    /// A repository of the list no report covered.
    pub fn missing(index: usize, repo: String) -> CoverageRow {
        let why = "no report given to merge covers it (its shard's report is missing)";
        CoverageRow {
            status: Status::Missing,
            ..Repository::failed(index, repo, why.to_string()).coverage()
        }
    }
}

/// How many repositories a report names with most findings.
pub const TOP: usize = 10;

/// The totals at the end of a report (and of the summary on stderr).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    /// In the list, and of them in this report's shards.
    pub listed: usize,
    pub covered: usize,
    pub scanned: usize,
    pub incomplete: usize,
    pub failed: usize,
    pub missing: usize,
    pub findings: usize,
    pub commits: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub by_provider: BTreeMap<String, usize>,
    /// The repositories with most findings (at most [`TOP`], most first, then by list order).
    pub most_findings: Vec<Ranked>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ranked {
    pub repo: String,
    pub findings: usize,
}

impl Totals {
    /// The totals of a coverage record over a list of `listed` repositories.
    pub fn of(listed: usize, coverage: &[CoverageRow]) -> Totals {
        let mut t = Totals {
            listed,
            covered: coverage.len(),
            ..Totals::default()
        };
        for row in coverage {
            match row.status {
                Status::Scanned => t.scanned += 1,
                Status::Incomplete => t.incomplete += 1,
                Status::Failed => t.failed += 1,
                Status::Missing => t.missing += 1,
            }
            t.findings += row.findings;
            t.commits += row.commits;
            t.blobs += row.blobs;
            t.bytes += row.bytes;
            for (p, n) in &row.by_provider {
                *t.by_provider.entry(p.clone()).or_default() += n;
            }
        }
        let mut ranked: Vec<&CoverageRow> = coverage.iter().filter(|r| r.findings > 0).collect();
        ranked.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.index.cmp(&b.index)));
        t.most_findings = ranked
            .into_iter()
            .take(TOP)
            .map(|r| Ranked {
                repo: r.repo.clone(),
                findings: r.findings,
            })
            .collect();
        t
    }

    /// Whether every repository the report answers for was scanned in full.
    pub fn complete(&self) -> bool {
        self.incomplete == 0 && self.failed == 0 && self.missing == 0
    }
}

/// A whole report, as `merge` reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub tool: Tool,
    pub scan: String,
    pub list: ListInfo,
    pub shards: Vec<ShardInfo>,
    pub repositories: Vec<Repository>,
    pub coverage: Vec<CoverageRow>,
    pub summary: Totals,
}

/// The value of `scan` in these reports.
pub const SCAN: &str = "repos";

/// Writes a report as its repositories finish: the head first, each repository as it comes
/// (the caller gives them in list order), the coverage record and totals last.
pub struct Writer<W: Write> {
    out: W,
    repositories: usize,
}

/// `value` pretty-printed and indented by `indent` spaces after its first line, with invisible
/// format characters escaped as the JSON report escapes them.
fn pretty<T: Serialize>(value: &T, indent: usize) -> String {
    let text = serde_json::to_string_pretty(value).expect("a report serializes");
    let pad = " ".repeat(indent);
    crate::term::escape_json_invisibles(text.replace('\n', &format!("\n{pad}")))
}

impl<W: Write> Writer<W> {
    pub fn start(mut out: W, list: &ListInfo, shards: &[ShardInfo]) -> std::io::Result<Writer<W>> {
        write!(
            out,
            "{{\n  \"tool\": {},\n  \"scan\": \"{SCAN}\",\n  \"list\": {},\n  \"shards\": {},\n  \"repositories\": [",
            pretty(&Tool::this(), 2),
            pretty(list, 2),
            pretty(&shards, 2),
        )?;
        Ok(Writer {
            out,
            repositories: 0,
        })
    }

    pub fn repository(&mut self, r: &Repository) -> std::io::Result<()> {
        let sep = if self.repositories == 0 { "" } else { "," };
        self.repositories += 1;
        write!(self.out, "{sep}\n    {}", pretty(r, 4))?;
        // A reader following the file (`tail -f`) sees each repository as it is done.
        self.out.flush()
    }

    /// Ends the document; returns the writer to be closed by the caller.
    pub fn finish(mut self, coverage: &[CoverageRow], totals: &Totals) -> std::io::Result<W> {
        let close = if self.repositories == 0 { "]" } else { "\n  ]" };
        write!(
            self.out,
            "{close},\n  \"coverage\": {},\n  \"summary\": {}\n}}\n",
            pretty(&coverage, 2),
            pretty(totals, 2)
        )?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The one-screen summary printed on stderr at the end of `repos` and `merge`: what was
/// covered, findings by provider, the repositories with most findings, and what failed. Each
/// line is escaped for the terminal.
pub fn summary_lines(
    totals: &Totals,
    shards: &[ShardInfo],
    coverage: &[CoverageRow],
) -> Vec<String> {
    use crate::term::{escape, plural};
    let mut out = Vec::new();
    let share = match shards {
        [ShardInfo { index: 1, count: 1 }] => String::new(),
        [s] => format!(" (shard {}/{}: {})", s.index, s.count, totals.covered),
        _ => format!(" ({} merged)", plural(shards.len(), "shard", "shards")),
    };
    out.push(format!(
        "credsweep: {} in the list{share}: {} scanned, {} incomplete, {} failed, {} missing",
        plural(totals.listed, "repository", "repositories"),
        totals.scanned,
        totals.incomplete,
        totals.failed,
        totals.missing,
    ));
    out.push(format!(
        "credsweep: {} commits, {} blobs, {} bytes read",
        totals.commits, totals.blobs, totals.bytes
    ));
    if totals.findings == 0 {
        out.push("credsweep: no findings".to_string());
    } else {
        let mut by: Vec<(&String, &usize)> = totals.by_provider.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = by
            .iter()
            .take(12)
            .map(|(p, n)| format!("{} {n}", escape(p)))
            .collect();
        let more = if by.len() > 12 {
            format!(", {} more providers", by.len() - 12)
        } else {
            String::new()
        };
        out.push(format!(
            "credsweep: {} by provider: {}{more}",
            plural(totals.findings, "finding", "findings"),
            shown.join(", ")
        ));
        out.push(format!(
            "credsweep: most findings ({} of {}):",
            totals.most_findings.len(),
            plural(
                coverage.iter().filter(|r| r.findings > 0).count(),
                "repository",
                "repositories"
            )
        ));
        for r in &totals.most_findings {
            out.push(format!("  {:>6}  {}", r.findings, escape(&r.repo)));
        }
    }
    let bad: Vec<&CoverageRow> = coverage
        .iter()
        .filter(|r| r.status != Status::Scanned)
        .collect();
    for r in bad.iter().take(TOP) {
        out.push(format!(
            "credsweep: {}: {}{}",
            r.status.as_str(),
            escape(&r.repo),
            r.reason
                .as_deref()
                .map(|why| format!(": {}", escape(why)))
                .unwrap_or_default()
        ));
    }
    if bad.len() > TOP {
        out.push(format!(
            "credsweep: ... and {} more not scanned in full (see the report's coverage record)",
            bad.len() - TOP
        ));
    }
    if !totals.complete() {
        out.push("credsweep: coverage is incomplete (exit status 2)".to_string());
    }
    out
}

/// What a SARIF log of `repos` (and `merge`) holds beside its runs, in the log's
/// `properties.credsweep`: the list, the shards, the coverage record and the totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SarifRecord {
    pub list: ListInfo,
    pub shards: Vec<ShardInfo>,
    pub coverage: Vec<CoverageRow>,
    pub summary: Totals,
}

/// Writes a SARIF log of many repositories as they finish: one run per repository (each as
/// `credsweep git --format sarif` writes it, with `properties.repo`, `properties.index` and
/// `properties.status`), then the [`SarifRecord`].
pub struct SarifWriter<W: Write> {
    out: W,
    runs: usize,
}

impl<W: Write> SarifWriter<W> {
    pub fn start(mut out: W) -> std::io::Result<SarifWriter<W>> {
        write!(
            out,
            "{{\n  \"$schema\": \"{}\",\n  \"version\": \"2.1.0\",\n  \"runs\": [",
            super::sarif::SCHEMA_URI
        )?;
        Ok(SarifWriter { out, runs: 0 })
    }

    pub fn run(&mut self, run: &serde_json::Value) -> std::io::Result<()> {
        let sep = if self.runs == 0 { "" } else { "," };
        self.runs += 1;
        write!(self.out, "{sep}\n    {}", pretty(run, 4))?;
        self.out.flush()
    }

    pub fn finish(mut self, record: &SarifRecord) -> std::io::Result<W> {
        let close = if self.runs == 0 { "]" } else { "\n  ]" };
        write!(
            self.out,
            "{close},\n  \"properties\": {{\n    \"credsweep\": {}\n  }}\n}}\n",
            pretty(record, 4)
        )?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The SARIF run of a repository that was not scanned: no results, an invocation that did not
/// succeed, and the reason.
pub fn failed_run(index: usize, repo: &str, reason: &str) -> serde_json::Value {
    let mut run = serde_json::json!({
        "tool": { "driver": {
            "name": "credsweep",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": super::sarif::INFORMATION_URI,
        } },
        "results": [],
        "invocations": [ {
            "executionSuccessful": false,
            "toolExecutionNotifications": [ {
                "level": "error",
                "message": { "text": format!("{repo} was not scanned: {reason}") },
            } ],
        } ],
    });
    label_run(&mut run, index, repo, Status::Failed);
    run
}

/// Names the repository a SARIF run is about: `properties.repo`, `.index`, `.status`, and an
/// `automationDetails.id` of its own, so that code scanning keeps each repository's alerts apart.
pub fn label_run(run: &mut serde_json::Value, index: usize, repo: &str, status: Status) {
    let Some(o) = run.as_object_mut() else {
        return;
    };
    o.insert(
        "automationDetails".to_string(),
        serde_json::json!({ "id": format!("credsweep/repos/{repo}/") }),
    );
    let props = o
        .entry("properties")
        .or_insert_with(|| serde_json::json!({}));
    if let Some(p) = props.as_object_mut() {
        p.insert("repo".to_string(), repo.into());
        p.insert("index".to_string(), index.into());
        p.insert("status".to_string(), status.as_str().into());
    }
}

/// The runs of many repositories as one run: the first run's tool with the union of every
/// run's rules (by id), every result with `properties.repo` and its `ruleIndex` into the union,
/// and one invocation that succeeded only if coverage is complete, naming what was not scanned.
pub fn combine_runs(runs: &[serde_json::Value], coverage: &[CoverageRow]) -> serde_json::Value {
    use serde_json::{Value, json};
    let mut driver = runs
        .iter()
        .find_map(|r| r.pointer("/tool/driver").cloned())
        .unwrap_or_else(|| json!({ "name": "credsweep" }));
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_at: BTreeMap<String, usize> = BTreeMap::new();
    let mut results: Vec<Value> = Vec::new();
    for run in runs {
        let repo = run
            .pointer("/properties/repo")
            .cloned()
            .unwrap_or(Value::Null);
        let run_rules = run
            .pointer("/tool/driver/rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for rule in run_rules {
            if let Some(id) = rule.get("id").and_then(Value::as_str)
                && !rule_at.contains_key(id)
            {
                rule_at.insert(id.to_string(), rules.len());
                rules.push(rule.clone());
            }
        }
        for result in run
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut result = result.clone();
            let Some(o) = result.as_object_mut() else {
                continue;
            };
            let index = o
                .get("ruleId")
                .and_then(Value::as_str)
                .and_then(|id| rule_at.get(id).copied());
            match index {
                Some(i) => {
                    o.insert("ruleIndex".to_string(), i.into());
                }
                None => {
                    o.remove("ruleIndex");
                }
            }
            let props = o.entry("properties").or_insert_with(|| json!({}));
            if let Some(p) = props.as_object_mut() {
                p.insert("repo".to_string(), repo.clone());
            }
            results.push(result);
        }
    }
    if let Some(d) = driver.as_object_mut() {
        d.insert("rules".to_string(), Value::Array(rules));
    }
    let notifications: Vec<Value> = coverage
        .iter()
        .filter(|r| r.status != Status::Scanned)
        .map(|r| {
            json!({
                "level": "error",
                "message": { "text": format!(
                    "{} {}: {}",
                    r.repo,
                    r.status.as_str(),
                    r.reason.as_deref().unwrap_or("")
                ) },
            })
        })
        .collect();
    json!({
        "tool": { "driver": driver },
        "automationDetails": { "id": "credsweep/repos/" },
        "results": results,
        "invocations": [ {
            "executionSuccessful": notifications.is_empty(),
            "toolExecutionNotifications": notifications,
        } ],
    })
}
