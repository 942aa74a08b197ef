//! Topic name and filter rules as the broker applies them: validation against
//! the spec and the configured limits, matching, and `$share/` parsing.

use super::config::Limits;

/// True when `name` is a valid topic name for a PUBLISH (no wildcards, no
/// NUL, non-empty, within the length and level limits).
pub fn valid_topic_name(name: &str, limits: &Limits) -> bool {
    !name.is_empty()
        && name.len() <= limits.max_topic_len
        && !name.contains(['+', '#', '\0'])
        && name.split('/').count() <= limits.max_topic_levels
}

/// True when `filter` is a valid topic filter (`+` a whole level, `#` a whole
/// and last level, no NUL, within the limits).
pub fn valid_topic_filter(filter: &str, limits: &Limits) -> bool {
    if filter.is_empty() || filter.len() > limits.max_topic_len || filter.contains('\0') {
        return false;
    }
    let mut levels = filter.split('/').peekable();
    let mut count = 0;
    while let Some(level) = levels.next() {
        count += 1;
        let last = levels.peek().is_none();
        match level {
            "+" => {}
            "#" if last => {}
            l if l.contains(['+', '#']) => return false,
            _ => {}
        }
    }
    count <= limits.max_topic_levels
}

/// Does `filter` match topic `name`? `$`-topics never match a leading wildcard.
pub fn topic_matches(filter: &str, name: &str) -> bool {
    if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut n = name.split('/');
    loop {
        match (f.next(), n.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// A parsed `$share/{group}/{filter}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared<'a> {
    pub group: &'a str,
    pub filter: &'a str,
}

/// Splits a shared subscription filter. `Ok(None)`: not shared.
/// `Err(())`: starts with `$share/` but the group or filter is invalid.
#[allow(clippy::result_unit_err)]
pub fn parse_shared(filter: &str) -> Result<Option<Shared<'_>>, ()> {
    let Some(rest) = filter.strip_prefix("$share/") else {
        return Ok(None);
    };
    let Some((group, inner)) = rest.split_once('/') else {
        return Err(());
    };
    if group.is_empty() || group.contains(['+', '#']) || inner.is_empty() {
        return Err(());
    }
    Ok(Some(Shared {
        group,
        filter: inner,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_follows_the_wildcard_rules() {
        assert!(topic_matches("a/+/c", "a/b/c"));
        assert!(!topic_matches("a/+/c", "a/b/d"));
        assert!(topic_matches("a/#", "a"));
        assert!(topic_matches("a/#", "a/b/c"));
        assert!(topic_matches("#", "a/b"));
        assert!(!topic_matches("#", "$SYS/x"));
        assert!(!topic_matches("+/x", "$SYS/x"));
        assert!(topic_matches("$SYS/#", "$SYS/x"));
        assert!(topic_matches("+/+", "/x"));
        assert!(!topic_matches("a/b", "a/b/c"));
    }

    #[test]
    fn validation_rejects_misplaced_wildcards_and_limits() {
        let l = Limits::default();
        assert!(valid_topic_filter("a/+/#", &l));
        assert!(!valid_topic_filter("a/#/b", &l));
        assert!(!valid_topic_filter("a/b+", &l));
        assert!(!valid_topic_filter("", &l));
        assert!(valid_topic_name("a/b", &l));
        assert!(!valid_topic_name("a/+", &l));
        assert!(!valid_topic_name("", &l));
        let small = Limits {
            max_topic_levels: 2,
            max_topic_len: 5,
            ..Limits::default()
        };
        assert!(!valid_topic_name("a/b/c", &small));
        assert!(!valid_topic_name("abcdef", &small));
        assert!(!valid_topic_filter("a/b/c", &small));
    }

    #[test]
    fn shared_filters_parse() {
        assert_eq!(
            parse_shared("$share/g/a/#"),
            Ok(Some(Shared {
                group: "g",
                filter: "a/#"
            }))
        );
        assert_eq!(parse_shared("a/b"), Ok(None));
        assert!(parse_shared("$share/g").is_err());
        assert!(parse_shared("$share//a").is_err());
        assert!(parse_shared("$share/g+/a").is_err());
    }
}
