//! The commit details a history finding shows: who, when, and what the commit said.
//!
//! Only the few commits that introduced a finding are read in full, so this is a lookup per
//! commit, cached, rather than anything decoded during the bulk passes.

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::hashtable::HashMap;
use gix::objs::{CommitRef, Find, Kind};

use crate::finding::Provenance;

/// Author, date and subject of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommitMeta {
    pub author: String,
    pub email: String,
    /// Author date, RFC 3339 in UTC.
    pub date: String,
    /// First line of the message.
    pub subject: String,
}

/// Reads commit details on demand and remembers them.
pub(crate) struct CommitInfo<'r> {
    repo: &'r gix::Repository,
    cache: HashMap<ObjectId, Option<CommitMeta>>,
}

impl<'r> CommitInfo<'r> {
    pub fn new(repo: &'r gix::Repository) -> Self {
        CommitInfo {
            repo,
            cache: HashMap::default(),
        }
    }

    /// The details of `id`, or `None` if the commit cannot be read (its id is still reported).
    pub fn get(&mut self, id: ObjectId) -> Option<&CommitMeta> {
        let repo = self.repo;
        self.cache
            .entry(id)
            .or_insert_with(|| read(repo, id))
            .as_ref()
    }

    /// A provenance for `blob` first committed by `commit` (if any), reached from `ref_name`.
    pub fn provenance(
        &mut self,
        blob: ObjectId,
        commit: Option<ObjectId>,
        ref_name: Option<String>,
    ) -> Provenance {
        let meta = commit.and_then(|c| self.get(c).cloned());
        Provenance {
            commit: commit.map(|c| c.to_string()),
            author: meta.as_ref().map(|m| m.author.clone()),
            email: meta.as_ref().map(|m| m.email.clone()),
            date: meta.as_ref().map(|m| m.date.clone()),
            message: meta.map(|m| m.subject),
            ref_name,
            blob: blob.to_string(),
            other_locations: 0,
            other_places: Vec::new(),
            in_head: None,
            submodule: None,
        }
    }
}

fn read(repo: &gix::Repository, id: ObjectId) -> Option<CommitMeta> {
    let mut buf = Vec::new();
    let data = match repo.objects.try_find(&id, &mut buf) {
        Ok(Some(d)) if d.kind == Kind::Commit => d,
        _ => return None,
    };
    let c = CommitRef::from_bytes(data.data, repo.object_hash()).ok()?;
    let author = c.author().ok()?;
    let subject = c
        .message
        .lines()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    Some(CommitMeta {
        author: author.name.trim().to_str_lossy().into_owned(),
        email: author.email.trim().to_str_lossy().into_owned(),
        date: rfc3339_utc(author.seconds()),
        subject: subject.to_str_lossy().into_owned(),
    })
}

/// `2024-05-01T12:34:56Z` for seconds since the epoch.
pub(crate) fn rfc3339_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (the well-known era-based conversion).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_500_000_000), "2017-07-14T02:40:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
    }
}
