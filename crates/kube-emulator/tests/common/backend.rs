//! The API server a conformance test talks to: the emulator (through `Emulator::handle`, the
//! core both front doors share) or a real control plane of its own (kube-apiserver, etcd and
//! kube-controller-manager built from Go modules), through the same raw requests, so one test
//! checks both and a difference is a failing test, not an opinion.

use bytes::Bytes;
use http_body_util::BodyExt;
use kube_control_plane::{ControlPlane, Options};
use kube_emulator::{ApiRequest, ApiResponse, Emulator};
use serde_json::Value;

/// Where requests go.
pub enum Backend {
    /// The emulator serving Widgets.
    Emulated(Emulator),
    /// A real control plane serving Widgets (stopped when dropped).
    Real {
        /// Admin client.
        client: kube::Client,
        /// The processes.
        plane: Box<ControlPlane>,
    },
}

impl Backend {
    /// The emulator with the Widget CRD (see `common::emulator`).
    pub fn emulated() -> Backend {
        Backend::Emulated(super::emulator())
    }

    /// A fresh real control plane with the Widget CRD installed.
    pub async fn real() -> Backend {
        let options = Options { crds: vec![super::widget_crd()], ..Default::default() };
        let plane = match ControlPlane::start(options).await {
            Ok(plane) => plane,
            Err(e) => panic!("the real control plane could not start: {e}"),
        };
        let client = plane.admin_client().await.unwrap();
        Backend::Real { client, plane: Box::new(plane) }
    }

    /// Whether this is the real control plane.
    pub fn is_real(&self) -> bool {
        matches!(self, Backend::Real { .. })
    }

    /// The emulator (panics on the real control plane).
    pub fn emulator(&self) -> &Emulator {
        match self {
            Backend::Emulated(emulator) => emulator,
            Backend::Real { .. } => panic!("emulator-only"),
        }
    }

    /// Sends one request and returns the response (watches as a stream of lines).
    pub async fn handle(&self, request: ApiRequest) -> ApiResponse {
        let client = match self {
            Backend::Emulated(emulator) => return emulator.handle(request).await,
            Backend::Real { client, .. } => client,
        };
        let uri =
            if request.query.is_empty() { request.path.clone() } else { format!("{}?{}", request.path, request.query) };
        let encoded_uri = uri.replace(' ', "%20");
        let mut builder = http::Request::builder().method(request.method.clone()).uri(encoded_uri);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let http_request = builder.body(kube::client::Body::from(request.body.to_vec())).unwrap();
        let response = client.send(http_request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let watching = request.query.split('&').any(|p| p == "watch=true" || p == "watch=1");
        let mut body = response.into_body();
        if watching && status == 200 {
            let (tx, lines) = tokio::sync::mpsc::channel(1024);
            tokio::spawn(async move {
                let mut pending: Vec<u8> = vec![];
                while let Some(Ok(frame)) = body.frame().await {
                    let Ok(data) = frame.into_data() else { continue };
                    pending.extend_from_slice(&data);
                    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = pending.drain(..=end).collect();
                        if tx.send(Bytes::from(line[..line.len() - 1].to_vec())).await.is_err() {
                            return;
                        }
                    }
                }
            });
            return ApiResponse::Stream { content_type, lines };
        }
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        ApiResponse::Full { status, content_type, body }
    }

    /// The current resourceVersion of the store (a list's).
    pub async fn resource_version(&self) -> u64 {
        match self {
            Backend::Emulated(emulator) => emulator.resource_version(),
            Backend::Real { .. } => {
                let request = ApiRequest {
                    method: http::Method::GET,
                    path: "/api/v1/namespaces/default/configmaps".to_owned(),
                    query: String::new(),
                    headers: http::HeaderMap::new(),
                    body: Bytes::new(),
                };
                let ApiResponse::Full { body, .. } = self.handle(request).await else { panic!("list streamed") };
                let list: Value = serde_json::from_slice(&body).unwrap();
                list["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()
            }
        }
    }
}
