//! Topic rules as the broker applies them: the codec's spec checks plus the
//! configured length and level limits, and shared-filter splitting.

use super::config::Limits;
use crate::protocol::codec::topic::{parse_shared, validate_topic_filter, validate_topic_name};

fn within(topic: &str, limits: &Limits) -> bool {
    // Levels are separators + 1; a byte count is much cheaper than split().
    topic.len() <= limits.max_topic_len
        && topic.bytes().filter(|&b| b == b'/').count() < limits.max_topic_levels
}

/// True when `name` is a valid PUBLISH topic within the limits.
pub(crate) fn valid_topic_name(name: &str, limits: &Limits) -> bool {
    validate_topic_name(name).is_ok() && within(name, limits)
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
}
