//! Topic names and filters: validation, shared-subscription parsing
//! (`$share/{group}/{filter}`) and filter matching with the `$`-topic rule.

use std::fmt;

/// Why a topic name or filter is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicError {
    /// Zero length.
    Empty,
    /// Longer than 65,535 bytes.
    TooLong,
    /// A topic name contains `+` or `#`.
    Wildcard,
    /// A filter uses `+` or `#` other than as a whole level (`#` last only).
    MisplacedWildcard,
    /// Contains U+0000.
    NullCharacter,
    /// `$share/` with an empty group, a group containing `+`/`#`, or no filter.
    InvalidSharedSubscription,
}

impl TopicError {
    /// A short description of the broken rule.
    pub fn as_str(self) -> &'static str {
        match self {
            TopicError::Empty => "topic is empty",
            TopicError::TooLong => "topic longer than 65535 bytes",
            TopicError::Wildcard => "topic name contains a wildcard",
            TopicError::MisplacedWildcard => "wildcard is not a whole topic level",
            TopicError::NullCharacter => "topic contains U+0000",
            TopicError::InvalidSharedSubscription => "invalid shared subscription",
        }
    }
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for TopicError {}

const SHARE_PREFIX: &str = "$share/";

fn check_common(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    if s.len() > usize::from(u16::MAX) {
        return Err(TopicError::TooLong);
    }
    if s.as_bytes().contains(&0) {
        return Err(TopicError::NullCharacter);
    }
    Ok(())
}

/// A topic name as used in PUBLISH: non-empty, at most 65,535 bytes, no
/// U+0000, no wildcard characters.
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    check_common(name)?;
    if name.bytes().any(|b| b == b'+' || b == b'#') {
        return Err(TopicError::Wildcard);
    }
    Ok(())
}

/// A topic filter as used in SUBSCRIBE/UNSUBSCRIBE: `+` only as a whole
/// level, `#` only as the whole last level; a `$share/` filter must have a
/// valid group and a valid non-empty filter after it.
pub fn validate_topic_filter(filter: &str) -> Result<(), TopicError> {
    check_common(filter)?;
    if let Some(rest) = filter.strip_prefix(SHARE_PREFIX) {
        let (group, inner) = rest
            .split_once('/')
            .ok_or(TopicError::InvalidSharedSubscription)?;
        if !valid_share_group(group) || inner.is_empty() {
            return Err(TopicError::InvalidSharedSubscription);
        }
        return check_filter_levels(inner);
    }
    check_filter_levels(filter)
}

fn valid_share_group(group: &str) -> bool {
    !group.is_empty() && !group.bytes().any(|b| b == b'+' || b == b'#')
}

fn check_filter_levels(filter: &str) -> Result<(), TopicError> {
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        match level {
            "+" => {}
            "#" if last => {}
            _ if level.bytes().any(|b| b == b'+' || b == b'#') => {
                return Err(TopicError::MisplacedWildcard);
            }
            _ => {}
        }
    }
    Ok(())
}

/// True when `filter` starts with `$share/`.
pub fn is_shared(filter: &str) -> bool {
    filter.starts_with(SHARE_PREFIX)
}

/// Split a well-formed shared subscription `$share/{group}/{filter}` into
/// `(group, filter)`. `None` when `filter` is not a shared subscription or
/// breaks the group rules (empty group, `+`/`#` in it, empty filter).
pub fn parse_shared(filter: &str) -> Option<(&str, &str)> {
    let rest = filter.strip_prefix(SHARE_PREFIX)?;
    let (group, inner) = rest.split_once('/')?;
    if valid_share_group(group) && !inner.is_empty() {
        Some((group, inner))
    } else {
        None
    }
}

/// Does topic `name` match `filter`? Both are assumed valid; a shared
/// subscription must be passed without its `$share/{group}/` prefix. A name
/// starting with `$` is not matched by a filter starting with `+` or `#`.
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
            (Some(fl), Some(nl)) if fl == nl => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert_eq!(validate_topic_name("a/b/c"), Ok(()));
        assert_eq!(validate_topic_name("/"), Ok(()));
        assert_eq!(validate_topic_name("$SYS/x"), Ok(()));
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
        assert_eq!(validate_topic_name("a/+"), Err(TopicError::Wildcard));
        assert_eq!(validate_topic_name("a#"), Err(TopicError::Wildcard));
        assert_eq!(validate_topic_name("a\0b"), Err(TopicError::NullCharacter));
        let long = "x".repeat(65_536);
        assert_eq!(validate_topic_name(&long), Err(TopicError::TooLong));
        assert_eq!(validate_topic_name(&long[1..]), Ok(()));
    }

    #[test]
    fn topic_filters() {
        for ok in [
            "#",
            "+",
            "a/#",
            "a/+/b",
            "+/+",
            "/+",
            "a//b",
            "sport/tennis/#",
            "$SYS/#",
            "/",
        ] {
            assert_eq!(validate_topic_filter(ok), Ok(()), "{ok}");
        }
        for bad in [
            "a#", "a/#/b", "a+", "a/b+/c", "#/a", "#/", "a+/b", "++", "a/##",
        ] {
            assert_eq!(
                validate_topic_filter(bad),
                Err(TopicError::MisplacedWildcard),
                "{bad}"
            );
        }
        assert_eq!(validate_topic_filter(""), Err(TopicError::Empty));
        assert_eq!(validate_topic_filter("a\0"), Err(TopicError::NullCharacter));
    }

    #[test]
    fn shared_subscriptions() {
        assert_eq!(parse_shared("$share/g/a/b"), Some(("g", "a/b")));
        assert_eq!(parse_shared("$share/g/#"), Some(("g", "#")));
        assert_eq!(parse_shared("$share//a"), None);
        assert_eq!(parse_shared("$share/g+/a"), None);
        assert_eq!(parse_shared("$share/g/"), None);
        assert_eq!(parse_shared("$share/g"), None);
        assert_eq!(parse_shared("a/b"), None);
        assert!(is_shared("$share/g/a"));
        assert!(!is_shared("$sharex/g/a"));
        assert_eq!(validate_topic_filter("$share/g/a/+"), Ok(()));
        for bad in ["$share/g", "$share//a", "$share/#/a", "$share/g/"] {
            assert_eq!(
                validate_topic_filter(bad),
                Err(TopicError::InvalidSharedSubscription),
                "{bad}"
            );
        }
        assert_eq!(
            validate_topic_filter("$share/g/a#"),
            Err(TopicError::MisplacedWildcard)
        );
    }

    #[test]
    fn matching() {
        let yes = [
            ("a/b", "a/b"),
            ("a/+", "a/b"),
            ("a/#", "a"),
            ("a/#", "a/b/c"),
            ("#", "a/b"),
            ("+/+", "/finance"),
            ("/+", "/finance"),
            ("+/b/+", "a/b/c"),
            ("$SYS/#", "$SYS/x"),
            ("$SYS/+", "$SYS/x"),
            ("a//b", "a//b"),
            ("a/+/b", "a//b"),
        ];
        for (f, n) in yes {
            assert!(topic_matches(f, n), "{f} should match {n}");
        }
        let no = [
            ("a/b", "a/c"),
            ("a/+", "a/b/c"),
            ("a/+", "a"),
            ("+", "/finance"),
            ("a/b", "a/b/c"),
            ("a/b/c", "a/b"),
            ("#", "$SYS/x"),
            ("+/x", "$SYS/x"),
            ("+", "$"),
            ("A", "a"),
        ];
        for (f, n) in no {
            assert!(!topic_matches(f, n), "{f} should not match {n}");
        }
    }
}
