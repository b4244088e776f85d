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
    let mut space = false;
    for ch in name.trim().trim_start_matches('\u{feff}').chars() {
        if ch.is_whitespace() || ch == '_' || ch == '-' {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.extend(ch.to_lowercase());
        }
    }
    out
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
/// a file orders its columns).
pub fn metadata_json(header: &Header, rec: &Fields<'_>, used: &[Option<usize>]) -> String {
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
}
