//! Whether a pack index lists an object id, found in a few probes.
//!
//! A pack index lists its ids in order, in buckets by first byte; a lookup bisects a bucket,
//! comparing whole ids at each of a dozen steps, each far from the last in memory. Ids are
//! hashes, spread evenly, so where one sits in its bucket is well guessed from its value: the
//! search here starts there, steps outwards in doubling steps (nearby ids first) to a range that
//! holds the id, and bisects that; whole ids are compared only when their first eight bytes
//! agree. However the ids are spread, that is at most about twice bisection's steps. The history
//! scan asks this for every entry of every tree it checks.
//!
//! An index's ids and buckets are read from the index file, untrusted: this search is used only
//! where it answers as the index's own lookup would (the ids in order, and the index's lookup
//! finding the first and last id of each bucket, so that it finds every listed id); otherwise
//! that lookup answers.

use std::cmp::Ordering;

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
        if lo == hi {
            return false;
        }
        let order = |i: u32| {
            let probe = self.index.oid_at_index(i).as_bytes();
            match prefix(probe) {
                Some(p) if p != key => key.cmp(&p),
                _ => want.cmp(probe),
            }
        };
        // Where `id` would sit were the bucket's ids spread perfectly evenly: its bytes after
        // the first, as a fraction of the bucket (no id read). Then outwards from there in
        // doubling steps, nearby ids first, to a range that holds it; then bisection.
        let fraction = (key << 8) >> 32;
        let guess = lo + ((u64::from(hi - lo) * fraction) >> 32) as u32;
        let mut step = 1u32;
        match order(guess) {
            Ordering::Equal => return true,
            Ordering::Less => {
                hi = guess;
                while step <= hi - lo {
                    let probe = hi - step;
                    match order(probe) {
                        Ordering::Equal => return true,
                        Ordering::Less => hi = probe,
                        Ordering::Greater => {
                            lo = probe + 1;
                            break;
                        }
                    }
                    step = step.saturating_mul(2);
                }
            }
            Ordering::Greater => {
                lo = guess + 1;
                while step <= hi - lo {
                    let probe = lo + step - 1;
                    match order(probe) {
                        Ordering::Equal => return true,
                        Ordering::Greater => lo = probe + 1,
                        Ordering::Less => {
                            hi = probe;
                            break;
                        }
                    }
                    step = step.saturating_mul(2);
                }
            }
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match order(mid) {
                Ordering::Less => hi = mid,
                Ordering::Equal => return true,
                Ordering::Greater => lo = mid + 1,
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

    #[test]
    fn ids_spread_unevenly_are_found_all_the_same() {
        let d = tempfile::tempdir().unwrap();
        // One bucket of 5,000 ids crowded at its low end, a few far out, and a bucket of one.
        let mut ids: Vec<[u8; 20]> = (0..5000u32)
            .map(|i| {
                let mut b = [0u8; 20];
                b[0] = 0x42;
                let v = if i % 1000 == 999 {
                    u64::MAX - u64::from(i)
                } else {
                    u64::from(i) * 977
                };
                b[1..9].copy_from_slice(&v.to_be_bytes());
                b[19] = (i % 7) as u8;
                b
            })
            .collect();
        ids.push([0xf0; 20]);
        ids.sort_unstable();
        let index = index_file(d.path(), &ids, &true_fan(&ids));
        let search = IndexSearch::new(&index);
        assert!(!search.bounds.is_empty());
        for id in &ids {
            let id = gix::oid::from_bytes_unchecked(id);
            assert!(search.contains(id), "{id}");
            for other in neighbours(id) {
                assert_eq!(
                    search.contains(&other),
                    index.lookup(other).is_some(),
                    "{other}"
                );
            }
        }
    }
}
