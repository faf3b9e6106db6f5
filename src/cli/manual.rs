//! What shells and `man` need, rendered from clap's own view of the command line ([`Cli`]), so
//! they never drift from the flags: `credsweep completions SHELL` (clap_complete) and
//! `credsweep man` (clap_mangen).
//!
//! The manual is one roff document: the main page (name, synopsis, description, the top-level
//! options, the list of subcommands, exit status, version), then a section per subcommand, depth
//! first (`credsweep rules list` after `credsweep rules`), each with its synopsis, description
//! and options. clap_mangen renders a page per command; a subcommand's page-level headings
//! (`.SH`) become subsection headings (`.SS`) under the subcommand's own section, and the lists
//! of subcommands name the sections of this document instead of separate pages
//! (`credsweep-git(1)`) that are not installed.

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use super::args::Cli;

/// The program name completions register and the manual is titled with.
const BIN: &str = "credsweep";

/// clap's command with every subcommand's `bin_name` filled in (`credsweep rules list`), as the
/// renderers expect; no `help` subcommand: it is clap's, takes no flags, and `--help` says more.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> String {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The whole manual, as roff (`credsweep man | man -l -`).
pub fn manual() -> Result<String> {
    let cmd = command();
    let mut main = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .section("1")
        .manual("credsweep manual")
        .source(format!("credsweep {}", env!("CARGO_PKG_VERSION")))
        .render(&mut main)
        .context("cannot render the manual page")?;
    // The top-level `after_help` is the exit status; clap_mangen calls it EXTRA.
    let main = String::from_utf8_lossy(&main).replace("\n.SH EXTRA\n", "\n.SH \"EXIT STATUS\"\n");
    let mut out = link_subcommands(&main, &cmd).into_bytes();
    for sub in cmd.get_subcommands() {
        subcommand_sections(sub, &mut out)?;
    }
    String::from_utf8(out).context("the manual page is not UTF-8")
}

/// `sub`'s section (synopsis, description, options, its own subcommands listed), then its
/// subcommands' sections.
fn subcommand_sections(sub: &clap::Command, out: &mut Vec<u8>) -> Result<()> {
    if sub.is_hide_set() {
        return Ok(());
    }
    let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_uppercase();
    let page = clap_mangen::Man::new(sub.clone());
    let mut body = Vec::new();
    page.render_synopsis_section(&mut body)?;
    page.render_description_section(&mut body)?;
    if sub.get_arguments().any(|a| !a.is_hide_set()) {
        page.render_options_section(&mut body)?;
    }
    if sub.has_subcommands() {
        page.render_subcommands_section(&mut body)?;
    }
    let body = link_subcommands(&String::from_utf8_lossy(&body), sub);
    out.extend_from_slice(format!(".SH \"{name}\"\n").as_bytes());
    out.extend_from_slice(demote_headings(&body).as_bytes());
    for nested in sub.get_subcommands() {
        subcommand_sections(nested, out)?;
    }
    Ok(())
}

/// In `cmd`'s list of subcommands, each entry's name (clap_mangen writes the page
/// `credsweep\-git(1)`, in roff, on a line of its own) as the subcommand itself in bold,
/// `credsweep git`: its section in this document has that name.
fn link_subcommands(roff: &str, cmd: &clap::Command) -> String {
    let parent = cmd.get_display_name().unwrap_or(cmd.get_name());
    let mut out = roff.to_owned();
    for sub in cmd.get_subcommands() {
        let page = format!("\n{parent}-{}(1)\n", sub.get_name()).replace('-', "\\-");
        let name = sub
            .get_bin_name()
            .unwrap_or(sub.get_name())
            .replace('-', "\\-");
        out = out.replace(&page, &format!("\n\\fB{name}\\fR\n"));
    }
    out
}

/// A page's section headings (`.SH X`) as subsection headings (`.SS X`): roff control lines
/// start a line, so a text line can never be mistaken for one. The apostrophe string (`Aq`) that
/// clap_mangen defines before each part is defined once, at the top of the document, and dropped
/// here.
fn demote_headings(roff: &str) -> String {
    roff.lines()
        .filter(|line| !line.starts_with(".ie \\n(.g .ds Aq ") && !line.starts_with(".el .ds Aq "))
        .map(|line| match line.strip_prefix(".SH ") {
            Some(title) => format!(".SS {title}\n"),
            None => format!("{line}\n"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_control_lines_are_demoted() {
        let roff =
            ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.SH OPTIONS\ntext .SH not a heading\n.SHx\n";
        assert_eq!(
            demote_headings(roff),
            ".SS OPTIONS\ntext .SH not a heading\n.SHx\n"
        );
    }
}
