//! Secrets whose values are generated once, at apply time, from a CSPRNG.
//!
//! The builders only describe such a Secret (its name, labels and how each key is composed);
//! [`GeneratedSecret::materialize`] fills it with random values. The reconcile layer creates it
//! only when it does not exist and never overwrites it, so credentials are never regenerated.
//! `render` prints [`GeneratedSecret::without_values`], which carries no value at all.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rand::{CryptoRng, Rng};

use super::object_key::ObjectKey;

/// Annotation on a generated Secret listing its generated keys (comma-separated).
pub const GENERATED_KEYS_ANNOTATION: &str = "apps.wandb.com/generated-keys";

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// One random value, referenced in key templates as `${name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedValue {
    /// Placeholder name.
    pub name: String,
    /// A fixed prefix (e.g. `wandb-` for a user name); the random part follows.
    pub prefix: String,
    /// Random characters after the prefix.
    pub length: usize,
    /// Lowercase letters and digits only (for user names); otherwise mixed case and digits.
    pub lowercase: bool,
}

/// A Secret composed of generated values.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedSecret {
    /// Which Secret.
    pub key: ObjectKey,
    /// Its metadata (labels, owner references).
    pub metadata: ObjectMeta,
    /// Random values to draw.
    pub values: Vec<GeneratedValue>,
    /// Keys of the Secret and their templates, e.g. `("password", "${password}")`.
    pub entries: Vec<(String, String)>,
}

impl GeneratedSecret {
    /// Draws every value from `rng` (pass a CSPRNG such as `rand::rng()`, which is ChaCha seeded
    /// from the OS) and returns the Secret to create.
    pub fn materialize<R: Rng + CryptoRng>(&self, rng: &mut R) -> Secret {
        let drawn: Vec<(String, String)> = self
            .values
            .iter()
            .map(|v| {
                let alphabet = if v.lowercase { LOWER_ALPHANUMERIC } else { ALPHANUMERIC };
                let random: String =
                    (0..v.length).map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())])).collect();
                (format!("${{{}}}", v.name), format!("{}{random}", v.prefix))
            })
            .collect();
        let string_data: BTreeMap<String, String> = self
            .entries
            .iter()
            .map(|(key, template)| {
                let value =
                    drawn.iter().fold(template.clone(), |acc, (placeholder, value)| acc.replace(placeholder, value));
                (key.clone(), value)
            })
            .collect();
        Secret { string_data: Some(string_data), ..self.without_values() }
    }

    /// The Secret with every key and empty values: what `render` observes in place of the
    /// Secret the operator will generate, so that status names the keys it will read.
    pub fn with_blank_values(&self) -> Secret {
        let blank = self.entries.iter().map(|(key, _)| (key.clone(), String::new())).collect();
        Secret { string_data: Some(blank), ..self.without_values() }
    }

    /// The Secret with its metadata only: what `render` prints.
    pub fn without_values(&self) -> Secret {
        let mut metadata = self.metadata.clone();
        let keys: Vec<&str> = self.entries.iter().map(|(k, _)| k.as_str()).collect();
        metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(GENERATED_KEYS_ANNOTATION.to_owned(), keys.join(","));
        Secret { metadata, type_: Some("Opaque".to_owned()), ..Default::default() }
    }

    /// Reads a key's value from the Secret as it exists in the cluster (JSON with base64
    /// `data`, or `stringData` as created).
    pub fn read_key(existing: &serde_json::Value, key: &str) -> Option<String> {
        let secret: Secret = serde_json::from_value(existing.clone()).ok()?;
        secret_value(&secret, key)
    }
}

/// A key's value in a Secret, as text (`data`, or `stringData` as created).
pub fn secret_value(secret: &Secret, key: &str) -> Option<String> {
    if let Some(value) = secret.data.as_ref().and_then(|d| d.get(key)) {
        return String::from_utf8(value.0.clone()).ok();
    }
    secret.string_data.as_ref().and_then(|d| d.get(key).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GeneratedSecret {
        GeneratedSecret {
            key: ObjectKey::new("v1", "Secret", "ns", "s"),
            metadata: ObjectMeta { name: Some("s".into()), namespace: Some("ns".into()), ..Default::default() },
            values: vec![
                GeneratedValue { name: "user".into(), prefix: "wandb-".into(), length: 8, lowercase: true },
                GeneratedValue { name: "password".into(), prefix: String::new(), length: 32, lowercase: false },
            ],
            entries: vec![
                ("config.env".into(), "USER=${user}\nPASSWORD=${password}\n".into()),
                ("password".into(), "${password}".into()),
            ],
        }
    }

    #[test]
    fn materialized_values_are_random_long_and_consistent_across_keys() {
        let s = sample();
        let a = s.materialize(&mut rand::rng());
        let b = s.materialize(&mut rand::rng());
        let a_data = a.string_data.unwrap();
        let b_data = b.string_data.unwrap();
        let password = &a_data["password"];
        assert_eq!(password.len(), 32);
        assert!(password.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert!(a_data["config.env"].contains(&format!("PASSWORD={password}\n")));
        assert!(a_data["config.env"].starts_with("USER=wandb-"));
        assert_ne!(a_data["password"], b_data["password"], "two draws must differ");
    }

    #[test]
    fn without_values_has_no_data_and_names_the_generated_keys() {
        let secret = sample().without_values();
        assert!(secret.data.is_none() && secret.string_data.is_none());
        let annotations = secret.metadata.annotations.unwrap();
        assert_eq!(annotations[GENERATED_KEYS_ANNOTATION], "config.env,password");
    }

    #[test]
    fn read_key_decodes_data_and_string_data() {
        let created = serde_json::json!({"stringData": {"k": "v1"}});
        assert_eq!(GeneratedSecret::read_key(&created, "k").as_deref(), Some("v1"));
        let stored = serde_json::json!({"data": {"k": "djI="}});
        assert_eq!(GeneratedSecret::read_key(&stored, "k").as_deref(), Some("v2"));
        assert_eq!(GeneratedSecret::read_key(&stored, "missing"), None);
    }
}
