//! A tar reader that knows every size before it reads: a header's claim is
//! checked against a limit first, so a few bytes of gzip that declare a
//! gigabyte long name, PAX record or file cost nothing. General-purpose tar
//! readers read GNU long names and PAX headers whole before any caller can
//! look at them; charts never need more than a few KiB of either.
//!
//! Understood: ustar/POSIX (with the `prefix` field), GNU long names (`L`)
//! and long link names (`K`), PAX per-entry (`x`: `path`, `size`) and global
//! (`g`, read and ignored, as Helm's Go reader does) headers.

use std::io::Read;

use super::ChartError;
use crate::quote::quote_bytes;

/// Longest entry path, whether from a header, a GNU long name or PAX.
pub const MAX_PATH_BYTES: u64 = 4096;
/// Largest PAX extended header (all its records together).
pub const MAX_PAX_BYTES: u64 = 64 * 1024;

const BLOCK: usize = 512;

/// What an entry is, as far as a chart reader cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Directory,
    /// Anything else, named for the error that refuses it.
    Other(&'static str),
}

#[derive(Debug)]
pub struct Entry {
    /// As stored (not yet normalised), at most [`MAX_PATH_BYTES`].
    pub path: Vec<u8>,
    pub kind: Kind,
    /// Bytes of data that follow the header, as the archive claims.
    pub size: u64,
}

pub struct TarStream<R> {
    inner: R,
    /// Bytes of the decompressed stream read so far, and the most allowed.
    consumed: u64,
    limit: u64,
    /// Data and padding of the current entry not yet read.
    unread: u64,
    finished: bool,
}

fn archive_error(message: String) -> ChartError {
    ChartError::Archive(message)
}

impl<R: Read> TarStream<R> {
    /// `limit` bounds the whole decompressed tar stream, headers included.
    pub fn new(inner: R, limit: u64) -> Self {
        TarStream {
            inner,
            consumed: 0,
            limit,
            unread: 0,
            finished: false,
        }
    }

    /// The next entry, after skipping whatever of the previous one was not
    /// read; `None` at the end of the archive.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, ChartError> {
        self.skip_unread()?;
        if self.finished {
            return Ok(None);
        }
        let mut long_path: Option<Vec<u8>> = None;
        let mut pax_size: Option<u64> = None;
        loop {
            let mut header = [0u8; BLOCK];
            let got = self.read_up_to(&mut header)?;
            if got == 0 {
                // Helm's reader also accepts an archive that simply stops at a
                // header boundary.
                self.finished = true;
                return Ok(None);
            }
            if got < BLOCK {
                return Err(archive_error(format!(
                    "corrupt archive: it ends inside a header at byte {}",
                    self.consumed
                )));
            }
            if header.iter().all(|b| *b == 0) {
                self.finished = true;
                return Ok(None);
            }
            verify_checksum(&header, self.consumed)?;
            let header_size = parse_number(&header[124..136]).ok_or_else(|| {
                archive_error(format!(
                    "corrupt archive: entry {} has an unreadable size field",
                    quote_bytes(&header_name(&header))
                ))
            })?;
            let kind_byte = header[156];
            match kind_byte {
                b'L' | b'K' => {
                    let what = if kind_byte == b'L' {
                        "GNU long name"
                    } else {
                        "GNU long link name"
                    };
                    let value = self.read_extension(what, header_size, MAX_PATH_BYTES)?;
                    if kind_byte == b'L' {
                        let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
                        long_path = Some(value[..end].to_vec());
                    }
                }
                b'x' | b'g' => {
                    let value = self.read_extension("PAX extended", header_size, MAX_PAX_BYTES)?;
                    if kind_byte == b'x' {
                        let records = parse_pax(&value)?;
                        if let Some(path) = records.path {
                            long_path = Some(path);
                        }
                        if records.size.is_some() {
                            pax_size = records.size;
                        }
                    }
                }
                _ => {
                    let path = match long_path {
                        Some(p) => p,
                        None => header_name(&header),
                    };
                    let size = pax_size.unwrap_or(header_size);
                    self.unread = size.saturating_add(padding(size));
                    return Ok(Some(Entry {
                        path,
                        kind: kind_of(kind_byte),
                        size,
                    }));
                }
            }
        }
    }

    /// The current entry's data, which the caller has checked is at most
    /// `size` bytes (its header's claim).
    pub fn read_data(&mut self, size: u64) -> Result<Vec<u8>, String> {
        let mut data = vec![0u8; usize::try_from(size).map_err(|_| "is too large")?];
        let got = self.read_up_to(&mut data).map_err(|e| match e {
            ChartError::Archive(message) => format!("cannot be read: {message}"),
            other => format!("cannot be read: {other}"),
        })?;
        self.unread = self.unread.saturating_sub(got as u64);
        if got < data.len() {
            return Err(format!(
                "is cut short: its header claims {size} bytes but the archive ends after {got}"
            ));
        }
        Ok(data)
    }

    fn read_extension(&mut self, what: &str, size: u64, limit: u64) -> Result<Vec<u8>, ChartError> {
        if size > limit {
            return Err(archive_error(format!(
                "corrupt or hostile archive: a {what} header declares {size} bytes, over the \
                 limit of {limit} bytes (an entry path may be at most {MAX_PATH_BYTES} bytes)"
            )));
        }
        self.unread = size + padding(size);
        let value = self
            .read_data(size)
            .map_err(|why| archive_error(format!("corrupt archive: a {what} header {why}")))?;
        self.skip_unread()?;
        Ok(value)
    }

    fn skip_unread(&mut self) -> Result<(), ChartError> {
        let mut scratch = [0u8; 8192];
        while self.unread > 0 {
            let want = self.unread.min(scratch.len() as u64) as usize;
            let got = self.read_up_to(&mut scratch[..want])?;
            if got == 0 {
                return Err(archive_error(
                    "corrupt archive: it ends inside an entry".into(),
                ));
            }
            self.unread -= got as u64;
        }
        Ok(())
    }

    /// Fills `buf` unless the stream ends first; returns the bytes read.
    fn read_up_to(&mut self, buf: &mut [u8]) -> Result<usize, ChartError> {
        let mut filled = 0;
        while filled < buf.len() {
            let room = self.limit.saturating_add(1).saturating_sub(self.consumed);
            let want = (buf.len() - filled).min(room.min(usize::MAX as u64) as usize);
            if want == 0 {
                return Err(archive_error(format!(
                    "archive expands to more than {} bytes of tar data",
                    self.limit
                )));
            }
            let n = match self.inner.read(&mut buf[filled..filled + want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(archive_error(format!(
                        "not a gzip'd tar, or a corrupt one: {e}"
                    )));
                }
            };
            filled += n;
            self.consumed += n as u64;
            if self.consumed > self.limit {
                return Err(archive_error(format!(
                    "archive expands to more than {} bytes of tar data",
                    self.limit
                )));
            }
        }
        Ok(filled)
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn kind_of(byte: u8) -> Kind {
    match byte {
        b'0' | 0 | b'7' => Kind::File,
        b'5' => Kind::Directory,
        b'1' => Kind::Other("hard link"),
        b'2' => Kind::Other("symbolic link"),
        b'3' => Kind::Other("character device"),
        b'4' => Kind::Other("block device"),
        b'6' => Kind::Other("FIFO"),
        _ => Kind::Other("special entry"),
    }
}

/// `name`, with the POSIX `prefix` in front when the header is ustar.
fn header_name(header: &[u8; BLOCK]) -> Vec<u8> {
    let name = until_nul(&header[0..100]);
    // GNU headers say "ustar  \0" and keep other fields where POSIX has the prefix.
    if &header[257..263] == b"ustar\0" {
        let prefix = until_nul(&header[345..500]);
        if !prefix.is_empty() {
            let mut joined = prefix.to_vec();
            joined.push(b'/');
            joined.extend_from_slice(name);
            return joined;
        }
    }
    name.to_vec()
}

fn until_nul(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    &field[..end]
}

/// An octal field, or GNU's base-256 for large values; `None` if malformed.
fn parse_number(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        // Base-256: the rest of the first byte's bits, then big-endian bytes.
        if field[0] != 0x80 {
            return None;
        }
        return field[1..].iter().try_fold(0u64, |acc, b| {
            acc.checked_mul(256)?.checked_add(u64::from(*b))
        });
    }
    let text = until_nul(field);
    let digits: &[u8] = text.trim_ascii();
    if digits.is_empty() {
        return Some(0);
    }
    digits.iter().try_fold(0u64, |acc, b| match b {
        b'0'..=b'7' => acc.checked_mul(8)?.checked_add(u64::from(b - b'0')),
        _ => None,
    })
}

fn verify_checksum(header: &[u8; BLOCK], offset: u64) -> Result<(), ChartError> {
    let stored = parse_number(&header[148..156]);
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, b) in header.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { *b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    // Some old writers summed signed bytes; Helm's reader accepts either.
    let ok = stored.is_some_and(|s| s == unsigned || i64::try_from(s) == Ok(signed));
    if ok {
        Ok(())
    } else {
        Err(archive_error(format!(
            "corrupt archive: the header ending at byte {offset} has a wrong checksum"
        )))
    }
}

#[derive(Default)]
struct PaxRecords {
    path: Option<Vec<u8>>,
    size: Option<u64>,
}

/// PAX records are `<length> <key>=<value>\n`, the length counting the whole record.
fn parse_pax(mut data: &[u8]) -> Result<PaxRecords, ChartError> {
    let bad = |why: &str| archive_error(format!("corrupt archive: PAX header {why}"));
    let mut records = PaxRecords::default();
    while !data.is_empty() {
        let space = data
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| bad("has a record without a length"))?;
        let length: usize = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|l| *l > space + 1 && *l <= data.len())
            .ok_or_else(|| bad("has a record with a wrong length"))?;
        let record = &data[space + 1..length];
        let record = record
            .strip_suffix(b"\n")
            .ok_or_else(|| bad("has a record that does not end with a newline"))?;
        let eq = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| bad("has a record without '='"))?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        match key {
            b"path" => {
                if value.len() as u64 > MAX_PATH_BYTES {
                    return Err(archive_error(format!(
                        "corrupt or hostile archive: a PAX path is {} bytes, over the limit of \
                         {MAX_PATH_BYTES} bytes",
                        value.len()
                    )));
                }
                records.path = Some(value.to_vec());
            }
            b"size" => {
                let size = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("has a size that is not a number"))?;
                records.size = Some(size);
            }
            _ => {}
        }
        data = &data[length..];
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_octal_and_base_256() {
        assert_eq!(parse_number(b"00000001750\0"), Some(1000));
        assert_eq!(parse_number(b"   1750 \0\0\0\0"), Some(1000));
        assert_eq!(parse_number(b"\0\0\0\0\0\0\0\0\0\0\0\0"), Some(0));
        assert_eq!(
            parse_number(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00]),
            Some(256)
        );
        assert_eq!(parse_number(&[0xff; 12]), None);
        assert_eq!(parse_number(b"12x4\0\0\0\0\0\0\0\0"), None);
    }

    #[test]
    fn pax_records_are_parsed_strictly() {
        let r = parse_pax(b"12 path=a/b\n11 size=42\n20 comment=whatever\n").unwrap();
        assert_eq!(r.path.as_deref(), Some(&b"a/b"[..]));
        assert_eq!(r.size, Some(42));
        assert!(parse_pax(b"99 path=a\n").is_err());
        assert!(parse_pax(b"9 path=ab").is_err());
        assert!(parse_pax(b"path=a\n").is_err());
    }
}
