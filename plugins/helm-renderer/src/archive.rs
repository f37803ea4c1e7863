//! Unpacks packaged subcharts (`charts/<name>-<version>.tgz`): gzip header,
//! raw deflate (miniz_oxide) and a minimal ustar/GNU/pax reader. Sizes are
//! capped so a compressed bomb cannot exhaust the sandbox's memory.

/// Largest uncompressed size of one packaged subchart.
pub const MAX_UNPACKED_BYTES: usize = 32 << 20;

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
    miniz_oxide::inflate::decompress_to_vec_with_limit(&data[pos..], MAX_UNPACKED_BYTES)
        .map_err(|e| format!("gzip: {:?}", e.status))
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
