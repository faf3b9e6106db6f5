//! Git hooks: stopping a credential before it is committed or pushed.
//!
//! - `credsweep install-hook` writes plain git hooks (`pre-commit`, and `pre-push` with
//!   `--pre-push`) into the directory git runs hooks from, honouring `core.hooksPath`. A hook
//!   already there is kept and chained to (renamed `<hook>.credsweep-chained` and run first), so
//!   installing credsweep never silently drops another tool's check; `uninstall-hook` puts it back.
//! - `credsweep pre-push` is what the installed pre-push hook runs: git's ref lines on standard
//!   input are parsed here (`parse_pre_push`) into the [`Pushed`] ranges, each turned into the
//!   history [`selection`](history::Selection) the push sends; the application layer
//!   ([`crate::app`]) scans them like any other source.
//! - `credsweep staged` under the pre-commit framework's pre-push stage scans the pushed range the
//!   framework names in `PRE_COMMIT_FROM_REF` / `PRE_COMMIT_TO_REF` (`pre_commit_framework_push`).
//!
//! Nothing here prints: installing and uninstalling hand their lines to the caller, and the
//! footers of blocked commits and pushes are returned as text.
//!
//! A hook must never pass without having scanned: the scripts fail closed when the credsweep
//! binary is missing, and every scan error is exit status 2, which blocks the commit or push.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::sources::history;

/// What an existing hook is renamed to when credsweep's hook chains to it.
pub(crate) const CHAINED_SUFFIX: &str = ".credsweep-chained";
/// What an existing hook is renamed to when `--force` replaces it (not run; restored on uninstall).
pub(crate) const REPLACED_SUFFIX: &str = ".credsweep-replaced";
/// The line that marks a hook script as credsweep's own.
const MARKER: &str = "# credsweep-hook: installed by `credsweep install-hook`";

/// What `install-hook` installs, and where.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// Also install the pre-push hook.
    pub pre_push: bool,
    /// Set a hook already there aside instead of chaining to it.
    pub force: bool,
    /// A path in the repository.
    pub repo: PathBuf,
}

/// The hooks credsweep installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookKind {
    PreCommit,
    PrePush,
}

impl HookKind {
    pub const ALL: [HookKind; 2] = [HookKind::PreCommit, HookKind::PrePush];

    /// The hook's file name in the hooks directory.
    pub fn name(self) -> &'static str {
        match self {
            HookKind::PreCommit => "pre-commit",
            HookKind::PrePush => "pre-push",
        }
    }

    /// The hook script, calling credsweep at `exe` when it is there and `credsweep` on `PATH`
    /// otherwise.
    pub fn script(self, exe: Option<&str>) -> String {
        let name = self.name();
        let exe_quoted = sh_quote(exe.unwrap_or(""));
        let (what, bypass, run) = match self {
            HookKind::PreCommit => (
                "blocks a commit whose staged changes hold a credential",
                "git commit --no-verify",
                // The chained hook gets git's arguments; credsweep reads the index itself.
                "status=0\n\
                 if [ -x \"$chained\" ]; then\n\
                 \x20 \"$chained\" \"$@\" || status=$?\n\
                 fi\n\
                 \"$credsweep\" staged --quiet || { s=$?; [ \"$status\" -ne 0 ] || status=$s; }\n\
                 exit \"$status\"\n",
            ),
            HookKind::PrePush => (
                "blocks a push whose commits add a credential",
                "git push --no-verify",
                // git writes one line per pushed ref on stdin: both hooks need all of them.
                "refs=$(cat)\n\
                 status=0\n\
                 if [ -x \"$chained\" ]; then\n\
                 \x20 if [ -n \"$refs\" ]; then printf '%s\\n' \"$refs\"; fi | \"$chained\" \"$@\" || status=$?\n\
                 fi\n\
                 if [ -n \"$refs\" ]; then printf '%s\\n' \"$refs\"; fi | \"$credsweep\" pre-push --quiet -- \"$@\" \
                 || { s=$?; [ \"$status\" -ne 0 ] || status=$s; }\n\
                 exit \"$status\"\n",
            ),
        };
        format!(
            "#!/bin/sh\n\
             {MARKER}\n\
             # credsweep {name} hook: {what}.\n\
             # `credsweep uninstall-hook` removes it (and restores the hook it chained to).\n\
             # To skip it once, on purpose: {bypass}\n\
             credsweep={exe_quoted}\n\
             if [ ! -x \"$credsweep\" ]; then\n\
             \x20 credsweep=$(command -v credsweep 2>/dev/null) || {{\n\
             \x20   echo \"credsweep: the {name} hook cannot find credsweep (not at {exe_shown}, not on PATH)\" >&2\n\
             \x20   echo \"credsweep: nothing was scanned, so this is blocked; install credsweep, or skip the hook on purpose with: {bypass}\" >&2\n\
             \x20   exit 2\n\
             \x20 }}\n\
             fi\n\
             chained=\"$(dirname \"$0\")/{name}{CHAINED_SUFFIX}\"\n\
             {run}",
            exe_shown = exe
                .unwrap_or("its install path")
                .replace(['"', '`', '$', '\\'], "?"),
        )
    }
}

/// `s` quoted for a POSIX shell.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Where git runs a repository's hooks from.
#[derive(Debug, Clone)]
pub(crate) struct HookDir {
    pub dir: PathBuf,
    /// Set from `core.hooksPath` (and not the repository's own `hooks` directory).
    pub from_config: bool,
    /// The directory lies outside the repository (a shared `core.hooksPath`).
    pub shared: bool,
}

impl HookDir {
    /// The hooks directory of the repository at or above `path`: `core.hooksPath` from the
    /// repository's configuration (and the user's and system's, as git reads them), relative to
    /// the top of the work tree (the git directory of a bare repository), `~/` expanded; else
    /// `hooks` in the common git directory, which linked worktrees share.
    pub fn find(path: &Path) -> Result<HookDir> {
        if !path.exists() {
            bail!(
                "{} does not exist: pass the path of a git repository",
                path.display()
            );
        }
        // Absolute, so that messages and the paths written into hooks are too.
        let path = &std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        history::repo::check_files(path)?;
        let repo = gix::discover(path)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("{} is not in a git repository", path.display()))?;
        let base = repo
            .workdir()
            .map_or_else(|| repo.git_dir().to_path_buf(), Path::to_path_buf);
        let configured = repo
            .config_snapshot()
            .string("core.hooksPath")
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty());
        let (dir, from_config) = match configured {
            Some(v) => {
                let p = match v.strip_prefix("~/") {
                    Some(rest) => home()
                        .context("core.hooksPath starts with `~/` but HOME is not set")?
                        .join(rest),
                    None => PathBuf::from(&v),
                };
                (if p.is_absolute() { p } else { base.join(p) }, true)
            }
            None => (repo.common_dir().join("hooks"), false),
        };
        let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let dir_c = canon(&dir);
        let shared = from_config
            && !dir_c.starts_with(canon(&base))
            && !dir_c.starts_with(canon(repo.common_dir()));
        Ok(HookDir {
            dir,
            from_config,
            shared,
        })
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Whether the file at `path` is a hook credsweep wrote.
pub(crate) fn is_credsweep_hook(path: &Path) -> bool {
    crate::fsutil::read_bounded(path, 1 << 20, crate::fsutil::Links::Follow)
        .is_ok_and(|b| String::from_utf8_lossy(&b).contains(MARKER))
}

/// Whether anything (a file, a symlink, even a dangling one) is at `path`.
fn occupied(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn sibling(dir: &Path, name: &str, suffix: &str) -> PathBuf {
    dir.join(format!("{name}{suffix}"))
}

/// What installing one hook did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Installed {
    /// No hook was there.
    Fresh,
    /// credsweep's hook was there and was rewritten.
    Updated,
    /// Another hook was there: renamed to `<hook>.credsweep-chained` and run first.
    Chained,
    /// Another hook was there and `--force` set it aside as `<hook>.credsweep-replaced`.
    Replaced,
}

/// Installs the `kind` hook into `dir`, calling credsweep at `exe`.
///
/// The new script is written in full first, to a temporary file created exclusively in `dir`
/// (a symbolic link planted there is never followed), and only then swapped in: the hook that
/// was there is renamed aside (when chaining or replacing it) and the new one renamed into
/// place. If that last step fails, the old hook is moved back, so a failed install leaves the
/// directory as it was and running it again repairs whatever an interrupted one left.
pub(crate) fn install_hook(
    dir: &Path,
    kind: HookKind,
    exe: Option<&str>,
    force: bool,
) -> Result<Installed> {
    let name = kind.name();
    let path = dir.join(name);
    let chained = sibling(dir, name, CHAINED_SUFFIX);
    let replaced = sibling(dir, name, REPLACED_SUFFIX);
    let (outcome, set_aside) = if !occupied(&path) {
        (Installed::Fresh, None)
    } else if is_credsweep_hook(&path) {
        (Installed::Updated, None)
    } else {
        for kept in [&chained, &replaced] {
            if occupied(kept) {
                bail!(
                    "{} is not credsweep's hook, and {} from an earlier install is still there \
                     (another tool replaced credsweep's hook?): move one of them away, then run \
                     install-hook again",
                    path.display(),
                    kept.display()
                );
            }
        }
        if force {
            (Installed::Replaced, Some(&replaced))
        } else {
            (Installed::Chained, Some(&chained))
        }
    };
    if let Ok(m) = fs::symlink_metadata(&path)
        && m.is_dir()
    {
        bail!(
            "{} is a directory, not a hook: move it away, then run install-hook again",
            path.display()
        );
    }
    // Written beside the hook and renamed over it, so git never runs half a script.
    let tmp = crate::fsutil::temp_beside(&path, kind.script(exe).as_bytes(), Some(0o755), None)
        .with_context(|| {
            format!(
                "cannot write the new {name} hook in {} (the hook there was left as it was)",
                dir.display()
            )
        })?;
    if let Some(to) = set_aside {
        fs::rename(&path, to).with_context(|| {
            format!(
                "cannot move the existing hook {} to {} (it was left as it was)",
                path.display(),
                to.display()
            )
        })?;
    }
    if let Err(e) = tmp.persist(&path) {
        let restored = match set_aside {
            Some(to) => match fs::rename(to, &path) {
                Ok(()) => "the hook that was there is back in place".to_string(),
                Err(r) => format!(
                    "and the hook that was there could not be moved back from {}: {r}; move it back by hand",
                    to.display()
                ),
            },
            None => "the hook that was there was left as it was".to_string(),
        };
        bail!("cannot write {}: {}; {restored}", path.display(), e.error);
    }
    Ok(outcome)
}

/// What uninstalling one hook did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Uninstalled {
    /// Nothing of credsweep's was there.
    Absent,
    /// A hook is there, but not credsweep's: left alone.
    Foreign,
    /// credsweep's hook was removed; the path of the hook put back in its place, if any.
    Removed(Option<PathBuf>),
}

/// Removes credsweep's `kind` hook from `dir` and puts back the hook it chained to or replaced.
pub(crate) fn uninstall_hook(dir: &Path, kind: HookKind) -> Result<Uninstalled> {
    let name = kind.name();
    let path = dir.join(name);
    if occupied(&path) && !is_credsweep_hook(&path) {
        return Ok(Uninstalled::Foreign);
    }
    let ours = occupied(&path);
    for suffix in [CHAINED_SUFFIX, REPLACED_SUFFIX] {
        let kept = sibling(dir, name, suffix);
        if occupied(&kept) {
            // Renamed over credsweep's hook in one step (a link is moved as a link, never
            // written through), so there is no moment without a hook.
            fs::rename(&kept, &path).with_context(|| {
                format!("cannot restore {} as {}", kept.display(), path.display())
            })?;
            return Ok(Uninstalled::Removed(Some(kept)));
        }
    }
    if ours {
        fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    }
    Ok(if ours {
        Uninstalled::Removed(None)
    } else {
        Uninstalled::Absent
    })
}

/// The path the installed hooks call credsweep by: this binary, if its path is known and
/// printable in a shell script.
fn own_exe() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    exe.to_str().map(str::to_string)
}

/// `credsweep install-hook`: installs the hooks `a` asks for. Each line for the user (what was
/// installed where) goes to `say` as soon as it is done, so that a later failure leaves what was
/// already done on record; the caller prints them on stdout.
pub fn install(a: &InstallOptions, say: &mut dyn FnMut(String)) -> Result<()> {
    let hooks = HookDir::find(&a.repo)?;
    fs::create_dir_all(&hooks.dir)
        .with_context(|| format!("cannot create the hooks directory {}", hooks.dir.display()))?;
    let exe = own_exe();
    let mut kinds = vec![HookKind::PreCommit];
    if a.pre_push {
        kinds.push(HookKind::PrePush);
    }
    for kind in kinds {
        let name = kind.name();
        let path = hooks.dir.join(name);
        let outcome = install_hook(&hooks.dir, kind, exe.as_deref(), a.force)?;
        let how = match outcome {
            Installed::Fresh => "installed".to_string(),
            Installed::Updated => "updated".to_string(),
            Installed::Chained => format!(
                "installed; the hook that was there is kept as {name}{CHAINED_SUFFIX} and runs first"
            ),
            Installed::Replaced => format!(
                "installed; the hook that was there is set aside as {name}{REPLACED_SUFFIX} (not run)"
            ),
        };
        say(format!("credsweep: {name} hook {how}: {}", shown(&path)));
    }
    match &exe {
        Some(e) => say(format!(
            "credsweep: the hooks run {} (or `credsweep` on PATH if it moves)",
            crate::term::escape(e)
        )),
        None => say("credsweep: the hooks run `credsweep` from PATH".to_string()),
    }
    if hooks.from_config {
        say(format!(
            "credsweep: this is the directory core.hooksPath names{}",
            if hooks.shared {
                ", outside the repository: every repository using it gets these hooks"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

/// `credsweep uninstall-hook`: removes credsweep's hooks from the repository at `repo`; lines
/// for the user go to `say`, as [`install`]'s do.
pub fn uninstall(repo: &Path, say: &mut dyn FnMut(String)) -> Result<()> {
    let hooks = HookDir::find(repo)?;
    let mut removed = 0;
    for kind in HookKind::ALL {
        let name = kind.name();
        let path = hooks.dir.join(name);
        match uninstall_hook(&hooks.dir, kind)? {
            Uninstalled::Absent => {}
            Uninstalled::Foreign => say(format!(
                "credsweep: {} is not credsweep's hook: left alone",
                shown(&path)
            )),
            Uninstalled::Removed(restored) => {
                removed += 1;
                match restored {
                    Some(from) => say(format!(
                        "credsweep: {name} hook removed; restored the earlier hook from {}",
                        shown(&from)
                    )),
                    None => say(format!("credsweep: {name} hook removed: {}", shown(&path))),
                }
            }
        }
    }
    if removed == 0 {
        say(format!(
            "credsweep: no credsweep hooks in {}: nothing to remove",
            shown(&hooks.dir)
        ));
    }
    Ok(())
}

/// A path for those lines: the hooks directory may come from the repository's `core.hooksPath`,
/// so it is escaped like every repository string printed.
fn shown(p: &Path) -> String {
    crate::term::escape(&p.display().to_string()).into_owned()
}

/// One range a push sends: the commits reachable from `tip` and not from `base`; with no
/// `base` (a new branch, or a remote tip this repository does not have), those on no
/// remote-tracking ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub base: Option<String>,
    pub tip: String,
    /// The local ref pushed (`refs/heads/main`): how reports name `tip` when it still points
    /// there.
    pub name: Option<String>,
}

/// Whether `s` is git's null object id (all zeros), which pre-push lines use for "no such ref".
pub(crate) fn is_null_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'0')
}

fn is_hex_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses the lines git writes to a pre-push hook's standard input:
/// `<local ref> SP <local id> SP <remote ref> SP <remote id>`. A deleted ref (local id all
/// zeros) sends nothing and is left out. A line that does not parse is an error: a hook that
/// cannot tell what is pushed must not pass.
pub(crate) fn parse_pre_push(input: &str) -> Result<Vec<Pushed>> {
    let mut out = Vec::new();
    for line in input.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        // The local ref is whatever was written on the command line and may hold spaces
        // (`HEAD@{1 day ago}`); the three fields after it cannot.
        let mut parts = line.rsplitn(4, ' ');
        let (Some(remote_id), Some(_remote_ref), Some(local_id), Some(local_ref)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            bail!(
                "cannot read the pre-push line {line:?}: expected `<local ref> <local id> <remote ref> <remote id>`"
            );
        };
        if !is_hex_id(local_id) || !is_hex_id(remote_id) {
            bail!("cannot read the pre-push line {line:?}: the object ids are not hexadecimal");
        }
        if is_null_id(local_id) {
            continue;
        }
        let base = (!is_null_id(remote_id)).then(|| remote_id.to_string());
        let p = Pushed {
            base,
            tip: local_id.to_string(),
            name: Some(local_ref.to_string()),
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Reads an environment variable, treating empty as unset.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Under the pre-commit framework (`PRE_COMMIT=1`) with a range to check, the range: the
/// pre-push stage sets `PRE_COMMIT_FROM_REF` (the remote's tip, or the parent of the first
/// commit the remote lacks) and `PRE_COMMIT_TO_REF` (the local tip), as does
/// `pre-commit run --from-ref A --to-ref B`. When a push sends a branch whose whole history the
/// remote lacks, pre-commit sets neither, only `PRE_COMMIT_LOCAL_BRANCH` and
/// `PRE_COMMIT_REMOTE_BRANCH`: then the commits on no remote-tracking ref are the range.
/// `None` otherwise: a commit, where the index is what to scan.
pub(crate) fn pre_commit_framework_push() -> Option<Vec<Pushed>> {
    pre_commit_push_from(env)
}

/// [`pre_commit_framework_push`] with the environment passed in, for tests.
pub(crate) fn pre_commit_push_from(get: impl Fn(&str) -> Option<String>) -> Option<Vec<Pushed>> {
    get("PRE_COMMIT")?;
    match (get("PRE_COMMIT_FROM_REF"), get("PRE_COMMIT_TO_REF")) {
        (Some(from), Some(to)) => Some(vec![Pushed {
            base: (!is_null_id(&from)).then_some(from),
            tip: to,
            name: get("PRE_COMMIT_LOCAL_BRANCH"),
        }]),
        _ => {
            get("PRE_COMMIT_REMOTE_BRANCH")?;
            let tip = get("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| "HEAD".to_string());
            Some(vec![Pushed {
                base: None,
                tip,
                name: None,
            }])
        }
    }
}

/// The part of `repo`'s history `p` sends. A remote tip this repository lacks (someone else
/// pushed since the last fetch) cannot bound the range: then everything no remote-tracking ref
/// has is scanned. The tip is named by the pushed ref while that still points at it, so reports
/// say `refs/heads/main` rather than an object id.
pub(crate) fn selection(repo: &gix::Repository, p: Pushed) -> history::Selection {
    let tip = match p.name {
        Some(name)
            if commit_of(repo, &name).is_some_and(|c| Some(c) == commit_of(repo, &p.tip)) =>
        {
            name
        }
        _ => p.tip,
    };
    match p.base {
        Some(base) if commit_of(repo, &base).is_some() => history::Selection::Range { base, tip },
        _ => history::Selection::Unpushed { tip },
    }
}

/// The commit `rev` names in this repository, if it has it.
fn commit_of(repo: &gix::Repository, rev: &str) -> Option<gix::ObjectId> {
    let id = repo.rev_parse_single(rev).ok()?;
    match history::refs::peel(repo, id.detach()) {
        Ok((id, gix::objs::Kind::Commit)) => Some(id),
        _ => None,
    }
}

/// Whether this process runs under the pre-commit framework.
fn under_pre_commit() -> bool {
    env("PRE_COMMIT").is_some()
}

/// The footer of a `staged` report with findings: what blocked the commit and what to do.
pub(crate) fn commit_footer() -> String {
    let skip = if under_pre_commit() {
        ", or skip only this hook with `SKIP=credsweep git commit` (SKIP takes the hook id in \
         .pre-commit-config.yaml: credsweep or credsweep-system)"
    } else {
        ""
    };
    format!(
        "Commit blocked: the staged changes hold the credentials listed above (file, line:column, \
         rule, redacted secret). For each one:\n\
         \x20 - remove it from the file and stage the file again (`git add`); read it from the \
         environment or a secret store instead;\n\
         \x20 - if it is a real credential, rotate it now: it may already be in backups, logs or a \
         pushed branch;\n\
         \x20 - if it is not a secret (a test fixture, an example), put `credsweep:allow` in a \
         comment on its line (e.g. `# credsweep:allow`), or accept it with \
         `credsweep baseline add`.\n\
         To commit anyway, on purpose: `git commit --no-verify` (skips every hook){skip}.\n"
    )
}

/// The footer of a push scan with findings.
pub(crate) fn push_footer() -> String {
    let skip = if under_pre_commit() {
        ", or skip only this hook with `SKIP=credsweep git push` (SKIP takes the hook id in \
         .pre-commit-config.yaml: credsweep or credsweep-system)"
    } else {
        ""
    };
    format!(
        "Push blocked: the commits being pushed add the credentials listed above (file, \
         line:column, rule, redacted secret, and the commit that added each). Deleting them in a \
         new commit is not enough, the old commit would still be pushed. For each one:\n\
         \x20 - rewrite the commits that added it (`git commit --amend` for the last one, \
         `git rebase -i` for older ones), then push again;\n\
         \x20 - if it is a real credential, rotate it now;\n\
         \x20 - if it is not a secret, accept it with `credsweep baseline add --git` (or rewrite \
         the commit with `# credsweep:allow` on its line).\n\
         To push anyway, on purpose: `git push --no-verify` (skips every hook){skip}.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn pre_push_lines() {
        let input = format!(
            "refs/heads/main {A} refs/heads/main {B}\n\
             refs/heads/new {A} refs/heads/new {Z}\n\
             (delete) {Z} refs/heads/gone {B}\n\
             HEAD@{{1 day ago}} {B} refs/heads/x {A}\n\n"
        );
        let p = parse_pre_push(&input).unwrap();
        assert_eq!(
            p,
            vec![
                Pushed {
                    base: Some(B.into()),
                    tip: A.into(),
                    name: Some("refs/heads/main".into()),
                },
                Pushed {
                    base: None,
                    tip: A.into(),
                    name: Some("refs/heads/new".into()),
                },
                Pushed {
                    base: Some(A.into()),
                    tip: B.into(),
                    name: Some("HEAD@{1 day ago}".into()),
                },
            ]
        );
        assert!(parse_pre_push("").unwrap().is_empty());
        assert!(parse_pre_push("garbage\n").is_err());
        assert!(parse_pre_push(&format!("refs/heads/main main refs/heads/main {B}")).is_err());
    }

    #[test]
    fn pre_commit_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        // A commit: no range.
        assert_eq!(pre_commit_push_from(env(&[("PRE_COMMIT", "1")])), None);
        // Not under pre-commit: the variables are ignored.
        assert_eq!(
            pre_commit_push_from(env(&[
                ("PRE_COMMIT_FROM_REF", "a"),
                ("PRE_COMMIT_TO_REF", "b")
            ])),
            None
        );
        assert_eq!(
            pre_commit_push_from(env(&[
                ("PRE_COMMIT", "1"),
                ("PRE_COMMIT_FROM_REF", "a"),
                ("PRE_COMMIT_TO_REF", "b")
            ])),
            Some(vec![Pushed {
                base: Some("a".into()),
                tip: "b".into(),
                name: None,
            }])
        );
        assert_eq!(
            pre_commit_push_from(env(&[
                ("PRE_COMMIT", "1"),
                (
                    "PRE_COMMIT_FROM_REF",
                    "0000000000000000000000000000000000000000"
                ),
                ("PRE_COMMIT_TO_REF", "b"),
                ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/topic"),
            ])),
            Some(vec![Pushed {
                base: None,
                tip: "b".into(),
                name: Some("refs/heads/topic".into()),
            }])
        );
        assert_eq!(
            pre_commit_push_from(env(&[
                ("PRE_COMMIT", "1"),
                ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/topic"),
                ("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/topic")
            ])),
            Some(vec![Pushed {
                base: None,
                tip: "refs/heads/topic".into(),
                name: None,
            }])
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("/usr/bin/credsweep"), "'/usr/bin/credsweep'");
        assert_eq!(sh_quote("/a b/it's"), "'/a b/it'\\''s'");
    }

    #[test]
    fn scripts_are_marked_and_fail_closed() {
        for kind in HookKind::ALL {
            let s = kind.script(Some("/opt/cred sweep/credsweep"));
            assert!(s.starts_with("#!/bin/sh\n"));
            assert!(s.contains(MARKER));
            assert!(s.contains("credsweep='/opt/cred sweep/credsweep'"));
            assert!(s.contains("exit 2"));
            assert!(s.contains(&format!("{}{CHAINED_SUFFIX}", kind.name())));
        }
    }
}
