//! Connection Secrets that the engines' own clients accept (issue 22): real servers on
//! 127.0.0.1 with a password full of URL-special characters, external components pointing at
//! them, and each engine's standard client connecting with nothing but the connection Secret
//! (its keys, and its `URL`) and running a real command.
//!
//! On the emulator: what is checked is the Secret's content against real servers and clients;
//! the API server's part is the same on both backends (`tests/external.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use support::{Harness, servers};

/// Every character a URL's userinfo must escape, and a few more.
const PASSWORD: &str = "p@ss:w/rd#1?&%x";

/// Percent-decodes a URL component.
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8().unwrap().into_owned()
}

/// `scheme://user:password@host:port/path?query` split into its decoded parts.
struct ParsedUrl {
    user: String,
    password: String,
    host: String,
    port: String,
    path: String,
}

fn parse(url: &str) -> ParsedUrl {
    let rest = url.split_once("://").unwrap().1;
    let (userinfo, rest) = rest.rsplit_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap();
    let rest = rest.split('?').next().unwrap();
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = hostport.rsplit_once(':').unwrap();
    ParsedUrl {
        user: decode(user),
        password: decode(password),
        host: host.to_owned(),
        port: port.to_owned(),
        path: decode(path),
    }
}

fn run(program: &str, args: &[&str]) -> String {
    let program = &servers::client(program);
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn mariadb_select_one(host: &str, port: &str, user: &str, password: &str, database: &str) -> String {
    let password = format!("--password={password}");
    run("mariadb", &["--no-defaults", "-h", host, "-P", port, "-u", user, &password, database, "-N", "-e", "SELECT 1"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engines_clients_connect_with_the_connection_secrets_alone() {
    let mysql = servers::mariadb();
    mysql.mariadb_root(&format!(
        "CREATE DATABASE wandb_local CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci; CREATE USER 'wandb_local'@'%' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON wandb_local.* TO 'wandb_local'@'%';"
    ));
    let redis = servers::redis(Some(PASSWORD));
    let clickhouse = servers::clickhouse_with_password(PASSWORD);
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    for name in ["db", "cache", "olap"] {
        h.secret("apps", name, &[("password", PASSWORD)]).await;
    }
    let yaml = format!(
        "apiVersion: apps.wandb.com/v2
kind: WeightsAndBiases
metadata:
  name: wandb
spec:
  size: dev
  kafka: {{enabled: false}}
  minio: {{enabled: false}}
  mysql:
    external: {{host: 127.0.0.1, port: {mysql}, database: wandb_local, user: wandb_local, passwordSecret: {{name: db, key: password}}}}
  redis:
    external: {{host: 127.0.0.1, port: {redis}, passwordSecret: {{name: cache, key: password}}}}
  clickhouse:
    external: {{host: 127.0.0.1, tcpPort: {ch}, httpPort: {ch_http}, database: default, user: default, passwordSecret: {{name: olap, key: password}}}}
",
        mysql = mysql.port,
        redis = redis.port,
        ch = clickhouse.server.port,
        ch_http = clickhouse.http_port,
    );
    h.apply_yaml("apps", &yaml).await;
    h.wait_ready("apps", "wandb").await;
    let secret = |name: &'static str| {
        let h = &h;
        async move { h.secret_data("apps", name).await.unwrap_or_else(|| panic!("{name} missing")) }
    };

    // Redis: `redis-cli -u "$URL"` (Debian's redis-cli 7.0).
    let keys: BTreeMap<String, String> = secret("wandb-redis-connection").await;
    assert_eq!(run("redis-cli", &["-u", &keys["URL"], "--no-auth-warning", "PING"]).trim(), "PONG");
    let keys_port = keys["REDIS_PORT"].clone();
    let by_keys = run(
        "redis-cli",
        &[
            "-h",
            &keys["REDIS_HOST"],
            "-p",
            &keys_port,
            "--user",
            "default",
            "--pass",
            &keys["REDIS_PASSWORD"],
            "--no-auth-warning",
            "PING",
        ],
    );
    assert_eq!(by_keys.trim(), "PONG");

    // MySQL: the `mariadb` client with the keys, and with the URL's decoded parts.
    let keys = secret("wandb-mysql-connection").await;
    let one = mariadb_select_one(
        &keys["MYSQL_HOST"],
        &keys["MYSQL_PORT"],
        &keys["MYSQL_USER"],
        &keys["MYSQL_PASSWORD"],
        &keys["MYSQL_DATABASE"],
    );
    assert_eq!(one.trim(), "1");
    let url = parse(&keys["URL"]);
    assert_eq!((url.user.as_str(), url.password.as_str(), url.path.as_str()), ("wandb_local", PASSWORD, "wandb_local"));
    assert_eq!(mariadb_select_one(&url.host, &url.port, &url.user, &url.password, &url.path).trim(), "1");

    // ClickHouse: `clickhouse-client` with the keys (native protocol, Debian's 18.16), then
    // HTTP (curl) with the keys and with the URL's user and password.
    let keys = secret("wandb-clickhouse-connection").await;
    let native = run(
        "clickhouse-client",
        &[
            "--host",
            &keys["CLICKHOUSE_HOST"],
            "--port",
            &keys["CLICKHOUSE_PORT"],
            "--user",
            &keys["CLICKHOUSE_USER"],
            "--password",
            &keys["CLICKHOUSE_PASSWORD"],
            "--database",
            &keys["CLICKHOUSE_DATABASE"],
            "--query",
            "SELECT 1",
        ],
    );
    assert_eq!(native.trim(), "1");
    let endpoint = format!("http://{}:{}/?query=SELECT%201", keys["CLICKHOUSE_HOST"], keys["CLICKHOUSE_HTTP_PORT"]);
    let auth = format!("{}:{}", keys["CLICKHOUSE_USER"], keys["CLICKHOUSE_PASSWORD"]);
    assert_eq!(run("curl", &["-sf", "-u", &auth, &endpoint]).trim(), "1");
    let url = parse(&keys["URL"]);
    assert_eq!(
        (url.user.as_str(), url.password.as_str(), url.port.clone()),
        ("default", PASSWORD, keys["CLICKHOUSE_PORT"].clone())
    );
    let auth = format!("{}:{}", url.user, url.password);
    assert_eq!(run("curl", &["-sf", "-u", &auth, &endpoint]).trim(), "1");
}
