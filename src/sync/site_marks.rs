//! A site's residents as a pull's merge first sees them: ids and 128-bit keys, not text.
//!
//! A pull that merges a site reads every local resident's marks before the answer's first
//! batch: to find the resident each remote object is about (by remote id, or by email for
//! one not linked yet) and to see that the last merge still holds (the same object, byte
//! for byte, and the row untouched since). For a huge site that is the merge's memory: as
//! text (a remote id, a hex digest) in three hash maps they took ~280 bytes a resident,
//! 56 MB for 200,000. Here each is one fixed-size entry in one vector (the remote id as the
//! first 128 bits of its SHA-256, the digest as its own 16 bytes), found through two sorted
//! vectors of positions: ~60 bytes a resident. Only unlinked residents keep their email.
//!
//! A key found here is a candidate, never proof: the merge reads the resident it names and
//! goes on only when the row's remote id is the answer's (a collision of 128-bit keys would
//! cost a missed match, never a wrong merge). The fast path compares digests, as before.

use crate::store::residents::{for_each_pull_mark, PullMark};
use rusqlite::Connection;
use std::collections::HashMap;

/// 128 bits that stand for a longer text: a remote id's SHA-256 prefix, or a resident
/// object's digest.
pub(super) type Key = [u8; 16];

/// The first 128 bits of the SHA-256 of `bytes`: the key of a remote id, and the digest of a
/// remote resident object (`pull::resident_digest`).
pub(super) fn sha256_key(bytes: &[u8]) -> Key {
    use sha2::{Digest, Sha256};
    let mut key = Key::default();
    key.copy_from_slice(&Sha256::digest(bytes)[..16]);
    key
}

/// The key of a remote resident id.
pub(super) fn remote_key(remote_id: &str) -> Key {
    sha256_key(remote_id.as_bytes())
}

/// A stored digest as its key (`None` for a form this version never writes: that resident
/// then simply takes the full merge).
fn digest_key(hex_digest: &str) -> Option<Key> {
    let mut key = Key::default();
    hex::decode_to_slice(hex_digest, &mut key).ok().map(|()| key)
}

/// One local resident: its id, the key of its remote id (when linked), the key of the
/// digest its last merge merged, and whether its row is as that merge left it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mark {
    pub id: i64,
    remote: Option<Key>,
    digest: Option<Key>,
    unchanged_since_merge: bool,
}

impl Mark {
    /// Whether the resident is linked to a remote one.
    pub fn linked(&self) -> bool {
        self.remote.is_some()
    }

    /// The key of its remote id, when linked.
    pub fn remote(&self) -> Option<&Key> {
        self.remote.as_ref()
    }

    /// Whether the last merge merged the object of `digest` and the row has not changed
    /// since.
    pub fn settles(&self, digest: &Key) -> bool {
        self.digest.as_ref() == Some(digest) && self.unchanged_since_merge
    }
}

/// Every resident of one site as [`Mark`]s, with what the merge looks them up by and which
/// of them the answer has named so far.
#[derive(Debug, Default)]
pub(super) struct SiteMarks {
    marks: Vec<Mark>,
    /// Positions of the linked marks, in the order of their remote keys.
    by_remote: Vec<u32>,
    /// Positions of the marks with a digest, in the order of their digests.
    by_digest: Vec<u32>,
    /// The position of each resident not linked yet, by email (few: residents added here
    /// and not pushed yet, or not matched yet).
    by_email: HashMap<Box<str>, u32>,
    /// Whether each mark's resident was named by the answer (or settled from it).
    seen: Vec<bool>,
}

impl SiteMarks {
    /// Reads the marks of every resident of `site_id`.
    pub fn read(conn: &Connection, site_id: i64) -> rusqlite::Result<Self> {
        let mut out = Self::default();
        for_each_pull_mark(conn, site_id, |m| out.push(m))?;
        out.index();
        Ok(out)
    }

    fn push(&mut self, m: PullMark<'_>) {
        let at = u32::try_from(self.marks.len()).expect("a site holds fewer than 2^32 residents");
        if m.remote_id.is_none() {
            if let Some(email) = m.email {
                self.by_email.insert(email.into(), at);
            }
        }
        self.marks.push(Mark {
            id: m.id,
            remote: m.remote_id.map(remote_key),
            digest: m.remote_digest.and_then(digest_key),
            unchanged_since_merge: m.unchanged_since_merge,
        });
    }

    fn index(&mut self) {
        let marks = &self.marks;
        let positions = |key: fn(&Mark) -> Option<Key>| {
            let mut at: Vec<u32> = (0..marks.len() as u32).filter(|&i| key(&marks[i as usize]).is_some()).collect();
            at.sort_unstable_by_key(|&i| key(&marks[i as usize]));
            at.shrink_to_fit();
            at
        };
        self.by_remote = positions(|m| m.remote);
        self.by_digest = positions(|m| m.digest);
        self.seen = vec![false; marks.len()];
    }

    fn find(&self, order: &[u32], key: &Key, of: fn(&Mark) -> Option<&Key>) -> Option<usize> {
        order.binary_search_by(|&i| of(&self.marks[i as usize]).cmp(&Some(key))).ok().map(|found| order[found] as usize)
    }

    /// The position of the resident whose last merge merged the object of `digest`.
    pub fn by_digest(&self, digest: &Key) -> Option<usize> {
        self.find(&self.by_digest, digest, |m| m.digest.as_ref())
    }

    /// The position of the resident linked to the remote id of key `remote`.
    pub fn by_remote(&self, remote: &Key) -> Option<usize> {
        self.find(&self.by_remote, remote, |m| m.remote.as_ref())
    }

    /// The position of the resident not linked yet whose email is `email`.
    pub fn by_email(&self, email: &str) -> Option<usize> {
        self.by_email.get(email).map(|&at| at as usize)
    }

    /// The mark at `at` (a position these lookups gave).
    pub fn mark(&self, at: usize) -> &Mark {
        &self.marks[at]
    }

    /// Notes that the answer named the resident at `at`.
    pub fn see(&mut self, at: usize) {
        self.seen[at] = true;
    }

    /// The ids of the linked residents the answer did not name: gone from the remote.
    pub fn unseen_linked(&self) -> impl Iterator<Item = i64> + '_ {
        self.marks.iter().zip(&self.seen).filter(|(m, seen)| m.linked() && !**seen).map(|(m, _)| m.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark<'a>(id: i64, remote: Option<&'a str>, email: Option<&'a str>, digest: Option<&'a str>) -> PullMark<'a> {
        PullMark { id, remote_id: remote, email, remote_digest: digest, unchanged_since_merge: true }
    }

    fn marks(all: &[PullMark<'_>]) -> SiteMarks {
        let mut s = SiteMarks::default();
        for m in all {
            s.push(*m);
        }
        s.index();
        s
    }

    const D1: &str = "00112233445566778899aabbccddeeff";
    const D2: &str = "ffeeddccbbaa99887766554433221100";

    #[test]
    fn each_lookup_finds_its_resident_and_no_other() {
        let s = marks(&[
            mark(7, Some("r-7"), None, Some(D2)),
            mark(3, Some("r-3"), None, Some(D1)),
            mark(5, None, Some("new@example.com"), None),
            mark(9, Some("r-9"), None, None),
        ]);
        let id = |at: Option<usize>| at.map(|at| s.mark(at).id);
        assert_eq!(id(s.by_remote(&remote_key("r-3"))), Some(3));
        assert_eq!(id(s.by_remote(&remote_key("r-7"))), Some(7));
        assert_eq!(id(s.by_remote(&remote_key("r-9"))), Some(9));
        assert_eq!(id(s.by_remote(&remote_key("r-5"))), None);
        assert_eq!(id(s.by_digest(&digest_key(D1).unwrap())), Some(3));
        assert_eq!(id(s.by_digest(&digest_key(D2).unwrap())), Some(7));
        assert_eq!(id(s.by_digest(&remote_key("r-3"))), None);
        assert_eq!(id(s.by_email("new@example.com")), Some(5));
        assert_eq!(id(s.by_email("other@example.com")), None);
        assert!(!s.mark(s.by_email("new@example.com").unwrap()).linked());
    }

    #[test]
    fn a_linked_residents_email_is_not_kept_and_a_malformed_digest_never_settles() {
        let s = marks(&[mark(1, Some("r-1"), Some("kept@example.com"), Some("not hex"))]);
        assert_eq!(s.by_email("kept@example.com"), None);
        let at = s.by_remote(&remote_key("r-1")).unwrap();
        assert!(!s.mark(at).settles(&digest_key(D1).unwrap()));
        assert_eq!(s.by_digest(&digest_key(D1).unwrap()), None);
    }

    #[test]
    fn settles_needs_the_same_digest_and_an_untouched_row() {
        let mut touched = mark(2, Some("r-2"), None, Some(D1));
        touched.unchanged_since_merge = false;
        let s = marks(&[mark(1, Some("r-1"), None, Some(D1)), touched]);
        let d1 = digest_key(D1).unwrap();
        assert!(s.mark(s.by_remote(&remote_key("r-1")).unwrap()).settles(&d1));
        assert!(!s.mark(s.by_remote(&remote_key("r-1")).unwrap()).settles(&digest_key(D2).unwrap()));
        assert!(!s.mark(s.by_remote(&remote_key("r-2")).unwrap()).settles(&d1));
    }

    #[test]
    fn the_unseen_are_the_linked_residents_the_answer_did_not_name() {
        let mut s = marks(&[
            mark(1, Some("r-1"), None, None),
            mark(2, Some("r-2"), None, None),
            mark(3, None, Some("local@example.com"), None),
        ]);
        s.see(s.by_remote(&remote_key("r-1")).unwrap());
        assert_eq!(s.unseen_linked().collect::<Vec<_>>(), vec![2]);
        s.see(s.by_remote(&remote_key("r-2")).unwrap());
        assert_eq!(s.unseen_linked().count(), 0);
    }
}
