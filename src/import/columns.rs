//! Finding columns by what their headers say, never by position.

use csv::ByteRecord;

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
    pub fn from_record(rec: &ByteRecord) -> Header {
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
}

/// Build a JSON object of the fields whose columns are not in `used`, in
/// column order, keyed by the header as written.
pub fn metadata_json(header: &Header, rec: &ByteRecord, used: &[Option<usize>]) -> String {
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
