//! Reading an external server's version after authenticating, where the probe's greeting
//! carries none: Redis `INFO server` (after `AUTH`), ClickHouse `SELECT version()` over HTTP.
//!
//! Written here rather than with client crates for the reasons the probes give (a few bytes of
//! a documented protocol; `redis` or `clickhouse` clients would add large dependency trees).
//! The password is sent to the server it belongs to and nowhere else; no error carries it.

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::model::VersionQuery;

/// The version the server reports for `query`, authenticating with `password`; `None` when
/// it cannot be read (the reachability probe reports why a server does not answer).
pub(crate) async fn read(query: &VersionQuery, password: Option<&str>) -> Option<String> {
    match query {
        VersionQuery::Redis { endpoint } => {
            let stream = TcpStream::connect((endpoint.host.as_str(), endpoint.port)).await.ok()?;
            redis(stream, password).await
        }
        VersionQuery::ClickHouseHttp { endpoint, user } => {
            let stream = TcpStream::connect((endpoint.host.as_str(), endpoint.port)).await.ok()?;
            clickhouse(stream, &endpoint.to_string(), user, password).await
        }
    }
}

/// One RESP command as an array of bulk strings.
fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn redis(stream: TcpStream, password: Option<&str>) -> Option<String> {
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    if let Some(password) = password {
        stream.get_mut().write_all(&resp(&["AUTH", password])).await.ok()?;
        stream.read_line(&mut line).await.ok()?;
        if !line.starts_with("+OK") {
            return None;
        }
    }
    stream.get_mut().write_all(&resp(&["INFO", "server"])).await.ok()?;
    line.clear();
    stream.read_line(&mut line).await.ok()?;
    let length: usize = line.strip_prefix('$')?.trim().parse().ok()?;
    if length > 64 * 1024 {
        return None;
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    redis_version(&String::from_utf8_lossy(&body))
}

/// `redis_version:<v>` of an `INFO server` reply.
fn redis_version(info: &str) -> Option<String> {
    info.lines().find_map(|l| l.strip_prefix("redis_version:")).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

async fn clickhouse(stream: TcpStream, authority: &str, user: &str, password: Option<&str>) -> Option<String> {
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, connection) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io).await.ok()?;
    let driver = tokio::spawn(connection);
    let mut request = http::Request::builder()
        .method(http::Method::GET)
        .uri("/?query=SELECT%20version()")
        .header(http::header::HOST, authority)
        .header(http::header::USER_AGENT, "wandb-operator-probe");
    // HTTP Basic authentication: every ClickHouse release takes it (the `X-ClickHouse-*`
    // headers came later).
    let credentials = format!("{user}:{}", password.unwrap_or_default());
    request = request.header(http::header::AUTHORIZATION, format!("Basic {}", BASE64_STANDARD.encode(credentials)));
    let answer = sender.send_request(request.body(Empty::new()).ok()?).await;
    let body = match answer {
        Ok(response) if response.status() == http::StatusCode::OK => {
            response.into_body().collect().await.ok().map(|b| b.to_bytes())
        }
        _ => None,
    };
    driver.abort();
    let version = String::from_utf8_lossy(&body?).trim().to_owned();
    (!version.is_empty() && version.len() < 64 && version.starts_with(|c: char| c.is_ascii_digit())).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_resp_arrays_and_the_version_is_read_from_info() {
        assert_eq!(resp(&["AUTH", "p w"]), b"*2\r\n$4\r\nAUTH\r\n$3\r\np w\r\n");
        let info = "# Server\r\nredis_version:7.2.4\r\nredis_git_sha1:00000000\r\n";
        assert_eq!(redis_version(info).as_deref(), Some("7.2.4"));
        assert_eq!(redis_version("# Server\r\n"), None);
    }
}
