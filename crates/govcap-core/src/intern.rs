//! Interned strings: the names result cells repeat.
//!
//! An evaluation of 3,000 units over a 44-node framework holds about 230,000 cells, each
//! naming its node, and each leaf cell citing the file and evaluator of its observation. An
//! [`Interned`] string is a pointer to one shared copy of the text, so naming costs a pointer
//! copy: no allocation, and no reference count for threads building unit records in
//! parallel to fight over (an `Arc` per cell made the parallel build slower than a
//! sequential one), nor to lower when a result is dropped.
//!
//! The interner keeps each distinct text for the life of the process. Only names drawn from a
//! small set go through it: node ids (a framework's, a few hundred at most), input file names
//! and evaluators' names. Free text (values, evidence URLs, notes) never does.

use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A name stored once per process and shared by pointer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interned(&'static str);

/// A framework node's id, as stored in every result cell.
pub type NodeId = Interned;

impl Interned {
    /// The shared copy of `id` (made on first sight).
    pub fn new(id: &str) -> Interned {
        static IDS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
        let mut ids = IDS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(&known) = ids.get(id) {
            return Interned(known);
        }
        let leaked: &'static str = Box::leak(id.to_owned().into_boxed_str());
        ids.insert(leaked);
        Interned(leaked)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl Deref for Interned {
    type Target = str;

    fn deref(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Interned {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl fmt::Display for Interned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Interned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl PartialEq<str> for Interned {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Interned {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<&str> for Interned {
    fn from(id: &str) -> Self {
        Interned::new(id)
    }
}

impl From<String> for Interned {
    fn from(id: String) -> Self {
        Interned::new(&id)
    }
}

impl From<&String> for Interned {
    fn from(id: &String) -> Self {
        Interned::new(id)
    }
}

impl Serialize for Interned {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Interned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Interned::new(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_ids_share_one_copy() {
        let a = NodeId::new("I1.2");
        let b = NodeId::new(&String::from("I1.2"));
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_ne!(a, NodeId::new("I1.3"));
        assert_eq!(a, "I1.2");
        assert_eq!(&*a, "I1.2");
    }

    #[test]
    fn serialises_as_its_text() {
        let id = NodeId::new("S3.4");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"S3.4\"");
        let back: NodeId = serde_json::from_str(&json).unwrap();
        assert!(std::ptr::eq(back.as_str(), id.as_str()));
        let escaped: NodeId = serde_json::from_str("\"a\\\"b\"").unwrap();
        assert_eq!(escaped, "a\"b");
    }
}
