//! The emulator's request and response types (shared by both front doors), query parsing and
//! content negotiation.

use bytes::Bytes;
use http::HeaderMap;
use tokio::sync::mpsc;

/// A request, independent of the front door it came through.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// Method.
    pub method: http::Method,
    /// Path (percent-decoded).
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// A response: a full body, or a stream of newline-delimited JSON watch events.
#[derive(Debug)]
pub enum ApiResponse {
    /// A complete body.
    Full {
        /// HTTP status.
        status: u16,
        /// Content-Type.
        content_type: String,
        /// Body.
        body: Bytes,
    },
    /// A watch stream (HTTP 200, chunked).
    Stream {
        /// Content-Type.
        content_type: String,
        /// Lines of the stream.
        lines: mpsc::Receiver<Bytes>,
    },
}

impl ApiResponse {
    /// A JSON body.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        ApiResponse::Full { status, content_type: "application/json".to_owned(), body: Bytes::from(value.to_string()) }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        match self {
            ApiResponse::Full { status, .. } => *status,
            ApiResponse::Stream { .. } => 200,
        }
    }
}

fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Query parameters in order, decoded (`+` is a space).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// The representation a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The object(s).
    Json,
    /// `meta.k8s.io/v1` Table.
    Table,
    /// `PartialObjectMetadata[List]`.
    Metadata,
    /// Aggregated discovery in `apidiscovery.k8s.io/v2`.
    DiscoveryV2,
    /// Aggregated discovery in `apidiscovery.k8s.io/v2beta1`.
    DiscoveryV2Beta1,
}

/// Picks the first representation in the Accept header the emulator can produce. `None` when
/// the client accepts only protobuf (the emulator speaks JSON only).
pub fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let accept = headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim().is_empty() {
        return Some(Format::Json);
    }
    for entry in accept.split(',') {
        let entry = entry.trim();
        let params: Vec<&str> = entry.split(';').map(str::trim).collect();
        let media = params[0];
        let has = |p: &str| params.contains(&p);
        if media.contains("protobuf") {
            continue;
        }
        if has("as=Table") {
            return Some(Format::Table);
        }
        if has("as=PartialObjectMetadataList") || has("as=PartialObjectMetadata") {
            return Some(Format::Metadata);
        }
        if has("as=APIGroupDiscoveryList") {
            if has("v=v2") {
                return Some(Format::DiscoveryV2);
            }
            if has("v=v2beta1") {
                return Some(Format::DiscoveryV2Beta1);
            }
            continue;
        }
        if media == "application/json"
            || media == "*/*"
            || media == "application/*"
            || media.ends_with("+json")
            || media == "application/yaml"
        {
            return Some(Format::Json);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding_and_negotiation() {
        assert_eq!(
            parse_query("&fieldSelector=metadata.name%3Dx&labelSelector=a+in+(b)&watch"),
            vec![
                ("fieldSelector".into(), "metadata.name=x".into()),
                ("labelSelector".into(), "a in (b)".into()),
                ("watch".into(), String::new())
            ]
        );
        let mut h = HeaderMap::new();
        h.insert(
            http::header::ACCEPT,
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json".parse().unwrap(),
        );
        assert_eq!(negotiate(&h), Some(Format::Table));
        h.insert(
            http::header::ACCEPT,
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json".parse().unwrap(),
        );
        assert_eq!(negotiate(&h), Some(Format::DiscoveryV2));
        h.insert(http::header::ACCEPT, "application/vnd.kubernetes.protobuf".parse().unwrap());
        assert_eq!(negotiate(&h), None);
        h.insert(http::header::ACCEPT, "application/vnd.kubernetes.protobuf, */*".parse().unwrap());
        assert_eq!(negotiate(&h), Some(Format::Json));
    }
}
