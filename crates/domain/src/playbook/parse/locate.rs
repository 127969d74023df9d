//! Turns a line and column reported by serde-saphyr back into a field path
//! such as `severities[1].update_every`, and a field path into the line and
//! column it was written at.
//!
//! serde-saphyr's errors carry a location but no path, and the errors of
//! values deserialized straight into domain types (`oncall:`) carry a path
//! but no location, so when either happens we read the document a second
//! time into a bare tree of nodes that remembers where every key and value
//! starts, and look the location or the path up.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Location, Spanned};

/// Where every key and value of a document starts, with its path, in document order.
pub(super) struct PathIndex {
    /// (path of the key, path of the mapping that holds it, position of the key)
    keys: Vec<(String, String, (u64, u64))>,
    /// (path of the value, position of the value)
    values: Vec<(String, (u64, u64))>,
}

impl PathIndex {
    /// `None` when the YAML itself does not parse (then there is no path to give).
    pub(super) fn build(yaml: &str) -> Option<PathIndex> {
        let options = serde_saphyr::options! {
            with_snippet: false,
            duplicate_keys: DuplicateKeyPolicy::PassThrough,
        };
        let root: Spanned<Node> = serde_saphyr::from_str_with_options(yaml, options).ok()?;
        let mut index = PathIndex {
            keys: Vec::new(),
            values: Vec::new(),
        };
        index.walk(&root, String::new());
        Some(index)
    }

    fn walk(&mut self, node: &Spanned<Node>, path: String) {
        self.values.push((path.clone(), position(&node.referenced)));
        match &node.value {
            Node::Map(entries) => {
                for (key, value) in entries {
                    let key_path = join(&path, &key.value.0);
                    let at = position(&key.referenced);
                    self.keys.push((key_path.clone(), path.clone(), at));
                    self.walk(value, key_path);
                }
            }
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, format!("{path}[{i}]"));
                }
            }
            Node::Scalar => {}
        }
    }

    /// The path of the key written at `location`.
    pub(super) fn key_at(&self, location: Location) -> Option<&str> {
        self.key_entry(position(&location))
            .map(|(key, _, _)| key.as_str())
    }

    /// The path of the mapping whose key is written at `location`.
    pub(super) fn mapping_of_key_at(&self, location: Location) -> Option<&str> {
        self.key_entry(position(&location))
            .map(|(_, mapping, _)| mapping.as_str())
    }

    fn key_entry(&self, wanted: (u64, u64)) -> Option<&(String, String, (u64, u64))> {
        self.keys.iter().find(|(_, _, at)| *at == wanted)
    }

    /// The path of the innermost value that starts at `location` (a block
    /// mapping starts where its first key does, so several values can).
    pub(super) fn value_at(&self, location: Location) -> Option<&str> {
        find(&self.values, position(&location))
    }

    /// Where the key with this path is written, as (line, column).
    pub(super) fn key_position(&self, path: &str) -> Option<(u64, u64)> {
        self.keys
            .iter()
            .find(|(key, _, _)| key == path)
            .map(|(_, _, at)| *at)
    }

    /// Where the value with this path is written, as (line, column); for a
    /// path that is not in the document (a key left out), where its closest
    /// ancestor is, so an error still points near its cause.
    pub(super) fn value_position(&self, path: &str) -> Option<(u64, u64)> {
        let mut path = path;
        loop {
            if let Some((_, at)) = self.values.iter().find(|(value, _)| value == path) {
                return Some(*at);
            }
            if path.is_empty() {
                return None;
            }
            path = parent(path);
        }
    }
}

impl PathIndex {
    /// The key `key` written in the mapping at `path` or in its closest
    /// ancestor that has one: its path and where its value is written.
    pub(super) fn nearest_key(&self, path: &str, key: &str) -> Option<(String, (u64, u64))> {
        let mut path = path;
        loop {
            let candidate = join(path, key);
            if self.key_position(&candidate).is_some() {
                let at = self.value_position(&candidate)?;
                return Some((candidate, at));
            }
            if path.is_empty() {
                return None;
            }
            path = parent(path);
        }
    }
}

/// `a.b[1]` -> `a.b` -> `a` -> ``.
fn parent(path: &str) -> &str {
    match path.rfind(['.', '[']) {
        Some(i) => &path[..i],
        None => "",
    }
}

/// Appends a key to a path: `severities[0]` + `name` is `severities[0].name`.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn find(entries: &[(String, (u64, u64))], wanted: (u64, u64)) -> Option<&str> {
    // Entries are in document order, so a descendant comes after its ancestor
    // at the same position: the last match is the innermost.
    entries
        .iter()
        .rev()
        .find(|(_, at)| *at == wanted)
        .map(|(path, _)| path.as_str())
}

fn position(location: &Location) -> (u64, u64) {
    (location.line(), location.column())
}

/// A YAML node reduced to its shape.
enum Node {
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

/// A mapping key as text; keys that are not scalars show as `?`.
struct Key(String);

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Node::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(v.to_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key("null".to_owned()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key("null".to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Key, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Key("?".to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Key("?".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(index: &PathIndex, line: u64, column: u64) -> (Option<&str>, Option<&str>) {
        (
            index
                .key_entry((line, column))
                .map(|(key, _, _)| key.as_str()),
            find(&index.values, (line, column)),
        )
    }

    #[test]
    fn indexes_keys_and_values_by_position() {
        let yaml =
            "severities:\n  - name: SEV-0\n    notify:\n      - audience: x\n        within: 5m\n";
        let index = PathIndex::build(yaml).unwrap();
        assert_eq!(at(&index, 1, 1), (Some("severities"), Some("")));
        assert_eq!(
            at(&index, 2, 5),
            (Some("severities[0].name"), Some("severities[0]"))
        );
        assert_eq!(
            at(&index, 4, 9),
            (
                Some("severities[0].notify[0].audience"),
                Some("severities[0].notify[0]")
            )
        );
        assert_eq!(
            at(&index, 5, 17),
            (None, Some("severities[0].notify[0].within"))
        );
    }

    #[test]
    fn finds_positions_by_path() {
        let yaml = "oncall:\n  teams:\n    - name: dba\n      members: [alice, bob]\n";
        let index = PathIndex::build(yaml).unwrap();
        assert_eq!(
            index.value_position("oncall.teams[0].members[1]"),
            Some((4, 24))
        );
        assert_eq!(index.key_position("oncall.teams[0].members"), Some((4, 7)));
        // Not written: its closest ancestor.
        assert_eq!(
            index.value_position("oncall.teams[0].description"),
            Some((3, 7))
        );
        assert_eq!(index.value_position("oncall.users[0].email"), Some((2, 3)));
        assert_eq!(index.key_position("oncall.users"), None);
    }

    #[test]
    fn no_index_for_broken_yaml() {
        assert!(PathIndex::build("a: [\n").is_none());
    }
}
