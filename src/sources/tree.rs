//! The working-tree source: files and directories on disk, and standard input.
//!
//! Directories are walked in parallel with the `ignore` crate, honouring `.gitignore`, `.ignore`
//! and git's exclude files the way git does; [`super::ignore_files`] reads those, checked and
//! bounded, and notes any it could not use. Unlike a code search tool, a secret scanner
//! must look at hidden files (`.env` is where tokens live), so only `.git/` itself is never entered.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::{WalkBuilder, WalkState};

use super::ignore_files::IgnoreRules;
use crate::finding::{Finding, Location};
use crate::fsutil::Links;
use crate::scan::{ScanContext, SkipReason, Summary};
use crate::scanner::PathFilter;
use crate::window::{ReadBuffers, scan_input, scan_reader};

#[derive(Debug, Clone)]
pub struct TreeOptions {
    /// Honour `.gitignore`, `.ignore` and git excludes.
    pub respect_ignore: bool,
    /// Follow symbolic links.
    pub follow_links: bool,
    /// Worker threads.
    pub threads: usize,
}

/// Scans `paths` (files, directories, or `-` for standard input).
pub fn scan_paths(
    ctx: &ScanContext<'_>,
    paths: &[PathBuf],
    opts: &TreeOptions,
) -> (Vec<Finding>, Summary) {
    let found = Mutex::new((Vec::new(), Summary::default()));
    let mut dirs = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            let (f, s) = scan_stdin(ctx);
            let mut g = found.lock().unwrap();
            g.0.extend(f);
            g.1.merge(s);
        } else {
            dirs.push(p.clone());
        }
    }
    if !dirs.is_empty() {
        walk(ctx, &dirs, opts, &found);
    }
    found.into_inner().unwrap()
}

fn walk(
    ctx: &ScanContext<'_>,
    roots: &[PathBuf],
    opts: &TreeOptions,
    found: &Mutex<(Vec<Finding>, Summary)>,
) {
    let mut builder = WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        builder.add(r);
    }
    // The crate reads no ignore file itself: [`IgnoreRules`] reads them, checked and bounded.
    let rules = opts
        .respect_ignore
        .then(|| Arc::new(IgnoreRules::new(roots)));
    let filter_rules = rules.clone();
    builder
        .hidden(false)
        .parents(false)
        .ignore(false)
        .git_ignore(false)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .follow_links(opts.follow_links)
        .threads(opts.threads.max(1))
        .filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            // The type first: a file's name is not looked at.
            if is_dir && e.file_name() == ".git" {
                return false;
            }
            filter_rules
                .as_ref()
                .is_none_or(|r| !r.is_ignored(e.path(), is_dir))
        });
    builder.build_parallel().run(|| {
        let mut worker = WalkThread {
            found,
            findings: Vec::new(),
            summary: Summary::default(),
            bufs: ReadBuffers::default(),
            location: Location::Path(String::new()),
            follow_links: opts.follow_links,
        };
        Box::new(move |entry| {
            worker.visit(ctx, entry);
            WalkState::Continue
        })
    });
    if let Some(r) = rules {
        let mut g = found.lock().unwrap_or_else(|p| p.into_inner());
        g.1.notes.extend(r.notes());
    }
}

/// One walker thread's findings and counts. They go to the shared result once, when the thread's
/// visitor is dropped at the end of the walk, so workers do not take a lock per file.
struct WalkThread<'a> {
    found: &'a Mutex<(Vec<Finding>, Summary)>,
    findings: Vec<Finding>,
    summary: Summary,
    bufs: ReadBuffers,
    /// The file being scanned, as reports name it: one string, refilled from file to file
    /// (a finding takes a copy).
    location: Location,
    /// Whether the walk follows symbolic links: if not, a file is opened without following one.
    follow_links: bool,
}

impl WalkThread<'_> {
    fn visit(&mut self, ctx: &ScanContext<'_>, entry: Result<ignore::DirEntry, ignore::Error>) {
        let e = match entry {
            Ok(e) => e,
            Err(err) => {
                self.summary
                    .skip(err_path(&err), SkipReason::Error(walk_error_text(&err)));
                return;
            }
        };
        // Standard input as a path is handled before the walk; a directory is only walked.
        let Some(t) = e.file_type() else { return };
        if t.is_dir() {
            return;
        }
        set_display_path(&mut self.location, e.path());
        let path = self.location.name();
        if ctx.allowlist.excludes_path(&path, &ctx.path_base) {
            self.summary.excluded += 1;
            return;
        }
        match t {
            t if t.is_file() => {
                if ctx.allowlist.allows_path(&path, &ctx.path_base) {
                    self.summary.allowed_paths += 1;
                    return;
                }
                // A file the walk saw as a file, not through a link, is opened so that a link
                // put in its place since is not followed.
                let links = if self.follow_links || e.path_is_symlink() {
                    Links::Follow
                } else {
                    Links::Refuse
                };
                scan_file(
                    ctx,
                    e.path(),
                    links,
                    &self.location,
                    &mut self.bufs,
                    &mut self.summary,
                    &mut self.findings,
                )
            }
            // A FIFO or device named on the command line (`<(cmd)`, `/dev/stdin`) is read like
            // standard input, up to the size cap. Found in a walk, it is never opened: opening a
            // FIFO with no writer blocks, and a device may never end.
            t if e.depth() == 0 && !t.is_symlink() => {
                scan_stream(ctx, e.path(), &path, &mut self.summary, &mut self.findings)
            }
            // Symlinks not followed, FIFOs, sockets, devices.
            _ => self.summary.skip(path, SkipReason::NotAFile),
        }
    }
}

impl Drop for WalkThread<'_> {
    fn drop(&mut self) {
        let mut g = self.found.lock().unwrap_or_else(|p| p.into_inner());
        g.0.append(&mut self.findings);
        g.1.merge(std::mem::take(&mut self.summary));
    }
}

/// Scans one regular file, in windows ([`crate::window`]) and up to the size cap if one was
/// asked for. `bufs` is scratch space reused from file to file, so a walk does not allocate (and
/// fault in) fresh buffers per file, nor keep more than one window per thread. A file is opened
/// and read, and nothing else is asked of the system: its size only if the cap cut it. It is
/// opened non-blocking, so that a FIFO put in its place since the walk saw it cannot block the
/// walk (it reads as empty or as an error), and, with [`Links::Refuse`], without following a
/// symbolic link put there.
pub(crate) fn scan_file(
    ctx: &ScanContext<'_>,
    fs_path: &Path,
    links: Links,
    location: &Location,
    bufs: &mut ReadBuffers,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    if bufs.rest.capacity() > KEEP_BUFFER {
        bufs.rest = Vec::new();
    }
    let path = &*location.name();
    let read = crate::fsutil::open_nonblocking(fs_path, links).and_then(|mut file| {
        let outcome = scan_input(
            ctx,
            &mut file,
            location,
            PathFilter::Path(path),
            bufs,
            summary,
            out,
        )?;
        let size = if outcome.capped {
            file.metadata().map_or(0, |m| m.len())
        } else {
            outcome.bytes
        };
        Ok((outcome, size))
    });
    match read {
        // A file that grew while it was read is still capped; one that shrank reports what was
        // read.
        Ok((outcome, size)) if outcome.capped => summary.skip(
            path,
            SkipReason::Truncated {
                size: size.max(outcome.bytes + 1),
                scanned: outcome.bytes,
            },
        ),
        Ok(_) => {}
        Err(e) => summary.skip(path, SkipReason::Error(format!("cannot read: {e}"))),
    }
}

/// Scans a stream (FIFO, character device) named on the command line, in windows, up to the
/// size cap if one was asked for (a device that never ends, such as `/dev/zero`, needs one).
fn scan_stream(
    ctx: &ScanContext<'_>,
    fs_path: &Path,
    path: &str,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    let mut buf = Vec::new();
    let read = File::open(fs_path).and_then(|mut f| {
        scan_reader(
            ctx,
            &mut f,
            &Location::Path(path.to_string()),
            PathFilter::Path(path),
            &mut buf,
            summary,
            out,
        )
    });
    match read {
        Ok(outcome) if outcome.capped => summary.skip(
            path,
            SkipReason::TruncatedStream {
                scanned: outcome.bytes,
            },
        ),
        Ok(_) => {}
        Err(e) => summary.skip(path, SkipReason::Error(format!("cannot read: {e}"))),
    }
}

/// Buffers above this are not kept for the next file.
const KEEP_BUFFER: usize = 4 << 20;

/// Scans standard input, reported as `<stdin>`, in windows.
pub(crate) fn scan_stdin(ctx: &ScanContext<'_>) -> (Vec<Finding>, Summary) {
    let mut summary = Summary::default();
    let mut findings = Vec::new();
    let mut buf = Vec::new();
    let stdin = io::stdin();
    let mut lock = stdin.lock();
    let read = scan_reader(
        ctx,
        &mut lock,
        &Location::Stdin,
        PathFilter::Pathless,
        &mut buf,
        &mut summary,
        &mut findings,
    );
    match read {
        Ok(outcome) if outcome.capped => {
            // Whatever is left past the cap is drained, so the writer is not killed by SIGPIPE,
            // and counted, so the truncation is reported with the input's size.
            let rest = io::copy(&mut lock, &mut io::sink()).unwrap_or(0);
            summary.skip(
                Location::Stdin.name(),
                SkipReason::Truncated {
                    size: outcome.bytes + 1 + rest,
                    scanned: outcome.bytes,
                },
            );
        }
        Ok(_) => {}
        Err(e) => summary.skip(
            Location::Stdin.name(),
            SkipReason::Error(format!("cannot read: {e}")),
        ),
    }
    (findings, summary)
}

/// A path as reports show it: as given, without a leading `./`, with `/` separators.
pub(crate) fn display_path(p: &Path) -> String {
    let mut s = String::new();
    push_display_path(p, &mut s);
    s
}

/// Makes `location` the file at `p`, named as [`display_path`] names it, in the string it
/// already has if it is a path.
fn set_display_path(location: &mut Location, p: &Path) {
    match location {
        Location::Path(s) => {
            s.clear();
            push_display_path(p, s);
        }
        other => *other = Location::Path(display_path(p)),
    }
}

/// Appends [`display_path`]'s name of `p` to `out`.
fn push_display_path(p: &Path, out: &mut String) {
    // `to_str` first: the check of a valid path is a fraction of what the lossy conversion
    // costs, and nearly every path is valid.
    let s = p
        .to_str()
        .map_or_else(|| p.to_string_lossy(), std::borrow::Cow::Borrowed);
    let s = s.strip_prefix("./").unwrap_or(&s);
    if std::path::MAIN_SEPARATOR == '\\' {
        out.extend(s.chars().map(|c| if c == '\\' { '/' } else { c }));
    } else {
        out.push_str(s);
    }
}

fn err_path(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { path, .. } => display_path(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        ignore::Error::Loop { child, .. } => display_path(child),
        _ => String::from("<walk>"),
    }
}

fn walk_error_text(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            walk_error_text(err)
        }
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop back to {}", display_path(ancestor))
        }
        other => other.to_string(),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::allow::Allowlist;
    use crate::rules::RuleSet;
    use crate::scan::Skip;
    use crate::scanner::Scanner;
    use std::os::unix::fs::symlink;

    fn context<'a>(scanner: &'a Scanner, allow: &'a Allowlist) -> ScanContext<'a> {
        ScanContext {
            scanner,
            fingerprint_key: b"tree".to_vec(),
            max_file_size: u64::MAX,
            window_size: 0,
            allowlist: allow,
            inline_allow: true,
            path_base: PathBuf::from("/"),
            max_decode_depth: crate::scan::DEFAULT_MAX_DECODE_DEPTH,
            rule_stats: false,
            archives: crate::archive::Options::default(),
            binary_strings: true,
            line_hashes: true,
        }
    }

    /// What [`scan_file`] reports of `path`, opened with `links`: the summary, and the files
    /// and bytes it counts as scanned.
    fn scan(ctx: &ScanContext<'_>, path: &Path, links: Links) -> (Summary, (u64, u64)) {
        let (mut summary, mut found) = (Summary::default(), Vec::new());
        let mut bufs = ReadBuffers::default();
        let location = Location::Path(display_path(path));
        scan_file(
            ctx,
            path,
            links,
            &location,
            &mut bufs,
            &mut summary,
            &mut found,
        );
        let counts = (summary.scanned, summary.bytes);
        (summary, counts)
    }

    #[test]
    fn a_link_or_fifo_put_where_the_walk_saw_a_file_is_not_followed_and_does_not_block() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let allow = Allowlist::new(Path::new("/"));
        let ctx = context(&scanner, &allow);
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("config.env");
        let text = "name = value\n";
        std::fs::write(&file, text).unwrap();
        let whole = (1, text.len() as u64);
        let (summary, counts) = scan(&ctx, &file, Links::Refuse);
        assert_eq!(counts, whole, "{:?}", summary.skips);

        let link = d.path().join("link.env");
        symlink(&file, &link).unwrap();
        let (summary, counts) = scan(&ctx, &link, Links::Refuse);
        assert_eq!(counts, (0, 0));
        assert!(
            matches!(&summary.skips[..], [Skip { reason: SkipReason::Error(e), .. }] if e.contains("cannot read")),
            "{:?}",
            summary.skips
        );
        let (summary, counts) = scan(&ctx, &link, Links::Follow);
        assert_eq!(counts, whole, "{:?}", summary.skips);

        // A FIFO with no writer: opened without blocking, and read as empty.
        let fifo = d.path().join("fifo.env");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let (summary, counts) = scan(&ctx, &fifo, Links::Refuse);
        assert_eq!(counts.1, 0, "{summary:?}");
    }
}
