//! Whether a pack index lists an object id, found in a few probes.
//!
//! A pack index lists its ids in order, in buckets by first byte; a lookup bisects a bucket,
//! comparing whole ids at each of a dozen steps. Ids are hashes, spread evenly, so where one sits
//! in its bucket is well guessed from its value: each probe here is placed by interpolating on
//! the ids' first eight bytes (every other probe bisects, so no spread of ids, however chosen,
//! takes more than twice bisection's steps), and whole ids are compared only when those bytes
//! agree. The history scan asks this for every entry of every tree it checks.
//!
//! An index's ids and buckets are read from the index file, untrusted: this search is used only
//! where it answers as the index's own lookup would (the ids in order, and the index's lookup
//! finding the first and last id of each bucket, so that it finds every listed id); otherwise
//! that lookup answers.

use gix::odb::pack;

/// One pack index, ready to be searched.
pub(crate) struct IndexSearch<'a> {
    index: &'a pack::index::File,
    /// `bounds[b]..bounds[b + 1]`: the entries whose ids start with byte `b`. Empty when the
    /// index's own lookup answers.
    bounds: Vec<u32>,
}

impl<'a> IndexSearch<'a> {
    /// Prepares `index` for searching: one pass over its ids.
    pub fn new(index: &'a pack::index::File) -> IndexSearch<'a> {
        let n = index.num_objects();
        let id = |i: u32| index.oid_at_index(i).as_bytes();
        let sorted = (1..n).all(|i| id(i - 1) <= id(i));
        let mut search = IndexSearch {
            index,
            bounds: Vec::new(),
        };
        if !sorted {
            return search;
        }
        let mut bounds = vec![0u32; 257];
        let mut at = 0u32;
        for (b, bound) in bounds.iter_mut().enumerate().skip(1) {
            // The first entry whose first byte is past `b - 1`.
            let (mut lo, mut hi) = (at, n);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if usize::from(id(mid)[0]) < b {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            at = lo;
            *bound = at;
        }
        // The index's lookup must find what this search finds: the first and the last id of
        // each bucket (in order, so everything between them too).
        let agrees = bounds.windows(2).all(|w| {
            w[0] == w[1]
                || (index.lookup(index.oid_at_index(w[0])).is_some()
                    && index.lookup(index.oid_at_index(w[1] - 1)).is_some())
        });
        if agrees {
            search.bounds = bounds;
        }
        search
    }

    /// Whether the index lists `id`.
    pub fn contains(&self, id: &gix::oid) -> bool {
        if self.bounds.is_empty() {
            return self.index.lookup(id).is_some();
        }
        let want = id.as_bytes();
        let Some(key) = prefix(want) else {
            return self.index.lookup(id).is_some();
        };
        let first = usize::from(want[0]);
        let (mut lo, mut hi) = (self.bounds[first], self.bounds[first + 1]);
        let at = |i: u32| self.index.oid_at_index(i).as_bytes();
        let mut guess = true;
        while lo < hi {
            let mid = match (guess && hi - lo > 8).then(|| (prefix(at(lo)), prefix(at(hi - 1)))) {
                Some((Some(low), Some(high))) => {
                    if key < low || key > high {
                        return false;
                    }
                    if high == low {
                        lo + (hi - lo) / 2
                    } else {
                        let span = u128::from(hi - 1 - lo);
                        let step = u128::from(key - low) * span / u128::from(high - low);
                        lo + u32::try_from(step).unwrap_or(hi - 1 - lo)
                    }
                }
                _ => lo + (hi - lo) / 2,
            };
            guess = !guess;
            let probe = at(mid);
            let order = match prefix(probe) {
                Some(p) if p != key => key.cmp(&p),
                _ => want.cmp(probe),
            };
            match order {
                std::cmp::Ordering::Less => hi = mid,
                std::cmp::Ordering::Equal => return true,
                std::cmp::Ordering::Greater => lo = mid + 1,
            }
        }
        false
    }
}

/// An id's first eight bytes, as a number that orders as the ids do.
fn prefix(id: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(id.get(..8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::super::test_git::git;
    use super::*;
    use gix::ObjectId;

    /// Ids near `id`: the same but for one byte, early or late (absent from any index, or
    /// nearly so), and the lowest and highest ids of its bucket.
    fn neighbours(id: &gix::oid) -> Vec<ObjectId> {
        let mut out = Vec::new();
        for at in [0, 1, 7, 8, 19] {
            for delta in [1u8, 0x80] {
                let mut b = id.as_bytes().to_vec();
                b[at] = b[at].wrapping_add(delta);
                out.push(ObjectId::try_from(&b[..]).unwrap());
            }
        }
        let mut low = [0u8; 20];
        low[0] = id.as_bytes()[0];
        let mut high = [0xffu8; 20];
        high[0] = id.as_bytes()[0];
        out.push(ObjectId::from(low));
        out.push(ObjectId::from(high));
        out
    }

    #[test]
    fn finds_what_the_index_lookup_finds() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        git(dir, &["init", "-q", "-b", "main", "."]);
        for i in 0..3000 {
            std::fs::write(dir.join(format!("f{i}")), format!("file {i}\n")).unwrap();
        }
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-qm", "files"]);
        git(dir, &["repack", "-adq"]);
        let packs = dir.join(".git/objects/pack");
        let idx = std::fs::read_dir(&packs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))
            .expect("a pack index");
        let index = pack::index::File::at(&idx, gix::hash::Kind::Sha1).unwrap();
        let search = IndexSearch::new(&index);
        assert!(index.num_objects() > 3000);
        assert!(
            !search.bounds.is_empty(),
            "a pack git wrote is searched here"
        );
        for e in index.iter() {
            assert!(search.contains(&e.oid), "{}", e.oid);
            for other in neighbours(&e.oid) {
                assert_eq!(
                    search.contains(&other),
                    index.lookup(other).is_some(),
                    "{other}"
                );
            }
        }
    }

    /// A version 2 pack index listing `ids` in the order given, with fan-out table `fan`.
    fn index_file(dir: &std::path::Path, ids: &[[u8; 20]], fan: &[u32; 256]) -> pack::index::File {
        let mut data = vec![0xff, b't', b'O', b'c', 0, 0, 0, 2];
        for f in fan {
            data.extend_from_slice(&f.to_be_bytes());
        }
        for id in ids {
            data.extend_from_slice(id);
        }
        for (i, _) in ids.iter().enumerate() {
            data.extend_from_slice(&0u32.to_be_bytes());
            data.extend_from_slice(&(12 + i as u32 * 10).to_be_bytes());
        }
        data.extend_from_slice(&[0u8; 40]);
        let path = dir.join("pack-test.idx");
        std::fs::write(&path, data).unwrap();
        pack::index::File::at(&path, gix::hash::Kind::Sha1).unwrap()
    }

    /// The fan-out table of `ids` as git writes it.
    fn true_fan(ids: &[[u8; 20]]) -> [u32; 256] {
        let mut fan = [0u32; 256];
        for (b, f) in fan.iter_mut().enumerate() {
            *f = ids.iter().filter(|id| usize::from(id[0]) <= b).count() as u32;
        }
        fan
    }

    #[test]
    fn an_index_out_of_order_or_with_a_lying_fan_is_answered_by_its_own_lookup() {
        let d = tempfile::tempdir().unwrap();
        let id = |first: u8, last: u8| {
            let mut b = [0x55u8; 20];
            b[0] = first;
            b[19] = last;
            b
        };
        let sorted = [id(1, 1), id(1, 2), id(7, 0), id(0xfe, 9)];
        let shuffled = [sorted[2], sorted[0], sorted[3], sorted[1]];
        // In order, but the first id counted in bucket 0: the index's lookup cannot find it.
        let mut lying = true_fan(&sorted);
        lying[0] = 1;
        for (ids, fan, searched) in [
            (&sorted, true_fan(&sorted), true),
            (&shuffled, true_fan(&shuffled), false),
            (&sorted, lying, false),
        ] {
            let index = index_file(d.path(), ids, &fan);
            let search = IndexSearch::new(&index);
            assert_eq!(!search.bounds.is_empty(), searched, "{ids:?}");
            for id in ids {
                let id = gix::oid::from_bytes_unchecked(id);
                assert_eq!(search.contains(id), index.lookup(id).is_some(), "{id}");
                for other in neighbours(id) {
                    assert_eq!(search.contains(&other), index.lookup(other).is_some());
                }
            }
        }
    }
}
