//! An incremental splitter for a site's resident list (`{"Error": …, "Residents": [{…}, …]}`)
//! fed as the bytes arrive, in chunks cut anywhere: it hands out each resident's JSON object
//! exactly as it came (the bytes from its `{` to its `}`, what `serde_json`'s `RawValue`
//! gives the whole-answer path, so both paths digest the same bytes) and keeps nothing of an
//! object once it is taken. Memory is the objects waiting to be taken plus the one being
//! read, which may not pass a cap (a hostile answer of one endless object is refused).
//!
//! Pure: bytes in, objects out. Why not a crate: the streaming JSON crates either parse each
//! element into values (the pull digests objects unparsed and parses only the changed ones)
//! or want a `Read` (a blocking reader; the answer arrives as async chunks). The scanner only
//! tracks strings, escapes and nesting; each object's JSON is checked where it is parsed, and
//! every other member of the envelope (`Error`) is checked here with `serde_json`.

/// Why the answer cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// Not the envelope's JSON: what was wrong, and at which byte of the answer.
    Malformed(String),
    /// One value of the answer (a resident, or another member) is longer than the cap.
    ObjectTooLarge { cap: usize },
}

/// Where the scanner is in the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before the envelope's `{`.
    Start,
    /// After `{` (`first`: a key or `}`) or after `,` (a key).
    Key { first: bool },
    /// Inside a key's string.
    KeyText,
    /// After a key, before `:`.
    Colon,
    /// After `:`, before the member's value.
    Value,
    /// Inside the value of a member other than the residents.
    Other,
    /// After a member's value: `,` or `}`.
    Member,
    /// After the residents' `[` (`first`: an element or `]`) or after `,` (an element).
    Element { first: bool },
    /// Inside one element of the residents.
    InElement,
    /// After an element: `,` or `]`.
    AfterElement,
    /// After the envelope's `}`: only whitespace may follow.
    Done,
}

/// What one byte did to the value being scanned.
enum Step {
    /// The value goes on.
    More,
    /// The value ends with this byte.
    Ends,
    /// The value (a number, `true`, `null`…) ended before this byte, which belongs to what follows.
    EndedBefore,
}

/// Strings, escapes and nesting of the value being scanned.
#[derive(Debug, Clone, Copy, Default)]
struct Scan {
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// A bare value (number, literal) has started at depth 0.
    bare: bool,
}

impl Scan {
    fn step(&mut self, b: u8) -> Step {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.depth == 0 {
                    return Step::Ends;
                }
            }
            return Step::More;
        }
        match b {
            _ if self.depth == 0 && self.bare && !is_bare(b) => Step::EndedBefore,
            b'"' => {
                self.in_string = true;
                Step::More
            }
            b'{' | b'[' => {
                self.depth += 1;
                Step::More
            }
            b'}' | b']' if self.depth == 0 => Step::EndedBefore,
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    Step::Ends
                } else {
                    Step::More
                }
            }
            _ if self.depth == 0 && !is_bare(b) => Step::EndedBefore,
            _ => {
                if self.depth == 0 {
                    self.bare = true;
                }
                Step::More
            }
        }
    }
}

/// A byte of a number or a literal (`true`, `false`, `null`); `serde_json` checks the rest.
fn is_bare(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.')
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The residents' objects split so far, taken together ([`ResidentSplitter::take`]).
#[derive(Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Batch {
    /// How many objects.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each object's JSON text, in the answer's order (an object that is not UTF-8 is malformed).
    pub fn texts(&self) -> Result<Vec<&str>, SplitError> {
        let mut from = 0;
        let mut out = Vec::with_capacity(self.ends.len());
        for &end in &self.ends {
            let text = std::str::from_utf8(&self.bytes[from..end])
                .map_err(|e| SplitError::Malformed(format!("a resident in the answer is not UTF-8 ({e})")))?;
            out.push(text);
            from = end;
        }
        Ok(out)
    }
}

/// Splits one resident-list answer fed in chunks ([`ResidentSplitter::feed`]), then
/// [`ResidentSplitter::finish`]; the objects are taken in batches ([`ResidentSplitter::take`]).
#[derive(Debug)]
pub struct ResidentSplitter {
    /// The envelope's member holding the list (`Residents`, or `Mappings` for a site's units).
    list: &'static str,
    at: At,
    scan: Scan,
    /// Whether the key just read is the residents' (`Residents`).
    residents_key: bool,
    seen_residents: bool,
    /// The objects split and not yet taken, then the one being read.
    objects: Vec<u8>,
    ends: Vec<usize>,
    /// A key or another member's value being read (checked whole, then dropped).
    scratch: Vec<u8>,
    /// The most bytes of one value.
    cap: usize,
    /// Bytes fed before the current chunk (for the position in a message).
    offset: usize,
}

impl ResidentSplitter {
    /// A splitter refusing any one value longer than `cap` bytes.
    pub fn new(cap: usize) -> ResidentSplitter {
        ResidentSplitter::of_list("Residents", cap)
    }

    /// The same for another list answer of the same shape (`{"Mappings": [...]}`).
    pub fn of_list(list: &'static str, cap: usize) -> ResidentSplitter {
        ResidentSplitter {
            list,
            at: At::Start,
            scan: Scan::default(),
            residents_key: false,
            seen_residents: false,
            objects: Vec::new(),
            ends: Vec::new(),
            scratch: Vec::new(),
            cap,
            offset: 0,
        }
    }

    /// How many objects are split and waiting to be taken.
    pub fn ready(&self) -> usize {
        self.ends.len()
    }

    /// The objects split so far; the one being read stays.
    pub fn take(&mut self) -> Batch {
        let cut = self.ends.last().copied().unwrap_or(0);
        let rest = self.objects[cut..].to_vec();
        let mut bytes = std::mem::replace(&mut self.objects, rest);
        bytes.truncate(cut);
        Batch { bytes, ends: std::mem::take(&mut self.ends) }
    }

    /// The answer has ended: it must have been the whole envelope.
    pub fn finish(&self) -> Result<(), SplitError> {
        match self.at {
            At::Done => Ok(()),
            _ => Err(SplitError::Malformed(format!("the answer ends after {} bytes, inside its JSON", self.offset))),
        }
    }

    fn capturing(&self) -> bool {
        matches!(self.at, At::KeyText | At::Other | At::InElement)
    }

    fn malformed(&self, at: usize, what: &str) -> SplitError {
        SplitError::Malformed(format!("{what} at byte {} of the answer", self.offset + at))
    }

    /// The next bytes of the answer.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), SplitError> {
        let mut i = 0;
        // Where the value being read starts in this chunk, while one is.
        let mut from = self.capturing().then_some(0);
        while i < chunk.len() {
            let b = chunk[i];
            if self.capturing() {
                let end = match self.scan.step(b) {
                    Step::More => {
                        i += 1;
                        continue;
                    }
                    Step::Ends => i + 1,
                    Step::EndedBefore => i,
                };
                self.value_read(&chunk[from.unwrap_or(0)..end], i)?;
                from = None;
                i = end;
                continue;
            }
            if is_ws(b) {
                i += 1;
                continue;
            }
            let (next, consumed) = match (self.at, b) {
                (At::Start, b'{') => (At::Key { first: true }, true),
                (At::Key { first: true }, b'}') | (At::Member, b'}') => (At::Done, true),
                (At::Key { .. }, b'"') => {
                    self.scan = Scan { in_string: true, ..Scan::default() };
                    from = Some(i);
                    (At::KeyText, true)
                }
                (At::Colon, b':') => (At::Value, true),
                (At::Value, b'[') if self.residents_key => {
                    if self.seen_residents {
                        return Err(self.malformed(i, &format!("a second {:?} member", self.list)));
                    }
                    self.seen_residents = true;
                    (At::Element { first: true }, true)
                }
                (At::Value, _) if self.residents_key => {
                    return Err(self.malformed(i, &format!("{:?} is not a list", self.list)))
                }
                (At::Value, _) => {
                    self.scan = Scan::default();
                    from = Some(i);
                    (At::Other, false)
                }
                (At::Member, b',') => (At::Key { first: false }, true),
                (At::Element { first: true }, b']') | (At::AfterElement, b']') => (At::Member, true),
                (At::Element { .. }, _) => {
                    self.scan = Scan::default();
                    from = Some(i);
                    (At::InElement, false)
                }
                (At::AfterElement, b',') => (At::Element { first: false }, true),
                (At::Done, _) => return Err(self.malformed(i, "more after the answer's JSON")),
                (_, b) => return Err(self.malformed(i, &format!("unexpected {:?}", b as char))),
            };
            self.at = next;
            if consumed {
                i += 1;
            }
        }
        if let Some(from) = from {
            self.keep(&chunk[from..])?;
        }
        self.offset += chunk.len();
        Ok(())
    }

    /// Keeps part of the value being read, within the cap.
    fn keep(&mut self, part: &[u8]) -> Result<(), SplitError> {
        let (held, buffer) = match self.at {
            At::InElement => (self.objects.len() - self.ends.last().copied().unwrap_or(0), &mut self.objects),
            _ => (self.scratch.len(), &mut self.scratch),
        };
        if held + part.len() > self.cap {
            return Err(SplitError::ObjectTooLarge { cap: self.cap });
        }
        buffer.extend_from_slice(part);
        Ok(())
    }

    /// The value being read ends with `last` (its bytes in this chunk); `at` is where in the chunk.
    fn value_read(&mut self, last: &[u8], at: usize) -> Result<(), SplitError> {
        self.keep(last)?;
        match self.at {
            At::InElement => {
                let start = self.ends.last().copied().unwrap_or(0);
                if self.objects.len() == start {
                    return Err(self.malformed(at, "a resident expected"));
                }
                self.ends.push(self.objects.len());
                self.at = At::AfterElement;
            }
            At::KeyText => {
                let key: String = serde_json::from_slice(&self.scratch)
                    .map_err(|e| self.malformed(at, &format!("a key that is not a JSON string ({e})")))?;
                self.residents_key = key == self.list;
                self.scratch.clear();
                self.at = At::Colon;
            }
            _ => {
                if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&self.scratch) {
                    return Err(self.malformed(at, &format!("a member that is not JSON ({e})")));
                }
                self.scratch.clear();
                self.at = At::Member;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `body` fed in the given pieces; every object taken as it is ready.
    fn split(pieces: &[&[u8]], cap: usize) -> Result<Vec<String>, SplitError> {
        let mut s = ResidentSplitter::new(cap);
        let mut out = Vec::new();
        for p in pieces {
            s.feed(p)?;
            let batch = s.take();
            out.extend(batch.texts()?.into_iter().map(str::to_string));
        }
        s.finish()?;
        Ok(out)
    }

    /// What the whole-answer path gives for the same body.
    fn raw_values(body: &[u8]) -> Vec<String> {
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(rename = "Residents", default, borrow)]
            residents: Vec<&'a serde_json::value::RawValue>,
        }
        let e: Envelope<'_> = serde_json::from_slice(body).unwrap();
        e.residents.iter().map(|r| r.get().to_string()).collect()
    }

    const TRICKY_TEXT: &str = r#" { "Error" : {"code": [1, "x\"}]", null], "n": -1.5e3} ,
        "Residents":[ {"ResidentId":"a\"b","FirstName":"{[}]\\","Nested":{"x":[{"y":"]"}]}} ,
        {"ResidentId": "c", "Status": ["Active"], "Note": "caf\u00e9 \\\" , ] }"},{}
        ,{"Unicode":"Zoë ✓"}] , "More": true }
    "#;

    #[test]
    fn a_body_split_at_every_byte_gives_the_same_objects_as_the_whole_answer() {
        const TRICKY: &[u8] = TRICKY_TEXT.as_bytes();
        let expected = raw_values(TRICKY);
        assert_eq!(expected.len(), 4);
        assert_eq!(split(&[TRICKY], 1 << 20).unwrap(), expected, "whole");
        for cut in 0..=TRICKY.len() {
            let (a, b) = TRICKY.split_at(cut);
            assert_eq!(split(&[a, b], 1 << 20).unwrap(), expected, "cut at {cut}");
        }
        // Every piece one byte long, and every pair of cuts.
        let bytes: Vec<&[u8]> = TRICKY.chunks(1).collect();
        assert_eq!(split(&bytes, 1 << 20).unwrap(), expected, "byte by byte");
        for x in (0..TRICKY.len()).step_by(3) {
            for y in x..TRICKY.len() {
                let pieces = [&TRICKY[..x], &TRICKY[x..y], &TRICKY[y..]];
                assert_eq!(split(&pieces, 1 << 20).unwrap(), expected, "cuts at {x}, {y}");
            }
        }
    }

    #[test]
    fn objects_are_taken_in_batches_and_the_one_being_read_stays() {
        let mut s = ResidentSplitter::new(1 << 20);
        s.feed(br#"{"Residents":[{"a":1},{"b":2},{"c"#).unwrap();
        assert_eq!(s.ready(), 2);
        let first = s.take();
        assert_eq!(first.texts().unwrap(), [r#"{"a":1}"#, r#"{"b":2}"#]);
        assert_eq!(s.ready(), 0);
        s.feed(br#"":3}]}"#).unwrap();
        s.finish().unwrap();
        assert_eq!(s.take().texts().unwrap(), [r#"{"c":3}"#]);
        assert!(s.take().is_empty());
    }

    #[test]
    fn a_units_answer_splits_by_its_own_member() {
        let body = br#"{"Mappings":[{"Unit":"1"},{"Unit":"2"}],"Residents":{"not":"a list here"}}"#;
        let mut s = ResidentSplitter::of_list("Mappings", 1024);
        s.feed(body).unwrap();
        s.finish().unwrap();
        assert_eq!(s.take().texts().unwrap(), [r#"{"Unit":"1"}"#, r#"{"Unit":"2"}"#]);
        assert!(split(&[body], 1024).is_err(), "for residents, Residents must be a list");
    }

    #[test]
    fn empty_and_absent_lists_split_to_nothing() {
        for body in [&br#"{"Residents":[]}"#[..], br#"{"Error":null}"#, br#"{}"#, br#" {"Residents" : [ ] } "#] {
            assert_eq!(split(&[body], 64).unwrap(), Vec::<String>::new(), "{}", String::from_utf8_lossy(body));
            assert_eq!(raw_values(body).len(), 0);
        }
    }

    #[test]
    fn malformed_answers_are_refused_with_a_position() {
        for body in [
            &br#"{"Residents":[{"a":1},]}"#[..],
            br#"{"Residents":[,{"a":1}]}"#,
            br#"{"Residents":[{"a":1}{"b":2}]}"#,
            br#"{"Residents":{"a":1}}"#,
            br#"{"Residents":null}"#,
            br#"{"Residents":[],"Residents":[]}"#,
            br#"{"Error":nul,"Residents":[]}"#,
            br#"{"Error" null,"Residents":[]}"#,
            br#"{"Residents":[]} x"#,
            br#"{"Residents":[]}}"#,
            br#"["Residents"]"#,
            br#"{Residents:[]}"#,
        ] {
            match split(&[body], 1 << 20) {
                Err(SplitError::Malformed(m)) => assert!(m.contains("byte"), "{m}"),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
        // Cut short anywhere, the answer is refused at its end.
        let body = br#"{"Residents":[{"a":"}"}]}"#;
        for cut in 0..body.len() {
            assert!(split(&[&body[..cut]], 1 << 20).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn an_object_past_the_cap_is_refused_however_it_arrives() {
        let big = format!(r#"{{"Residents":[{{"a":1}},{{"Note":"{}"}}]}}"#, "x".repeat(100));
        assert_eq!(split(&[big.as_bytes()], 200).unwrap().len(), 2);
        assert_eq!(split(&[big.as_bytes()], 50), Err(SplitError::ObjectTooLarge { cap: 50 }));
        let pieces: Vec<&[u8]> = big.as_bytes().chunks(7).collect();
        assert_eq!(split(&pieces, 50), Err(SplitError::ObjectTooLarge { cap: 50 }));
        // Another member counts too: an endless `Error` is no way around it.
        let error = format!(r#"{{"Error":"{}","Residents":[]}}"#, "e".repeat(100));
        assert_eq!(split(&[error.as_bytes()], 50), Err(SplitError::ObjectTooLarge { cap: 50 }));
    }
}
