//! Where a request goes: its path parsed into a [`Route`], and its query parameters.

use crate::errors::ApiError;
use crate::registry::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Version,
    ApiRoot,
    ApisRoot,
    Group(String),
    GroupVersion(String, String),
    OpenApiRoot,
    OpenApi(String, String),
    OpenApiV2,
    Resource {
        group: String,
        version: String,
        namespace: Option<String>,
        plural: String,
        name: Option<String>,
        sub: Option<String>,
    },
}

/// The route of `path`; `None` when nothing is served there.
pub(crate) fn route(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["version"] => return Some(Route::Version),
        ["api"] => return Some(Route::ApiRoot),
        ["apis"] => return Some(Route::ApisRoot),
        ["apis", g] => return Some(Route::Group((*g).to_owned())),
        ["openapi", "v3"] => return Some(Route::OpenApiRoot),
        ["openapi", "v3", "api", v] => return Some(Route::OpenApi(String::new(), (*v).to_owned())),
        ["openapi", "v3", "apis", g, v] => return Some(Route::OpenApi((*g).to_owned(), (*v).to_owned())),
        ["openapi", "v2"] => return Some(Route::OpenApiV2),
        ["api", v] => return Some(Route::GroupVersion(String::new(), (*v).to_owned())),
        ["apis", g, v] => return Some(Route::GroupVersion((*g).to_owned(), (*v).to_owned())),
        ["api", v, rest @ ..] => (String::new(), (*v).to_owned(), rest),
        ["apis", g, v, rest @ ..] => ((*g).to_owned(), (*v).to_owned(), rest),
        _ => return None,
    };
    let s = |x: &&str| (*x).to_owned();
    let core_ns = group.is_empty();
    let (namespace, plural, name, sub) = match rest {
        [p] => (None, s(p), None, None),
        ["namespaces", n] if core_ns => (None, "namespaces".to_owned(), Some(s(n)), None),
        ["namespaces", n, sub @ ("status" | "finalize")] if core_ns => {
            (None, "namespaces".to_owned(), Some(s(n)), Some(s(sub)))
        }
        ["namespaces", ns, p] => (Some(s(ns)), s(p), None, None),
        ["namespaces", ns, p, n] => (Some(s(ns)), s(p), Some(s(n)), None),
        ["namespaces", ns, p, n, sub] => (Some(s(ns)), s(p), Some(s(n)), Some(s(sub))),
        [p, n] => (None, s(p), Some(s(n)), None),
        [p, n, sub] => (None, s(p), Some(s(n)), Some(s(sub))),
        _ => return None,
    };
    Some(Route::Resource { group, version, namespace, plural, name, sub })
}

// Subresources Kubernetes has that the emulator deliberately does not implement.
pub(crate) const UNIMPLEMENTED_SUBRESOURCES: [&str; 12] = [
    "scale",
    "exec",
    "log",
    "proxy",
    "eviction",
    "binding",
    "ephemeralcontainers",
    "resize",
    "attach",
    "portforward",
    "approval",
    "finalize",
];

/// The query parameters of a request, in order (the last of a repeated key wins).
pub(crate) struct Query(pub(crate) Vec<(String, String)>);

impl Query {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | ""))
    }
}

/// The label and field selectors of a list or watch.
pub(crate) fn selectors(rt: &ResourceType, query: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or(""), &rt.selectable_fields)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((labels, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("/api/v1/namespaces"),
            Some(Route::Resource {
                group: String::new(),
                version: "v1".into(),
                namespace: None,
                plural: "namespaces".into(),
                name: None,
                sub: None
            })
        );
        assert_eq!(
            route("/api/v1/namespaces/x"),
            Some(Route::Resource {
                group: String::new(),
                version: "v1".into(),
                namespace: None,
                plural: "namespaces".into(),
                name: Some("x".into()),
                sub: None
            })
        );
        assert_eq!(
            route("/api/v1/namespaces/x/configmaps"),
            Some(Route::Resource {
                group: String::new(),
                version: "v1".into(),
                namespace: Some("x".into()),
                plural: "configmaps".into(),
                name: None,
                sub: None
            })
        );
        assert_eq!(
            route("/apis/a.b/v1/namespaces/n/ws/w/status"),
            Some(Route::Resource {
                group: "a.b".into(),
                version: "v1".into(),
                namespace: Some("n".into()),
                plural: "ws".into(),
                name: Some("w".into()),
                sub: Some("status".into())
            })
        );
        assert_eq!(
            route("/apis/a.b/v1/ws"),
            Some(Route::Resource {
                group: "a.b".into(),
                version: "v1".into(),
                namespace: None,
                plural: "ws".into(),
                name: None,
                sub: None
            })
        );
        assert_eq!(route("/openapi/v3/apis/a.b/v1"), Some(Route::OpenApi("a.b".into(), "v1".into())));
        assert_eq!(route("/nope"), None);
    }
}
