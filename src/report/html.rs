//! The HTML report: one self-contained file for an audit, to read in a browser and to hand to
//! others (`--format html`).
//!
//! A [`Report`] becomes, top to bottom: a header saying what was scanned (repository or paths,
//! which commits, how many blobs or files and bytes, when and how long, and a digest of the rules
//! in force), a summary by provider and severity, a timeline of the month each secret was first
//! committed (inline SVG; history scans only), the verification outcomes when `--verify` ran
//! (active first), the findings table, what to do for each rule that fired, and what was not
//! scanned. Everything is written with `write!` into one `String`; there is no template engine.
//!
//! - **Self-contained.** No external script, font, stylesheet or image: the style and the script
//!   are inline, and the page's Content-Security-Policy allows exactly those two (by their
//!   SHA-256) and nothing else, no network, no inline event handler. It works from `file://` and
//!   offline, and even a string that slipped past escaping could neither run nor load anything.
//! - **Readable without JavaScript.** The table is plain HTML; the script only adds the filters
//!   (provider, severity, status, path), sorting by any column, and reads and writes the filter
//!   in the URL fragment (`report.html#provider=Vobiz&severity=error`), so a link names a view.
//! - **Secrets are never in it in full**, not even with `--no-redact`: an audit report is
//!   attached to tickets and mailed around. Secrets show the redacted form of the text report,
//!   and the session redacts the other repository strings as it does for SARIF.
//! - **Escaped.** Every string from the repository (paths, commit messages, authors, refs, rule
//!   texts from its configuration, notes) goes through `Esc`: characters a terminal must not get
//!   become the text report's visible escapes (controls, bidi overrides: [`crate::term::escape`]),
//!   then `&`, `<`, `>`, `"` and `'` become character references. Attribute values are always
//!   double-quoted.
//! - **Bounded.** Linear in the findings: one pass to count, one to write the rows; lookups are
//!   maps built once. The timeline has at most `MAX_BARS` bars whatever the dates say, long
//!   commit subjects are cut, and the script sorts and filters in O(n log n) and O(n).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{self, Write};

use sha2::{Digest, Sha256};

use super::{Report, ScanKind};
use crate::finding::{Finding, Liveness, Location, Redaction};
use crate::rules::{RuleSet, Severity};
use crate::scan::SkipReason;
use crate::term::plural_s;
use crate::units::human_bytes;

/// The most bars the timeline draws: past it months become years, and past that only the latest
/// years with secrets are drawn.
const MAX_BARS: usize = 240;

/// How many refs the header lists by name.
const MAX_LISTED_REFS: usize = 20;

/// How many of the paths given on the command line the header lists (`xargs` can give thousands).
const MAX_LISTED_ROOTS: usize = 20;

/// How much of a commit subject a row shows, in characters.
const MAX_SUBJECT_CHARS: usize = 160;

/// Past this many rows a table is laid out by fixed column widths (see [`table`]).
const FIXED_LAYOUT_ROWS: usize = 2_000;

/// The provider filter's name for a rule that names none.
const NO_PROVIDER: &str = "other";

/// The status of a finding `--verify` said nothing about.
const NOT_VERIFIED: &str = "not verified";

/// A string from the repository (or anywhere else), written as HTML text or as a double-quoted
/// attribute value: terminal-unsafe characters as the text report's visible escapes, then the
/// five characters HTML gives a meaning as references.
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = crate::term::escape(self.0);
        let mut rest: &str = &s;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// The page's style; its SHA-256 is in the Content-Security-Policy.
const STYLE: &str = r#"
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;--err:#c62828;--warn:#9a6700;--note:#0969da;--bar:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#30363d;--head:#151b23;--err:#ff7b72;--warn:#d29922;--note:#58a6ff;--bar:#58a6ff}}
[hidden]{display:none!important}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1500px;padding:1rem 1.5rem 3rem}
h1{font-size:1.45rem;margin:.25rem 0 .75rem}
h2{font-size:1.1rem;margin:1.75rem 0 .5rem;padding-bottom:.2rem;border-bottom:1px solid var(--line)}
dl.scan{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}
dl.scan dt{color:var(--muted)}dl.scan dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:var(--head);white-space:nowrap}
td{overflow-wrap:break-word}
table.fixed{table-layout:fixed;min-width:1100px}.c-s{width:6em}.c-m{width:8em}
.wide{overflow-x:auto}.wide table{font-size:13px}.wide code{overflow-wrap:anywhere}.wide code.id,.nw{white-space:nowrap}
table.counts{width:auto}.n{text-align:right;font-variant-numeric:tabular-nums}
.js #findings-table th{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
small,.muted{color:var(--muted)}small{display:block}
.sev-error{color:var(--err);font-weight:600}.sev-warning{color:var(--warn);font-weight:600}.sev-note{color:var(--note)}
.st-active{color:var(--err);font-weight:700}
form#filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:.25rem 0 .75rem}
form#filters label{display:flex;flex-direction:column;font-size:.85em;color:var(--muted)}
svg.timeline{max-width:960px;width:100%;height:auto}
.overview{display:flex;flex-wrap:wrap;gap:0 2.5rem;align-items:flex-start}
#summary{flex:0 1 auto}#timeline{flex:1 1 480px}
svg .bar{fill:var(--bar)}svg text{fill:var(--muted);font-size:11px}svg .axis{stroke:var(--line)}
dl.fix dt{font-weight:600;margin-top:.5rem}dl.fix dd{margin:0 0 0 1rem}
"#;

/// The page's script: filters, sorting, the view in the URL fragment. Its SHA-256 is in the
/// Content-Security-Policy. Without it the page is the same, less the controls.
const SCRIPT: &str = r##"
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  var form = document.getElementById("filters");
  if (!table || !form) return;
  document.documentElement.className = "js";
  form.hidden = false;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var paths = rows.map(function (r) { return r.cells[+table.dataset.pathCol].textContent.toLowerCase(); });
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var shown = document.getElementById("shown");
  var fields = ["provider", "severity", "status", "path"];
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  var sortCol = -1, sortDesc = false;
  function state() {
    var s = {};
    fields.forEach(function (k) { var v = form.elements[k].value; if (v) s[k] = v; });
    return s;
  }
  function sortBy(c, desc) {
    sortCol = c; sortDesc = desc;
    var keyed = rows.map(function (r, i) {
      var td = r.cells[c];
      return [td.hasAttribute("data-v") ? td.getAttribute("data-v") : td.textContent, i, r];
    });
    keyed.sort(function (a, b) {
      var x = collator.compare(a[0], b[0]);
      return (desc ? -x : x) || a[1] - b[1];
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (k) { frag.appendChild(k[2]); });
    body.appendChild(frag);
    heads.forEach(function (th, i) {
      if (i === c) th.setAttribute("aria-sort", desc ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
  }
  function apply() {
    var s = state(), path = (s.path || "").toLowerCase(), n = 0;
    for (var i = 0; i < rows.length; i++) {
      var d = rows[i].dataset;
      var ok = (!s.provider || d.provider === s.provider) &&
        (!s.severity || d.severity === s.severity) &&
        (!s.status || d.status === s.status) &&
        (!path || paths[i].indexOf(path) >= 0);
      rows[i].hidden = !ok;
      if (ok) n++;
    }
    shown.textContent = n + " of " + rows.length + " shown";
    var p = new URLSearchParams(s);
    if (sortCol >= 0) p.set("sort", (sortDesc ? "-" : "") + sortCol);
    var h = p.toString();
    if (h !== location.hash.slice(1) && (h || location.hash.indexOf("=") >= 0)) {
      try { location.replace("#" + h); } catch (e) { /* a view that cannot be linked */ }
    }
  }
  function load() {
    var hash = location.hash.slice(1);
    if (hash && hash.indexOf("=") < 0) return; // a link to a section, not a view
    var p = new URLSearchParams(hash);
    fields.forEach(function (k) { form.elements[k].value = p.get(k) || ""; });
    var s = p.get("sort");
    if (s) {
      var desc = s.charAt(0) === "-", c = parseInt(desc ? s.slice(1) : s, 10);
      if (c >= 0 && c < heads.length && (c !== sortCol || desc !== sortDesc)) sortBy(c, desc);
    }
    apply();
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  heads.forEach(function (th, c) {
    th.tabIndex = 0;
    function go() { sortBy(c, sortCol === c && !sortDesc); apply(); }
    th.addEventListener("click", go);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
  });
  window.addEventListener("hashchange", load);
  load();
})();
"##;

/// The columns of the findings table, in order; the history ones only in a report with history
/// findings.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Severity,
    Provider,
    Rule,
    Location,
    Secret,
    Commit,
    Date,
    AtHead,
    Status,
    Fix,
}

impl Column {
    /// How wide the column is in a table laid out by fixed widths: `s`, `m` or `l`.
    fn width(self) -> &'static str {
        match self {
            Column::Rule | Column::Location | Column::Secret | Column::Commit => "l",
            Column::Provider | Column::Date | Column::Status | Column::Fix => "m",
            Column::Severity | Column::AtHead => "s",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Column::Severity => "Severity",
            Column::Provider => "Provider",
            Column::Rule => "Rule",
            Column::Location => "Path:line",
            Column::Secret => "Secret (redacted), fingerprint",
            Column::Commit => "Commit, author",
            Column::Date => "Date",
            Column::AtHead => "At HEAD",
            Column::Status => "Status",
            Column::Fix => "What to do",
        }
    }
}

/// What every row needs to know about the report, computed once.
struct Tables<'a> {
    columns: Vec<Column>,
    /// Each rule id that fired: its provider (or [`NO_PROVIDER`]) and, when it has a remediation,
    /// the anchor of it in the "what to do" section.
    rules: HashMap<&'a str, (&'a str, Option<usize>)>,
}

impl<'a> Tables<'a> {
    fn new(report: &'a Report<'_>) -> Tables<'a> {
        let history = all_findings(report).any(|f| f.provenance.is_some());
        let columns = [
            Column::Severity,
            Column::Provider,
            Column::Rule,
            Column::Location,
            Column::Secret,
            Column::Commit,
            Column::Date,
            Column::AtHead,
            Column::Status,
            Column::Fix,
        ]
        .into_iter()
        .filter(|c| history || !matches!(c, Column::Commit | Column::Date | Column::AtHead))
        .collect();
        let by_id: HashMap<&str, usize> = report
            .rules
            .rules()
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut rules = HashMap::new();
        for f in all_findings(report) {
            rules.entry(f.rule_id.as_str()).or_insert_with(|| {
                match by_id
                    .get(f.rule_id.as_str())
                    .map(|&i| (i, &report.rules.rules()[i]))
                {
                    Some((i, r)) => (
                        r.provider.as_deref().unwrap_or(NO_PROVIDER),
                        r.remediation.as_ref().map(|_| i),
                    ),
                    None => (NO_PROVIDER, None),
                }
            });
        }
        Tables { columns, rules }
    }

    fn provider(&self, f: &Finding) -> &'a str {
        self.rules
            .get(f.rule_id.as_str())
            .map_or(NO_PROVIDER, |r| r.0)
    }
}

/// Every finding the report lists: reported, suppressed (when shown) and already committed.
fn all_findings<'r>(report: &'r Report<'_>) -> impl Iterator<Item = &'r Finding> {
    let suppressed: &[Finding] = if report.show_suppressed {
        &report.suppressed
    } else {
        &[]
    };
    report
        .findings
        .iter()
        .chain(suppressed)
        .chain(&report.preexisting)
}

/// The status filter's word for a finding.
fn status(f: &Finding) -> &'static str {
    f.liveness().map_or(NOT_VERIFIED, Liveness::as_str)
}

/// Renders the whole page. `generated` is when, as RFC 3339 (the caller's clock: the page says
/// when the audit was made).
pub(crate) fn render(report: &Report<'_>, generated: &str) -> String {
    let tables = Tables::new(report);
    // About a kilobyte a row; reserving it once keeps 100,000 rows from reallocating often.
    let mut out = String::with_capacity((16 << 10) + 1024 * report.findings.len().min(1 << 20));
    let title = match report.target.roots.first() {
        Some(r) => format!("credsweep report: {r}"),
        None => "credsweep report".to_string(),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src '{}'; script-src '{}'; img-src 'none'; form-action 'none'; base-uri 'none'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"generator\" content=\"credsweep {}\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        csp_hash(STYLE),
        csp_hash(SCRIPT),
        env!("CARGO_PKG_VERSION"),
        Esc(&title),
    );
    header(&mut out, report, generated);
    // The counts and the timeline side by side on a wide screen: the table starts higher.
    out.push_str("<div class=\"overview\">\n");
    summary(&mut out, report, &tables);
    timeline(&mut out, report);
    out.push_str("</div>\n");
    verification(&mut out, report);
    findings(&mut out, report, &tables);
    remediation(&mut out, report, &tables);
    skipped(&mut out, report);
    let _ = write!(
        out,
        "<footer>\n<p class=\"muted\">credsweep {}. Secrets are shown redacted: this file never \
         holds one in full.</p>\n</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// `sha256-…` of `source`, as a Content-Security-Policy source expression allows an inline
/// `<style>` or `<script>` with exactly that text.
fn csp_hash(source: &str) -> String {
    format!("sha256-{}", base64(&Sha256::digest(source.as_bytes())))
}

/// Standard base64 with padding (for the CSP hashes; the crate has no base64 dependency).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A SHA-256 over what decides what the rules in force match: each rule's id, severity,
/// provider, regex, keywords, filters and priority, in order. credsweep's built-in pack has no
/// version of its own, so this names the exact rule set (built-in pack, `--rules` files and the
/// configuration's rules together); descriptions and remediation texts are left out.
pub(crate) fn rules_digest(rules: &RuleSet) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &[u8]| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s);
    };
    for r in rules.rules() {
        field(r.id.as_bytes());
        field(r.severity.as_str().as_bytes());
        field(r.provider.as_deref().unwrap_or("").as_bytes());
        field(r.regex.as_str().as_bytes());
        field(&r.keywords.len().to_le_bytes());
        for k in &r.keywords {
            field(k.as_bytes());
        }
        field(&[u8::from(r.case_sensitive_keywords)]);
        field(&r.min_entropy.map_or(u64::MAX, f64::to_bits).to_le_bytes());
        field(&r.allow.len().to_le_bytes());
        for a in &r.allow {
            field(a.as_str().as_bytes());
        }
        field(&r.stopwords.len().to_le_bytes());
        for s in &r.stopwords {
            field(s.as_bytes());
        }
        field(r.path.as_ref().map_or("", |p| p.as_str()).as_bytes());
        field(&[u8::from(r.multiline), u8::from(r.context_required)]);
        field(&r.multiline_reach.to_le_bytes());
        field(&r.context.len().to_le_bytes());
        for c in &r.context {
            field(c.as_bytes());
        }
        field(&r.priority.to_le_bytes());
        field(&[u8::from(r.identifier)]);
        field(r.decode.map_or("", |d| d.as_str()).as_bytes());
        field(&r.max_per_file.map_or(u64::MAX, |n| n as u64).to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What was scanned: the header.
fn header(out: &mut String, report: &Report<'_>, generated: &str) {
    let s = &report.summary;
    let (what, unit) = match report.kind {
        ScanKind::Tree => ("files and directories", "file"),
        ScanKind::Stdin => ("standard input", "input"),
        ScanKind::Staged => ("staged changes", "file"),
        ScanKind::History => ("git history", "blob"),
    };
    let _ = write!(
        out,
        "<header>\n<h1>credsweep audit report</h1>\n<dl class=\"scan\">\n<dt>Scan</dt><dd>{what} \
         (<code>{}</code>)</dd>\n",
        report.kind.as_str()
    );
    let root_label = match report.kind {
        ScanKind::History | ScanKind::Staged => "Repository",
        _ => "Scanned",
    };
    if !report.target.roots.is_empty() {
        let _ = write!(out, "<dt>{root_label}</dt><dd>");
        let roots = &report.target.roots;
        for (i, r) in roots.iter().take(MAX_LISTED_ROOTS).enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "<code>{}</code>", Esc(r));
        }
        if roots.len() > MAX_LISTED_ROOTS {
            let _ = write!(out, " and {} more", roots.len() - MAX_LISTED_ROOTS);
        }
        out.push_str("</dd>\n");
    }
    if let Some(c) = &report.target.commits {
        let _ = write!(out, "<dt>Commits</dt><dd>{}", Esc(c));
        if let Some(n) = s.commits {
            let _ = write!(out, "; {} read", plural_s(n as usize, "commit"));
        }
        out.push_str("</dd>\n");
    }
    let refs: BTreeSet<&str> = report
        .findings
        .iter()
        .filter_map(|f| f.provenance.as_ref()?.ref_name.as_deref())
        .collect();
    if !refs.is_empty() {
        out.push_str("<dt>Refs with findings</dt><dd>");
        for (i, r) in refs.iter().take(MAX_LISTED_REFS).enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "<code>{}</code>", Esc(r));
        }
        if refs.len() > MAX_LISTED_REFS {
            let _ = write!(out, " and {} more", refs.len() - MAX_LISTED_REFS);
        }
        out.push_str("</dd>\n");
    }
    let _ = write!(
        out,
        "<dt>Read</dt><dd>{}, {}</dd>\n<dt>When</dt><dd>{} (took {:.2} s)</dd>\n",
        plural_s(s.scanned as usize, unit),
        human_bytes(s.bytes),
        Esc(generated),
        report.elapsed.as_secs_f64()
    );
    let builtin = report
        .rules
        .rules()
        .iter()
        .filter(|r| r.is_builtin())
        .count();
    let _ = write!(
        out,
        "<dt>Rules</dt><dd>{} in force ({} built in, {} from rule files or the configuration); \
         SHA-256 of the rule set <code>{}</code></dd>\n<dt>Tool</dt><dd>credsweep {}</dd>\n</dl>\n\
         </header>\n",
        report.rules.len(),
        builtin,
        report.rules.len() - builtin,
        rules_digest(report.rules),
        env!("CARGO_PKG_VERSION")
    );
}

/// Findings by provider and severity.
fn summary(out: &mut String, report: &Report<'_>, tables: &Tables<'_>) {
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
    let n = report.findings.len();
    let places: BTreeSet<_> = report.findings.iter().map(|f| f.location.name()).collect();
    let _ = write!(out, "<p><strong>{}</strong>", plural_s(n, "finding"));
    if n > 0 {
        let _ = write!(out, " in {}", plural_s(places.len(), "place"));
    }
    let extra: Vec<String> = [
        (report.suppressed.len(), "suppressed by the baseline"),
        (report.preexisting.len(), "already committed (not blocking)"),
        (
            report.summary.allowed as usize,
            "allowed inline or by the configuration",
        ),
        (
            report.summary.below_min_severity as usize,
            "below the minimum severity",
        ),
    ]
    .into_iter()
    .filter(|(k, _)| *k > 0)
    .map(|(k, what)| format!("{k} {what}"))
    .collect();
    if !extra.is_empty() {
        let _ = write!(out, "; {}", Esc(&extra.join("; ")));
    }
    out.push_str(".</p>\n");
    if n == 0 {
        out.push_str("</section>\n");
        return;
    }
    const SEVERITIES: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Note];
    let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for f in &report.findings {
        let row = counts.entry(tables.provider(f)).or_default();
        row[SEVERITIES
            .iter()
            .position(|s| *s == f.severity)
            .unwrap_or(2)] += 1;
    }
    let mut rows: Vec<(&str, [usize; 3])> = counts.into_iter().collect();
    // Most findings first; a tie by name (the map's order, kept by the stable sort).
    rows.sort_by_key(|(_, c)| std::cmp::Reverse(c.iter().sum::<usize>()));
    out.push_str(
        "<table class=\"counts\">\n<thead><tr><th>Provider</th><th class=\"n\">error</th>\
         <th class=\"n\">warning</th><th class=\"n\">note</th><th class=\"n\">total</th></tr>\
         </thead>\n<tbody>\n",
    );
    let mut totals = [0usize; 3];
    for (provider, c) in &rows {
        let _ = write!(out, "<tr><td>{}</td>", Esc(provider));
        for (i, k) in c.iter().enumerate() {
            totals[i] += k;
            let _ = write!(out, "<td class=\"n\">{k}</td>");
        }
        let _ = writeln!(out, "<td class=\"n\">{}</td></tr>", c.iter().sum::<usize>());
    }
    out.push_str("</tbody>\n<tfoot><tr><th>all</th>");
    for k in totals {
        let _ = write!(out, "<th class=\"n\">{k}</th>");
    }
    let _ = write!(
        out,
        "<th class=\"n\">{n}</th></tr></tfoot>\n</table>\n</section>\n"
    );
}

/// `(year, month)` of an RFC 3339 date (`2024-05-01T…`, a year of any length or sign).
fn year_month(date: &str) -> Option<(i64, u32)> {
    let sign = usize::from(date.starts_with('-'));
    let (year, rest) = date[sign..].split_once('-')?;
    let year: i64 = year.parse().ok()?;
    let month: u32 = rest.get(..2)?.parse().ok()?;
    (1..=12)
        .contains(&month)
        .then_some((if sign == 1 { -year } else { year }, month))
}

/// The timeline: how many secrets were first committed in each month (history findings are
/// reported once per secret, at their first appearance).
fn timeline(out: &mut String, report: &Report<'_>) {
    out.push_str("<section id=\"timeline\">\n<h2>When the secrets were first committed</h2>\n");
    let mut months: BTreeMap<(i64, u32), usize> = BTreeMap::new();
    for f in &report.findings {
        if let Some(ym) = f
            .provenance
            .as_ref()
            .and_then(|p| p.date.as_deref())
            .and_then(year_month)
        {
            *months.entry(ym).or_default() += 1;
        }
    }
    let (Some(&first), Some(&last)) = (months.keys().next(), months.keys().next_back()) else {
        let why = if report.kind == ScanKind::History {
            "No finding has a commit date (none, or only in blobs no commit holds)."
        } else {
            "No commit dates: this scan read files, not history."
        };
        let _ = write!(out, "<p class=\"muted\">{why}</p>\n</section>\n");
        return;
    };
    let index = |(y, m): (i64, u32)| y.saturating_mul(12).saturating_add(i64::from(m) - 1);
    let span = index(last).saturating_sub(index(first)).saturating_add(1);
    // Bars: (label under it or none, tooltip, count).
    let mut bars: Vec<(Option<String>, String, usize)> = Vec::new();
    let mut cut = 0usize;
    if span as usize <= MAX_BARS {
        let n = span as usize;
        let yearly_labels = n > 36;
        for i in 0..n {
            let at = index(first) + i as i64;
            let (y, m) = (at.div_euclid(12), (at.rem_euclid(12) + 1) as u32);
            let count = months.get(&(y, m)).copied().unwrap_or(0);
            let label = if !yearly_labels {
                Some(format!("{y}-{m:02}"))
            } else {
                (m == 1 || i == 0).then(|| y.to_string())
            };
            bars.push((label, format!("{y}-{m:02}"), count));
        }
    } else {
        let mut years: BTreeMap<i64, usize> = BTreeMap::new();
        for (&(y, _), &k) in &months {
            *years.entry(y).or_default() += k;
        }
        let (y0, y1) = (first.0, last.0);
        if y1.saturating_sub(y0) < MAX_BARS as i64 {
            for y in y0..=y1 {
                let count = years.get(&y).copied().unwrap_or(0);
                bars.push((Some(y.to_string()), y.to_string(), count));
            }
        } else {
            // Dates no real history has: only the latest years that have secrets.
            let skip = years.len().saturating_sub(MAX_BARS);
            cut = years.values().take(skip).sum();
            for (y, k) in years.into_iter().skip(skip) {
                bars.push((Some(y.to_string()), y.to_string(), k));
            }
        }
    }
    let max = bars.iter().map(|b| b.2).max().unwrap_or(1).max(1);
    let dated: usize = months.values().sum();
    let (width, height, left, bottom, top) = (960.0f64, 220.0f64, 44.0, 28.0, 12.0);
    let plot_h = height - bottom - top;
    let slot = (width - left - 8.0) / bars.len() as f64;
    // Label every k-th bar so that labels (about 48 px apart at most) do not overlap.
    let labelled = bars.iter().filter(|b| b.0.is_some()).count().max(1);
    let every = (labelled as f64 * 48.0 / (width - left)).ceil().max(1.0) as usize;
    let _ = write!(
        out,
        "<svg class=\"timeline\" viewBox=\"0 0 {width} \
         {height}\" role=\"img\" aria-labelledby=\"timeline-title\">\n<title id=\"timeline-title\">\
         Secrets by the month they were first committed, {} to {}</title>\n\
         <line class=\"axis\" x1=\"{left}\" y1=\"{y0:.1}\" x2=\"{x2:.1}\" y2=\"{y0:.1}\"/>\n\
         <text x=\"{lx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{max}</text>\n\
         <text x=\"{lx:.1}\" y=\"{y0:.1}\" text-anchor=\"end\">0</text>\n",
        bars.first().map_or("", |b| b.1.as_str()),
        bars.last().map_or("", |b| b.1.as_str()),
        y0 = height - bottom,
        x2 = width - 8.0,
        lx = left - 6.0,
        ty = top + 4.0,
    );
    let mut nth_label = 0usize;
    for (i, (label, tip, count)) in bars.iter().enumerate() {
        let x = left + slot * i as f64;
        if *count > 0 {
            let h = (plot_h * *count as f64 / max as f64).max(1.0);
            let _ = writeln!(
                out,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\">\
                 <title>{tip}: {}</title></rect>",
                x + slot * 0.1,
                height - bottom - h,
                (slot * 0.8).max(0.5),
                plural_s(*count, "secret"),
            );
        }
        if let Some(label) = label {
            if nth_label.is_multiple_of(every) {
                let _ = writeln!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
                    x + slot / 2.0,
                    height - bottom + 16.0
                );
            }
            nth_label += 1;
        }
    }
    out.push_str("</svg>\n");
    let undated = report.findings.len() - dated;
    let mut notes = Vec::new();
    if undated > 0 {
        notes.push(format!(
            "{} without a commit date",
            plural_s(undated, "finding")
        ));
    }
    if cut > 0 {
        notes.push(format!(
            "{} from earlier years not drawn",
            plural_s(cut, "secret")
        ));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "<p class=\"muted\">{}.</p>", notes.join("; "));
    }
    out.push_str("</section>\n");
}

/// What `--verify` found, active first; nothing when it did not run.
fn verification(out: &mut String, report: &Report<'_>) {
    let verified: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.verification.is_some())
        .collect();
    if verified.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"verification\">\n<h2>Verification (<code>--verify</code>)</h2>\n<ul>\n",
    );
    for outcome in [
        Liveness::Active,
        Liveness::Inactive,
        Liveness::Unknown,
        Liveness::Unverifiable,
    ] {
        let k = verified
            .iter()
            .filter(|f| f.liveness() == Some(outcome))
            .count();
        let what = match outcome {
            Liveness::Active => "active: the API accepted them; rotate them now",
            Liveness::Inactive => "inactive: the API rejected them; remove them all the same",
            Liveness::Unknown => "unknown: no answer (timeout, network error, rate limit)",
            Liveness::Unverifiable => "not verifiable (no pair in the file, a test-mode token)",
        };
        let class = if outcome == Liveness::Active && k > 0 {
            " class=\"st-active\""
        } else {
            ""
        };
        let _ = writeln!(out, "<li{class}>{}: {what}</li>", plural_s(k, "finding"));
    }
    out.push_str("</ul>\n");
    let pairs = crate::verify::pairs_with(&report.findings, Liveness::Active);
    if pairs > 0 {
        let _ = writeln!(
            out,
            "<p class=\"st-active\">{} verified active:</p>\n<ul>",
            plural_s(pairs, "credential pair")
        );
        for f in verified.iter().filter(|f| f.is_verified_active()) {
            let _ = writeln!(
                out,
                "<li><code>{}:{}</code> {} <code>{}</code></li>",
                Esc(&f.location.name()),
                f.line,
                Esc(&f.rule_id),
                Esc(&Redaction::Redact.show(&f.secret))
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// The findings table, with its filter controls (hidden until the script shows them).
fn findings(out: &mut String, report: &Report<'_>, tables: &Tables<'_>) {
    out.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    if report.findings.is_empty() {
        out.push_str("<p>None.</p>\n</section>\n");
        return;
    }
    let providers: BTreeSet<&str> = report.findings.iter().map(|f| tables.provider(f)).collect();
    // Outcomes in their order (active first), then "not verified".
    let statuses: BTreeSet<(bool, Option<Liveness>, &str)> = report
        .findings
        .iter()
        .map(|f| (f.liveness().is_none(), f.liveness(), status(f)))
        .collect();
    out.push_str(
        "<form id=\"filters\" hidden>\n<label>Provider <select name=\"provider\">\
         <option value=\"\">all</option>",
    );
    for p in &providers {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", Esc(p));
    }
    out.push_str(
        "</select></label>\n<label>Severity <select name=\"severity\"><option value=\"\">all\
         </option><option>error</option><option>warning</option><option>note</option></select>\
         </label>\n<label>Status <select name=\"status\"><option value=\"\">all</option>",
    );
    for (_, _, s) in &statuses {
        let _ = write!(out, "<option>{s}</option>");
    }
    out.push_str(
        "</select></label>\n<label>Path contains <input name=\"path\" type=\"search\" \
         autocomplete=\"off\"></label>\n<output id=\"shown\"></output>\n</form>\n",
    );
    // With --verify, active credentials first (the order the findings have otherwise).
    let mut rows: Vec<&Finding> = report.findings.iter().collect();
    if rows.iter().any(|f| f.verification.is_some()) {
        rows.sort_by_key(|f| f.liveness().unwrap_or(Liveness::Unverifiable) != Liveness::Active);
    }
    table(out, tables, "findings-table", &rows);
    out.push_str("</section>\n");
    if report.show_suppressed && !report.suppressed.is_empty() {
        out.push_str("<section id=\"suppressed\">\n<h2>Suppressed by the baseline</h2>\n");
        let rows: Vec<&Finding> = report.suppressed.iter().collect();
        table(out, tables, "suppressed-table", &rows);
        out.push_str("</section>\n");
    }
    if !report.preexisting.is_empty() {
        let _ = write!(
            out,
            "<section id=\"preexisting\">\n<h2>Already committed (not blocking)</h2>\n<p>{}</p>\n",
            Esc(super::text::PREEXISTING_ADVICE)
        );
        let rows: Vec<&Finding> = report.preexisting.iter().collect();
        table(out, tables, "preexisting-table", &rows);
        out.push_str("</section>\n");
    }
}

/// One table of findings, a row each.
fn table(out: &mut String, tables: &Tables<'_>, id: &str, rows: &[&Finding]) {
    let path_col = tables
        .columns
        .iter()
        .position(|c| *c == Column::Location)
        .unwrap_or(0);
    // A wide table scrolls on its own rather than squeezing its columns. A long one is laid
    // out by fixed column widths: a browser then need not measure every cell before drawing.
    let fixed = rows.len() > FIXED_LAYOUT_ROWS;
    let _ = write!(
        out,
        "<div class=\"wide\">\n<table id=\"{id}\" data-path-col=\"{path_col}\"{}>\n",
        if fixed { " class=\"fixed\"" } else { "" }
    );
    if fixed {
        out.push_str("<colgroup>");
        for c in &tables.columns {
            let _ = write!(out, "<col class=\"c-{}\">", c.width());
        }
        out.push_str("</colgroup>\n");
    }
    out.push_str("<thead><tr>");
    for c in &tables.columns {
        let _ = write!(out, "<th scope=\"col\">{}</th>", c.title());
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for f in rows {
        row(out, tables, f);
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
}

/// One finding's row. `data-*` on the row are what the filters compare; `data-v` on a cell is
/// what sorting compares when the text would sort wrong (severity, status).
fn row(out: &mut String, tables: &Tables<'_>, f: &Finding) {
    let provider = tables.provider(f);
    let p = f.provenance.as_ref();
    let _ = write!(
        out,
        "<tr data-provider=\"{}\" data-severity=\"{}\" data-status=\"{}\">",
        Esc(provider),
        f.severity.as_str(),
        status(f)
    );
    for c in &tables.columns {
        match c {
            Column::Severity => {
                let rank = match f.severity {
                    Severity::Error => 0,
                    Severity::Warning => 1,
                    Severity::Note => 2,
                };
                let _ = write!(
                    out,
                    "<td data-v=\"{rank}\" class=\"sev-{0}\">{0}</td>",
                    f.severity.as_str()
                );
            }
            Column::Provider => {
                let _ = write!(out, "<td>{}</td>", Esc(provider));
            }
            Column::Rule => {
                let _ = write!(
                    out,
                    "<td><code class=\"id\">{}</code><small>{}</small>",
                    Esc(&f.rule_id),
                    Esc(&f.description)
                );
                if let Some(pair) = &f.pair {
                    let _ = write!(
                        out,
                        "<small>paired with {} at {}:{}</small>",
                        Esc(&pair.rule_id),
                        pair.line,
                        pair.column
                    );
                }
                out.push_str("</td>");
            }
            Column::Location => {
                let _ = write!(out, "<td><code>{}", Esc(&f.location.name()));
                match &f.offset {
                    Some(o) => {
                        let _ = write!(out, " offset {}", o.start);
                    }
                    None => {
                        let _ = write!(out, ":{}", f.line);
                    }
                }
                out.push_str("</code>");
                let decoded = f.location.decoded();
                if !decoded.is_empty() {
                    let _ = write!(
                        out,
                        "<small>decoded from {}</small>",
                        Esc(&decoded.join(" → "))
                    );
                }
                if let Location::Message { tag, .. } = f.location.undecoded() {
                    let _ = write!(
                        out,
                        "<small>in a {} message</small>",
                        if *tag { "tag" } else { "commit" }
                    );
                }
                if let Some(p) = p.filter(|p| p.other_locations > 0) {
                    let _ = write!(
                        out,
                        "<small>and {}</small>",
                        plural_s(p.other_locations, "other place")
                    );
                }
                out.push_str("</td>");
            }
            Column::Secret => {
                let _ = write!(
                    out,
                    "<td><code>{}</code><small class=\"mono\">{}</small></td>",
                    Esc(&Redaction::Redact.show(&f.secret)),
                    Esc(&f.fingerprint.0)
                );
            }
            Column::Commit => match p {
                Some(p) => {
                    out.push_str("<td>");
                    match &p.commit {
                        Some(c) => {
                            let _ = write!(
                                out,
                                "<code title=\"{}\">{}</code>",
                                Esc(c),
                                Esc(c.get(..12).unwrap_or(c))
                            );
                        }
                        None => {
                            let _ = write!(
                                out,
                                "<span class=\"muted\">blob <code>{}</code></span>",
                                Esc(p.blob.get(..12).unwrap_or(&p.blob))
                            );
                        }
                    }
                    if let Some(a) = &p.author {
                        let _ = write!(out, "<small>{}", Esc(a));
                        if let Some(e) = &p.email {
                            let _ = write!(out, " &lt;{}&gt;", Esc(e));
                        }
                        out.push_str("</small>");
                    }
                    if let Some(m) = &p.message {
                        let cut: String = m.chars().take(MAX_SUBJECT_CHARS).collect();
                        let more = if cut.len() < m.len() { "…" } else { "" };
                        let _ = write!(out, "<small>{}{more}</small>", Esc(&cut));
                    }
                    if let Some(r) = &p.ref_name {
                        let _ = write!(out, "<small>{}</small>", Esc(r));
                    }
                    // The commit is the submodule's own (`--recurse-submodules`).
                    if let Some(s) = &p.submodule {
                        let _ = write!(out, "<small>in submodule {}</small>", Esc(s));
                    }
                    out.push_str("</td>");
                }
                None => out.push_str("<td></td>"),
            },
            Column::Date => match p.and_then(|p| p.date.as_deref()) {
                Some(d) => {
                    let _ = write!(
                        out,
                        "<td class=\"nw\" data-v=\"{0}\" title=\"{0}\">{1}</td>",
                        Esc(d),
                        Esc(d.split('T').next().unwrap_or(d))
                    );
                }
                None => out.push_str("<td></td>"),
            },
            Column::AtHead => {
                let word = match p.and_then(|p| p.in_head) {
                    Some(true) => "yes",
                    Some(false) => "no: only in history",
                    None => "",
                };
                let _ = write!(out, "<td>{word}</td>");
            }
            Column::Status => {
                let rank = f.liveness().map_or(9, |l| l as u8);
                let class = if f.is_verified_active() {
                    " class=\"st-active\""
                } else {
                    ""
                };
                let _ = write!(out, "<td data-v=\"{rank}\"{class}>{}", status(f));
                if let Some(v) = &f.verification {
                    let _ = write!(out, "<small>{}</small>", Esc(&v.detail));
                }
                out.push_str("</td>");
            }
            Column::Fix => match tables.rules.get(f.rule_id.as_str()).and_then(|r| r.1) {
                Some(i) => {
                    let _ = write!(out, "<td><a href=\"#fix-{i}\">what to do</a></td>");
                }
                None => out.push_str("<td>rotate it, then remove it</td>"),
            },
        }
    }
    out.push_str("</tr>\n");
}

/// What to do, once per rule that fired (the rows link here).
fn remediation(out: &mut String, report: &Report<'_>, tables: &Tables<'_>) {
    let mut fixes: Vec<(usize, &str)> = tables
        .rules
        .iter()
        .filter_map(|(id, (_, fix))| fix.map(|i| (i, *id)))
        .collect();
    if fixes.is_empty() {
        return;
    }
    fixes.sort_unstable();
    out.push_str("<section id=\"remediation\">\n<h2>What to do</h2>\n<dl class=\"fix\">\n");
    for (i, id) in fixes {
        let text = report.rules.rules()[i].remediation.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "<dt id=\"fix-{i}\"><code>{}</code></dt><dd>{}</dd>",
            Esc(id),
            Esc(text.trim())
        );
    }
    out.push_str("</dl>\n</section>\n");
}

/// Inputs not scanned, or not in full, and the notes.
fn skipped(out: &mut String, report: &Report<'_>) {
    let skips = &report.summary.skips;
    if skips.is_empty() && report.notes.is_empty() {
        return;
    }
    out.push_str("<section id=\"notes\">\n<h2>Not scanned, or not in full; notes</h2>\n<ul>\n");
    for k in skips {
        let label = match k.reason {
            SkipReason::Error(_) => "<strong class=\"sev-error\">error</strong>",
            _ => "note",
        };
        let _ = writeln!(
            out,
            "<li>{label}: <code>{}</code>: {}</li>",
            Esc(&k.path),
            Esc(&k.reason.to_string())
        );
    }
    for n in &report.notes {
        let _ = writeln!(out, "<li>note: {}</li>", Esc(n));
    }
    out.push_str("</ul>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_controls_and_bidi() {
        let s = Esc("<script>alert('x')</script> \"&\" \u{1b}[2J \u{202e}gpj.exe\n").to_string();
        assert_eq!(
            s,
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;&amp;&quot; \\e[2J \
             \\u{202e}gpj.exe\\n"
        );
    }

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
    }

    #[test]
    fn year_and_month_of_dates() {
        assert_eq!(year_month("2024-05-01T12:00:00Z"), Some((2024, 5)));
        assert_eq!(year_month("-001-12-31T00:00:00Z"), Some((-1, 12)));
        assert_eq!(year_month("12345-01-01T00:00:00Z"), Some((12345, 1)));
        assert_eq!(year_month("2024-13-01"), None);
        assert_eq!(year_month("garbage"), None);
        assert_eq!(year_month(""), None);
    }
}
