//! The two front doors over one core: an in-process `tower::Service` for
//! `kube::Client::new`, and an HTTP/1.1 server on 127.0.0.1 for kubectl and binaries.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use tokio::net::TcpListener;
use tokio_stream_shim::ReceiverStream;

use crate::emulator::Emulator;
use crate::request::{ApiRequest, ApiResponse};

/// The response body both front doors send.
pub type ResponseBody = BoxBody<Bytes, Infallible>;

mod tokio_stream_shim {
    //! A `Stream` over an mpsc receiver (tokio-stream's wrapper, inlined to avoid a dependency).
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::sync::mpsc;

    pub struct ReceiverStream<T>(pub mpsc::Receiver<T>);

    impl<T> futures::Stream for ReceiverStream<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }
}

fn to_http(response: ApiResponse) -> http::Response<ResponseBody> {
    let (status, content_type, body) = match response {
        ApiResponse::Full { status, content_type, body } => (status, content_type, Full::new(body).boxed()),
        ApiResponse::Stream { content_type, lines } => {
            let stream = ReceiverStream(lines).map(|line| Ok::<_, Infallible>(Frame::data(line)));
            (200, content_type, BodyExt::boxed(StreamBody::new(stream)))
        }
    };
    let mut builder = http::Response::builder().status(status).header(http::header::CONTENT_TYPE, content_type);
    if status == 200 || status == 201 {
        builder = builder.header("Cache-Control", "no-cache, private");
    }
    builder.body(body).unwrap_or_else(|_| http::Response::new(Full::new(Bytes::new()).boxed()))
}

async fn from_http<B>(request: http::Request<B>) -> Result<ApiRequest, String>
where
    B: http_body::Body,
    B::Error: std::fmt::Display,
{
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let path = percent_encoding::percent_decode_str(parts.uri.path()).decode_utf8_lossy().into_owned();
    Ok(ApiRequest {
        method: parts.method,
        path,
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers,
        body,
    })
}

async fn serve_one<B>(emulator: Emulator, request: http::Request<B>) -> http::Response<ResponseBody>
where
    B: http_body::Body,
    B::Error: std::fmt::Display,
{
    match from_http(request).await {
        Ok(request) => to_http(emulator.handle(request).await),
        Err(e) => to_http(crate::server::error_response(&crate::errors::ApiError::bad_request(format!(
            "cannot read the body: {e}"
        )))),
    }
}

/// An in-process `tower::Service`: `kube::Client::new(emulator.service(), "default")`.
#[derive(Clone, Debug)]
pub struct EmulatorService {
    emulator: Emulator,
    user_agent: Option<http::HeaderValue>,
}

impl Emulator {
    /// The in-process front door.
    pub fn service(&self) -> EmulatorService {
        EmulatorService { emulator: self.clone(), user_agent: None }
    }

    /// The in-process front door, marking requests with a `User-Agent` (when the client sets
    /// none) so the request log can tell clients apart.
    pub fn service_as(&self, user_agent: &str) -> EmulatorService {
        EmulatorService { emulator: self.clone(), user_agent: http::HeaderValue::from_str(user_agent).ok() }
    }
}

impl<B> tower_service::Service<http::Request<B>> for EmulatorService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: std::fmt::Display,
{
    type Response = http::Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(ua) = &self.user_agent {
            request.headers_mut().entry(http::header::USER_AGENT).or_insert(ua.clone());
        }
        let emulator = self.emulator.clone();
        Box::pin(async move { Ok(serve_one(emulator, request).await) })
    }
}

/// A running HTTP server.
#[derive(Debug)]
pub struct HttpServer {
    /// The bound address.
    pub addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and closes open ones.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

impl Emulator {
    /// Serves HTTP/1.1 on `addr` (use `127.0.0.1:0` for a free port).
    pub async fn serve(&self, addr: SocketAddr) -> std::io::Result<HttpServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, mut stop) = tokio::sync::watch::channel(false);
        let emulator = self.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let emulator = emulator.clone();
                        let mut stop = stop.clone();
                        connections.spawn(async move {
                            let service = hyper::service::service_fn(move |request| {
                                let emulator = emulator.clone();
                                async move { Ok::<_, Infallible>(serve_one(emulator, request).await) }
                            });
                            let connection = hyper::server::conn::http1::Builder::new()
                                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                            tokio::pin!(connection);
                            tokio::select! {
                                _ = connection.as_mut() => {}
                                _ = stop.changed() => connection.as_mut().graceful_shutdown(),
                            }
                        });
                    }
                }
            }
            connections.abort_all();
        });
        Ok(HttpServer { addr, shutdown, task })
    }
}

/// A kubeconfig pointing at `server_url` (no credentials: the emulator does not authenticate).
pub fn kubeconfig(server_url: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-emulator\n  cluster:\n    server: {server_url}\ncontexts:\n- name: kube-emulator\n  context:\n    cluster: kube-emulator\n    user: kube-emulator\n    namespace: {namespace}\ncurrent-context: kube-emulator\nusers:\n- name: kube-emulator\n  user: {{}}\n"
    )
}
