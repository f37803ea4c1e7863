//! Unpacks packaged subcharts (`charts/<name>-<version>.tgz`): gzip header,
//! raw deflate (miniz_oxide) and a minimal ustar/GNU/pax reader. Sizes are
//! capped so a compressed bomb cannot exhaust the sandbox's memory, and every
//! header's claimed size is checked before its body is used.

/// Largest uncompressed size of one packaged subchart.
pub const MAX_UNPACKED_BYTES: usize = 32 << 20;
/// Longest entry path, from a header, a GNU long name or a PAX record.
pub const MAX_PATH_BYTES: usize = 4096;
/// Largest PAX extended header.
pub const MAX_PAX_BYTES: usize = 64 << 10;

/// Returns `(path, contents)` of the regular files in a `.tgz`.
pub fn untgz(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    untar(&gunzip(data)?)
}

fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b || data[2] != 8 {
        return Err("not a gzip file".into());
    }
    let flags = data[3];
    let mut pos = 10;
    if flags & 0x04 != 0 {
        let xlen = usize::from(u16::from_le_bytes([data[pos], data[pos + 1]]));
        pos += 2 + xlen;
    }
    for bit in [0x08, 0x10] {
        if flags & bit != 0 {
            while pos < data.len() && data[pos] != 0 {
                pos += 1;
            }
            pos += 1;
        }
    }
    if flags & 0x02 != 0 {
        pos += 2;
    }
    if pos >= data.len() {
        return Err("truncated gzip header".into());
    }
    miniz_oxide::inflate::decompress_to_vec_with_limit(&data[pos..], MAX_UNPACKED_BYTES).map_err(
        |e| match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                format!("expands to more than {MAX_UNPACKED_BYTES} bytes")
            }
            status => format!("corrupt gzip data ({status:?})"),
        },
    )
}

fn octal(field: &[u8]) -> usize {
    field
        .iter()
        .skip_while(|b| **b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .fold(0usize, |acc, b| {
            acc.saturating_mul(8).saturating_add(usize::from(b - b'0'))
        })
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn too_long(what: &str, size: usize, limit: usize) -> String {
    format!("{what} declares {size} bytes, over the limit of {limit} bytes")
}

fn untar(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut long_name: Option<String> = None;
    while pos + 512 <= data.len() {
        let h = &data[pos..pos + 512];
        if h.iter().all(|b| *b == 0) {
            break;
        }
        let size = octal(&h[124..136]);
        match h[156] {
            b'L' | b'K' if size > MAX_PATH_BYTES => {
                return Err(too_long("a GNU long name", size, MAX_PATH_BYTES));
            }
            b'x' | b'g' if size > MAX_PAX_BYTES => {
                return Err(too_long("a PAX header", size, MAX_PAX_BYTES));
            }
            _ => {}
        }
        let body_start = pos + 512;
        let body_end = body_start
            .checked_add(size)
            .filter(|e| *e <= data.len())
            .ok_or("truncated tar entry")?;
        let body = &data[body_start..body_end];
        let mut name = cstr(&h[0..100]);
        if &h[257..262] == b"ustar" {
            let prefix = cstr(&h[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        match h[156] {
            b'L' => long_name = Some(cstr(body)),
            b'x' => {
                // pax: "<len> path=<value>\n" records.
                for rec in String::from_utf8_lossy(body).lines() {
                    if let Some((_, kv)) = rec.split_once(' ')
                        && let Some(path) = kv.strip_prefix("path=")
                    {
                        if path.len() > MAX_PATH_BYTES {
                            return Err(too_long("a PAX path", path.len(), MAX_PATH_BYTES));
                        }
                        long_name = Some(path.to_string());
                    }
                }
            }
            b'0' | 0 => {
                let path = long_name.take().unwrap_or(name);
                out.push((path.trim_start_matches("./").to_string(), body.to_vec()));
            }
            _ => long_name = None,
        }
        pos = body_start + size.div_ceil(512) * 512;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, kind: u8, size: usize) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn entry(tar: &mut Vec<u8>, name: &str, kind: u8, claimed: usize, body: &[u8]) {
        tar.extend(header(name, kind, claimed));
        tar.extend_from_slice(body);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }

    fn gzip(tar: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        out.extend(miniz_oxide::deflate::compress_to_vec(tar, 9));
        // CRC and size trailer: not checked by this reader.
        out.extend([0u8; 8]);
        out
    }

    fn finish(mut tar: Vec<u8>) -> Vec<u8> {
        tar.extend([0u8; 1024]);
        gzip(&tar)
    }

    #[test]
    fn a_good_subchart_with_a_long_name_unpacks() {
        let long = format!("sub/templates/{}.yaml", "n".repeat(200));
        let mut tar = Vec::new();
        entry(&mut tar, "sub/Chart.yaml", b'0', 10, b"name: sub\n");
        entry(
            &mut tar,
            "././@LongLink",
            b'L',
            long.len() + 1,
            format!("{long}\0").as_bytes(),
        );
        entry(&mut tar, "sub/templates/short", b'0', 2, b"a\n");
        let files = untgz(&finish(tar)).unwrap();
        assert_eq!(files[1].0, long);
    }

    #[test]
    fn a_gnu_long_name_that_declares_gigabytes_is_refused_before_reading() {
        let mut tar = Vec::new();
        entry(&mut tar, "././@LongLink", b'L', 1536 << 20, b"aaaa");
        let err = untgz(&finish(tar)).unwrap_err();
        assert_eq!(
            err,
            "a GNU long name declares 1610612736 bytes, over the limit of 4096 bytes"
        );
    }

    #[test]
    fn a_long_name_that_really_is_a_megabyte_is_refused() {
        let name = vec![b'a'; 1 << 20];
        let mut tar = Vec::new();
        entry(&mut tar, "././@LongLink", b'L', name.len(), &name);
        entry(&mut tar, "x", b'0', 1, b"x");
        let err = untgz(&finish(tar)).unwrap_err();
        assert!(err.contains("over the limit of 4096 bytes"), "{err}");
        assert!(err.len() < 200, "{err}");
    }

    #[test]
    fn pax_headers_and_paths_are_bounded() {
        let mut tar = Vec::new();
        entry(&mut tar, "PaxHeaders/x", b'x', 1536 << 20, b"30 path=a\n");
        let err = untgz(&finish(tar)).unwrap_err();
        assert!(
            err.starts_with("a PAX header declares 1610612736 bytes"),
            "{err}"
        );

        let path = "p".repeat(5000);
        let record = format!("{} path={path}\n", 5000 + 11);
        let mut tar = Vec::new();
        entry(
            &mut tar,
            "PaxHeaders/x",
            b'x',
            record.len(),
            record.as_bytes(),
        );
        entry(&mut tar, "x", b'0', 1, b"x");
        let err = untgz(&finish(tar)).unwrap_err();
        assert_eq!(
            err,
            "a PAX path declares 5000 bytes, over the limit of 4096 bytes"
        );
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_unpacked_limit() {
        let zeros = vec![0u8; MAX_UNPACKED_BYTES + 4096];
        let mut tar = Vec::new();
        entry(&mut tar, "sub/big", b'0', zeros.len(), &zeros);
        let err = untgz(&finish(tar)).unwrap_err();
        assert_eq!(
            err,
            format!("expands to more than {MAX_UNPACKED_BYTES} bytes")
        );
    }
}
