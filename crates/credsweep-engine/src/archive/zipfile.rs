//! Zip and its family (jar, war, ear, apk, aar, whl, nupkg, vsix, xpi, ipa, Office Open XML and
//! OpenDocument files): the central directory is read from the buffer, then each file member is
//! inflated up to the caps. Encrypted members are named, not read.

use std::borrow::Cow;
use std::io::Cursor;

use zip::ZipArchive;

use super::{Event, Level, Next, Skip, member_name};

pub(super) fn read(data: &[u8], level: &mut Level<'_, '_>) -> bool {
    let mut archive = match ZipArchive::new(Cursor::new(data)) {
        Ok(a) => a,
        Err(e) => {
            level.skip(None, Skip::Corrupt(format!("not a readable zip: {e}")));
            return false;
        }
    };
    for i in 0..archive.len() {
        // The entry's metadata first, without setting up decompression or decryption.
        let (name, encrypted, is_dir, size) = match archive.by_index_raw(i) {
            Ok(f) => (
                member_name(f.name_raw()),
                f.encrypted(),
                f.is_dir(),
                f.size(),
            ),
            Err(e) => {
                level.skip(None, Skip::Corrupt(format!("zip entry {i}: {e}")));
                break;
            }
        };
        if is_dir {
            continue;
        }
        if level.admit_member() == Next::Stop {
            break;
        }
        if encrypted {
            level.skip(Some(name), Skip::Encrypted);
            continue;
        }
        let file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                level.emit(Event::Error {
                    member: name,
                    message: format!("archive member could not be read: {e}"),
                });
                continue;
            }
        };
        let (bytes, over, err) = level.expand(file, size);
        let failed = err.map(|e| (name.clone(), e));
        if level.deliver(name, Cow::Owned(bytes), over) == Next::Stop {
            break;
        }
        if let Some((member, e)) = failed {
            // What was inflated before the error was scanned; the rest was not.
            level.emit(Event::Error {
                member,
                message: format!("archive member could not be read in full: {e}"),
            });
        }
    }
    true
}
