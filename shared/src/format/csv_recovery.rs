//! Row-level recovery for CSV. arrow-csv refuses a whole batch for one ragged row, one
//! unterminated quote or one invalid UTF-8 byte; when it does, the batch's bytes are split into
//! records here (csv-core, the tokenizer arrow-csv itself uses, so quoting agrees), each record
//! is checked alone, the good ones go back through arrow-csv (same value semantics as the fast
//! path) and the bad ones are kept with their line number and raw bytes. Clean batches never
//! come here.

use crate::spec::CsvOptions;

/// One CSV record as it appeared in the object.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RawRecord {
    /// The record's bytes, line terminator included.
    pub bytes: Vec<u8>,
    /// Fields in the record.
    pub fields: usize,
    /// Index of the first field that is not valid UTF-8.
    pub bad_utf8_field: Option<usize>,
    /// Blank lines skipped before the record.
    pub blank_lines: u64,
    /// The field values (invalid UTF-8 replaced), for profiling.
    pub values: Vec<String>,
}

impl RawRecord {
    /// Line breaks inside the record before its terminator (quoted multi-line values, or an
    /// unterminated quote that swallowed the following lines).
    pub fn inner_line_break(&self) -> Option<usize> {
        let body = trim_terminator(&self.bytes);
        body.iter().position(|&b| b == b'\n' || b == b'\r')
    }

    /// Physical lines the record spans.
    pub fn lines(&self) -> u64 {
        count_lines(&self.bytes).max(1)
    }
}

/// The record's bytes without its trailing `\n`, `\r\n` or `\r`.
pub(super) fn trim_terminator(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// Physical lines in `bytes`: `\n`, `\r\n` and a lone `\r` each end one (a last line without a
/// terminator counts too).
pub(super) fn count_lines(bytes: &[u8]) -> u64 {
    let mut n = 0u64;
    let mut i = 0;
    while let Some(p) = memchr::memchr2(b'\n', b'\r', &bytes[i..]) {
        let at = i + p;
        n += 1;
        i = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
            at + 2
        } else {
            at + 1
        };
    }
    if i < bytes.len() {
        n += 1;
    }
    n
}

/// Splits a byte stream into CSV records, pushed in pieces.
pub(super) struct RecordSplitter {
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    nout: usize,
    nend: usize,
    raw: Vec<u8>,
    /// Blank lines returned as empty records, for the next record's count.
    carry_blank: u64,
    /// The last record ended in `\r`: a `\n` right after it completes that line ending.
    ended_cr: bool,
}

/// Refuses a delimiter or quote that is not one ASCII character (csv-core reads single bytes).
pub fn check_ascii(opts: &CsvOptions) -> Result<(), String> {
    for (name, c) in [("delimiter", opts.delimiter), ("quote", opts.quote)] {
        if !c.is_ascii() {
            return Err(format!("CSV {name} `{c}` must be a single ASCII character"));
        }
    }
    Ok(())
}

/// A csv-core reader with the object's delimiter, quote and escape (the settings arrow-csv uses).
pub fn core_reader(opts: &CsvOptions) -> csv_core::Reader {
    csv_core::ReaderBuilder::new()
        .delimiter(opts.delimiter as u8)
        .quote(opts.quote as u8)
        .escape(opts.escape.map(|e| e as u8))
        .build()
}

impl RecordSplitter {
    /// A splitter with the object's delimiter, quote and escape.
    pub fn new(opts: &CsvOptions) -> Self {
        Self {
            core: core_reader(opts),
            out: vec![0; 4096],
            ends: vec![0; 64],
            nout: 0,
            nend: 0,
            raw: Vec::new(),
            carry_blank: 0,
            ended_cr: false,
        }
    }

    /// Whether part of a record has been fed but not completed.
    pub fn in_record(&self) -> bool {
        !self.raw.is_empty()
    }

    /// Bytes of the record in progress.
    pub fn pending_bytes(&self) -> usize {
        self.raw.len()
    }

    /// Feeds `input` (empty = end of input); returns the bytes consumed and a completed record.
    /// Call again with the rest until it consumes nothing and returns no record.
    pub fn feed(&mut self, input: &[u8]) -> (usize, Option<RawRecord>) {
        let mut pos = 0;
        loop {
            let (res, nin, nout, nend) = self.core.read_record(
                &input[pos..],
                &mut self.out[self.nout..],
                &mut self.ends[self.nend..],
            );
            self.raw.extend_from_slice(&input[pos..pos + nin]);
            pos += nin;
            self.nout += nout;
            self.nend += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => return (pos, None),
                csv_core::ReadRecordResult::End => return (pos, None),
                csv_core::ReadRecordResult::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    let mut record = self.take_record();
                    if record.bytes.is_empty() {
                        // A blank line: no record (as arrow-csv).
                        self.carry_blank += record.blank_lines;
                        continue;
                    }
                    record.blank_lines += std::mem::take(&mut self.carry_blank);
                    return (pos, Some(record));
                }
            }
        }
    }

    fn take_record(&mut self) -> RawRecord {
        let ends = &self.ends[..self.nend];
        let mut start = 0;
        let mut bad = None;
        let mut values = Vec::with_capacity(ends.len());
        for (i, &end) in ends.iter().enumerate() {
            let field = &self.out[start..end];
            if bad.is_none() && std::str::from_utf8(field).is_err() {
                bad = Some(i);
            }
            values.push(String::from_utf8_lossy(field).into_owned());
            start = end;
        }
        let mut bytes = std::mem::take(&mut self.raw);
        if std::mem::take(&mut self.ended_cr) && bytes.first() == Some(&b'\n') {
            bytes.remove(0); // the `\n` of the previous record's `\r\n`
        }
        self.ended_cr = bytes.last() == Some(&b'\r');
        let lead = bytes
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        let blank_lines = count_lines(&bytes[..lead]);
        bytes.drain(..lead);
        let record = RawRecord {
            bytes,
            fields: self.nend,
            bad_utf8_field: bad,
            blank_lines,
            values,
        };
        (self.nout, self.nend) = (0, 0);
        record
    }

    /// Starts over (after a record was cut and its rest is fed again).
    pub fn reset(&mut self, opts: &CsvOptions) {
        *self = Self::new(opts);
    }
}

/// The record's bytes as text for the quarantine table: valid UTF-8 as is, every invalid byte
/// as `\xNN`, so nothing of the record is lost.
pub(super) fn escaped_text(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        s.push_str(chunk.valid());
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> Vec<RawRecord> {
        let mut s = RecordSplitter::new(&CsvOptions::default());
        let mut out = Vec::new();
        // Feed in 3-byte pieces: records cross piece boundaries.
        for piece in input.chunks(3) {
            let mut pos = 0;
            loop {
                let (n, r) = s.feed(&piece[pos..]);
                pos += n;
                match r {
                    Some(r) => out.push(r),
                    None if pos >= piece.len() => break,
                    None => {}
                }
            }
        }
        while let (_, Some(r)) = s.feed(&[]) {
            out.push(r);
        }
        out
    }

    #[test]
    fn splits_records_with_their_raw_bytes_field_counts_and_utf8() {
        let r = split(b"a,b,c\r\n\n1,\"x\ny\",3\n4,\xff,6\n7,8");
        let bytes: Vec<&[u8]> = r.iter().map(|r| r.bytes.as_slice()).collect();
        assert_eq!(
            bytes,
            vec![
                &b"a,b,c\r"[..],
                &b"1,\"x\ny\",3\n"[..],
                &b"4,\xff,6\n"[..],
                &b"7,8"[..]
            ]
        );
        assert_eq!(
            r.iter().map(|r| r.fields).collect::<Vec<_>>(),
            vec![3, 3, 3, 2]
        );
        assert_eq!(r[2].bad_utf8_field, Some(1));
        assert_eq!(r[1].inner_line_break(), Some(4));
        assert_eq!(r[0].inner_line_break(), None);
        assert_eq!(r[1].lines(), 2);
        assert_eq!(r[1].blank_lines, 1, "the blank line before it");
    }

    #[test]
    fn counts_lines_of_every_ending() {
        assert_eq!(count_lines(b"a\nb\r\nc\rd"), 4);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b""), 0);
    }

    #[test]
    fn escapes_only_invalid_bytes() {
        assert_eq!(escaped_text(b"\xc3\xbc,\xff\xfe"), "ü,\\xff\\xfe");
    }
}
