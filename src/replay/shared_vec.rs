//! A vector whose clones share storage: elements live in fixed-size chunks behind `Arc`, so a
//! clone copies one pointer per chunk and a write copies only the chunk it touches. Replay
//! states of long executions (tens of thousands of join sets) are cloned at every checkpoint and
//! on every random jump; this keeps both cheap.

use std::sync::Arc;

use serde::{Serialize, Serializer};

/// Elements per chunk: a write to a shared chunk copies at most this many elements.
const CHUNK: usize = 32;

/// An append-mostly vector with structural sharing between clones.
#[derive(Debug, Clone)]
pub struct SharedVec<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for SharedVec<T> {
    fn default() -> Self {
        SharedVec { chunks: Vec::new(), len: 0 }
    }
}

impl<T: Clone> SharedVec<T> {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends an element (copies the last chunk first if a clone shares it).
    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => Arc::make_mut(last).push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                self.chunks.push(Arc::new(chunk));
            }
        }
        self.len += 1;
    }

    /// The element at `index`.
    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    /// The element at `index` for writing (copies its chunk first if a clone shares it).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        if index >= self.len {
            return None;
        }
        Arc::make_mut(self.chunks.get_mut(index / CHUNK)?).get_mut(index % CHUNK)
    }

    /// The last element.
    pub fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Elements in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

impl<T: PartialEq> PartialEq for SharedVec<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.chunks.iter().flat_map(|c| c.iter()).eq(other.chunks.iter().flat_map(|c| c.iter()))
    }
}

impl<T: Clone> FromIterator<T> for SharedVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut out = SharedVec::new();
        for item in iter {
            out.push(item);
        }
        out
    }
}

impl<T: Serialize> Serialize for SharedVec<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.chunks.iter().flat_map(|c| c.iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_until_written() {
        let mut a: SharedVec<u32> = (0..100).collect();
        assert_eq!((a.len(), a.get(99), a.get(100), a.last()), (100, Some(&99), None, Some(&99)));
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.chunks[0], &b.chunks[0]));
        if let Some(x) = a.get_mut(5) {
            *x = 500;
        }
        a.push(100);
        assert!(!Arc::ptr_eq(&a.chunks[0], &b.chunks[0]), "the written chunk was copied");
        assert!(Arc::ptr_eq(&a.chunks[1], &b.chunks[1]), "the others are still shared");
        assert_eq!((a.get(5), b.get(5), a.len(), b.len()), (Some(&500), Some(&5), 101, 100));
        assert!(a.get_mut(101).is_none());
        assert_ne!(a, b);
        assert_eq!(b, (0..100).collect());
        assert_eq!(
            serde_json::to_string(&b.iter().take(3).copied().collect::<SharedVec<_>>()).ok().as_deref(),
            Some("[0,1,2]")
        );
        assert!(SharedVec::<u8>::new().is_empty());
    }
}
