//! `credsweep completions SHELL` and `credsweep man`: every shell gets a script that knows every
//! subcommand, bash can load its script, and the manual covers every subcommand and flag. What
//! "every" means comes from clap's own command, so a new subcommand or flag is checked without
//! touching these tests.

use std::io::Write;
use std::process::{Command, Stdio};

use clap::CommandFactory;
use credsweep::cli::Cli;

mod common;
use common::credsweep;

/// Every subcommand, depth first, with its path from the top (`["rules", "list"]`); clap's
/// generated `help` subcommand is left out (it has no flags and no page of its own).
fn subcommands() -> Vec<(Vec<String>, clap::Command)> {
    fn walk(cmd: &clap::Command, path: &[String], out: &mut Vec<(Vec<String>, clap::Command)>) {
        for sub in cmd.get_subcommands() {
            if sub.is_hide_set() || sub.get_name() == "help" {
                continue;
            }
            let mut p = path.to_vec();
            p.push(sub.get_name().to_owned());
            out.push((p.clone(), sub.clone()));
            walk(sub, &p, out);
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &[], &mut out);
    out
}

fn stdout_of(args: &[&str]) -> String {
    let out = credsweep().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "credsweep {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_walk_sees_nested_subcommands() {
    let paths: Vec<String> = subcommands().iter().map(|(p, _)| p.join(" ")).collect();
    for expected in [
        "git",
        "dir",
        "rules list",
        "baseline prune",
        "completions",
        "man",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} in {paths:?}"
        );
    }
}

#[test]
fn every_shell_gets_a_script_naming_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains("credsweep"), "{shell}: no program name");
        for (path, _) in subcommands() {
            let name = path.last().unwrap();
            assert!(
                script.contains(name.as_str()),
                "{shell} script lacks {name}"
            );
        }
        // A flag deep in a flattened group, to see that flags are there too.
        assert!(
            script.contains("max-decode-depth"),
            "{shell}: flags missing"
        );
    }
}

#[test]
fn an_unknown_shell_is_refused() {
    let out = credsweep().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn bash_loads_its_completion_script() {
    let bin = assert_cmd::cargo::cargo_bin("credsweep");
    let out = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(r#"source <("$0" completions bash) && complete -p credsweep"#)
        .arg(&bin)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("complete ") && stdout.trim_end().ends_with(" credsweep"),
        "{stdout}"
    );
}

/// roff escapes `-` as `\-`; section names are upper case.
fn roff(s: &str) -> String {
    s.replace('-', "\\-")
}

#[test]
fn the_manual_covers_every_subcommand_and_flag() {
    let page = stdout_of(&["man"]);
    assert!(page.contains("\n.TH credsweep 1 "), "no title");
    for (path, sub) in subcommands() {
        let title = format!(".SH \"CREDSWEEP {}\"", path.join(" ").to_uppercase());
        assert!(page.contains(&title), "no section {title}");
        let section = page.split(&title).nth(1).unwrap();
        let section = section.split("\n.SH ").next().unwrap();
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            let shown = match (arg.get_long(), arg.get_value_names()) {
                (Some(long), _) => format!("\\-\\-{}", roff(long)),
                // Positionals, in italics.
                (None, Some(names)) => format!("\\fI{}\\fR", names[0]),
                (None, None) => format!("\\fI{}\\fR", arg.get_id()),
            };
            assert!(
                section.contains(&shown),
                "{} section lacks {shown}",
                path.join(" ")
            );
        }
    }
    // A hidden test-only flag stays out; no page that is not installed is pointed to.
    assert!(!page.contains("window\\-size"));
    assert!(!page.contains("(1)\n"), "refers to separate pages");
    assert!(page.contains(".SH \"EXIT STATUS\""));
}

#[test]
fn man_renders_the_page_without_warnings() {
    if Command::new("man").arg("--version").output().is_err() {
        eprintln!("SKIP man_renders_the_page_without_warnings: no `man` on this machine");
        return;
    }
    let page = stdout_of(&["man"]);
    let mut child = Command::new("man")
        .args(["--warnings", "-l", "-"])
        .env("MANWIDTH", "100")
        .env_remove("MAN_KEEP_FORMATTING")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man: {stderr}");
    assert!(stderr.trim().is_empty(), "man warned: {stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    for (path, _) in subcommands() {
        let heading = format!("CREDSWEEP {}", path.join(" ").to_uppercase());
        assert!(text.contains(&heading), "rendered page lacks {heading}");
    }
}
