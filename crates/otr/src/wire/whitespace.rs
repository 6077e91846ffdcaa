//! The whitespace tag: spaces and tabs that offer OTR inside plaintext.

use crate::wire::version::{Version, Versions};

/// The 16 characters every whitespace tag starts with.
pub const TAG_BASE: &str = " \t  \t\t\t\t \t \t \t  ";
/// The 8 characters offering version 1 (recognised, never sent).
pub const TAG_V1: &str = " \t \t  \t ";
/// The 8 characters offering version 2.
pub const TAG_V2: &str = "  \t\t  \t ";
/// The 8 characters offering version 3.
pub const TAG_V3: &str = "  \t\t  \t\t";

const GROUP_LEN: usize = 8;

/// The tag to append to an outgoing plaintext message: the base, then the
/// version 2 and version 3 groups if offered, in libotr's order. Version 1
/// is never offered.
pub fn whitespace_tag(versions: Versions) -> String {
    let mut tag = String::from(TAG_BASE);
    if versions.contains(Version::V2) {
        tag.push_str(TAG_V2);
    }
    if versions.contains(Version::V3) {
        tag.push_str(TAG_V3);
    }
    tag
}

/// A whitespace tag found in a received message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FoundTag {
    /// Where the tag starts, in bytes.
    pub start: usize,
    /// Where the tag ends (exclusive), in bytes.
    pub end: usize,
    /// The versions its groups offer.
    pub versions: Versions,
}

/// Finds the first whitespace tag anywhere in `message`, as libotr does.
///
/// After the base, every following run of 8 spaces and tabs belongs to the
/// tag; groups naming versions 1, 2 or 3 are recognised and any other group
/// is skipped.
pub fn find_tag(message: &str) -> Option<FoundTag> {
    let start = message.find(TAG_BASE)?;
    let mut end = start + TAG_BASE.len();
    let mut versions = Versions::EMPTY;
    while let Some(group) = message.get(end..end + GROUP_LEN) {
        if !group.bytes().all(|b| b == b' ' || b == b'\t') {
            break;
        }
        match group {
            TAG_V1 => versions = versions.with_v1(),
            TAG_V2 => versions = versions.with(Version::V2),
            TAG_V3 => versions = versions.with(Version::V3),
            _ => {}
        }
        end += GROUP_LEN;
    }
    Some(FoundTag {
        start,
        end,
        versions,
    })
}

/// Removes the first whitespace tag from `message`, returning the text to
/// show and the versions the tag offered (empty without a tag).
pub fn strip_tag(message: &str) -> (String, Versions) {
    let Some(tag) = find_tag(message) else {
        return (message.to_owned(), Versions::EMPTY);
    };
    let before = message.get(..tag.start).unwrap_or_default();
    let after = message.get(tag.end..).unwrap_or_default();
    ([before, after].concat(), tag.versions)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn tag_constants_match_libotr() {
        assert_eq!(
            TAG_BASE.as_bytes(),
            b"\x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20"
        );
        assert_eq!(TAG_V1.as_bytes(), b"\x20\x09\x20\x09\x20\x20\x09\x20");
        assert_eq!(TAG_V2.as_bytes(), b"\x20\x20\x09\x09\x20\x20\x09\x20");
        assert_eq!(TAG_V3.as_bytes(), b"\x20\x20\x09\x09\x20\x20\x09\x09");
    }

    #[test]
    fn builds_tags() {
        assert_eq!(
            whitespace_tag(Versions::V2_AND_V3),
            [TAG_BASE, TAG_V2, TAG_V3].concat()
        );
        assert_eq!(
            whitespace_tag(Versions::only(Version::V3)),
            [TAG_BASE, TAG_V3].concat()
        );
        assert_eq!(whitespace_tag(Versions::EMPTY.with_v1()), TAG_BASE);
    }

    #[test]
    fn strips_a_tag_at_the_end() {
        let message = format!("hello{}", whitespace_tag(Versions::V2_AND_V3));
        assert_eq!(strip_tag(&message), ("hello".into(), Versions::V2_AND_V3));
    }

    #[test]
    fn finds_a_tag_anywhere() {
        let tag = whitespace_tag(Versions::only(Version::V2));
        for message in [
            format!("{tag}hello"),
            format!("hel{tag}lo"),
            format!("hello{tag}"),
        ] {
            assert_eq!(
                strip_tag(&message),
                ("hello".into(), Versions::only(Version::V2))
            );
        }
    }

    #[test]
    fn skips_unknown_groups() {
        let message = [TAG_BASE, "\t\t\t\t\t\t\t\t", TAG_V3, TAG_V1, "x"].concat();
        let found = find_tag(&message).unwrap();
        assert_eq!(found.versions, Versions::only(Version::V3).with_v1());
        assert_eq!(strip_tag(&message).0, "x");
    }

    #[test]
    fn partial_group_is_not_part_of_the_tag() {
        let message = [TAG_BASE, TAG_V2, "  \t"].concat();
        assert_eq!(
            strip_tag(&message),
            ("  \t".into(), Versions::only(Version::V2))
        );
    }

    #[test]
    fn base_alone_is_a_tag_without_versions() {
        let message = format!("a{TAG_BASE}b");
        assert_eq!(strip_tag(&message), ("ab".into(), Versions::EMPTY));
    }

    #[test]
    fn untagged_text_is_unchanged() {
        assert_eq!(
            strip_tag("plain \t text"),
            ("plain \t text".into(), Versions::EMPTY)
        );
        assert_eq!(find_tag("plain"), None);
    }

    #[test]
    fn multibyte_text_around_the_tag() {
        let message = format!("é{}ü", whitespace_tag(Versions::V2_AND_V3));
        assert_eq!(strip_tag(&message), ("éü".into(), Versions::V2_AND_V3));
    }
}
