//! Tar (POSIX ustar and GNU, with long names and pax headers): members are slices of the
//! buffer, not copies, so a tar costs no expansion; they still count against the member cap and
//! the per-member size cap. A saved container image is a tar of layer tars, each opened one
//! level deeper.

use std::borrow::Cow;
use std::io::Cursor;

use tar::{Archive, EntryType};

use super::{Level, Limit, Next, Skip, member_name};

pub(super) fn read(data: &[u8], level: &mut Level<'_, '_>) -> bool {
    read_members(data, level);
    true
}

/// Reports every regular file of the tar in `data`.
pub(super) fn read_members(data: &[u8], level: &mut Level<'_, '_>) {
    let mut archive = Archive::new(Cursor::new(data));
    let entries = match archive.entries_with_seek() {
        Ok(e) => e,
        Err(e) => {
            level.skip(None, Skip::Corrupt(format!("not a readable tar: {e}")));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                level.skip(None, Skip::Corrupt(format!("tar header: {e}")));
                return;
            }
        };
        if !matches!(
            entry.header().entry_type(),
            EntryType::Regular | EntryType::Continuous
        ) {
            continue;
        }
        if level.admit_member() == Next::Stop {
            return;
        }
        let name = member_name(&entry.path_bytes());
        let start = usize::try_from(entry.raw_file_position()).unwrap_or(usize::MAX);
        let size = usize::try_from(entry.size()).unwrap_or(usize::MAX);
        let start = start.min(data.len());
        let available = data.len() - start;
        let cut_short = size > available;
        let cap = usize::try_from(level.options.max_member_size).unwrap_or(usize::MAX);
        let len = size.min(available).min(cap);
        let over =
            (size.min(available) > cap).then_some(Limit::MemberSize(level.options.max_member_size));
        if level.deliver(name, Cow::Borrowed(&data[start..start + len]), over) == Next::Stop {
            return;
        }
        if cut_short {
            level.skip(
                None,
                Skip::Corrupt(format!(
                    "tar cut short: a member claims {size} bytes, {available} remain"
                )),
            );
            return;
        }
    }
}
