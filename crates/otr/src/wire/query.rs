//! Query messages (`?OTRv23?`) and error messages (`?OTR Error:`).

use crate::wire::version::{Version, Versions};

/// What starts every OTR marker in a message.
pub const OTR_MARKER: &str = "?OTR";
/// What starts an error message.
pub const ERROR_PREFIX: &str = "?OTR Error:";

/// A query message offering `versions`, followed by `explanation` (libotr
/// sends a newline and an HTML explanation for people without OTR; an empty
/// explanation gives a bare query such as CoyIM's).
///
/// Version 1 is never offered. Pass at least one of versions 2 and 3: an
/// empty set gives `?OTRv?`, which offers nothing.
pub fn query_message(versions: Versions, explanation: &str) -> String {
    let mut query = String::from("?OTRv");
    if versions.contains(Version::V2) {
        query.push('2');
    }
    if versions.contains(Version::V3) {
        query.push('3');
    }
    query.push('?');
    query.push_str(explanation);
    query
}

/// An error message carrying `text`: `?OTR Error: ` + text.
pub fn error_message(text: &str) -> String {
    format!("{ERROR_PREFIX} {text}")
}

/// The versions a query offers; `after_marker` is the text after `?OTR`,
/// starting with `?` or `v`.
///
/// As in libotr: a `?` right after the marker offers version 1; then a `v`
/// starts a list whose characters are read up to the next `?` (or the end
/// of the message), where `2` and `3` count and anything else is ignored.
pub fn parse_query(after_marker: &str) -> Versions {
    let mut versions = Versions::EMPTY;
    let mut rest = after_marker;
    if let Some(after_v1) = rest.strip_prefix('?') {
        versions = versions.with_v1();
        rest = after_v1;
    }
    if let Some(list) = rest.strip_prefix('v') {
        let list = list.split_once('?').map_or(list, |(list, _)| list);
        for version in list.chars() {
            match version {
                '2' => versions = versions.with(Version::V2),
                '3' => versions = versions.with(Version::V3),
                _ => {}
            }
        }
    }
    versions
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Versions {
        parse_query(query.strip_prefix(OTR_MARKER).unwrap())
    }

    #[test]
    fn builds_queries() {
        assert_eq!(query_message(Versions::V2_AND_V3, ""), "?OTRv23?");
        assert_eq!(
            query_message(Versions::only(Version::V2), "\nhello"),
            "?OTRv2?\nhello"
        );
        assert_eq!(query_message(Versions::only(Version::V3), ""), "?OTRv3?");
        assert_eq!(query_message(Versions::EMPTY.with_v1(), ""), "?OTRv?");
    }

    #[test]
    fn builds_error_messages() {
        assert_eq!(error_message("oops"), "?OTR Error: oops");
    }

    #[test]
    fn parses_query_variants() {
        let v2 = Versions::only(Version::V2);
        let v3 = Versions::only(Version::V3);
        let v1 = Versions::EMPTY.with_v1();
        let cases = [
            ("?OTR?", v1),
            ("?OTRv2?", v2),
            ("?OTRv3?", v3),
            ("?OTRv23?", Versions::V2_AND_V3),
            ("?OTRv32?", Versions::V2_AND_V3),
            ("?OTR?v2?", v1.with(Version::V2)),
            ("?OTR?v23?", v1.with(Version::V2).with(Version::V3)),
            ("?OTRv?", Versions::EMPTY),
            ("?OTR?v?", v1),
            ("?OTRv24x?", v2),
            ("?OTRv1?", Versions::EMPTY),
            ("?OTRv2", v2),
        ];
        for (query, expected) in cases {
            assert_eq!(parse(query), expected, "{query}");
        }
    }

    #[test]
    fn versions_stop_at_the_next_question_mark() {
        let libotr = "?OTRv2?\n<b>alice</b> has requested an Off-the-Record conversation. v3?";
        assert_eq!(parse(libotr), Versions::only(Version::V2));
        assert_eq!(
            parse("?OTRv23?\n<b>bob@example.org</b> has requested ..."),
            Versions::V2_AND_V3
        );
    }
}
