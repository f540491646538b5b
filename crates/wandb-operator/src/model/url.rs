//! The pieces of a composed connection URL: escaped credentials and a query string. Each
//! component composes its own URL from these; the forms are documented in
//! `docs/operations.md` ("Connection Secrets").

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

// RFC 3986 unreserved characters stay; everything else in a user or password is escaped.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `user:password@`, escaped; empty without either.
pub(crate) fn userinfo(user: Option<&String>, password: Option<&String>) -> String {
    let enc = |s: &str| utf8_percent_encode(s, USERINFO).to_string();
    match (user, password) {
        (Some(u), Some(p)) => format!("{}:{}@", enc(u), enc(p)),
        (Some(u), None) => format!("{}@", enc(u)),
        (None, Some(p)) => format!(":{}@", enc(p)),
        (None, None) => String::new(),
    }
}

/// `?k=v&…` over the pairs that have a value; empty when none has.
pub(crate) fn query(pairs: &[(&str, Option<&String>)]) -> String {
    let parts: Vec<String> = pairs.iter().filter_map(|(k, v)| v.map(|v| format!("{k}={v}"))).collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

/// Whether `key` is `"true"`.
pub(crate) fn is_true(keys: &BTreeMap<String, String>, key: &str) -> bool {
    keys.get(key).is_some_and(|v| v == "true")
}

/// The value of `key`, or empty.
pub(crate) fn get(keys: &BTreeMap<String, String>, key: &str) -> String {
    keys.get(key).cloned().unwrap_or_default()
}

/// `Some("true")` when `key` is true: a query value.
pub(crate) fn flag(keys: &BTreeMap<String, String>, key: &str) -> Option<&'static String> {
    static TRUE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "true".to_owned());
    is_true(keys, key).then(|| &*TRUE)
}
