//! Just enough of the Kubernetes protobuf encoding to accept the bodies kubectl's typed
//! commands send (`kubectl create namespace|configmap|secret`): the `k8s\0` envelope and the
//! metadata and data fields of Namespace, ConfigMap and Secret. Any other kind answers 415.
//! Hand-written: no maintained crate decodes Kubernetes protobuf without the generated types.

use base64::Engine;
use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";

struct Reader<'a> {
    bytes: &'a [u8],
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.bytes.split_first()?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn next(&mut self) -> Option<Option<(u64, Field<'a>)>> {
        if self.bytes.is_empty() {
            return Some(None);
        }
        let tag = self.varint()?;
        let field = match tag & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                self.bytes = self.bytes.get(8..)?;
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                let (data, rest) = (self.bytes.get(..len)?, self.bytes.get(len..)?);
                self.bytes = rest;
                Field::Bytes(data)
            }
            5 => {
                self.bytes = self.bytes.get(4..)?;
                Field::Fixed
            }
            _ => return None,
        };
        Some(Some((tag >> 3, field)))
    }
}

fn fields(bytes: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut reader = Reader { bytes };
    let mut out = Vec::new();
    while let Some(field) = reader.next()? {
        out.push(field);
    }
    Some(out)
}

fn text(bytes: &[u8]) -> Option<String> {
    String::from_utf8(bytes.to_vec()).ok()
}

fn map_entry(bytes: &[u8], binary: bool) -> Option<(String, Value)> {
    let mut key = String::new();
    let mut value = Value::from("");
    for (n, f) in fields(bytes)? {
        if let Field::Bytes(b) = f {
            match n {
                1 => key = text(b)?,
                2 if binary => value = Value::from(base64::engine::general_purpose::STANDARD.encode(b)),
                2 => value = Value::from(text(b)?),
                _ => {}
            }
        }
    }
    Some((key, value))
}

fn object_meta(bytes: &[u8]) -> Option<Value> {
    let mut meta = Map::new();
    let mut labels = Map::new();
    let mut annotations = Map::new();
    let mut finalizers = Vec::new();
    for (n, f) in fields(bytes)? {
        let Field::Bytes(b) = f else { continue };
        match n {
            1 => drop(meta.insert("name".to_owned(), Value::from(text(b)?))),
            2 => drop(meta.insert("generateName".to_owned(), Value::from(text(b)?))),
            3 => drop(meta.insert("namespace".to_owned(), Value::from(text(b)?))),
            11 => drop(map_entry(b, false).map(|(k, v)| labels.insert(k, v))),
            12 => drop(map_entry(b, false).map(|(k, v)| annotations.insert(k, v))),
            14 => finalizers.push(Value::from(text(b)?)),
            _ => {}
        }
    }
    if !labels.is_empty() {
        meta.insert("labels".to_owned(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".to_owned(), Value::Object(annotations));
    }
    if !finalizers.is_empty() {
        meta.insert("finalizers".to_owned(), Value::Array(finalizers));
    }
    Some(Value::Object(meta))
}

/// Decodes a protobuf body of a Namespace, ConfigMap or Secret into JSON; `Err` names what is
/// not supported.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let envelope = body.strip_prefix(MAGIC).ok_or("not a Kubernetes protobuf envelope")?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for (n, f) in fields(envelope).ok_or("malformed protobuf envelope")? {
        match (n, f) {
            (1, Field::Bytes(type_meta)) => {
                for (m, g) in fields(type_meta).ok_or("malformed typeMeta")? {
                    if let Field::Bytes(b) = g {
                        match m {
                            1 => api_version = text(b).unwrap_or_default(),
                            2 => kind = text(b).unwrap_or_default(),
                            _ => {}
                        }
                    }
                }
            }
            (2, Field::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let mut object = json!({"apiVersion": api_version, "kind": kind});
    let supported = api_version == "v1" && ["Namespace", "ConfigMap", "Secret"].contains(&kind.as_str());
    if !supported {
        return Err(format!(
            "protobuf bodies are only decoded for v1 Namespace, ConfigMap and Secret, not {api_version} {kind}"
        ));
    }
    let mut data = Map::new();
    let mut binary = Map::new();
    let mut string_data = Map::new();
    for (n, f) in fields(raw).ok_or("malformed object")? {
        match (kind.as_str(), n, f) {
            (_, 1, Field::Bytes(b)) => object["metadata"] = object_meta(b).ok_or("malformed metadata")?,
            ("ConfigMap", 2, Field::Bytes(b)) => drop(map_entry(b, false).map(|(k, v)| data.insert(k, v))),
            ("ConfigMap", 3, Field::Bytes(b)) => drop(map_entry(b, true).map(|(k, v)| binary.insert(k, v))),
            ("Secret", 2, Field::Bytes(b)) => drop(map_entry(b, true).map(|(k, v)| data.insert(k, v))),
            ("Secret", 3, Field::Bytes(b)) => object["type"] = Value::from(text(b).unwrap_or_default()),
            ("Secret", 4, Field::Bytes(b)) => drop(map_entry(b, false).map(|(k, v)| string_data.insert(k, v))),
            ("ConfigMap", 4, Field::Varint(v)) | ("Secret", 5, Field::Varint(v)) => {
                object["immutable"] = Value::from(v != 0)
            }
            _ => {}
        }
    }
    for (key, map) in [("data", data), ("binaryData", binary), ("stringData", string_data)] {
        if !map.is_empty() {
            object[key] = Value::Object(map);
        }
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![(n << 3) | 2, u8::try_from(payload.len()).unwrap()];
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn decodes_a_namespace_and_a_configmap() {
        let type_meta = [field(1, b"v1"), field(2, b"Namespace")].concat();
        let meta = [field(1, b"team-a"), field(11, &[field(1, b"env"), field(2, b"dev")].concat())].concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &field(1, &meta))].concat();
        assert_eq!(
            decode(&body).unwrap(),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": {"env": "dev"}}})
        );

        let type_meta = [field(1, b"v1"), field(2, b"ConfigMap")].concat();
        let raw = [field(1, &field(1, b"cm")), field(2, &[field(1, b"k"), field(2, b"v")].concat())].concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &raw)].concat();
        assert_eq!(decode(&body).unwrap()["data"], json!({"k": "v"}));

        let type_meta = [field(1, b"apps/v1"), field(2, b"Deployment")].concat();
        assert!(decode(&[MAGIC.to_vec(), field(1, &type_meta)].concat()).is_err());
        assert!(decode(b"{}").is_err());
    }
}
