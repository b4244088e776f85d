//! The core's own Windows-1252 decoder (text.rs) reads what encoding_rs,
//! the WHATWG implementation it replaced, reads: every byte, and a
//! byte-order mark at the start of the text being decoded.

use crew_mrv_core::text::{decode, TextEncoding};
use proptest::prelude::*;

fn oracle(bytes: &[u8]) -> Vec<u8> {
    encoding_rs::WINDOWS_1252
        .decode(bytes)
        .0
        .into_owned()
        .into_bytes()
}

/// After a UTF-8 BOM, text that is not UTF-8 goes to the 1252 decoder as
/// it is, another BOM included.
fn via_bom(rest: &[u8]) -> Vec<u8> {
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(rest);
    let (text, enc) = decode(&input);
    assert_eq!(enc, TextEncoding::Windows1252);
    text.into_owned()
}

#[test]
fn every_byte_reads_as_encoding_rs_reads_it() {
    for b in 0..=255u8 {
        // 0xFF is never UTF-8, so the text goes to the 1252 decoder.
        let rest = [b'x', b, 0xFF];
        assert_eq!(via_bom(&rest), oracle(&rest), "byte {b:#04x}");
    }
}

#[test]
fn a_bom_inside_still_wins_as_in_encoding_rs() {
    for rest in [
        &b"\xEF\xBB\xBFa\xFFb"[..],
        b"\xFF\xFEa\x00\x00\xD8b\x00",
        b"\xFF\xFEa\x00\xFF",
        b"\xFE\xFF\x00a\xDC\x00\xFF",
        b"\xFE\xFF\x00a\xFF",
    ] {
        assert_eq!(via_bom(rest), oracle(rest), "{rest:?}");
    }
}

proptest! {
    #[test]
    fn any_text_that_is_not_utf8_reads_as_encoding_rs_reads_it(
        bom in prop::sample::select(vec![&b""[..], b"\xEF\xBB\xBF", b"\xFF\xFE", b"\xFE\xFF"]),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut rest = bom.to_vec();
        rest.extend_from_slice(&body);
        rest.push(0xFF);
        prop_assert_eq!(via_bom(&rest), oracle(&rest));
        // Without a BOM of its own the whole file is 1252 when it is not
        // UTF-8 or UTF-16.
        let whole: Vec<u8> = body.iter().copied().chain([0x80]).collect();
        let (text, enc) = decode(&whole);
        if enc == TextEncoding::Windows1252 && !body.starts_with(b"\xEF\xBB\xBF") {
            prop_assert_eq!(text.into_owned(), oracle(&whole));
        }
    }
}
