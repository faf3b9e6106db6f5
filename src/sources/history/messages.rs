//! Commit and annotated tag messages: a token pasted into `git commit -m` or `git tag -a` is in
//! history as surely as one in a file, and no file scan sees it.
//!
//! Each message is scanned once, as a buffer of its own at a [`Location::Message`], with the
//! whole rule pack (`scan_buffer`: decoding, inline markers, content allow-lists and pairing
//! apply; path-scoped rules do not, a message has no path). Line 1 is the subject line.
//!
//! Data flow: the object pass ([`super::odb`]) hands every commit and tag it decodes to
//! [`scan_object`] as it comes (a range scan reads the commits of its range, [`scan_listed`]), so
//! no message is kept once scanned: only the findings, with the few details ([`Meta`]) their
//! report names (author or tagger, date, subject), read from the object while it is at hand.
//! [`findings`] then turns them into report findings: `[allow] commits` (the object's id) drops a
//! message's findings, path allow-lists do not apply, and the same secret in several messages
//! (an amended or rebased commit keeps its message) is one finding at its earliest message, the
//! others counted and listed as its other places. A secret in a message and in a file is two
//! findings (the message needs the commit rewritten, the file a new commit), with the same
//! fingerprint, so one baseline entry accepts both.

use std::collections::BTreeMap;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::hashtable::HashMap;
use gix::objs::{CommitRef, Find, FindHeader, Kind, TagRef};

use super::provenance::rfc3339_utc;
use crate::finding::{Finding, Fingerprint, Location, MAX_LISTED_PLACES, OtherPlace, Provenance};
use crate::scan::{ScanContext, Summary, scan_buffer};
use crate::scanner::PathFilter;

/// Who wrote a message, and when: what a message finding's provenance names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub author: Option<String>,
    pub email: Option<String>,
    /// Author (commit) or tagger (tag) time, seconds since the epoch.
    pub time: Option<i64>,
    /// Committer time (tagger time for a tag): orders an amended commit, which keeps its
    /// author date, after the commit it replaced.
    pub committed: Option<i64>,
    /// First non-empty line of the message.
    pub subject: String,
}

/// The findings of one message.
pub(crate) struct Found {
    pub object: ObjectId,
    pub tag: bool,
    pub meta: Meta,
    pub findings: Vec<Finding>,
}

/// The messages with findings, and the counts the scans of messages add (allowed by inline
/// markers or content allow-lists, and errors).
#[derive(Default)]
pub(crate) struct Outcome {
    pub found: Vec<Found>,
    pub summary: Summary,
}

impl Outcome {
    pub fn absorb(&mut self, mut other: Outcome) {
        self.found.append(&mut other.found);
        self.summary.merge(other.summary);
    }

    /// Adds what scanning messages counted to a scan's `summary`, less what would count
    /// messages as files read: `scanned` and `bytes` stay the blobs' (or files') numbers.
    pub fn count_into(&mut self, summary: &mut Summary) {
        let mut s = std::mem::take(&mut self.summary);
        s.scanned = 0;
        s.bytes = 0;
        s.binary = 0;
        s.commits = None;
        summary.merge(s);
    }
}

/// The message part of a commit or tag object: what follows the headers (the first empty line).
/// A tag's signature, appended to its message, is left out: it is not text anyone wrote, and its
/// base64 would only be noise for the decoders. `None` for an object with no message.
pub(crate) fn message_of(kind: Kind, data: &[u8]) -> Option<&[u8]> {
    let start = if data.starts_with(b"\n") {
        1
    } else {
        data.find(b"\n\n")? + 2
    };
    let mut message = &data[start..];
    if kind == Kind::Tag {
        for marker in [
            &b"-----BEGIN PGP SIGNATURE-----"[..],
            b"-----BEGIN SSH SIGNATURE-----",
            b"-----BEGIN SIGNED MESSAGE-----",
        ] {
            if let Some(at) = message.rfind(marker)
                && (at == 0 || message[at - 1] == b'\n')
            {
                message = &message[..at];
            }
        }
    }
    (!message.trim().is_empty()).then_some(message)
}

/// Scans the message of commit or tag `id` (`data` is the object), and keeps its findings with
/// the details of who wrote it; other kinds of object are ignored.
pub(crate) fn scan_object(
    ctx: &ScanContext<'_>,
    id: ObjectId,
    kind: Kind,
    data: &[u8],
    hash: gix::hash::Kind,
    out: &mut Outcome,
) {
    let tag = match kind {
        Kind::Commit => false,
        Kind::Tag => true,
        Kind::Blob | Kind::Tree => return,
    };
    let Some(message) = message_of(kind, data) else {
        return;
    };
    let location = Location::Message {
        object: id.to_string(),
        tag,
    };
    let mut findings = Vec::new();
    scan_buffer(
        ctx,
        message,
        message.len() as u64,
        &location,
        PathFilter::Pathless,
        &mut out.summary,
        &mut findings,
    );
    if findings.is_empty() {
        return;
    }
    out.found.push(Found {
        object: id,
        tag,
        meta: meta_of(tag, data, hash, message, &findings),
        findings,
    });
}

/// Who wrote the object's message, and when; what cannot be parsed is left out (the finding
/// still names the object).
fn meta_of(
    tag: bool,
    data: &[u8],
    hash: gix::hash::Kind,
    message: &[u8],
    findings: &[Finding],
) -> Meta {
    let subject = masked_subject(message, findings);
    let (who, committed) = if tag {
        let tagger = TagRef::from_bytes(data, hash)
            .ok()
            .and_then(|t| t.tagger().ok().flatten());
        let time = tagger.as_ref().map(|s| s.seconds());
        (tagger, time)
    } else {
        let c = CommitRef::from_bytes(data, hash).ok();
        (
            c.as_ref().and_then(|c| c.author().ok()),
            c.as_ref()
                .and_then(|c| c.committer().ok())
                .map(|s| s.seconds()),
        )
    };
    Meta {
        author: who
            .as_ref()
            .map(|s| s.name.trim().to_str_lossy().into_owned()),
        email: who
            .as_ref()
            .map(|s| s.email.trim().to_str_lossy().into_owned()),
        time: who.as_ref().map(|s| s.seconds()),
        committed,
        subject,
    }
}

/// The first non-empty line of `message`, with what `findings` (of this message) cover on it
/// replaced by their redacted secrets. Reports redact known secrets in the strings they print,
/// but a secret found decoded (a base64 value) is written otherwise in the subject, and only
/// its span says where.
fn masked_subject(message: &[u8], findings: &[Finding]) -> String {
    let Some((n, line)) = message
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty())
    else {
        return String::new();
    };
    let n = u32::try_from(n + 1).unwrap_or(u32::MAX);
    // Spans in 1-based characters of the line, end exclusive; a span from an earlier line
    // starts at the line's start, one going on to a later line runs to its end.
    let mut spans: Vec<(u32, u32, String)> = findings
        .iter()
        .filter(|f| f.line <= n && n <= f.end_line)
        .map(|f| {
            let start = if f.line == n { f.column } else { 1 };
            let end = if f.end_line == n {
                f.end_column
            } else {
                u32::MAX
            };
            (start, end, f.secret.redacted())
        })
        .collect();
    spans.sort();
    let mut out = String::with_capacity(line.len());
    let mut spans = spans.into_iter().peekable();
    // Characters before this column are hidden by a span already replaced.
    let mut hidden_to = 0u32;
    for (i, c) in line.to_str_lossy().chars().enumerate() {
        let col = u32::try_from(i + 1).unwrap_or(u32::MAX);
        while let Some((_, end, shown)) = spans.next_if(|s| s.0 <= col) {
            if end <= col {
                continue;
            }
            if col >= hidden_to {
                out.push_str(&shown);
            }
            hidden_to = hidden_to.max(end);
        }
        if col >= hidden_to {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// Scans the messages of `ids` (commits of a range, tags pushed), read one by one; an object
/// that cannot be read was reported by whoever listed it, or is not a commit or tag.
pub(crate) fn scan_listed(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    ids: &[ObjectId],
) -> Outcome {
    let mut out = Outcome::default();
    let mut buf = Vec::new();
    for &id in ids {
        if let Ok(Some(d)) = repo.objects.try_find(&id, &mut buf) {
            let kind = d.kind;
            scan_object(ctx, id, kind, d.data, repo.object_hash(), &mut out);
        }
    }
    out
}

/// The annotated tags `spec` names: the tag object it resolves to, and any tag that one tags in
/// turn (a tag of a tag), at most a few deep. Empty when `spec` names a commit.
pub(crate) fn tags_named(repo: &gix::Repository, spec: &str) -> Vec<ObjectId> {
    let Ok(id) = repo.rev_parse_single(spec) else {
        return Vec::new();
    };
    let mut id = id.detach();
    let mut tags = Vec::new();
    let mut buf = Vec::new();
    // Git itself peels at most this deep.
    while tags.len() < 8 {
        match repo.objects.try_find(&id, &mut buf) {
            Ok(Some(d)) if d.kind == Kind::Tag => {
                let Ok(t) = TagRef::from_bytes(d.data, repo.object_hash()) else {
                    break;
                };
                let target = t.target();
                if tags.contains(&id) {
                    break;
                }
                tags.push(id);
                id = target;
            }
            _ => break,
        }
    }
    tags
}

/// The refs that name annotated tag objects directly (`refs/tags/v1` → its tag object), the
/// first name of each by ref order: how a tag message finding names its ref.
pub(crate) fn tag_refs(repo: &gix::Repository) -> HashMap<ObjectId, String> {
    let mut out = HashMap::default();
    let Ok(platform) = repo.references() else {
        return out;
    };
    let Ok(all) = platform.all() else {
        return out;
    };
    for r in all.filter_map(Result::ok) {
        if let Some(id) = r.target().try_id() {
            let id = id.to_owned();
            if let Ok(Some(h)) = repo.objects.try_header(&id)
                && h.kind == Kind::Tag
            {
                out.entry(id)
                    .or_insert_with(|| r.name().as_bstr().to_string());
            }
        }
    }
    out
}

/// Turns the findings of messages into report findings: each with its provenance (`ref_of`
/// names a ref that reaches the object), those `[allow] commits` names dropped and counted in
/// `summary`, the same secret in several messages reported once.
pub(crate) fn findings(
    ctx: &ScanContext<'_>,
    mut outcome: Outcome,
    mut ref_of: impl FnMut(ObjectId, bool) -> String,
    summary: &mut Summary,
) -> Vec<Finding> {
    outcome.count_into(summary);
    // An object stored twice (two packs) is scanned twice: one of each.
    outcome.found.sort_by(|a, b| {
        (a.meta.time, a.meta.committed, a.object)
            .cmp(&(b.meta.time, b.meta.committed, b.object))
            .then(a.tag.cmp(&b.tag))
    });
    outcome.found.dedup_by_key(|f| f.object);
    // Earliest message first: each secret is reported at the first message that holds it.
    let mut groups: BTreeMap<(Fingerprint, usize), (Finding, usize, Vec<OtherPlace>)> =
        BTreeMap::new();
    let mut order = Vec::new();
    for found in outcome.found {
        if ctx.allowlist.allows_commit(&found.object.to_string()) {
            summary.allowed += found.findings.len() as u64;
            continue;
        }
        let name = Location::Message {
            object: found.object.to_string(),
            tag: found.tag,
        }
        .name()
        .into_owned();
        let mut nth: BTreeMap<Fingerprint, usize> = BTreeMap::new();
        for mut f in found.findings {
            let n = nth.entry(f.fingerprint.clone()).or_insert(0);
            let key = (f.fingerprint.clone(), *n);
            *n += 1;
            if let Some((_, count, others)) = groups.get_mut(&key) {
                *count += 1;
                if others.len() < MAX_LISTED_PLACES {
                    others.push(OtherPlace {
                        path: name.clone(),
                        commit: Some(found.object.to_string()),
                        blob: String::new(),
                    });
                }
                continue;
            }
            f.provenance = Some(Provenance {
                commit: Some(found.object.to_string()),
                author: found.meta.author.clone(),
                email: found.meta.email.clone(),
                date: found.meta.time.map(rfc3339_utc),
                message: Some(found.meta.subject.clone()),
                ref_name: Some(ref_of(found.object, found.tag)),
                blob: String::new(),
                other_locations: 0,
                other_places: Vec::new(),
                in_head: None,
                submodule: None,
            });
            order.push(key.clone());
            groups.insert(key, (f, 0, Vec::new()));
        }
    }
    order
        .into_iter()
        .filter_map(|key| groups.remove(&key))
        .map(|(mut f, count, others)| {
            if let Some(p) = f.provenance.as_mut() {
                p.other_locations = count;
                p.other_places = others;
            }
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_what_follows_the_headers() {
        let commit = b"tree 0000\nauthor A <a@x> 1 +0000\n\nsubject\n\nbody\n";
        assert_eq!(
            message_of(Kind::Commit, commit),
            Some(&b"subject\n\nbody\n"[..])
        );
        assert_eq!(message_of(Kind::Commit, b"tree 0000\n"), None);
        assert_eq!(message_of(Kind::Commit, b"tree 0000\n\n  \n"), None);
    }

    #[test]
    fn a_tag_signature_is_not_part_of_its_message() {
        let tag = b"object 0\ntype commit\ntag v1\n\nrelease\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n";
        assert_eq!(message_of(Kind::Tag, tag), Some(&b"release\n"[..]));
        // In the middle of a line it is text someone wrote.
        let quoted = b"object 0\n\nsee -----BEGIN PGP SIGNATURE-----\n";
        assert_eq!(
            message_of(Kind::Tag, quoted),
            Some(&b"see -----BEGIN PGP SIGNATURE-----\n"[..])
        );
    }
}
