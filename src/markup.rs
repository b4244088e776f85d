//! Markup the page writes as one string where a typed Leptos view per
//! cell would cost more wasm than the table is worth (read-only tables).

/// Text as HTML character data or a quoted attribute value: a plant name
/// or file name is the user's, and must never become markup. The core's
/// chart-label escaping, and the quotes an attribute value needs.
pub fn escape(s: &str) -> String {
    crew_mrv_core::chart_text(s)
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_cannot_become_markup() {
        assert_eq!(
            escape(r#"<img src=x onerror="a('&')">"#),
            "&lt;img src=x onerror=&quot;a(&#39;&amp;&#39;)&quot;&gt;"
        );
        assert_eq!(escape("PLANT_C Ü 2025"), "PLANT_C Ü 2025");
    }
}
