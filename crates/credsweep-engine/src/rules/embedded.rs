//! The default rule pack as constant data: `build.rs` reads each `rules/*.toml` file into TOML
//! values and writes them out as a Rust expression of [`Value`]s, and [`RuleSet::builtin`]
//! deserializes the rule files from those values with the same `serde` derives a TOML file goes
//! through, so the fields, their types and defaults, and unknown fields are checked alike.
//!
//! Deserializing from values spares scanning text at start-up: parsing the pack as JSON, its
//! previous embedded form, was 5.4 M of the 24.8 M instructions of `credsweep dir` over an empty
//! directory (callgrind).
//!
//! [`RuleSet::builtin`]: super::RuleSet::builtin

use std::fmt;

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};

/// A TOML value, as the build wrote it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value {
    Str(&'static str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(&'static [Value]),
    Table(&'static [(&'static str, Value)]),
}

/// Each rule file of the pack: its name and its top-level table.
pub(super) const FILES: &[(&str, Value)] = &include!(concat!(env!("OUT_DIR"), "/rules_data.rs"));

/// Why a rule file's values do not deserialize (a field of the wrong type, an unknown one).
#[derive(Debug)]
pub(super) struct Error(String);

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error(msg.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl<'de> IntoDeserializer<'de, Error> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Str(s) => visitor.visit_str(s),
            Value::Int(i) => visitor.visit_i64(i),
            Value::Float(f) => visitor.visit_f64(f),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter().copied());
                let value = visitor.visit_seq(&mut seq)?;
                // Items the visitor did not take are an error, as in a text format.
                seq.end()?;
                Ok(value)
            }
            Value::Table(entries) => {
                let mut map = MapDeserializer::new(entries.iter().copied());
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    /// TOML has no null: a value that is there is `Some`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    /// An enum of unit variants (a severity) is written as a string.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Value::Str(s) => visitor.visit_enum(s.into_deserializer()),
            other => other.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Spec {
        name: String,
        #[serde(default)]
        size: Option<usize>,
        #[serde(default)]
        ratio: Option<f64>,
        #[serde(default)]
        tags: Vec<String>,
        level: crate::rules::Severity,
    }

    fn spec(entries: &'static [(&'static str, Value)]) -> Result<Spec, String> {
        Spec::deserialize(Value::Table(entries)).map_err(|e| e.to_string())
    }

    #[test]
    fn values_deserialize_as_their_toml_would() {
        let got = spec(&[
            ("name", Value::Str("a")),
            ("size", Value::Int(3)),
            ("ratio", Value::Int(2)),
            ("tags", Value::Array(&[Value::Str("x"), Value::Str("y")])),
            ("level", Value::Str("warning")),
        ]);
        let want = Spec {
            name: "a".to_string(),
            size: Some(3),
            ratio: Some(2.0),
            tags: vec!["x".to_string(), "y".to_string()],
            level: crate::rules::Severity::Warning,
        };
        assert_eq!(got, Ok(want));
    }

    #[test]
    fn wrong_types_unknown_fields_and_missing_ones_are_errors() {
        let named = |r: Result<Spec, String>, word: &str| {
            let e = r.expect_err("must not deserialize");
            assert!(e.contains(word), "{e}");
        };
        named(
            spec(&[("name", Value::Str("a")), ("level", Value::Str("loud"))]),
            "loud",
        );
        named(
            spec(&[
                ("name", Value::Str("a")),
                ("level", Value::Str("note")),
                ("colour", Value::Bool(true)),
            ]),
            "colour",
        );
        named(spec(&[("level", Value::Str("note"))]), "name");
        named(
            spec(&[("name", Value::Int(1)), ("level", Value::Str("note"))]),
            "integer",
        );
        named(
            spec(&[
                ("name", Value::Str("a")),
                ("size", Value::Int(-1)),
                ("level", Value::Str("note")),
            ]),
            "-1",
        );
    }
}
