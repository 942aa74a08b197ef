//! mosquitto's ACL file. `topic [read|write|readwrite|deny] TOPIC` lines
//! before the first `user NAME` line apply to clients without a username;
//! after it, to that user. `pattern [ACCESS] TOPIC` lines apply to every
//! client wherever they stand, with a level `%c` standing for the client id
//! and `%u` for the username (a pattern with `%u` never applies to a client
//! without one, nor `%c`/`%u` when the value holds `+`, `#` or `/`). The
//! access defaults to readwrite. A matching `deny` wins over any grant;
//! otherwise the first matching grant with the access asked for allows;
//! nothing matching denies.

use std::collections::HashMap;

/// What a rule grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
    ReadWrite,
    Deny,
}

/// What a client wants to do on a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Receive messages (delivery) or subscribe (filter).
    Read,
    /// Publish.
    Write,
}

#[derive(Debug, Clone)]
struct Rule {
    access: Access,
    topic: String,
}

fn grants(access: Access, want: Want) -> bool {
    matches!(
        (access, want),
        (Access::ReadWrite, _) | (Access::Read, Want::Read) | (Access::Write, Want::Write)
    )
}

/// A parsed ACL file.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    anonymous: Vec<Rule>,
    users: HashMap<String, Vec<Rule>>,
    patterns: Vec<Rule>,
}

impl Acl {
    /// Parse the file's text; errors name the line. `#` at the start of a
    /// line comments it out.
    pub fn parse(text: &str) -> Result<Acl, String> {
        let mut acl = Acl::default();
        let mut user: Option<String> = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let err = |m: &str| format!("line {}: {m}", n + 1);
            let (word, rest) = trimmed
                .split_once(char::is_whitespace)
                .map_or((trimmed, ""), |(w, r)| (w, r.trim_start()));
            match word {
                "user" => {
                    let name = rest.trim_end();
                    if name.is_empty() {
                        return Err(err("'user' needs a username"));
                    }
                    user = Some(name.to_string());
                    acl.users.entry(name.to_string()).or_default();
                }
                "topic" | "pattern" => {
                    let rest = rest.trim_end();
                    let (access, topic) = match rest.split_once(char::is_whitespace) {
                        Some((a, t)) => match a {
                            "read" => (Access::Read, t.trim_start()),
                            "write" => (Access::Write, t.trim_start()),
                            "readwrite" => (Access::ReadWrite, t.trim_start()),
                            "deny" => (Access::Deny, t.trim_start()),
                            _ => (Access::ReadWrite, rest),
                        },
                        None => (Access::ReadWrite, rest),
                    };
                    if topic.is_empty() || matches!(topic, "read" | "write" | "readwrite" | "deny")
                    {
                        return Err(err(&format!("'{word}' needs a topic")));
                    }
                    if !valid_filter(topic) {
                        return Err(err(&format!("'{topic}' is not a valid topic filter")));
                    }
                    let rule = Rule {
                        access,
                        topic: topic.to_string(),
                    };
                    match (word, &user) {
                        ("pattern", _) => acl.patterns.push(rule),
                        (_, None) => acl.anonymous.push(rule),
                        (_, Some(u)) => acl.users.entry(u.clone()).or_default().push(rule),
                    }
                }
                other => return Err(err(&format!("unknown keyword '{other}'"))),
            }
        }
        Ok(acl)
    }

    /// Read and parse `path`; errors name the file and line.
    pub fn load(path: &std::path::Path) -> Result<Acl, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The client's own topic rules: the anonymous ones, or its user's.
    fn own_rules(&self, username: Option<&str>) -> &[Rule] {
        match username {
            None => &self.anonymous,
            Some(u) => self.users.get(u).map_or(&[], Vec::as_slice),
        }
    }

    /// May this client publish to (`Write`) or receive from (`Read`) `topic`?
    /// Asked per delivery: no allocation.
    pub fn check(&self, client_id: &str, username: Option<&str>, topic: &str, want: Want) -> bool {
        let own = self
            .own_rules(username)
            .iter()
            .filter(|r| filter_matches(&r.topic, topic));
        let patterns = self
            .patterns
            .iter()
            .filter(|r| pattern_matches(&r.topic, topic, client_id, username));
        let mut granted = false;
        for r in own.chain(patterns) {
            if r.access == Access::Deny {
                return false;
            }
            granted |= grants(r.access, want);
        }
        granted
    }

    /// May this client subscribe to `filter`? Refused when a `deny` rule
    /// covers every topic the filter matches, or when no rule granting read
    /// access matches any topic it can match. Deliveries on a granted filter
    /// are still checked one by one (`check` with `Want::Read`).
    pub fn can_subscribe(&self, client_id: &str, username: Option<&str>, filter: &str) -> bool {
        let own = self
            .own_rules(username)
            .iter()
            .map(|r| (r.access, Some(r.topic.clone())));
        let patterns = self
            .patterns
            .iter()
            .map(|r| (r.access, substitute(&r.topic, client_id, username)));
        let mut granted = false;
        for (access, rule) in own.chain(patterns) {
            // A pattern whose %c/%u cannot be filled in does not apply.
            let Some(rule) = rule else { continue };
            match access {
                Access::Deny if covers(&rule, filter) => return false,
                Access::Deny | Access::Write => {}
                Access::Read | Access::ReadWrite => granted |= overlaps(&rule, filter),
            }
        }
        granted
    }
}

/// What a pattern level stands for with this client: `%c` the client id,
/// `%u` the username; `None` when it cannot stand for anything (no
/// username, or a value with `+`, `#` or `/` that would widen the rule).
fn fill<'a>(level: &'a str, client_id: &'a str, username: Option<&'a str>) -> Option<&'a str> {
    let plain = |v: &&str| !v.contains(['+', '#', '/']);
    match level {
        "%c" => Some(client_id).filter(plain),
        "%u" => username.filter(plain),
        l => Some(l),
    }
}

/// The pattern with its `%c`/`%u` levels filled in, if it applies.
fn substitute(pattern: &str, client_id: &str, username: Option<&str>) -> Option<String> {
    let levels: Option<Vec<&str>> = pattern
        .split('/')
        .map(|l| fill(l, client_id, username))
        .collect();
    Some(levels?.join("/"))
}

/// `filter_matches` for a pattern, filled in level by level.
fn pattern_matches(pattern: &str, topic: &str, client_id: &str, username: Option<&str>) -> bool {
    if topic.starts_with('$') && (pattern.starts_with('+') || pattern.starts_with('#')) {
        return false;
    }
    let mut f = pattern.split('/');
    let mut t = topic.split('/');
    loop {
        let level = match f.next() {
            Some(l) => match fill(l, client_id, username) {
                Some(l) => Some(l),
                None => return false,
            },
            None => None,
        };
        match (level, t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// A topic filter as MQTT allows it (`#` last and alone, `+` alone).
fn valid_filter(f: &str) -> bool {
    let levels: Vec<&str> = f.split('/').collect();
    levels
        .iter()
        .enumerate()
        .all(|(i, l)| (*l == "#" && i == levels.len() - 1) || *l == "+" || !l.contains(['+', '#']))
}

/// Does `filter` match the topic name `topic`? (The protocol's rule: `$`
/// topics are not matched by a leading wildcard.)
pub use crate::protocol::codec::topic_matches as filter_matches;

/// Is there a topic both filters match?
fn overlaps(a: &str, b: &str) -> bool {
    let dollar = |s: &str| s.starts_with('$');
    let wild = |s: &str| s.starts_with('+') || s.starts_with('#');
    if (dollar(a) && wild(b)) || (dollar(b) && wild(a)) {
        return false;
    }
    let mut x = a.split('/');
    let mut y = b.split('/');
    loop {
        match (x.next(), y.next()) {
            (Some("#"), _) | (_, Some("#")) => return true,
            (Some("+"), Some(_)) | (Some(_), Some("+")) => {}
            (Some(p), Some(q)) if p == q => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Does `rule` match every topic `filter` matches?
fn covers(rule: &str, filter: &str) -> bool {
    if filter.starts_with('$') && rule.starts_with(['+', '#']) {
        return false;
    }
    let mut r = rule.split('/');
    let mut f = filter.split('/');
    loop {
        match (r.next(), f.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(l)) if l != "#" => {}
            (Some(p), Some(q)) if p == q && p != "+" && p != "#" => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# anonymous\ntopic read pub/#\n\nuser alice\ntopic readwrite a/#\n\
        topic deny a/secret\ntopic write w/only\ntopic read r/only\nuser bob\ntopic b/#\n\
        pattern readwrite p/%u/#\npattern read c/%c\n";

    #[test]
    fn topic_rules_per_user_and_anonymous() {
        let acl = Acl::parse(FILE).unwrap();
        let (r, w) = (Want::Read, Want::Write);
        assert!(acl.check("x", None, "pub/1", r));
        assert!(!acl.check("x", None, "pub/1", w));
        assert!(!acl.check("x", Some("alice"), "pub/1", r));
        assert!(acl.check("x", Some("alice"), "a/b/c", w));
        assert!(!acl.check("x", Some("alice"), "a/secret", w), "deny wins");
        assert!(!acl.check("x", Some("alice"), "a/secret", r));
        assert!(acl.check("x", Some("alice"), "w/only", w));
        assert!(!acl.check("x", Some("alice"), "w/only", r));
        assert!(acl.check("x", Some("alice"), "r/only", r));
        assert!(
            acl.check("x", Some("bob"), "b/1", w),
            "access defaults to readwrite"
        );
        assert!(
            !acl.check("x", Some("carol"), "b/1", r),
            "unlisted users get patterns only"
        );
    }

    #[test]
    fn patterns_substitute_client_id_and_username() {
        let acl = Acl::parse(FILE).unwrap();
        assert!(acl.check("me", Some("carol"), "p/carol/x", Want::Write));
        assert!(!acl.check("me", Some("carol"), "p/bob/x", Want::Write));
        assert!(
            !acl.check("me", None, "p/carol/x", Want::Read),
            "%u needs a username"
        );
        assert!(acl.check("me", None, "c/me", Want::Read));
        assert!(!acl.check("me", None, "c/me", Want::Write));
        assert!(
            !acl.check("a/b", None, "c/a/b", Want::Read),
            "no '/' in a substituted id"
        );
        assert!(!acl.check("#", None, "c/x", Want::Read));
        assert!(
            acl.check("x", Some("alice"), "p/alice/1", Want::Read),
            "patterns apply to users"
        );
    }

    #[test]
    fn subscriptions() {
        let acl = Acl::parse(FILE).unwrap();
        let sub = |u: Option<&str>, f: &str| acl.can_subscribe("me", u, f);
        assert!(sub(None, "pub/#") && sub(None, "#") && sub(None, "pub/+/x"));
        assert!(!sub(None, "other"));
        assert!(sub(Some("alice"), "a/#"), "filtered per message later");
        assert!(!sub(Some("alice"), "a/secret"), "covered by deny");
        assert!(!sub(Some("alice"), "w/only"), "write-only");
        assert!(sub(Some("alice"), "p/alice/+"));
        assert!(!sub(Some("alice"), "$SYS/#"));
        assert!(sub(None, "c/me"));
    }

    #[test]
    fn matching_rules() {
        assert!(filter_matches("a/#", "a"));
        assert!(filter_matches("a/+/c", "a/b/c"));
        assert!(!filter_matches("#", "$SYS/x"));
        assert!(filter_matches("$SYS/#", "$SYS/x"));
        assert!(!filter_matches("a/b", "a/b/c"));
        assert!(overlaps("a/+", "+/b") && !overlaps("a/b", "a/c") && overlaps("a/#", "a"));
        assert!(covers("a/#", "a/+/c") && !covers("a/+", "a/#") && covers("+/x", "a/x"));
    }

    #[test]
    fn errors_name_the_line() {
        assert!(Acl::parse("user").unwrap_err().contains("line 1"));
        assert!(Acl::parse("\ntopic read").unwrap_err().contains("line 2"));
        assert!(
            Acl::parse("topic a/#/b")
                .unwrap_err()
                .contains("not a valid")
        );
        assert!(
            Acl::parse("toppic a")
                .unwrap_err()
                .contains("unknown keyword 'toppic'")
        );
    }
}
