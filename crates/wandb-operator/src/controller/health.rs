//! `/healthz` (alive), `/readyz` (caches synced) and `/metrics` on one HTTP listener.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use tokio::net::TcpListener;

use super::metrics::Metrics;

/// Serves health and metrics until `shutdown` resolves. Returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        let mut shutdown = shutdown;
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let metrics = metrics.clone();
                    let ready = ready.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                            let metrics = metrics.clone();
                            let ready = ready.clone();
                            async move { Ok::<_, Infallible>(respond(request.uri().path(), &metrics, &ready)) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
                    });
                }
            }
        }
    });
    Ok(bound)
}

fn respond(path: &str, metrics: &Metrics, ready: &AtomicBool) -> http::Response<Full<Bytes>> {
    let (status, content_type, body) = match path {
        "/healthz" => (200, "text/plain", "ok".to_owned()),
        "/readyz" if ready.load(Ordering::Acquire) => (200, "text/plain", "ok".to_owned()),
        "/readyz" => (503, "text/plain", "caches not synced".to_owned()),
        "/metrics" => (200, "application/openmetrics-text; version=1.0.0; charset=utf-8", metrics.encode()),
        _ => (404, "text/plain", "not found".to_owned()),
    };
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| http::Response::new(Full::new(Bytes::new())))
}
