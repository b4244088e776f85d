//! Finding columns by what their headers say, never by position.

use super::delimited::Fields;

use crate::config::Limits;
use crate::error::{FileError, FileErrorKind};
use crate::model::{col_letters, CellRef, Severity};
use crate::qa;

use super::Ctx;

/// A header name reduced to compare: lower case, `_`, `-` and runs of
/// white space (including line breaks) become one space.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    out.extend(normalized(name));
    out
}

/// The characters of [`normalize`]'s result, without building it.
fn normalized(name: &str) -> impl Iterator<Item = char> + '_ {
    let mut started = false;
    let mut space = false;
    name.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter_map(move |ch| {
            if ch.is_whitespace() || ch == '_' || ch == '-' {
                space = started;
                None
            } else {
                started = true;
                let sep = std::mem::take(&mut space).then_some(' ');
                Some(sep.into_iter().chain(ch.to_lowercase()))
            }
        })
        .flatten()
}

/// A CSV header row, normalized once.
pub struct Header {
    pub names: Vec<String>,
    pub raw: Vec<String>,
}

impl Header {
    pub fn from_record(rec: &Fields<'_>) -> Header {
        let raw: Vec<String> = rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect();
        let names = raw.iter().map(|n| normalize(n)).collect();
        Header { names, raw }
    }

    /// Whether `rec` is this header again (`Header::from_record(rec).names
    /// == self.names`), asked of every data row of a table: field by field,
    /// stopping at the first that differs, with nothing allocated.
    pub fn is_repeated_by(&self, rec: &Fields<'_>) -> bool {
        rec.len() == self.names.len()
            && rec
                .iter()
                .zip(&self.names)
                .all(|(f, name)| normalized(String::from_utf8_lossy(f).trim()).eq(name.chars()))
    }

    /// The first column whose normalized name is one of `aliases`
    /// (given already normalized).
    pub fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases
            .iter()
            .find_map(|a| self.names.iter().position(|n| n == a))
    }

    pub fn has(&self, aliases: &[&str]) -> bool {
        self.find(aliases).is_some()
    }

    /// The column a `kind` of file cannot do without, or an error naming
    /// it at the header row (1-based `line`).
    pub fn required(
        &self,
        aliases: &[&str],
        kind: &'static str,
        column: &'static str,
        line: u32,
    ) -> Result<usize, FileError> {
        self.find(aliases).ok_or_else(|| {
            FileError::at(
                FileErrorKind::MissingColumn {
                    kind: kind.into(),
                    column: column.into(),
                },
                CellRef {
                    row: Some(line),
                    ..CellRef::default()
                },
            )
        })
    }

    /// The header row (1-based `line`) within the caps on fields per line
    /// and bytes per field: every data row is read against it.
    pub fn within(&self, limits: &Limits, line: u32) -> Result<(), FileError> {
        let at = |col: Option<u32>| CellRef {
            sheet: None,
            row: Some(line),
            col,
        };
        if self.raw.len() > limits.max_csv_fields {
            return Err(FileError::at(
                FileErrorKind::TooLarge {
                    what: format!("the header row's {} columns", self.raw.len()),
                    limit: limits.max_csv_fields as u64,
                },
                at(None),
            ));
        }
        if let Some((c, n)) = self
            .raw
            .iter()
            .enumerate()
            .find(|(_, n)| n.len() > limits.max_field_bytes)
        {
            let col = u32::try_from(c).unwrap_or(u32::MAX);
            return Err(FileError::at(
                FileErrorKind::TooLarge {
                    what: format!(
                        "the header of column {} ({} bytes)",
                        col_letters(col),
                        n.len()
                    ),
                    limit: limits.max_field_bytes as u64,
                },
                at(Some(col)),
            ));
        }
        Ok(())
    }
}

/// The extra columns of a file's rows, kept as JSON until the file's
/// budget is spent; after that rows keep none, and the file gets one
/// finding saying from which row on.
pub struct MetadataBudget {
    left: usize,
    dropped_from: Option<u32>,
    dropped: u64,
}

impl MetadataBudget {
    pub fn new(bytes: usize) -> Self {
        MetadataBudget {
            left: bytes,
            dropped_from: None,
            dropped: 0,
        }
    }

    /// The row's metadata, or `None` once the budget is spent.
    pub fn next(
        &mut self,
        header: &Header,
        rec: &Fields<'_>,
        used: &[Option<usize>],
        line: u32,
    ) -> Option<String> {
        if self.dropped_from.is_none() {
            let m = metadata_json(header, rec, used);
            if m.len() <= self.left {
                self.left -= m.len();
                return Some(m);
            }
            self.dropped_from = Some(line);
        }
        self.dropped += 1;
        None
    }

    /// Whether some row's extra columns were not kept.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub fn spent(&self) -> bool {
        self.dropped_from.is_some()
    }

    pub fn report(&self, ctx: &mut Ctx<'_>) {
        if let Some(line) = self.dropped_from {
            ctx.findings.push(
                qa::MISSING_COLUMN
                    .finding(
                        Severity::Warning,
                        format!(
                            "The extra columns of {} rows (from row {line} on) were not kept: together they pass the limit of {} bytes. The values the calculation uses were all read.",
                            self.dropped,
                            ctx.config.limits.max_metadata_bytes
                        ),
                    )
                    .at(CellRef::row(None, line)),
            );
        }
    }
}

/// Build a JSON object of the fields whose columns are not in `used`, keyed
/// by the header as written (keys sorted, so the text is the same however
/// a file orders its columns). Written as serde_json writes its map (keys
/// in byte order, the last column of a repeated name kept), straight into
/// the text: every lab row has one, and building the map was a quarter of
/// the table's import.
pub fn metadata_json(header: &Header, rec: &Fields<'_>, used: &[Option<usize>]) -> String {
    let key = |i: &usize| header.raw.get(*i).map_or("", String::as_str);
    let mut cols: Vec<usize> = (0..header.raw.len())
        .filter(|i| !used.contains(&Some(*i)) && !key(i).is_empty())
        .collect();
    // For a repeated name the later column sorts first and is the one kept.
    cols.sort_by(|a, b| key(a).cmp(key(b)).then(b.cmp(a)));
    cols.dedup_by(|later, kept| key(later) == key(kept));
    let mut out = Vec::with_capacity(2 + cols.len() * 16);
    out.push(b'{');
    for (n, i) in cols.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let value = rec.get(*i).map(String::from_utf8_lossy).unwrap_or_default();
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, key(i));
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, value.trim());
    }
    out.push(b'}');
    // serde_json writes valid UTF-8 from strs.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_normalize() {
        assert_eq!(normalize(" Measurement value "), "measurement value");
        assert_eq!(normalize("\u{feff}unique_id"), "unique id");
        assert_eq!(
            normalize("Plnt Ef\n50050\nFLOW MGD"),
            "plnt ef 50050 flow mgd"
        );
        assert_eq!(normalize("sensor-ID"), "sensor id");
    }

    /// The allocation-free comparison says what comparing two built
    /// headers says, on fields of spaces, separators, byte order marks,
    /// letters of both cases (some that lowercase to several characters),
    /// and invalid UTF-8.
    #[test]
    fn a_repeated_header_is_told_as_building_it_tells() {
        const PIECES: &[&[u8]] = &[
            b"a",
            b"A",
            b"b",
            b" ",
            b"_",
            b"-",
            b"\t",
            b"\xef\xbb\xbf",
            b"\xc4\xb0",
            b"i\xcc\x87",
            b"\xc3\x89",
            b"\xc3\xa9",
            b"\xff",
            b"\xe2\x80\x83",
            b"1",
        ];
        let mut next = crate::xorshift(0x5eed_cafe);
        let field = |next: &mut dyn FnMut() -> u64| -> Vec<u8> {
            let n = next() % 5;
            (0..n)
                .flat_map(|_| PIECES[(next() % PIECES.len() as u64) as usize].to_vec())
                .collect()
        };
        let (mut agreed_same, mut agreed_other) = (0, 0);
        for _ in 0..20_000 {
            let width = 1 + (next() % 3) as usize;
            let mut rows: Vec<Vec<Vec<u8>>> = Vec::new();
            for _ in 0..2 {
                let w = if next().is_multiple_of(8) {
                    width + 1
                } else {
                    width
                };
                rows.push((0..w).map(|_| field(&mut next)).collect());
            }
            // Half the time the second row is the first written otherwise:
            // separators around a field, ASCII letters in the other case.
            if next().is_multiple_of(2) {
                let mut again = rows[0].clone();
                for f in &mut again {
                    for b in f.iter_mut() {
                        if next().is_multiple_of(2) && b.is_ascii_alphabetic() {
                            *b ^= 0x20;
                        }
                    }
                    let sep = [b' ', b'_', b'-', b'\t'][(next() % 4) as usize];
                    match next() % 3 {
                        0 => f.insert(0, sep),
                        1 => f.push(sep),
                        _ => {}
                    }
                }
                rows[1] = again;
            }
            let (r0, r1) = (
                csv::ByteRecord::from(rows[0].clone()),
                csv::ByteRecord::from(rows[1].clone()),
            );
            let (mut e0, mut e1) = (Vec::new(), Vec::new());
            let f0 = Fields::of_record(&r0, &mut e0);
            let f1 = Fields::of_record(&r1, &mut e1);
            let header = Header::from_record(&f0);
            let built = Header::from_record(&f1).names == header.names;
            assert_eq!(header.is_repeated_by(&f1), built, "{rows:?}");
            assert!(header.is_repeated_by(&f0));
            if built {
                agreed_same += 1;
            } else {
                agreed_other += 1;
            }
        }
        // Both answers came up often enough to mean something.
        assert!(
            agreed_same > 1000 && agreed_other > 1000,
            "{agreed_same} {agreed_other}"
        );
    }

    /// What `metadata_json` wrote before it wrote the text itself.
    fn metadata_by_map(header: &Header, rec: &Fields<'_>, used: &[Option<usize>]) -> String {
        let mut map = serde_json::Map::new();
        for (i, key) in header.raw.iter().enumerate() {
            if used.contains(&Some(i)) || key.is_empty() {
                continue;
            }
            let v = rec
                .get(i)
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
                .unwrap_or_default();
            map.insert(key.clone(), serde_json::Value::String(v));
        }
        serde_json::Value::Object(map).to_string()
    }

    /// Keys repeated, empty, out of order, needing escapes, fields missing
    /// or invalid UTF-8: the text is the map's, byte for byte.
    #[test]
    fn metadata_is_written_as_the_map_wrote_it() {
        const KEYS: &[&str] = &[
            "b", "a", "B", "a", "", " c", "é", "q\"x", "tab\t", "\u{1}", "z",
        ];
        const VALUES: &[&[u8]] = &[
            b"1",
            b" 2 ",
            b"",
            b"\"",
            b"\\",
            b"\n",
            b"\xff",
            b"\xc3\xa9",
            b"\x7f",
            b"<>",
        ];
        let mut next = crate::xorshift(0xfeed_f00d);
        for _ in 0..5_000 {
            let width = 1 + (next() % 8) as usize;
            let keys: Vec<&[u8]> = (0..width)
                .map(|_| KEYS[(next() % KEYS.len() as u64) as usize].as_bytes())
                .collect();
            let fields: Vec<&[u8]> = (0..width.saturating_sub((next() % 3) as usize))
                .map(|_| VALUES[(next() % VALUES.len() as u64) as usize])
                .collect();
            let used: Vec<Option<usize>> = (0..(next() % 3))
                .map(|_| Some((next() % width as u64) as usize))
                .chain([None])
                .collect();
            let (hr, fr) = (csv::ByteRecord::from(keys), csv::ByteRecord::from(fields));
            let (mut he, mut fe) = (Vec::new(), Vec::new());
            let header = Header::from_record(&Fields::of_record(&hr, &mut he));
            let rec = Fields::of_record(&fr, &mut fe);
            assert_eq!(
                metadata_json(&header, &rec, &used),
                metadata_by_map(&header, &rec, &used),
                "{:?} {:?} {used:?}",
                header.raw,
                fr
            );
        }
    }
}
