//! Obelisk's identifiers: ULIDs, execution IDs (top-level `E_<ULID>` and derived
//! `<parent>.<join set>_<index>` to any depth), join sets, delays, runs, executors, deployments
//! and function names (FFQNs). All parse from and display as the exact text Obelisk stores.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::IdError;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID: 26 upper-case Crockford base-32 characters = 48-bit millisecond timestamp + 80 random bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ulid(u128);

impl Ulid {
    /// Parses the 26-character text form.
    pub fn parse(s: &str) -> Result<Ulid, String> {
        if s.len() != 26 {
            return Err(format!("a ULID has 26 characters, this has {}", s.len()));
        }
        let mut value: u128 = 0;
        for (i, c) in s.bytes().enumerate() {
            let Some(digit) = CROCKFORD.iter().position(|&a| a == c) else {
                return Err(format!("character {} of the ULID is not upper-case Crockford base 32", i + 1));
            };
            if i == 0 && digit > 7 {
                return Err("the ULID overflows 128 bits (first character above 7)".into());
            }
            value = (value << 5) | digit as u128;
        }
        Ok(Ulid(value))
    }

    /// The ULID of 16 big-endian bytes (how `Persist{kind: execution_id}` stores a generated ID).
    pub fn from_bytes(bytes: [u8; 16]) -> Ulid {
        Ulid(u128::from_be_bytes(bytes))
    }

    /// The 16 big-endian bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// Milliseconds since the Unix epoch encoded in the ULID.
    pub fn timestamp_ms(self) -> u64 {
        (self.0 >> 80) as u64
    }

    /// The creation time encoded in the ULID.
    pub fn timestamp(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(i64::try_from(self.timestamp_ms()).ok()?)
    }
}

impl fmt::Display for Ulid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 26];
        for (i, slot) in out.iter_mut().enumerate() {
            let shift = 5 * (25 - i);
            *slot = CROCKFORD[((self.0 >> shift) & 31) as usize];
        }
        // Every byte comes from the ASCII alphabet above.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Ulid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

macro_rules! prefixed_ulid {
    ($(#[$m:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Ulid);

        impl $name {
            /// The text before the ULID.
            pub const PREFIX: &'static str = $prefix;
        }
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let rest = s
                    .strip_prefix($prefix)
                    .ok_or_else(|| IdError::new($what, s, concat!("expected the prefix `", $prefix, "`")))?;
                Ulid::parse(rest).map($name).map_err(|reason| IdError::new($what, s, reason))
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
        serde_as_string!($name);
    };
}

prefixed_ulid!(
    /// An executor (`Exr_<ULID>`), one per component per server run.
    ExecutorId,
    "Exr_",
    "executor ID"
);
prefixed_ulid!(
    /// A run (`Run_<ULID>`): new per lock, kept by lock extensions, shared by executions locked in one batch.
    RunId,
    "Run_",
    "run ID"
);
prefixed_ulid!(
    /// A deployment (`Dep_<ULID>`).
    DeploymentId,
    "Dep_",
    "deployment ID"
);

/// The kind of a join set, the letter before `:` in its ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JoinSetKind {
    /// `o`: created implicitly for one direct call or sleep; name `<n>-<function>`.
    OneOff,
    /// `g`: generated name (`g:1`, `g:2`, ...).
    Generated,
    /// `n`: named by the workflow (`n:batch`).
    Named,
    /// A letter this version of Chronoscope does not know.
    Other(Box<str>),
}

impl JoinSetKind {
    /// The letter Obelisk writes.
    pub fn code(&self) -> &str {
        match self {
            JoinSetKind::OneOff => "o",
            JoinSetKind::Generated => "g",
            JoinSetKind::Named => "n",
            JoinSetKind::Other(s) => s,
        }
    }

    fn from_code(code: &str) -> JoinSetKind {
        match code {
            "o" => JoinSetKind::OneOff,
            "g" => JoinSetKind::Generated,
            "n" => JoinSetKind::Named,
            other => JoinSetKind::Other(other.into()),
        }
    }
}

impl Serialize for JoinSetKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            JoinSetKind::OneOff => "one_off",
            JoinSetKind::Generated => "generated",
            JoinSetKind::Named => "named",
            JoinSetKind::Other(code) => code,
        })
    }
}

/// A join set ID `<kind>:<name>`, e.g. `o:1-add`, `g:1`, `n:batch`; unique within its execution.
/// Ordered and hashed as its text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JoinSetId {
    /// The whole ID, validated; shared by clones: a replay keeps each join set's ID in several
    /// places, and a child's ID holds its join set's (16 bytes, one allocation).
    text: Arc<str>,
}

impl JoinSetId {
    /// The letters before `:` and the name after it.
    fn parts(&self) -> (&str, &str) {
        self.text.split_once(':').unwrap_or(("", &self.text))
    }

    /// The join set's kind.
    pub fn kind(&self) -> JoinSetKind {
        JoinSetKind::from_code(self.parts().0)
    }

    /// The name after `:`.
    pub fn name(&self) -> &str {
        self.parts().1
    }

    /// For a one-off join set `o:<n>-<function>`: the counter `n` and the function name.
    pub fn one_off_parts(&self) -> Option<(u64, &str)> {
        let name = self.text.strip_prefix("o:")?;
        let (n, function) = name.split_once('-')?;
        Some((parse_index(n).ok()?, function))
    }
}

impl FromStr for JoinSetId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "join set ID";
        let (kind, name) = s.split_once(':').ok_or_else(|| IdError::new(WHAT, s, "expected `<kind>:<name>`"))?;
        if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(IdError::new(WHAT, s, "the kind before `:` must be letters (o, g or n)"));
        }
        if name.is_empty() {
            return Err(IdError::new(WHAT, s, "the name after `:` is empty"));
        }
        if let Some(bad) = name.chars().find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '_'))) {
            return Err(IdError::new(WHAT, s, format!("character {bad:?} is not allowed in a join set name")));
        }
        Ok(JoinSetId { text: s.into() })
    }
}

impl fmt::Display for JoinSetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for JoinSetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

serde_as_string!(JoinSetId);

/// One level of a derived ID: the join set in the parent and the index within it (`<join set>_<index>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ChildSegment {
    /// The parent's join set that holds the child (or delay).
    pub join_set_id: JoinSetId,
    /// Child executions count from 1; delays of `submit-delay` from 0 in 0.38.3 (from 1 in 0.41).
    pub index: u64,
}

impl ChildSegment {
    fn parse(segment: &str) -> Result<ChildSegment, String> {
        let (join_set, index) =
            segment.rsplit_once('_').ok_or_else(|| format!("segment `{segment}` lacks `_<index>`"))?;
        let index = parse_index(index).map_err(|reason| format!("segment `{segment}`: {reason}"))?;
        let join_set_id = join_set.parse::<JoinSetId>().map_err(|e| format!("segment `{segment}`: {}", e.reason))?;
        Ok(ChildSegment { join_set_id, index })
    }
}

impl fmt::Display for ChildSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.join_set_id, self.index)
    }
}

/// Decimal digits without a leading zero (so the text round-trips).
fn parse_index(s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("index `{s}` is not a decimal number"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(format!("index `{s}` has a leading zero"));
    }
    s.parse().map_err(|_| format!("index `{s}` is too large"))
}

/// Parses `<ULID>(.<segment>)*` (the part after `E_` or `Delay_`).
fn parse_path(rest: &str) -> Result<(Ulid, Vec<ChildSegment>), String> {
    let mut parts = rest.split('.');
    let root = Ulid::parse(parts.next().unwrap_or_default())?;
    let path = parts.map(ChildSegment::parse).collect::<Result<Vec<_>, _>>()?;
    Ok((root, path))
}

fn write_path(f: &mut fmt::Formatter<'_>, root: Ulid, path: &[ChildSegment]) -> fmt::Result {
    write!(f, "{root}")?;
    for segment in path {
        write!(f, ".{segment}")?;
    }
    Ok(())
}

/// An execution ID: top-level `E_<ULID>` or derived (a child) `<parent>.<join set>_<index>`,
/// e.g. `E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-serial_1.o:2-add_1`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExecutionId {
    root: Ulid,
    path: Path,
}

/// The derived levels of an ID, shared by clones (a replay keeps each child's ID in several
/// places); no allocation for a top-level ID.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Path(Option<Arc<[ChildSegment]>>);

impl Path {
    fn new(segments: Vec<ChildSegment>) -> Path {
        Path((!segments.is_empty()).then(|| segments.into()))
    }
}

impl std::ops::Deref for Path {
    type Target = [ChildSegment];
    fn deref(&self) -> &[ChildSegment] {
        self.0.as_deref().unwrap_or_default()
    }
}

impl ExecutionId {
    /// The text before the ULID.
    pub const PREFIX: &'static str = "E_";

    /// A top-level execution ID.
    pub fn top_level(root: Ulid) -> ExecutionId {
        ExecutionId { root, path: Path::default() }
    }

    /// The derived ID of the child `index` in this execution's join set `join_set_id`.
    pub fn child(&self, join_set_id: JoinSetId, index: u64) -> ExecutionId {
        let mut path = self.path.to_vec();
        path.push(ChildSegment { join_set_id, index });
        ExecutionId { root: self.root, path: Path::new(path) }
    }

    /// The ULID of the top-level execution of this tree.
    pub fn root_ulid(&self) -> Ulid {
        self.root
    }

    /// The top-level execution of this tree.
    pub fn root(&self) -> ExecutionId {
        ExecutionId::top_level(self.root)
    }

    /// The levels below the top-level execution (empty for a top-level ID).
    pub fn segments(&self) -> &[ChildSegment] {
        &self.path
    }

    /// True for `E_<ULID>` without derived levels.
    pub fn is_top_level(&self) -> bool {
        self.path.is_empty()
    }

    /// Number of derived levels (0 for top-level).
    pub fn depth(&self) -> usize {
        self.path.len()
    }

    /// The parent execution of a derived ID.
    pub fn parent(&self) -> Option<ExecutionId> {
        let (_, rest) = self.path.split_last()?;
        Some(ExecutionId { root: self.root, path: Path::new(rest.to_vec()) })
    }

    /// For a derived ID: the parent, the parent's join set and the index in it.
    pub fn split_to_parts(&self) -> Option<(ExecutionId, &JoinSetId, u64)> {
        let (last, rest) = self.path.split_last()?;
        Some((ExecutionId { root: self.root, path: Path::new(rest.to_vec()) }, &last.join_set_id, last.index))
    }

    /// True when `self` is strictly below `ancestor` in the same tree.
    pub fn is_descendant_of(&self, ancestor: &ExecutionId) -> bool {
        self.root == ancestor.root
            && self.path.len() > ancestor.path.len()
            && self.path[..ancestor.path.len()] == ancestor.path[..]
    }
}

impl FromStr for ExecutionId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "execution ID";
        let rest = s.strip_prefix(Self::PREFIX).ok_or_else(|| IdError::new(WHAT, s, "expected the prefix `E_`"))?;
        let (root, path) = parse_path(rest).map_err(|reason| IdError::new(WHAT, s, reason))?;
        Ok(ExecutionId { root, path: Path::new(path) })
    }
}

impl fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::PREFIX)?;
        write_path(f, self.root, &self.path)
    }
}

impl fmt::Debug for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

serde_as_string!(ExecutionId);

/// A delay (timer) ID `Delay_<ULID>[.<owner levels>].<join set>_<index>`, e.g.
/// `Delay_01M86DQ6KC3PNJ0BQMZFMR0VB1.o:1-sleep_1`: the owner execution's path plus one level.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DelayId {
    owner: ExecutionId,
    segment: ChildSegment,
}

impl DelayId {
    /// The text before the ULID.
    pub const PREFIX: &'static str = "Delay_";

    /// The execution that requested the delay.
    pub fn owner(&self) -> &ExecutionId {
        &self.owner
    }

    /// The owner's join set that holds the delay.
    pub fn join_set_id(&self) -> &JoinSetId {
        &self.segment.join_set_id
    }

    /// Index in the join set (one-off sleeps count from 1).
    pub fn index(&self) -> u64 {
        self.segment.index
    }
}

impl FromStr for DelayId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "delay ID";
        let rest = s.strip_prefix(Self::PREFIX).ok_or_else(|| IdError::new(WHAT, s, "expected the prefix `Delay_`"))?;
        let (root, mut path) = parse_path(rest).map_err(|reason| IdError::new(WHAT, s, reason))?;
        let segment = path.pop().ok_or_else(|| IdError::new(WHAT, s, "lacks `.<join set>_<index>`"))?;
        Ok(DelayId { owner: ExecutionId { root, path: Path::new(path) }, segment })
    }
}

impl fmt::Display for DelayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::PREFIX)?;
        write_path(f, self.owner.root, &self.owner.path)?;
        write!(f, ".{}", self.segment)
    }
}

impl fmt::Debug for DelayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

serde_as_string!(DelayId);

/// A fully qualified function name `namespace:package/interface[@version].function`, split at the last `.`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ffqn {
    /// Shared by clones, as join set names.
    interface: Arc<str>,
    function: Arc<str>,
}

impl Ffqn {
    /// `namespace:package/interface[@version]`.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The function name after the last `.`.
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The package version after `@`, if any.
    pub fn version(&self) -> Option<&str> {
        self.interface.split_once('@').map(|(_, v)| v)
    }
}

impl FromStr for Ffqn {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "function name";
        let (interface, function) =
            s.rsplit_once('.').ok_or_else(|| IdError::new(WHAT, s, "expected `<interface>.<function>`"))?;
        let Some((namespace, rest)) = interface.split_once(':') else {
            return Err(IdError::new(WHAT, s, "expected `namespace:package/interface` before the function"));
        };
        if namespace.is_empty() || !rest.contains('/') || function.is_empty() {
            return Err(IdError::new(WHAT, s, "expected `namespace:package/interface.function`"));
        }
        if s.chars().any(char::is_whitespace) {
            return Err(IdError::new(WHAT, s, "contains whitespace"));
        }
        Ok(Ffqn { interface: interface.into(), function: function.into() })
    }
}

impl fmt::Display for Ffqn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.interface, self.function)
    }
}

impl fmt::Debug for Ffqn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

serde_as_string!(Ffqn);

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ExecutionId {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn top_level_execution_id() {
        let e = id("E_01M86DPHYBHG0F8N9P5CGKM7AF");
        assert!(e.is_top_level());
        assert_eq!(e.depth(), 0);
        assert_eq!(e.parent(), None);
        assert_eq!(e.to_string(), "E_01M86DPHYBHG0F8N9P5CGKM7AF");
        assert_eq!(e.root_ulid().to_string(), "01M86DPHYBHG0F8N9P5CGKM7AF");
        // The ULID's time is the execution's creation time (fixture: 2026-11-24 09:20:27).
        let t = e.root_ulid().timestamp().unwrap_or_default();
        assert_eq!(t.format("%Y-%m-%d %H:%M").to_string(), "2026-11-24 09:20");
    }

    #[test]
    fn derived_ids_to_any_depth() {
        let s = "E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-serial_1.o:2-add_1";
        let e = id(s);
        assert_eq!(e.to_string(), s);
        assert_eq!(e.depth(), 2);
        let (parent, js, idx) = e.split_to_parts().unwrap_or_else(|| panic!("derived"));
        assert_eq!(parent.to_string(), "E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-serial_1");
        assert_eq!(js.to_string(), "o:2-add");
        assert_eq!(js.kind(), JoinSetKind::OneOff);
        assert_eq!(js.one_off_parts(), Some((2, "add")));
        assert_eq!(idx, 1);
        assert_eq!(parent.parent(), Some(id("E_01M86DPHYBHG0F8N9P5CGKM7AF")));
        assert_eq!(e.root(), id("E_01M86DPHYBHG0F8N9P5CGKM7AF"));
        assert!(e.is_descendant_of(&parent));
        assert!(e.is_descendant_of(&e.root()));
        assert!(!parent.is_descendant_of(&e));
        assert_eq!(parent.child(js.clone(), 1), e);

        let batch = id("E_01M86DPFFDGMT7EW7PF6ESA2Z2.n:batch_4");
        let (_, js, idx) = batch.split_to_parts().unwrap_or_else(|| panic!("derived"));
        assert_eq!((js.kind(), js.name(), idx), (JoinSetKind::Named, "batch", 4));
        assert_eq!(js.one_off_parts(), None);
    }

    #[test]
    fn join_set_kinds() {
        let cases = [
            ("o:1-sleep", JoinSetKind::OneOff, "1-sleep"),
            ("g:1", JoinSetKind::Generated, "1"),
            ("n:batch", JoinSetKind::Named, "batch"),
            ("n:a/b-c", JoinSetKind::Named, "a/b-c"),
        ];
        for (text, kind, name) in cases {
            let js: JoinSetId = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((js.kind(), js.name()), (kind, name));
            assert_eq!(js.to_string(), text);
        }
        assert_eq!(serde_json::to_string(&JoinSetKind::OneOff).ok().as_deref(), Some("\"one_off\""));
        let other: JoinSetId = "x:y".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(other.kind(), JoinSetKind::Other("x".into()));
        for bad in ["batch", ":x", "n:", "n:a.b", "n:a b", "1:x"] {
            assert!(bad.parse::<JoinSetId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn delay_ids() {
        let d: DelayId = "Delay_01M86DQ6KC3PNJ0BQMZFMR0VB1.o:1-sleep_1".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.owner(), &id("E_01M86DQ6KC3PNJ0BQMZFMR0VB1"));
        assert_eq!(d.join_set_id().to_string(), "o:1-sleep");
        assert_eq!(d.index(), 1);
        assert_eq!(d.to_string(), "Delay_01M86DQ6KC3PNJ0BQMZFMR0VB1.o:1-sleep_1");

        let g: DelayId = "Delay_01M86DPFFDGMT7EW7PF6ESA2Z2.g:1_0".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((g.join_set_id().kind(), g.index()), (JoinSetKind::Generated, 0));

        // A delay of a derived execution keeps the owner's levels.
        let nested = "Delay_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-serial_1.o:1-sleep_1";
        let n: DelayId = nested.parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.owner(), &id("E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-serial_1"));
        assert_eq!(n.to_string(), nested);

        for bad in [
            "Delay_01M86DQ6KC3PNJ0BQMZFMR0VB1",
            "D_01M86DQ6KC3PNJ0BQMZFMR0VB1.o:1-sleep_1",
            "E_01M86DQ6KC3PNJ0BQMZFMR0VB1.g:1_0",
        ] {
            assert!(bad.parse::<DelayId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_malformed_execution_ids() {
        for bad in [
            "",
            "E_",
            "01M86DPHYBHG0F8N9P5CGKM7AF",
            "E_01M86DPHYBHG0F8N9P5CGKM7A",   // 25 characters
            "E_01M86DPHYBHG0F8N9P5CGKM7AFX", // 27 characters
            "E_01m86dphybhg0f8n9p5cgkm7af",  // lower case
            "E_81M86DPHYBHG0F8N9P5CGKM7AF",  // overflow
            "E_01M86DPHYBHG0F8N9P5CGKM7AU",  // U is not Crockford
            "E_01M86DPHYBHG0F8N9P5CGKM7AF.",
            "E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-add",
            "E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-add_",
            "E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-add_01",
            "E_01M86DPHYBHG0F8N9P5CGKM7AF._1",
        ] {
            let err = bad.parse::<ExecutionId>().err();
            assert!(err.is_some(), "accepted {bad:?}");
        }
        let msg = "E_x".parse::<ExecutionId>().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("invalid execution ID `E_x`: "), "{msg}");
    }

    #[test]
    fn prefixed_ulids() {
        let run: RunId = "Run_01M86DPFH5FNZMC51NQG9E41Y1".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.to_string(), "Run_01M86DPFH5FNZMC51NQG9E41Y1");
        assert!("Exr_01M86DP43BBFW44ERAW68H3JKB".parse::<ExecutorId>().is_ok());
        assert!("Dep_01M86DP41HEDZMJE90ZN0VEJ73".parse::<DeploymentId>().is_ok());
        assert!("Run_01M86DP43BBFW44ERAW68H3JKB".parse::<ExecutorId>().is_err());
        assert_eq!(serde_json::to_string(&run).ok().as_deref(), Some("\"Run_01M86DPFH5FNZMC51NQG9E41Y1\""));
    }

    #[test]
    fn ulid_bytes_round_trip() {
        // Persist{kind: execution_id} bytes from the spec decode to the ID of the next `schedule`.
        let bytes = [1, 162, 12, 219, 71, 203, 240, 46, 180, 89, 123, 197, 160, 239, 87, 112];
        let ulid = Ulid::from_bytes(bytes);
        assert_eq!(ExecutionId::top_level(ulid).to_string(), "E_01M86DPHYBY0QB8PBVRPGEYNVG");
        assert_eq!(ulid.to_bytes(), bytes);
    }

    #[test]
    fn ffqns() {
        let f: Ffqn = "demo:workflow/wf.serial".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((f.interface(), f.function(), f.version()), ("demo:workflow/wf", "serial", None));
        let v: Ffqn = "obelisk:workflow/workflow-support@6.0.0.random-u64".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (v.interface(), v.function(), v.version()),
            ("obelisk:workflow/workflow-support@6.0.0", "random-u64", Some("6.0.0"))
        );
        assert_eq!(v.to_string(), "obelisk:workflow/workflow-support@6.0.0.random-u64");
        for bad in ["serial", "demo.serial", "demo:workflow.serial", "demo:workflow/wf.", ":x/y.z"] {
            assert!(bad.parse::<Ffqn>().is_err(), "{bad}");
        }
    }
}
