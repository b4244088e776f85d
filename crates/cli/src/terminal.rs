//! What the command line prints of text it did not write: file names,
//! plant ids, messages quoting a file's cells. A name holding `ESC [2J`
//! or a right-to-left override would otherwise act on the user's terminal
//! (clear it, recolour it, reorder what follows) instead of being shown.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

/// Characters a terminal acts on rather than shows: C0 and C1 controls,
/// DEL, and the bidirectional overrides and isolates.
fn acts_on_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every such character written as a Rust escape (`\u{1b}`), so
/// it reads as what it is; ordinary text is borrowed unchanged.
pub fn shown(s: &str) -> Cow<'_, str> {
    if !s.chars().any(acts_on_terminal) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if acts_on_terminal(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path as [`shown`] text.
pub fn shown_path(p: &Path) -> String {
    shown(&p.display().to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_escaped_and_text_is_not() {
        assert_eq!(shown("lab_results.csv"), "lab_results.csv");
        assert_eq!(shown("é→ PLANT_A"), "é→ PLANT_A");
        assert_eq!(shown("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(shown("x\u{9b}31m\u{7f}"), "x\\u{9b}31m\\u{7f}");
        assert_eq!(shown("cod\u{202e}fdp.csv"), "cod\\u{202e}fdp.csv");
        assert_eq!(shown("tab\there\nnext"), "tab\\u{9}here\\u{a}next");
    }
}
