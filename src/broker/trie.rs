//! The subscription trie: one node per filter level with `+` and `#` as
//! ordinary child keys; each node holds its plain subscribers and its shared
//! groups (`$share/{group}/...`, one member served per message, round robin).

use std::sync::Arc;

use super::small_map::SmallMap;

use crate::protocol::codec::SubscriptionOptions;

/// One subscription as stored in the trie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SubEntry {
    pub opts: SubscriptionOptions,
    pub sub_id: Option<u32>,
}

/// A subscriber chosen for a topic: the client and the subscription that
/// matched (`shared` is true when it came from a shared group).
#[derive(Debug, Clone)]
pub(crate) struct Match {
    pub client: Arc<str>,
    pub entry: SubEntry,
    pub shared: bool,
}

#[derive(Debug, Default)]
struct SharedGroup {
    members: Vec<(Arc<str>, SubEntry)>,
    next: usize,
}

impl SharedGroup {
    /// Picks the next member round robin, preferring connected ones.
    fn pick(&mut self, online: &dyn Fn(&str) -> bool) -> Option<(Arc<str>, SubEntry)> {
        let n = self.members.len();
        if n == 0 {
            return None;
        }
        let start = self.next % n;
        let chosen = (0..n)
            .map(|i| (start + i) % n)
            .find(|&i| online(&self.members[i].0))
            .unwrap_or(start);
        self.next = chosen + 1;
        self.members.get(chosen).cloned()
    }
}

/// Children are boxed so that a wide level's table holds pointers, not
/// nodes; shared groups are rare, so absent until the first one.
#[derive(Debug, Default)]
struct Node {
    children: SmallMap<Box<str>, Box<Node>>,
    subs: SmallMap<Arc<str>, SubEntry>,
    shared: Option<Box<SmallMap<Box<str>, SharedGroup>>>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.subs.is_empty() && self.shared.is_none()
    }

    fn collect(&mut self, online: &dyn Fn(&str) -> bool, out: &mut Vec<Match>) {
        self.subs.for_each(|client, entry| {
            out.push(Match {
                client: client.clone(),
                entry: *entry,
                shared: false,
            })
        });
        if let Some(shared) = self.shared.as_mut() {
            shared.for_each_value_mut(|group| {
                if let Some((client, entry)) = group.pick(online) {
                    out.push(Match {
                        client,
                        entry,
                        shared: true,
                    });
                }
            });
        }
    }

    /// Collect the subscriptions matching the levels in `rest` (`None`
    /// once every level is consumed), splitting the topic as it goes so
    /// matching allocates nothing.
    fn walk(
        &mut self,
        rest: Option<&str>,
        dollar: bool,
        online: &dyn Fn(&str) -> bool,
        out: &mut Vec<Match>,
    ) {
        let wild_ok = !dollar;
        if let Some(hash) = self.children.get_mut("#").filter(|_| wild_ok) {
            hash.collect(online, out);
        }
        let Some(topic) = rest else {
            self.collect(online, out);
            return;
        };
        let (level, rest) = match topic.split_once('/') {
            Some((l, r)) => (l, Some(r)),
            None => (topic, None),
        };
        if let Some(plus) = self.children.get_mut("+").filter(|_| wild_ok) {
            plus.walk(rest, false, online, out);
        }
        if level != "+"
            && level != "#"
            && let Some(child) = self.children.get_mut(level)
        {
            child.walk(rest, false, online, out);
        }
    }

    /// Removes a subscription below this node; true when it existed.
    fn remove(&mut self, levels: &[&str], group: Option<&str>, client: &str) -> bool {
        let Some((level, rest)) = levels.split_first() else {
            return match group {
                None => self.subs.remove(client).is_some(),
                Some(g) => {
                    let Some(shared) = self.shared.as_mut() else {
                        return false;
                    };
                    let Some(grp) = shared.get_mut(g) else {
                        return false;
                    };
                    let before = grp.members.len();
                    grp.members.retain(|(c, _)| &**c != client);
                    let removed = grp.members.len() != before;
                    if grp.members.is_empty() {
                        shared.remove(g);
                        if shared.is_empty() {
                            self.shared = None;
                        }
                    }
                    removed
                }
            };
        };
        let Some(child) = self.children.get_mut(level) else {
            return false;
        };
        let removed = child.remove(rest, group, client);
        if child.is_empty() {
            self.children.remove(level);
        }
        removed
    }
}

/// All subscriptions of the broker.
#[derive(Debug, Default)]
pub(crate) struct Trie {
    root: Node,
}

impl Trie {
    /// Adds or replaces a subscription; true when it is new.
    pub fn insert(
        &mut self,
        filter: &str,
        group: Option<&str>,
        client: &Arc<str>,
        entry: SubEntry,
    ) -> bool {
        let mut node = &mut self.root;
        for level in filter.split('/') {
            node = node
                .children
                .get_or_insert_with(level, || (level.into(), Box::default()));
        }
        match group {
            None => node.subs.insert(client.clone(), entry).is_none(),
            Some(g) => {
                let grp = node
                    .shared
                    .get_or_insert_with(Box::default)
                    .get_or_insert_with(g, || (g.into(), SharedGroup::default()));
                if let Some(m) = grp.members.iter_mut().find(|(c, _)| c == client) {
                    m.1 = entry;
                    false
                } else {
                    grp.members.push((client.clone(), entry));
                    true
                }
            }
        }
    }

    /// Removes a subscription; true when it existed.
    pub fn remove(&mut self, filter: &str, group: Option<&str>, client: &str) -> bool {
        let levels: Vec<&str> = filter.split('/').collect();
        self.root.remove(&levels, group, client)
    }

    /// Every subscription matching `topic` (one member per shared group,
    /// chosen round robin among members for which `online` holds, if any).
    pub fn matches(&mut self, topic: &str, online: &dyn Fn(&str) -> bool, out: &mut Vec<Match>) {
        self.root
            .walk(Some(topic), topic.starts_with('$'), online, out);
    }

    /// True when nothing is subscribed.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.root.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> SubEntry {
        SubEntry {
            opts: SubscriptionOptions::default(),
            sub_id: None,
        }
    }

    fn clients(t: &mut Trie, topic: &str) -> Vec<String> {
        let mut out = Vec::new();
        t.matches(topic, &|_| true, &mut out);
        let mut v: Vec<String> = out.iter().map(|m| m.client.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn wildcards_and_dollar_topics() {
        let mut t = Trie::default();
        let (a, b, c, d) = ("a".into(), "b".into(), "c".into(), "d".into());
        t.insert("s/+/x", None, &a, entry());
        t.insert("s/#", None, &b, entry());
        t.insert("#", None, &c, entry());
        t.insert("$SYS/#", None, &d, entry());
        assert_eq!(clients(&mut t, "s/1/x"), ["a", "b", "c"]);
        assert_eq!(clients(&mut t, "s"), ["b", "c"]);
        assert_eq!(clients(&mut t, "$SYS/load"), ["d"]);
        assert_eq!(clients(&mut t, "t"), ["c"]);
    }

    #[test]
    fn remove_prunes_and_reports() {
        let mut t = Trie::default();
        let a: Arc<str> = "a".into();
        assert!(t.insert("x/y", None, &a, entry()));
        assert!(!t.insert("x/y", None, &a, entry()));
        assert!(t.insert("x/y", Some("g"), &a, entry()));
        assert!(t.remove("x/y", None, "a"));
        assert!(!t.remove("x/y", None, "a"));
        assert!(t.remove("x/y", Some("g"), "a"));
        assert!(t.is_empty());
    }

    #[test]
    fn shared_groups_round_robin_and_prefer_online() {
        let mut t = Trie::default();
        let (a, b, c) = ("a".into(), "b".into(), "c".into());
        t.insert("q", Some("g"), &a, entry());
        t.insert("q", Some("g"), &b, entry());
        let seen: Vec<Vec<String>> = (0..4).map(|_| clients(&mut t, "q")).collect();
        assert_eq!(seen, [["a"], ["b"], ["a"], ["b"]]);
        t.insert("q", Some("g"), &c, entry());
        let mut out = Vec::new();
        for _ in 0..3 {
            t.matches("q", &|c| c == "c", &mut out);
        }
        assert!(out.iter().all(|m| &*m.client == "c" && m.shared));
    }
}
