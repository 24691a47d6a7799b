//! Reasons people read: the text of an error about bad input, and the reason
//! a dead letter carries. Bad input can hold anything — a megabyte of one
//! word, control characters, a name that is not text — and an error that
//! repeats it verbatim is unreadable in a terminal, a log line or the DLQ
//! list (and SQS refuses a message attribute with control characters). So
//! every such text goes through [`readable`]: control characters are
//! written as escapes, and a text too long keeps its start and end with
//! what was left out counted in between.
//!
//! No other module of the core is used here: any of them may use it.

/// The longest reason a dead letter keeps, in bytes (a whole plan's
/// errors fit; a repeated megabyte does not).
pub const MAX_REASON_BYTES: usize = 2048;

/// The longest piece of the input an error quotes, in bytes.
pub const MAX_QUOTED_BYTES: usize = 160;

/// `text` as one can read it: trimmed, control characters but newline and
/// tab (and the non-characters U+FFFE and U+FFFF) escaped as `\u{..}`, at
/// most `max` bytes (at least 64: the middle cut out and counted), never
/// empty.
pub fn readable(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(no reason given)".to_owned();
    }
    escaped(text, max)
}

/// [`readable`] without the trim.
fn escaped(text: &str, max: usize) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || c == '\u{fffe}' || c == '\u{ffff}' {
            escaped.extend(c.escape_unicode());
        } else {
            escaped.push(c);
        }
    }
    let max = max.max(64);
    if escaped.len() <= max {
        return escaped;
    }
    // The marker takes at most 48 bytes; the start and the end share the rest.
    let keep = (max - 48) / 2;
    let head = floor_boundary(&escaped, keep);
    let tail = ceil_boundary(&escaped, escaped.len() - keep);
    format!(
        "{}…({} bytes left out)…{}",
        &escaped[..head],
        tail - head,
        &escaped[tail..]
    )
}

/// A piece of the input quoted in an error, in backticks: escaped and cut
/// like [`readable`] at [`MAX_QUOTED_BYTES`], but not trimmed (a stray
/// space may be what is wrong).
pub fn quoted(text: &str) -> String {
    if text.is_empty() {
        return "`` (empty)".to_owned();
    }
    if text.trim().is_empty() {
        return format!("{} bytes of blank space", text.len());
    }
    format!("`{}`", escaped(text, MAX_QUOTED_BYTES))
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_text_is_kept() {
        assert_eq!(readable("a\u{1}b\nc\td", 100), "a\\u{1}b\nc\td");
        assert_eq!(readable("  \u{0}", 100), "\\u{0}");
        assert_eq!(readable("   ", 100), "(no reason given)");
        assert_eq!(readable("plain", 100), "plain");
    }

    #[test]
    fn long_text_keeps_its_ends_within_the_limit() {
        let text = format!("start{}end", "é".repeat(100_000));
        let r = readable(&text, 200);
        assert!(r.len() <= 200, "{} bytes", r.len());
        assert!(r.starts_with("start") && r.ends_with("end"), "{r}");
        assert!(r.contains("bytes left out"), "{r}");
    }

    #[test]
    fn quotes_are_short_and_name_the_empty_string() {
        assert_eq!(quoted(""), "`` (empty)");
        assert_eq!(quoted(" \n"), "2 bytes of blank space");
        assert!(quoted(&"x".repeat(10_000)).len() <= MAX_QUOTED_BYTES + 2);
    }
}
