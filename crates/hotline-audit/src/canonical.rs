//! Canonical JSON for hashing.
//!
//! The stored JSON may come back from a database with keys reordered (Postgres `jsonb` sorts them
//! its own way) or with whitespace changed, so the hash cannot be taken over "whatever
//! serde_json printed". It is taken over this canonical form instead:
//!
//! * no whitespace anywhere;
//! * object keys sorted by their UTF-8 bytes (done here, so it does not depend on serde_json's
//!   `preserve_order` feature being off somewhere in the dependency graph);
//! * strings escaped exactly as `serde_json` escapes them (`"`, `\`, control chars; non-ASCII
//!   left as UTF-8);
//! * numbers as `serde_json` prints them (integers exactly; floats via its shortest round-trip
//!   form — auditors should prefer integers and strings in `before`/`after`);
//! * the event itself is the object `{action, actor, after, at, before, entity, prev_hash, seq}`,
//!   `at` as RFC 3339 UTC with exactly microseconds (`2026-11-23T17:45:45.123456Z`), the precision
//!   a Postgres `timestamptz` keeps, and `seq` as an integer.

use chrono::SecondsFormat;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::chain::AuditEvent;

/// Appends the canonical form of `v` to `out`.
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            // serde_json's scalar output is already canonical (and cannot fail for a Value).
            out.push_str(&v.to_string());
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(val) = map.get(k) {
                    write_canonical(val, out);
                }
            }
            out.push('}');
        }
    }
}

/// The canonical JSON text of any value.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

/// The event as the JSON object that is hashed: every field except `hash`.
pub fn hashed_view(e: &AuditEvent) -> Value {
    let mut m = Map::new();
    m.insert("seq".into(), Value::from(e.seq));
    m.insert(
        "at".into(),
        Value::String(e.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
    );
    m.insert("actor".into(), Value::String(e.actor.clone()));
    m.insert("entity".into(), Value::String(e.entity.clone()));
    m.insert("action".into(), Value::String(e.action.clone()));
    m.insert("before".into(), e.before.clone());
    m.insert("after".into(), e.after.clone());
    m.insert("prev_hash".into(), Value::String(e.prev_hash.clone()));
    Value::Object(m)
}

/// `hex(sha256(prev_hash || canonical(event without hash)))`; the event's own `hash` is ignored.
pub fn event_hash(e: &AuditEvent) -> String {
    let mut h = Sha256::new();
    h.update(e.prev_hash.as_bytes());
    h.update(canonical_json(&hashed_view(e)).as_bytes());
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_sorted_no_whitespace() {
        let v = json!({"b": 1, "a": {"z": [1, 2.5, "x\"y"], "é": null, "A": true}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"A":true,"z":[1,2.5,"x\"y"],"é":null},"b":1}"#
        );
    }

    #[test]
    fn order_of_input_keys_does_not_matter() {
        let a: Value = serde_json::from_str(r#"{"x":1,"y":{"p":1,"q":2}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{ "y": {"q":2, "p":1}, "x": 1 }"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
