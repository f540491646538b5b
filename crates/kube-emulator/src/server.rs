//! The emulator core: one store behind a request handler that both front doors call.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::control::{Control, Fault, LoggedRequest, RequestFacts};
use crate::discovery;
use crate::errors::ApiError;
use crate::registry::{Registry, ResourceType};
use crate::request::{ApiRequest, ApiResponse, Format, negotiate, parse_query};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{ListSnapshot, State};
use crate::table;
use crate::views::to_view;
use crate::writes::{DeleteOptions, PatchType, WriteParams};

/// Tunables.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// How many changes the watch history keeps (older resourceVersions get 410).
    pub history_limit: usize,
    /// Interval between BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// Watch timeout when the client sets none.
    pub default_watch_timeout: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            history_limit: 100_000,
            bookmark_interval: Duration::from_secs(1),
            default_watch_timeout: Duration::from_secs(1800),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) state: Mutex<State>,
    pub(crate) sender: broadcast::Sender<crate::store::Broadcast>,
    pub(crate) clock: Clock,
    pub(crate) control: Mutex<Control>,
    pub(crate) config: EmulatorConfig,
}

/// A Kubernetes API server emulator. Cheap to clone; all clones share one store.
#[derive(Clone)]
pub struct Emulator {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").finish_non_exhaustive()
    }
}

impl Default for Emulator {
    fn default() -> Self {
        Self::new(EmulatorConfig::default())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
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

fn route(path: &str) -> Option<Route> {
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
const UNIMPLEMENTED_SUBRESOURCES: [&str; 12] = [
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

pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | ""))
    }
}

impl Emulator {
    /// An emulator with the built-in kinds and the `default` namespace.
    pub fn new(config: EmulatorConfig) -> Self {
        let (sender, _) = broadcast::channel(65_536);
        let state = State::new(Registry::with_builtins(), config.history_limit, sender.clone());
        let emulator = Emulator {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                sender,
                clock: Clock::default(),
                control: Mutex::new(Control::default()),
                config,
            }),
        };
        for ns in ["default", "kube-system", "kube-public"] {
            // Startup: the namespaces always exist in a fresh cluster.
            let _ = emulator.create_object(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        emulator
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    fn params(&self, query: &Query, manager: Option<&str>) -> WriteParams {
        WriteParams {
            manager: query.get("fieldManager").or(manager).unwrap_or("unknown").to_owned(),
            dry_run: query.get("dryRun") == Some("All"),
            strict: query.get("fieldValidation") == Some("Strict"),
            now: self.inner.clock.rfc3339(),
        }
    }

    /// Creates an object directly (as `POST` would), e.g. to seed a test. Returns the stored
    /// object.
    pub fn create_object(&self, object: &Value) -> Result<Value, ApiError> {
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
        let mut state = self.state();
        let rt = state
            .registry
            .by_kind(api_version, kind)
            .ok_or_else(|| ApiError::bad_request(format!("no kind {kind} in {api_version}")))?;
        let ns = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_owned();
        let params = self.params(&Query(vec![]), Some("kube-emulator"));
        state.create(&rt, &ns, object.clone(), &params)
    }

    /// Registers a CRD (creates the CustomResourceDefinition object).
    pub fn register_crd(&self, crd: &Value) -> Result<(), ApiError> {
        let mut crd = crd.clone();
        if let Some(m) = crd.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            m.remove("uid");
            m.remove("creationTimestamp");
        }
        let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let exists = {
            let state = self.state();
            state.objects.keys().any(|k| k.storage.1 == "customresourcedefinitions" && k.name == name)
        };
        if exists {
            let mut state = self.state();
            let rt = state
                .registry
                .by_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition")
                .ok_or_else(|| ApiError::internal("CRD kind missing"))?;
            let params = self.params(&Query(vec![]), Some("kube-emulator"));
            state
                .patch(&rt, "", &name, PatchType::Merge, &json!({"spec": crd["spec"].clone()}), None, false, &params)
                .map(|_| ())
        } else {
            self.create_object(&crd).map(|_| ())
        }
    }

    /// Loads every CRD manifest under `path` (file or directory, recursively).
    pub fn load_crds(&self, path: &std::path::Path) -> Result<usize, String> {
        let crds = crate::crds::load_crds(path).map_err(|e| e.to_string())?;
        for crd in &crds {
            self.register_crd(crd).map_err(|e| e.message)?;
        }
        Ok(crds.len())
    }

    /// The types served now.
    pub fn registry(&self) -> Registry {
        self.state().registry.clone()
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.state().rv
    }

    /// Makes the next `fault.remaining` matching requests fail.
    pub fn inject_fault(&self, fault: Fault) {
        lock(&self.inner.control).faults.push(fault);
    }

    /// Removes every pending fault (e.g. a [`Fault::rate`] that never runs out).
    pub fn clear_faults(&self) {
        lock(&self.inner.control).faults.clear();
    }

    /// Adds latency to every request (`None` removes it).
    pub fn set_latency(&self, latency: Option<Duration>) {
        lock(&self.inner.control).latency = latency;
    }

    /// Closes every open watch stream cleanly (clients re-watch from their last version).
    pub fn drop_watches(&self) {
        let _ = self.inner.sender.send(crate::store::Broadcast::DropWatches);
    }

    /// Forgets the change history: open watches get an in-stream 410 and watches or `continue`
    /// tokens from older resourceVersions are answered with 410.
    pub fn compact(&self) {
        self.state().compact();
    }

    /// Freezes the clock (`None`: system clock).
    pub fn set_time(&self, t: Option<jiff::Timestamp>) {
        self.inner.clock.set(t);
    }

    /// Every request so far.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        lock(&self.inner.control).log.clone()
    }

    /// Clears the request log.
    pub fn clear_request_log(&self) {
        lock(&self.inner.control).log.clear();
    }

    /// Handles one request (both front doors call this).
    pub async fn handle(&self, request: ApiRequest) -> ApiResponse {
        let query = Query(parse_query(&request.query));
        let watch = query.flag("watch") && request.method == http::Method::GET;
        let user_agent =
            request.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let (latency, fault) = {
            let mut control = lock(&self.inner.control);
            let facts =
                RequestFacts { method: request.method.as_str(), path: &request.path, watch, user_agent: &user_agent };
            (control.latency, control.take_fault(&facts))
        };
        if let Some(latency) = latency {
            tokio::time::sleep(latency).await;
        }
        let response = match fault {
            Some(code) => error_response(&ApiError::injected(code)),
            None => self.dispatch(&request, &query, watch).unwrap_or_else(|e| error_response(&e)),
        };
        lock(&self.inner.control).log.push(LoggedRequest {
            method: request.method.to_string(),
            path: request.path.clone(),
            query: request.query.clone(),
            watch,
            status: response.status(),
            user_agent,
        });
        response
    }

    fn dispatch(&self, request: &ApiRequest, query: &Query, watch: bool) -> Result<ApiResponse, ApiError> {
        let route = route(&request.path).ok_or_else(|| ApiError::no_route(&request.path))?;
        let format = negotiate(&request.headers)
            .ok_or_else(|| ApiError::not_acceptable("only JSON is served (protobuf is not emulated)"))?;
        let is_get = request.method == http::Method::GET;
        let state = || self.state();
        match route {
            Route::Version if is_get => Ok(ApiResponse::json(200, &discovery::version())),
            Route::ApiRoot | Route::ApisRoot if is_get => {
                let core = route == Route::ApiRoot;
                let registry = &state().registry;
                Ok(match format {
                    Format::DiscoveryV2 | Format::DiscoveryV2Beta1 => {
                        let v = if format == Format::DiscoveryV2 { "v2" } else { "v2beta1" };
                        ApiResponse::Full {
                            status: 200,
                            content_type: format!(
                                "application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"
                            ),
                            body: Bytes::from(discovery::aggregated(registry, core, v).to_string()),
                        }
                    }
                    _ if core => ApiResponse::json(200, &discovery::api_versions()),
                    _ => ApiResponse::json(200, &discovery::api_group_list(registry)),
                })
            }
            Route::Group(g) if is_get => discovery::api_group(&state().registry, &g)
                .map(|v| ApiResponse::json(200, &v))
                .ok_or_else(|| ApiError::no_route(&request.path)),
            Route::GroupVersion(g, v) if is_get => discovery::api_resource_list(&state().registry, &g, &v)
                .map(|v| ApiResponse::json(200, &v))
                .ok_or_else(|| ApiError::no_route(&request.path)),
            Route::OpenApiRoot if is_get => {
                let s = state();
                Ok(ApiResponse::json(
                    200,
                    &discovery::openapi_root(&s.registry, &format!("{:016X}", s.registry_generation)),
                ))
            }
            Route::OpenApi(g, v) if is_get => discovery::openapi_document(&state().registry, &g, &v)
                .map(|d| ApiResponse::json(200, &d))
                .ok_or_else(|| ApiError::no_route(&request.path)),
            Route::OpenApiV2 => Err(ApiError::no_route("/openapi/v2 (only OpenAPI v3 is served)")),
            Route::Resource { group, version, namespace, plural, name, sub } => {
                let rt = state()
                    .registry
                    .lookup(&group, &version, &plural)
                    .ok_or_else(|| ApiError::no_route(&request.path))?;
                if let Some(sub) = &sub {
                    if UNIMPLEMENTED_SUBRESOURCES.contains(&sub.as_str()) {
                        return Err(ApiError::not_implemented(format!("subresource {sub}")));
                    }
                    if sub != "status" || !rt.status_subresource {
                        return Err(ApiError::no_route(&request.path));
                    }
                }
                let all_namespaces_write =
                    rt.namespaced && namespace.is_none() && (name.is_some() || request.method == http::Method::POST);
                if (!rt.namespaced && namespace.is_some()) || all_namespaces_write {
                    return Err(ApiError::no_route(&request.path));
                }
                self.resource(request, query, watch, format, &rt, namespace, name, sub)
            }
            _ => Err(ApiError::method_not_allowed(format!("{} is not supported on {}", request.method, request.path))),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn resource(
        &self,
        request: &ApiRequest,
        query: &Query,
        watch: bool,
        format: Format,
        rt: &Arc<ResourceType>,
        namespace: Option<String>,
        name: Option<String>,
        sub: Option<String>,
    ) -> Result<ApiResponse, ApiError> {
        let ns = namespace.clone().unwrap_or_default();
        let user_agent = request
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .and_then(|ua| ua.split('/').next())
            .map(str::to_owned);
        let params = self.params(query, user_agent.as_deref());
        let body = || parse_body(request);
        let sub = sub.as_deref();
        let now = self.inner.clock.now();
        let one = |v: Value, code: u16| Ok(ApiResponse::json(code, &format_object(rt, &v, format, now)));
        match (request.method.clone(), name) {
            (http::Method::GET, None) if watch => {
                crate::watch::start(self.clone(), rt.clone(), namespace, query, format)
            }
            (http::Method::GET, None) => self.list(rt, namespace.as_deref(), query, format),
            (http::Method::GET, Some(n)) => one(self.state().get(rt, &ns, &n)?, 200),
            (http::Method::POST, None) => {
                let created = self.state().create(rt, &ns, body()?, &params)?;
                one(created, 201)
            }
            (http::Method::PUT, Some(n)) => {
                let updated = self.state().update(rt, &ns, &n, body()?, sub, &params)?;
                one(updated, 200)
            }
            (http::Method::PATCH, Some(n)) => {
                let content_type =
                    request.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
                let patch_type = match content_type.split(';').next().unwrap_or("").trim() {
                    "application/json-patch+json" => PatchType::Json,
                    "application/merge-patch+json" => PatchType::Merge,
                    "application/strategic-merge-patch+json" => PatchType::Strategic,
                    "application/apply-patch+yaml" | "application/apply-patch+json" => PatchType::Apply,
                    other => {
                        return Err(ApiError::unsupported_media_type(format!(
                            "the body of the request was in an unknown format ({other})"
                        )));
                    }
                };
                if patch_type == PatchType::Apply && query.get("fieldManager").is_none_or(str::is_empty) {
                    // kube-apiserver validates PatchOptions: 422 Invalid, field fieldManager.
                    return Err(ApiError::invalid(
                        "PatchOptions",
                        "meta.k8s.io",
                        "",
                        &[crate::schema::FieldError {
                            field: "fieldManager".to_owned(),
                            reason: "FieldValueRequired".to_owned(),
                            message: "Required value: is required for apply patch".to_owned(),
                        }],
                    ));
                }
                let patch = body()?;
                let force = query.flag("force");
                let (object, created) = self.state().patch(rt, &ns, &n, patch_type, &patch, sub, force, &params)?;
                one(object, if created { 201 } else { 200 })
            }
            (http::Method::DELETE, Some(n)) => {
                let options = delete_options(request, query)?;
                let deleted = self.state().delete(rt, &ns, &n, &options, &params)?;
                one(deleted, 200)
            }
            (http::Method::DELETE, None) => {
                let options = delete_options(request, query)?;
                let items = self.select(rt, namespace.as_deref(), query)?;
                let mut state = self.state();
                for item in &items {
                    let n = item.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
                    let item_ns = item.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
                    state.delete(rt, item_ns, n, &options, &params)?;
                }
                Ok(ApiResponse::json(
                    200,
                    &json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(), "metadata": {"resourceVersion": state.rv.to_string()}, "items": items}),
                ))
            }
            (m, _) => Err(ApiError::method_not_allowed(format!("{m} is not supported on {}", request.path))),
        }
    }

    /// Objects of `rt` matching the request's selectors, in namespace/name order.
    pub(crate) fn select(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        query: &Query,
    ) -> Result<Vec<Value>, ApiError> {
        let (labels, fields) = selectors(rt, query)?;
        let state = self.state();
        Ok(state
            .list(&rt.storage, namespace)
            .into_iter()
            .map(|(_, o)| to_view(rt, o))
            .filter(|o| labels.matches(o) && fields.matches(o))
            .collect())
    }

    fn list(
        &self,
        rt: &Arc<ResourceType>,
        namespace: Option<&str>,
        query: &Query,
        format: Format,
    ) -> Result<ApiResponse, ApiError> {
        let limit: Option<usize> = query.get("limit").and_then(|l| l.parse().ok()).filter(|l| *l > 0);
        let (rv, mut items, token) = match query.get("continue").filter(|c| !c.is_empty()) {
            Some(token) => {
                let mut state = self.state();
                let snapshot = state.snapshots.remove(token).ok_or_else(|| ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."))?;
                if snapshot.rv < state.compacted {
                    return Err(ApiError::expired(
                        "The provided continue parameter is too old to display a consistent list result.",
                    ));
                }
                (snapshot.rv, snapshot.remaining, None::<String>)
            }
            None => {
                let items = self.select(rt, namespace, query)?;
                (self.state().rv, items, None)
            }
        };
        let _ = token;
        let mut continue_token = None;
        let mut remaining_count = None;
        if let Some(limit) = limit
            && items.len() > limit
        {
            let rest = items.split_off(limit);
            let mut state = self.state();
            let token = format!("emu-{}-{}", rv, state.next_token);
            state.next_token += 1;
            remaining_count = Some(rest.len());
            state.snapshots.insert(token.clone(), ListSnapshot { rv, remaining: rest });
            continue_token = Some(token);
        }
        let now = self.inner.clock.now();
        let body = match format {
            Format::Table => table::table(rt, &items, &rv.to_string(), continue_token.as_deref(), now),
            _ => {
                let items: Vec<Value> =
                    if format == Format::Metadata { items.iter().map(table::metadata_only).collect() } else { items };
                let mut metadata = json!({"resourceVersion": rv.to_string()});
                if let Some(c) = &continue_token {
                    metadata["continue"] = json!(c);
                    metadata["remainingItemCount"] = json!(remaining_count);
                }
                let (kind, api_version) = if format == Format::Metadata {
                    ("PartialObjectMetadataList".to_owned(), "meta.k8s.io/v1".to_owned())
                } else {
                    (format!("{}List", rt.kind), rt.api_version())
                };
                json!({"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": items})
            }
        };
        Ok(ApiResponse::json(200, &body))
    }
}

pub(crate) fn selectors(rt: &ResourceType, query: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or(""), &rt.selectable_fields)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((labels, fields))
}

pub(crate) fn format_object(rt: &ResourceType, object: &Value, format: Format, now: jiff::Timestamp) -> Value {
    match format {
        Format::Table => {
            let rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
            table::table(rt, std::slice::from_ref(object), rv, None, now)
        }
        Format::Metadata => table::metadata_only(object),
        _ => object.clone(),
    }
}

fn parse_body(request: &ApiRequest) -> Result<Value, ApiError> {
    let content_type =
        request.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    if content_type.contains("protobuf") {
        return crate::protobuf::decode(&request.body)
            .map_err(|e| ApiError::unsupported_media_type(format!("protobuf is not emulated: {e}")));
    }
    let text = std::str::from_utf8(&request.body).map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(json_error) if content_type.contains("yaml") => serde_saphyr::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("invalid YAML: {e} (JSON: {json_error})"))),
        Err(e) => Err(ApiError::bad_request(format!("invalid JSON: {e}"))),
    }
}

fn delete_options(request: &ApiRequest, query: &Query) -> Result<DeleteOptions, ApiError> {
    let body: Value = if request.body.is_empty() { json!({}) } else { parse_body(request)? };
    Ok(DeleteOptions {
        propagation: body
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .or(query.get("propagationPolicy"))
            .map(str::to_owned),
        uid: body.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_owned),
        resource_version: body.pointer("/preconditions/resourceVersion").and_then(Value::as_str).map(str::to_owned),
    })
}

pub(crate) fn error_response(error: &ApiError) -> ApiResponse {
    ApiResponse::json(error.code, &error.to_status())
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
