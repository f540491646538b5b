//! `/version`, legacy and aggregated discovery, and OpenAPI v3 documents derived from the
//! registry (so they follow CRD registration).

use serde_json::{Value, json};

use crate::registry::{Registry, ResourceType};

/// `/version`: minor 32 keeps the kubectl dispatcher on its bundled 1.32 client.
pub fn version() -> Value {
    json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "kube-emulator", "gitTreeState": "clean",
           "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"})
}

const VERBS: [&str; 8] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// `/api` (legacy).
pub fn api_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
}

fn group_entry(name: &str, versions: &[String]) -> Value {
    let list: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v})).collect();
    json!({"name": name, "versions": list, "preferredVersion": list.first().cloned().unwrap_or(Value::Null)})
}

/// `/apis` (legacy).
pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> =
        registry.groups().iter().filter(|(g, _)| !g.is_empty()).map(|(g, v)| group_entry(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/GROUP`.
pub fn api_group(registry: &Registry, group: &str) -> Option<Value> {
    let groups = registry.groups();
    let versions = groups.get(group)?;
    let mut g = group_entry(group, versions);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    Some(g)
}

/// `/api/v1`, `/apis/G/V` (legacy).
pub fn api_resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types: Vec<&std::sync::Arc<ResourceType>> =
        registry.types().iter().filter(|t| t.group == group && t.version == version).collect();
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for t in types {
        resources
            .push(json!({"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced, "kind": t.kind,
                              "verbs": VERBS, "shortNames": t.short_names, "categories": t.categories}));
        if t.status_subresource {
            resources
                .push(json!({"name": format!("{}/status", t.plural), "singularName": "", "namespaced": t.namespaced,
                                  "kind": t.kind, "verbs": ["get", "patch", "update"]}));
        }
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}

/// Aggregated discovery (`APIGroupDiscoveryList`) for the core group (`core = true`, `/api`) or
/// the named groups (`/apis`), in `apidiscovery.k8s.io/<version>`.
pub fn aggregated(registry: &Registry, core: bool, discovery_version: &str) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let resources: Vec<Value> = registry
                        .types()
                        .iter()
                        .filter(|t| &t.group == group && &t.version == version)
                        .map(|t| {
                            let kind = json!({"group": t.group, "version": t.version, "kind": t.kind});
                            let mut r = json!({"resource": t.plural, "responseKind": kind, "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
                                               "singularResource": t.singular, "verbs": VERBS, "shortNames": t.short_names, "categories": t.categories});
                            if t.status_subresource {
                                r["subresources"] = json!([{"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}]);
                            }
                            r
                        })
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": format!("apidiscovery.k8s.io/{discovery_version}"), "metadata": {}, "items": items})
}

/// `/openapi/v3`: one entry per group/version.
pub fn openapi_root(registry: &Registry, hash: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for (group, versions) in registry.groups() {
        for version in versions {
            let key = if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") };
            paths.insert(key.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}));
        }
    }
    json!({"paths": paths})
}

fn schema_name(t: &ResourceType) -> String {
    let reversed: Vec<&str> = t.group.split('.').rev().collect();
    let group = if t.group.is_empty() { "io.k8s.api.core".to_owned() } else { reversed.join(".") };
    format!("{group}.{}.{}", t.version, t.kind)
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/G/V`: a PATCH path per kind that advertises
/// `fieldValidation` (so kubectl leaves field validation to the server, which does it), and the
/// CRD schemas (descriptions included, for `kubectl explain`).
pub fn openapi_document(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types: Vec<&std::sync::Arc<ResourceType>> =
        registry.types().iter().filter(|t| t.group == group && t.version == version).collect();
    if types.is_empty() {
        return None;
    }
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for t in types {
        let gvk = json!({"group": t.group, "version": t.version, "kind": t.kind});
        let item = if t.namespaced {
            format!("{}/namespaces/{{namespace}}/{}/{{name}}", t.prefix(), t.plural)
        } else {
            format!("{}/{}/{{name}}", t.prefix(), t.plural)
        };
        let name = schema_name(t);
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        let op = |action: &str| {
            json!({"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": action,
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                           {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                           {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}}})
        };
        paths.insert(item, json!({"get": op("get"), "put": op("put"), "patch": op("patch"), "delete": op("delete")}));
        let mut schema = t
            .raw_schema
            .clone()
            .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(name, schema);
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths, "components": {"schemas": schemas}}),
    )
}
