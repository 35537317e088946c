use serde::{Deserialize, Deserializer};

/// One field of a partial update: absent (keep), `null` (clear) or a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Missing,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_missing(&self) -> bool {
        matches!(self, Patch::Missing)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only called when the key is present; `#[serde(default)]` gives Missing.
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(v) => Patch::Value(v),
            None => Patch::Null,
        })
    }
}

impl<T: serde::Serialize> serde::Serialize for Patch<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Value(v) => v.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }
}

/// Applies the named `Patch` fields of a patch to the `Option` fields of
/// the same names in a create body.
macro_rules! apply {
    ($patch:ident, $base:ident; $($field:ident),+ $(,)?) => {
        $(match $patch.$field {
            $crate::Patch::Missing => {}
            $crate::Patch::Null => $base.$field = None,
            $crate::Patch::Value(v) => $base.$field = Some(v),
        })+
    };
}
pub(crate) use apply;
