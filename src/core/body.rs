//! A token endpoint's JSON answer as the core reads it. The JavaScript runtime parses the text
//! (`JSON.parse`); the client hands the result over as a [`Parsed`], so the wasm carries no JSON
//! parser of its own.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// One member of an answer, read leniently: a member of an unexpected type is kept as what it
/// is, never a reason to refuse the whole body, because the rules decide per field what a wrong
/// type means.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Field {
    /// Not in the body.
    #[default]
    Missing,
    /// `null`, or a value JSON cannot hold (a JavaScript function or symbol).
    Null,
    /// A string.
    Str(String),
    /// Any number, as a double like JavaScript's.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
    /// An object, with its `message` member when that is a string (the platform's
    /// `{"error":{"code","message"}}` shape).
    Obj {
        /// The nested `message`, when it is a string.
        message: Option<String>,
    },
    /// An array.
    List,
}

impl Field {
    /// The string, when the member is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Field, E> {
        Ok(Field::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Field, E> {
        Ok(Field::Num(v as f64))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Field, E> {
        Ok(Field::Num(v as f64))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Field, E> {
        Ok(Field::Num(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Field, E> {
        Ok(Field::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Field, E> {
        Ok(Field::Str(v))
    }

    fn visit_unit<E>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }

    fn visit_none<E>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        Field::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
        // Every element is read so that the deserializer is left after the array.
        while seq.next_element::<Field>()?.is_some() {}
        Ok(Field::List)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
        let mut message = None;
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Field>()?;
            // The last duplicate wins, as in `JSON.parse`.
            if key == "message" {
                message = match value {
                    Field::Str(s) => Some(s),
                    _ => None,
                };
            }
        }
        Ok(Field::Obj { message })
    }
}

impl<'de> Deserialize<'de> for Field {
    /// Never fails: whatever the deserializer cannot describe becomes [`Field::Null`]. Meant for
    /// deserializers over an already parsed value (a `serde_json::Value`), where a failed member
    /// leaves nothing half read. The wasm reads `JSON.parse`'s result member by member instead
    /// (`platform::parse_json`), into the same `Field`s.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        match d.deserialize_any(FieldVisitor) {
            Ok(f) => Ok(f),
            Err(_) => Ok(Field::Null),
        }
    }
}

/// The members of a token or error body the rules read; any other member is ignored.
#[derive(serde::Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct TokenBody {
    /// RFC 6749 §5.1 `access_token`.
    pub access_token: Field,
    /// RFC 6749 §5.1 `token_type`.
    pub token_type: Field,
    /// RFC 6749 §5.1 `expires_in`.
    pub expires_in: Field,
    /// RFC 6749 §5.1 `scope`.
    pub scope: Field,
    /// Dynatrace's `resource` (the account URN).
    pub resource: Field,
    /// RFC 6749 §5.1 `refresh_token`.
    pub refresh_token: Field,
    /// OpenID Connect `id_token`.
    pub id_token: Field,
    /// RFC 6749 §5.2 `error`, or the platform's nested error object.
    pub error: Field,
    /// RFC 6749 §5.2 `error_description`.
    pub error_description: Field,
    /// Dynatrace's `message`.
    pub message: Field,
    /// Dynatrace's `issueId`.
    #[serde(rename = "issueId")]
    pub issue_id: Field,
}

/// What the answer's text turned out to be.
// One per answer, read once and dropped: boxing the body would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Parsed {
    /// A JSON object.
    Object(TokenBody),
    /// JSON, but not an object (an array, a string, a number, `null`).
    NotObject,
    /// Not JSON at all (cut short, HTML, plain text, empty).
    NotJson,
}

#[cfg(test)]
pub(crate) mod testing {
    use super::{Parsed, TokenBody};

    /// What the client makes of a body text, with serde_json standing in for `JSON.parse`: the
    /// text is parsed into a value first, so that duplicate keys resolve as `JSON.parse` resolves
    /// them (the last wins).
    pub(crate) fn parsed(text: &str) -> Parsed {
        match serde_json::from_str::<serde_json::Value>(text) {
            Err(_) => Parsed::NotJson,
            Ok(v @ serde_json::Value::Object(_)) => {
                Parsed::Object(serde::Deserialize::deserialize(v).unwrap_or_else(|e| {
                    panic!("a token body never fails to deserialize: {e}");
                }))
            }
            Ok(_) => Parsed::NotObject,
        }
    }

    /// The body of an object text.
    pub(crate) fn body(text: &str) -> TokenBody {
        match parsed(text) {
            Parsed::Object(b) => b,
            other => panic!("{text} is {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{body, parsed};
    use super::*;

    #[test]
    fn members_keep_their_type() {
        let b = body(
            r#"{"access_token":"a","token_type":null,"expires_in":300,"scope":true,"resource":[1,[2]],"refresh_token":-1.5,"error":{"code":403,"message":"Forbidden","x":{"message":1}},"other":{"a":[{}]}}"#,
        );
        assert_eq!(b.access_token, Field::Str("a".into()));
        assert_eq!(b.access_token.as_str(), Some("a"));
        assert_eq!(b.token_type, Field::Null);
        assert_eq!(b.expires_in, Field::Num(300.0));
        assert_eq!(b.scope, Field::Bool(true));
        assert_eq!(b.resource, Field::List);
        assert_eq!(b.refresh_token, Field::Num(-1.5));
        assert_eq!(
            b.error,
            Field::Obj {
                message: Some("Forbidden".into())
            }
        );
        assert_eq!(b.id_token, Field::Missing);
        assert_eq!(b.expires_in.as_str(), None);
    }

    #[test]
    fn a_nested_message_must_be_a_string_and_the_last_wins() {
        let b = body(r#"{"error":{"message":"a","message":2}}"#);
        assert_eq!(b.error, Field::Obj { message: None });
        let b = body(r#"{"error":{"message":2,"message":"b"}, "issueId":"X"}"#);
        assert_eq!(
            b.error,
            Field::Obj {
                message: Some("b".into())
            }
        );
        assert_eq!(b.issue_id, Field::Str("X".into()));
    }

    #[test]
    fn what_is_not_an_object() {
        assert!(matches!(parsed("[]"), Parsed::NotObject));
        assert!(matches!(parsed("\"x\""), Parsed::NotObject));
        assert!(matches!(parsed("null"), Parsed::NotObject));
        assert!(matches!(parsed(""), Parsed::NotJson));
        assert!(matches!(parsed("{\"a\":"), Parsed::NotJson));
        assert!(matches!(parsed("{}"), Parsed::Object(_)));
    }

    #[test]
    fn a_failing_deserializer_gives_null() {
        // What a deserializer over JavaScript values may do with a function or a symbol.
        struct Refuses;
        impl<'de> Deserializer<'de> for Refuses {
            type Error = serde::de::value::Error;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(serde::de::Error::custom("a function"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
                bytes byte_buf option unit unit_struct newtype_struct seq tuple
                tuple_struct map struct enum identifier ignored_any
            }
        }
        assert_eq!(Field::deserialize(Refuses), Ok(Field::Null));
    }
}
