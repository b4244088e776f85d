//! Turning the bytes of a text file into UTF-8 the CSV reader can walk.
//!
//! Real exports arrive as UTF-8 with or without a byte-order mark, as
//! UTF-16 from some Windows tools, or as Windows-1252 from older ones. UTF-8
//! input (the common case, and the large one) is borrowed, never copied.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The encoding a text file was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// Not valid UTF-8: read as Windows-1252 (a superset of Latin-1).
    Windows1252,
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 (with BOM)",
            TextEncoding::Utf16Le => "UTF-16LE",
            TextEncoding::Utf16Be => "UTF-16BE",
            TextEncoding::Windows1252 => "Windows-1252",
        }
    }
}

/// UTF-8 bytes of the file and the encoding they were decoded from.
pub fn decode(bytes: &[u8]) -> (Cow<'_, [u8]>, TextEncoding) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return if is_utf8(rest) {
            (Cow::Borrowed(rest), TextEncoding::Utf8Bom)
        } else {
            (lossy_1252(rest), TextEncoding::Windows1252)
        };
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return (utf16(rest, true), TextEncoding::Utf16Le);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return (utf16(rest, false), TextEncoding::Utf16Be);
    }
    // UTF-16 without a BOM: ASCII text leaves every other byte zero.
    if let Some(le) = looks_like_bomless_utf16(bytes) {
        let enc = if le {
            TextEncoding::Utf16Le
        } else {
            TextEncoding::Utf16Be
        };
        return (utf16(bytes, le), enc);
    }
    if is_utf8(bytes) {
        (Cow::Borrowed(bytes), TextEncoding::Utf8)
    } else {
        (lossy_1252(bytes), TextEncoding::Windows1252)
    }
}

/// Valid UTF-8. All ASCII first, eight bytes at a time (an OR of words,
/// which the native build also vectorises): a sensor log is cleared several
/// times faster than by the validation, in the browser's size-built
/// workers too.
fn is_utf8(bytes: &[u8]) -> bool {
    let words = bytes.chunks_exact(8);
    let tail = words.remainder().iter().fold(0u8, |acc, b| acc | b);
    let high = words.fold(0u64, |acc, w| {
        acc | u64::from_le_bytes(w.try_into().unwrap_or([0x80; 8]))
    });
    let ascii = high & 0x8080_8080_8080_8080 == 0 && tail < 0x80;
    ascii || std::str::from_utf8(bytes).is_ok()
}

fn looks_like_bomless_utf16(bytes: &[u8]) -> Option<bool> {
    let head = &bytes[..bytes.len().min(256) & !1];
    if head.len() < 8 {
        return None;
    }
    let pairs = head.len() / 2;
    let zero_odd = head.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    let zero_even = head.iter().step_by(2).filter(|b| **b == 0).count();
    if zero_odd * 10 >= pairs * 9 && zero_even == 0 {
        Some(true)
    } else if zero_even * 10 >= pairs * 9 && zero_odd == 0 {
        Some(false)
    } else {
        None
    }
}

fn utf16(bytes: &[u8], little_endian: bool) -> Cow<'static, [u8]> {
    let units = bytes.chunks_exact(2).map(|c| {
        if little_endian {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let s: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Cow::Owned(s.into_bytes())
}

/// What bytes 0x80..=0x9F are in Windows-1252 (WHATWG's table: the five
/// bytes Microsoft leaves unassigned are the C1 controls of the same
/// value); every other byte is the Latin-1 code point of its value.
const CP1252_80_9F: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

/// Windows-1252 as the WHATWG Encoding Standard's `decode` reads it
/// (a leading byte-order mark still wins), written here rather than taken
/// from encoding_rs: its decoder dispatch links every encoding's tables
/// into the worker's wasm, over the download budget for one table of 32
/// characters (`tests/text_decode.rs` checks it against encoding_rs).
fn lossy_1252(bytes: &[u8]) -> Cow<'static, [u8]> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Cow::Owned(String::from_utf8_lossy(rest).into_owned().into_bytes());
    }
    for (bom, little_endian) in [(b"\xFF\xFE", true), (b"\xFE\xFF", false)] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            let mut text = utf16(rest, little_endian).into_owned();
            // A lone last byte is a truncated unit: one U+FFFD, which
            // also stands for a lead surrogate left open just before it.
            let last = rest.len().checked_sub(3).and_then(|i| rest.get(i..i + 2));
            let open_lead = matches!(last, Some(&[a, b])
            if (0xD800..0xDC00).contains(&if little_endian {
                u16::from_le_bytes([a, b])
            } else {
                u16::from_be_bytes([a, b])
            }));
            if rest.len() % 2 == 1 && !open_lead {
                text.extend_from_slice(char::REPLACEMENT_CHARACTER.to_string().as_bytes());
            }
            return Cow::Owned(text);
        }
    }
    let s: String = bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_80_9F
                .get(usize::from(b - 0x80))
                .copied()
                .unwrap_or(char::REPLACEMENT_CHARACTER),
            _ => char::from(b),
        })
        .collect();
    Cow::Owned(s.into_bytes())
}

/// Classic Mac files end lines with a lone `\r`; the CSV reader copes, but
/// its line counter counts `\n`, so such text is given `\n` endings.
pub fn normalize_lone_cr(text: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\r', &text).is_some() && memchr::memchr(b'\n', &text).is_none() {
        Cow::Owned(
            text.iter()
                .map(|b| if *b == b'\r' { b'\n' } else { *b })
                .collect(),
        )
    } else {
        text
    }
}

/// The field delimiter of a delimited text file, guessed from its first
/// lines (a preamble may sit above the header): the one of comma, semicolon
/// and tab that is most frequent outside quotes on any single line among
/// the first 20 non-empty ones (comma wins ties, being the documented
/// format).
pub fn sniff_delimiter(text: &[u8]) -> u8 {
    const LINES: usize = 20;
    let candidates = [b',', b';', b'\t'];
    let mut best = [0usize; 3];
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    let mut nonblank = false;
    let mut lines = 0;
    for &b in text.iter().chain(std::iter::once(&b'\n')) {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => {
                for (b, c) in best.iter_mut().zip(&mut counts) {
                    *b = (*b).max(std::mem::take(c));
                }
                if nonblank {
                    lines += 1;
                    if lines == LINES {
                        break;
                    }
                }
                nonblank = false;
                continue;
            }
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            nonblank = true;
        }
    }
    let mut pick = 0;
    for i in 1..3 {
        if best[i] > best[pick] {
            pick = i;
        }
    }
    candidates[pick]
}

/// At most `max` characters of a user's text, for quoting it in a message:
/// a 100 MB cell must not become a 100 MB message (shown, exported and
/// copied for every finding that quotes it).
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((at, _)) => Cow::Owned(format!("{}… ({} bytes in all)", &s[..at], s.len())),
    }
}

/// How many characters of a user's text a message quotes.
pub const QUOTE_CHARS: usize = 80;

/// Whether `a` and `b` hold the same bytes, eight at a time: what a log's
/// rows compare with the row before's on every line, where the browser's
/// WebAssembly `memcmp` goes byte by byte.
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let rest = wa
        .remainder()
        .iter()
        .zip(wb.remainder())
        .all(|(x, y)| x == y);
    a.len() == b.len() && rest && wa.zip(wb).all(|(x, y)| word(x) == word(y))
}

/// True when the bytes look like text at all (no NULs, few control bytes),
/// checked on a prefix so binary files are refused cheaply.
pub fn looks_like_text(utf8: &[u8]) -> bool {
    let head = &utf8[..utf8.len().min(4096)];
    let bad = head
        .iter()
        .filter(|b| **b == 0 || (**b < 0x20 && !matches!(**b, b'\n' | b'\r' | b'\t' | 0x0C)))
        .count();
    bad * 100 <= head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Word by word as slice equality: every length around the word size,
    /// a difference at every place.
    #[test]
    fn same_bytes_is_slice_equality() {
        for len in 0..26usize {
            let a: Vec<u8> = (0..len as u8).collect();
            assert!(same_bytes(&a, &a.clone()));
            if len > 0 {
                assert!(!same_bytes(&a, &a[..len - 1]));
            }
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x80;
                assert!(!same_bytes(&a, &b), "{len} {at}");
            }
        }
    }

    /// A byte above 0x7F anywhere (in a word or in the tail) sends the
    /// text to the validation, which decides.
    #[test]
    fn utf8_is_told_wherever_the_high_byte_sits() {
        for len in [0, 1, 7, 8, 9, 16, 23, 40] {
            let ascii = vec![b'a'; len];
            assert!(is_utf8(&ascii));
            for at in 0..len {
                let mut bad = ascii.clone();
                bad[at] = 0xE9;
                assert!(!is_utf8(&bad), "{len} {at}");
                let mut good = ascii.clone();
                good.splice(at..=at, "é".bytes());
                assert!(is_utf8(&good), "{len} {at}");
            }
        }
    }

    #[test]
    fn utf8_is_borrowed_and_bom_stripped() {
        let (t, e) = decode(b"a,b\n1,2\n");
        assert!(matches!(t, Cow::Borrowed(_)));
        assert_eq!(e, TextEncoding::Utf8);
        let (t, e) = decode(b"\xEF\xBB\xBFa,b\n");
        assert_eq!(&*t, b"a,b\n");
        assert_eq!(e, TextEncoding::Utf8Bom);
    }

    #[test]
    fn windows_1252_falls_back() {
        let (t, e) = decode(b"caf\xE9 \x80\n");
        assert_eq!(std::str::from_utf8(&t).ok(), Some("caf\u{e9} \u{20ac}\n"));
        assert_eq!(e, TextEncoding::Windows1252);
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let s = "Timestamp,Measurement value\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        let (t, e) = decode(&le);
        assert_eq!(std::str::from_utf8(&t).ok(), Some(s));
        assert_eq!(e, TextEncoding::Utf16Le);
        let be: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let (t, e) = decode(&be);
        assert_eq!(std::str::from_utf8(&t).ok(), Some(s));
        assert_eq!(e, TextEncoding::Utf16Be);
    }

    #[test]
    fn delimiters_are_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter(b"a,b,c\n"), b',');
        assert_eq!(sniff_delimiter(b"\n\na;b;c\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"x;y;z\",b\n"), b',');
        assert_eq!(
            sniff_delimiter(b"Exported by LIMS, v4\n\na;b;c;d\n1;2;3;4\n"),
            b';'
        );
        assert_eq!(sniff_delimiter(b"a,b,c\n\"x;y;z;w\nmore;;;;\",2,3\n"), b',');
    }

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text_on_a_char_boundary() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("ééééé", 2), "éé… (10 bytes in all)");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn binary_is_not_text() {
        assert!(!looks_like_text(b"%PDF-1.4\x00\x01\x02\x03\x00\x00"));
        assert!(looks_like_text(b"a,b\r\n1,2\r\n"));
    }
}
