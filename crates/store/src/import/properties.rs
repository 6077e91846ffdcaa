//! Java's `.properties` format, as `java.util.Properties.load` reads it:
//! ISO-8859-1 bytes, `#` and `!` comments, keys ended by an unescaped `=`,
//! `:` or whitespace, backslash escapes (`\t`, `\n`, `\uXXXX`, any other
//! character stands for itself) and line continuations.

/// The key-value pairs of a properties file, in file order.
pub(crate) fn parse(bytes: &[u8]) -> Vec<(String, String)> {
    // ISO-8859-1: every byte is the character with its value.
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let mut pairs = Vec::new();
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    while let Some(first) = lines.next() {
        let first = first.trim_start_matches(is_space);
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        // Join continuation lines: an odd number of trailing backslashes.
        let mut logical = first.to_owned();
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start_matches(is_space)),
                None => break,
            }
        }
        pairs.push(split_pair(&logical));
    }
    pairs
}

fn split_pair(line: &str) -> (String, String) {
    let mut chars = line.chars().peekable();
    let mut key = String::new();
    let mut separator_seen = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => unescape(&mut chars, &mut key),
            '=' | ':' => {
                separator_seen = true;
                break;
            }
            c if is_space(c) => break,
            c => key.push(c),
        }
    }
    // After the key: whitespace, at most one separator, whitespace.
    while chars.peek().is_some_and(|&c| is_space(c)) {
        chars.next();
    }
    if !separator_seen && chars.peek().is_some_and(|&c| c == '=' || c == ':') {
        chars.next();
        while chars.peek().is_some_and(|&c| is_space(c)) {
            chars.next();
        }
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' {
            unescape(&mut chars, &mut value);
        } else {
            value.push(c);
        }
    }
    (key, value)
}

/// The character after a backslash.
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    let Some(c) = chars.next() else {
        return;
    };
    match c {
        't' => out.push('\t'),
        'n' => out.push('\n'),
        'r' => out.push('\r'),
        'f' => out.push('\u{c}'),
        'u' => {
            let hex: String = chars.by_ref().take(4).collect();
            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                Some(decoded) if hex.len() == 4 => out.push(decoded),
                // Java throws on a bad \u; keep the text so the value
                // simply fails to match anything.
                _ => {
                    out.push_str("\\u");
                    out.push_str(&hex);
                }
            }
        }
        c => out.push(c),
    }
}

fn ends_with_odd_backslashes(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn java_properties() {
        let file = b"# comment\n  ! another\nkey=value\na\\:b\\=c = d\\=e\\\\\n\
                     cont = one\\\n    two\\\r\n three\nuni=\\u00e9\\u0041\nbare\nspace sep\n\
                     latin=\xe9\n";
        let pairs = parse(file);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("key"), Some("value"));
        assert_eq!(get("a:b=c"), Some("d=e\\"));
        assert_eq!(get("cont"), Some("onetwothree"));
        assert_eq!(get("uni"), Some("\u{e9}A"));
        assert_eq!(get("bare"), Some(""));
        assert_eq!(get("space"), Some("sep"));
        assert_eq!(get("latin"), Some("\u{e9}"));
        assert_eq!(pairs.len(), 7);
    }
}
