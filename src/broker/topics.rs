//! Topic rules as the broker applies them: the codec's spec checks plus the
//! configured length and level limits, and shared-filter splitting.

use super::config::Limits;
use crate::protocol::codec::ReasonCode;
use crate::protocol::codec::topic::{parse_shared, validate_topic_filter, validate_topic_name};

fn within(topic: &str, limits: &Limits) -> bool {
    // Levels are separators + 1; a byte count is much cheaper than split().
    topic.len() <= limits.max_topic_len
        && topic.bytes().filter(|&b| b == b'/').count() < limits.max_topic_levels
}

/// True when `s` holds a control character, U+0000–U+001F or U+007F–U+009F
/// (UTF-8: one byte below 0x20 or 0x7F, or 0xC2 then 0x80–0x9F). The spec
/// lets a server refuse them; mosquitto does, in topics, filters, client
/// ids and user names, and so do we.
pub(crate) fn has_control(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| control_at(b, i))
}

/// True when a control character starts at byte `i` of UTF-8 text `b`.
fn control_at(b: &[u8], i: usize) -> bool {
    let c = b[i];
    c < 0x20 || c == 0x7F || (c == 0xC2 && b.get(i + 1).is_some_and(|n| *n <= 0x9F))
}

/// Checks a PUBLISH topic: `Err(MALFORMED_PACKET)` for a control
/// character, `Err(TOPIC_NAME_INVALID)` for a spec or limit violation.
pub(crate) fn check_topic_name(name: &str, limits: &Limits) -> Result<(), ReasonCode> {
    if validate_topic_name(name).is_err() || name.len() > limits.max_topic_len {
        return Err(ReasonCode::TOPIC_NAME_INVALID);
    }
    // One pass for the level count and control characters (every PUBLISH).
    let b = name.as_bytes();
    let (mut separators, mut control) = (0usize, false);
    for (i, &c) in b.iter().enumerate() {
        separators += usize::from(c == b'/');
        control |= control_at(b, i);
    }
    if separators >= limits.max_topic_levels {
        return Err(ReasonCode::TOPIC_NAME_INVALID);
    }
    if control {
        return Err(ReasonCode::MALFORMED_PACKET);
    }
    Ok(())
}

/// True when `name` is a valid PUBLISH topic within the limits.
pub(crate) fn valid_topic_name(name: &str, limits: &Limits) -> bool {
    check_topic_name(name, limits).is_ok()
}

/// True when `filter` (plain or `$share/{group}/...`) is valid within the limits.
pub(crate) fn valid_topic_filter(filter: &str, limits: &Limits) -> bool {
    validate_topic_filter(filter).is_ok() && within(split_shared(filter).1, limits)
}

/// `(Some(group), inner)` for a shared filter, `(None, filter)` otherwise.
pub(crate) fn split_shared(filter: &str) -> (Option<&str>, &str) {
    match parse_shared(filter) {
        Some((group, inner)) => (Some(group), inner),
        None => (None, filter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_apply_on_top_of_the_spec_rules() {
        let l = Limits::default();
        assert!(valid_topic_filter("a/+/#", &l));
        assert!(!valid_topic_filter("a/#/b", &l));
        assert!(valid_topic_name("a/b", &l));
        assert!(!valid_topic_name("a/+", &l));
        let small = Limits {
            max_topic_levels: 2,
            max_topic_len: 5,
            ..Limits::default()
        };
        assert!(!valid_topic_name("a/b/c", &small));
        assert!(!valid_topic_name("abcdef", &small));
        assert!(!valid_topic_filter("a/b/c", &small));
        assert!(
            valid_topic_filter("$share/group/a/b", &small),
            "group prefix not counted"
        );
        assert_eq!(split_shared("$share/g/a/#"), (Some("g"), "a/#"));
        assert_eq!(split_shared("a/#"), (None, "a/#"));
    }

    #[test]
    fn control_characters_are_found_and_their_neighbours_are_not() {
        for bad in [
            "a\u{1}", "\u{1f}", "a\u{7f}b", "\u{80}", "x\u{85}", "\u{9f}",
        ] {
            assert!(has_control(bad), "{bad:?}");
        }
        for good in [
            "",
            "a/b c",
            "~",
            "\u{a0}",
            "\u{c2}\u{a0}é",
            "\u{100}",
            "日本",
        ] {
            assert!(!has_control(good), "{good:?}");
        }
        let l = Limits::default();
        assert_eq!(
            check_topic_name("a\u{1}", &l),
            Err(ReasonCode::MALFORMED_PACKET)
        );
        assert_eq!(
            check_topic_name("a/+", &l),
            Err(ReasonCode::TOPIC_NAME_INVALID)
        );
    }
}
