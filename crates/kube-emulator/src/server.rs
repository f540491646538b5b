//! The request handler both front doors call: routing, discovery, and the verbs on resources.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::control::{LoggedRequest, RequestFacts};
use crate::discovery;
use crate::emulator::lock;
use crate::errors::ApiError;
use crate::registry::ResourceType;
use crate::request::{ApiRequest, ApiResponse, Format, negotiate, parse_query};
use crate::routes::{Query, Route, UNIMPLEMENTED_SUBRESOURCES, route, selectors};
use crate::store::ListSnapshot;
use crate::table;
use crate::views::to_view;
use crate::writes::{DeleteOptions, PatchType};

pub use crate::emulator::{Emulator, EmulatorConfig};

impl Emulator {
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
