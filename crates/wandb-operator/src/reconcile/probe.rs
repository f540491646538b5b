//! Reachability probes of external endpoints: a TCP connect, then the cheapest exchange that
//! shows the endpoint is the service it should be (see [`Greeting`]).
//!
//! The greetings are written here rather than taken from client crates: each is a few bytes of
//! a documented protocol (the MySQL handshake packet, a RESP `PING`, Kafka `ApiVersions` v0),
//! and full clients (mysql_async, redis, rdkafka with librdkafka) would add large dependency
//! trees, and connection logic that authenticates, which a reachability check must not do.
//! HTTP goes through hyper, which the operator already uses.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::model::{Greeting, ProbeTarget, VersionQuery};

/// What one probe found: the server's version when its greeting carries one (the MySQL
/// handshake does), or why the endpoint is not the service it should be.
pub type Probed = Result<Option<String>, String>;

/// Checks that an endpoint answers. The error is a short, stable reason (it goes into status,
/// which must not change while nothing changes), never a credential: probes send none.
pub trait Prober: Send + Sync {
    /// Probes `target`.
    fn probe<'a>(&'a self, target: &'a ProbeTarget) -> Pin<Box<dyn Future<Output = Probed> + Send + 'a>>;

    /// The server's version for `query`, authenticating with `password`; `None` when it cannot
    /// be read.
    fn version<'a>(
        &'a self,
        _query: &'a VersionQuery,
        _password: Option<&'a str>,
    ) -> Pin<Box<dyn Future<Output = Option<String>> + Send + 'a>> {
        Box::pin(async { None })
    }
}

/// Probes over the network, each within `timeout` (connect and greeting together).
#[derive(Debug, Clone)]
pub struct NetworkProber {
    /// The limit of one probe.
    pub timeout: Duration,
}

impl Default for NetworkProber {
    fn default() -> Self {
        NetworkProber { timeout: Duration::from_secs(3) }
    }
}

impl Prober for NetworkProber {
    fn version<'a>(
        &'a self,
        query: &'a VersionQuery,
        password: Option<&'a str>,
    ) -> Pin<Box<dyn Future<Output = Option<String>> + Send + 'a>> {
        Box::pin(async move {
            tokio::time::timeout(self.timeout, super::version_query::read(query, password)).await.ok().flatten()
        })
    }

    fn probe<'a>(&'a self, target: &'a ProbeTarget) -> Pin<Box<dyn Future<Output = Probed> + Send + 'a>> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, exchange(target)).await {
                Ok(result) => result,
                Err(_) => Err(format!("no answer within {} s", self.timeout.as_secs_f32())),
            }
        })
    }
}

async fn exchange(target: &ProbeTarget) -> Probed {
    let address = (target.endpoint.host.as_str(), target.endpoint.port);
    let mut stream = TcpStream::connect(address).await.map_err(|e| format!("cannot connect: {}", io_reason(&e)))?;
    match &target.greeting {
        Greeting::Tcp => Ok(None),
        Greeting::MySql => mysql(&mut stream).await,
        Greeting::Redis => redis(&mut stream).await.map(|()| None),
        Greeting::Kafka => kafka(&mut stream).await.map(|()| None),
        Greeting::HttpHead { path } => {
            http(stream, &target.endpoint.to_string(), http::Method::HEAD, path, false).await.map(|()| None)
        }
        Greeting::HttpOk { path } => {
            http(stream, &target.endpoint.to_string(), http::Method::GET, path, true).await.map(|()| None)
        }
    }
}

/// The I/O error without its OS error number, which differs between systems.
fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        std::io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        std::io::ErrorKind::UnexpectedEof => "the server closed the connection".to_owned(),
        std::io::ErrorKind::TimedOut => "timed out".to_owned(),
        _ => {
            let text = error.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_owned()
        }
    }
}

/// The server speaks first: a packet whose payload starts with 0x0a (protocol version 10), or
/// 0xff (an error packet, e.g. "Host is not allowed to connect": a MySQL server that answers).
async fn mysql(stream: &mut TcpStream) -> Probed {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).await.map_err(|e| format!("no MySQL handshake: {}", io_reason(&e)))?;
    let length = u32::from_le_bytes([header[0], header[1], header[2], 0]);
    match header[4] {
        // Protocol 10: the server version follows, NUL-terminated (at most 255 bytes read).
        0x0a if length > 1 => {
            // Read until the NUL (the packet may arrive in pieces), at most the payload.
            let mut rest = vec![0u8; (length as usize - 1).min(256)];
            let mut read = 0;
            while read < rest.len() && !rest[..read].contains(&0) {
                match stream.read(&mut rest[read..]).await {
                    Ok(0) => break,
                    Ok(n) => read += n,
                    Err(e) => return Err(format!("no MySQL handshake: {}", io_reason(&e))),
                }
            }
            let version = rest[..read].split(|b| *b == 0).next().unwrap_or_default();
            Ok(Some(String::from_utf8_lossy(version).into_owned()).filter(|v| !v.is_empty()))
        }
        // An error packet (too many connections, host blocked): a MySQL server, version unknown.
        0x0a | 0xff if length > 0 => Ok(None),
        other => Err(format!("not a MySQL server (first payload byte 0x{other:02x})")),
    }
}

/// RESP: `PING` answers `+PONG`, or an error such as `-NOAUTH Authentication required.`
async fn redis(stream: &mut TcpStream) -> Result<(), String> {
    stream.write_all(b"PING\r\n").await.map_err(|e| format!("cannot send PING: {}", io_reason(&e)))?;
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).await.map_err(|e| format!("no reply to PING: {}", io_reason(&e)))?;
    match first[0] {
        b'+' | b'-' => Ok(()),
        other => Err(format!("not a Redis server (reply starts with 0x{other:02x})")),
    }
}

const KAFKA_CORRELATION_ID: i32 = 0x7761_6e64;

/// Kafka `ApiVersions` v0 (api key 18): the request every client sends first; the response
/// echoes the correlation id.
async fn kafka(stream: &mut TcpStream) -> Result<(), String> {
    let client_id = b"wandb-operator";
    let mut body = Vec::with_capacity(24);
    body.extend_from_slice(&18i16.to_be_bytes());
    body.extend_from_slice(&0i16.to_be_bytes());
    body.extend_from_slice(&KAFKA_CORRELATION_ID.to_be_bytes());
    body.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    body.extend_from_slice(client_id);
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    stream.write_all(&frame).await.map_err(|e| format!("cannot send ApiVersions: {}", io_reason(&e)))?;
    let mut header = [0u8; 8];
    stream.read_exact(&mut header).await.map_err(|e| format!("no ApiVersions response: {}", io_reason(&e)))?;
    let size = i32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let correlation = i32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    if correlation != KAFKA_CORRELATION_ID || !(4..=16 * 1024 * 1024).contains(&size) {
        return Err("not a Kafka broker (unexpected ApiVersions response)".to_owned());
    }
    Ok(())
}

async fn http(
    stream: TcpStream,
    authority: &str,
    method: http::Method,
    path: &str,
    need_ok: bool,
) -> Result<(), String> {
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io).await.map_err(|e| format!("HTTP: {e}"))?;
    let driver = tokio::spawn(connection);
    let request = http::Request::builder()
        .method(method.clone())
        .uri(path)
        .header(http::header::HOST, authority)
        .header(http::header::USER_AGENT, "wandb-operator-probe")
        .body(Empty::new())
        .map_err(|e| format!("HTTP: {e}"))?;
    let answer = sender.send_request(request).await;
    driver.abort();
    let response = answer.map_err(|e| format!("no HTTP answer: {e}"))?;
    let status = response.status();
    if need_ok && status != http::StatusCode::OK {
        return Err(format!("HTTP {method} {path} answered {}", status.as_u16()));
    }
    Ok(())
}
