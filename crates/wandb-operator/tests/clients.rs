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

/// Runs `program` with `args` and returns whether it succeeded, with its output (for checks
/// that must fail).
fn attempt(program: &str, args: &[&str]) -> (bool, String) {
    let program = &servers::client(program);
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// kcat's `-X` settings for a SASL connection without TLS.
fn kcat_sasl(bootstrap: &str, mechanism: &str, user: &str, password: &str) -> Vec<String> {
    [
        "-b",
        bootstrap,
        "-X",
        "security.protocol=SASL_PLAINTEXT",
        "-X",
        &format!("sasl.mechanisms={mechanism}"),
        "-X",
        &format!("sasl.username={user}"),
        "-X",
        &format!("sasl.password={password}"),
        "-m",
        "20",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Produces `message` to `topic` with kcat, then reads the topic's first message back.
fn kcat_round_trip(sasl: &[String], topic: &str, message: &str) -> String {
    let sasl: Vec<&str> = sasl.iter().map(String::as_str).collect();
    let mut produce = Command::new(servers::client("kcat"))
        .args(&sasl)
        .args(["-t", topic, "-P"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = produce.stdin.take().unwrap();
        writeln!(stdin, "{message}").unwrap();
    }
    let produced = produce.wait_with_output().unwrap();
    assert!(produced.status.success(), "kcat -P: {}", String::from_utf8_lossy(&produced.stderr));
    let mut consume = sasl.clone();
    consume.extend(["-t", topic, "-C", "-o", "beginning", "-c", "1", "-e"]);
    run("kcat", &consume)
}

/// kafka-python (Debian's python3-kafka), configured from the connection Secret's keys alone
/// (its environment, as `envFrom` gives a W&B Pod): produces a message and reads it back.
const KAFKA_PYTHON: &str = r#"
import os
from kafka import KafkaConsumer, KafkaProducer
config = dict(
    bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"].split(","),
    security_protocol="SASL_SSL" if os.environ["KAFKA_TLS"] == "true" else "SASL_PLAINTEXT",
    sasl_mechanism=os.environ["KAFKA_SASL_MECHANISM"],
    sasl_plain_username=os.environ["KAFKA_SASL_USER"],
    sasl_plain_password=os.environ["KAFKA_SASL_PASSWORD"],
)
producer = KafkaProducer(**config)
producer.send("wandb-python", b"from kafka-python").get(timeout=30)
producer.close()
consumer = KafkaConsumer("wandb-python", auto_offset_reset="earliest", consumer_timeout_ms=30000, **config)
for record in consumer:
    print(record.value.decode())
    break
"#;

/// Kafka and S3: Apache Kafka 4.1's broker (SASL `PLAIN` and `SCRAM-SHA-512`) and an S3
/// gateway that checks request signatures, both with credentials full of URL-special
/// characters; kcat, kafka-python and s3cmd use nothing but the connection Secrets. A wrong
/// password or secret key fails against the same servers (the checks can fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_and_s3_clients_connect_with_the_connection_secrets_alone() {
    const ACCESS_KEY: &str = "wandb+access_key-1"; // S3 access key ids cannot hold `/`, `=` or `,`
    let kafka = servers::kafka_broker("wandb", PASSWORD);
    let s3 = servers::s3_gateway(ACCESS_KEY, PASSWORD, "wandb-files");
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.secret("apps", "broker", &[("password", PASSWORD)]).await;
    h.secret("apps", "bucket", &[("accessKey", ACCESS_KEY), ("secretKey", PASSWORD)]).await;
    let yaml = format!(
            "apiVersion: apps.wandb.com/v2
kind: WeightsAndBiases
metadata:
  name: wandb
spec:
  size: dev
  mysql: {{enabled: false}}
  redis: {{enabled: false}}
  clickhouse: {{enabled: false}}
  kafka:
    external:
      bootstrapServers: ['127.0.0.1:{kafka}']
      sasl: {{mechanism: PLAIN, user: wandb, passwordSecret: {{name: broker, key: password}}}}
  minio:
    external: {{provider: s3-compatible, bucket: wandb-files, endpoint: '127.0.0.1:{s3}', region: us-east-1, credentialsSecret: {{name: bucket}}, forcePathStyle: true, tls: {{enabled: false}}}}
",
        kafka = kafka.port,
        s3 = s3.port,
    );
    h.apply_yaml("apps", &yaml).await;
    h.wait_ready("apps", "wandb").await;

    // Kafka, SASL PLAIN: kcat (Debian's, librdkafka 2.0) with the keys, then with the URL's
    // decoded parts; a wrong password is refused by the broker.
    let keys = h.secret_data("apps", "wandb-kafka-connection").await.unwrap();
    assert_eq!((keys["KAFKA_TLS"].as_str(), keys["KAFKA_SASL_MECHANISM"].as_str()), ("false", "PLAIN"));
    let sasl = kcat_sasl(
        &keys["KAFKA_BOOTSTRAP_SERVERS"],
        &keys["KAFKA_SASL_MECHANISM"],
        &keys["KAFKA_SASL_USER"],
        &keys["KAFKA_SASL_PASSWORD"],
    );
    assert_eq!(kcat_round_trip(&sasl, "wandb-keys", "from the keys").trim(), "from the keys");
    let url = parse(&keys["URL"]);
    assert!(keys["URL"].ends_with("?mechanism=PLAIN"), "{}", keys["URL"]);
    let bootstrap = format!("{}:{}", url.host, url.port);
    let sasl = kcat_sasl(&bootstrap, "PLAIN", &url.user, &url.password);
    assert_eq!(kcat_round_trip(&sasl, "wandb-url", "from the URL").trim(), "from the URL");
    let mut wrong = kcat_sasl(&bootstrap, "PLAIN", &url.user, "wrong");
    wrong.push("-L".to_owned());
    let wrong: Vec<&str> = wrong.iter().map(String::as_str).collect();
    let (ok, output) = attempt("kcat", &wrong);
    assert!(!ok && output.contains("Authentication failed"), "a wrong password: {output}");

    // Kafka, SCRAM-SHA-512 (kcat 1.7's librdkafka 2.0.2 fails SCRAM against Kafka 4.1 with the
    // right password, so kafka-python, Debian's 2.0.2, speaks it), from the Secret's keys as
    // its environment.
    let patch = serde_json::json!({"spec": {"kafka": {"external": {"sasl": {"mechanism": "SCRAM-SHA-512"}}}}});
    h.wandb_api("apps")
        .patch("wandb", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(patch))
        .await
        .unwrap();
    h.eventually("the SCRAM connection Secret", || async {
        let keys = h.secret_data("apps", "wandb-kafka-connection").await.unwrap_or_default();
        keys.get("KAFKA_SASL_MECHANISM").map(String::as_str) == Some("SCRAM-SHA-512")
    })
    .await;
    let keys = h.secret_data("apps", "wandb-kafka-connection").await.unwrap();
    let output = Command::new("/usr/bin/python3").args(["-c", KAFKA_PYTHON]).env_clear().envs(&keys).output().unwrap();
    assert!(output.status.success(), "kafka-python: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "from kafka-python");
    let mut wrong = keys.clone();
    wrong.insert("KAFKA_SASL_PASSWORD".to_owned(), "wrong".to_owned());
    let script = KAFKA_PYTHON.replace("timeout=30", "timeout=10");
    let output = Command::new("/usr/bin/python3").args(["-c", &script]).env_clear().envs(&wrong).output().unwrap();
    assert!(!output.status.success(), "kafka-python with a wrong password succeeded");

    // S3: s3cmd (Debian's 2.3) with the keys, then with the URL's decoded parts: upload, list,
    // download; a wrong secret key is refused (SignatureDoesNotMatch).
    let keys = h.secret_data("apps", "wandb-minio-connection").await.unwrap();
    assert_eq!((keys["MINIO_TLS"].as_str(), keys["MINIO_BUCKET"].as_str()), ("false", "wandb-files"));
    let endpoint = format!("{}:{}", keys["MINIO_HOST"], keys["MINIO_PORT"]);
    let s3cmd = |endpoint: &str, access: &str, secret: &str, args: &[&str]| {
        let mut all = vec![
            "-c".to_owned(),
            "/dev/null".to_owned(),
            "--no-ssl".to_owned(),
            format!("--host={endpoint}"),
            format!("--host-bucket={endpoint}"),
            format!("--access_key={access}"),
            format!("--secret_key={secret}"),
            format!("--region={}", keys["MINIO_REGION"]),
        ];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        attempt("s3cmd", &all)
    };
    let file = std::env::temp_dir().join(format!("wandb-s3-check-{}", std::process::id()));
    std::fs::write(&file, "from s3cmd").unwrap();
    let target = format!("s3://{}/check.txt", keys["MINIO_BUCKET"]);
    let (ok, output) = s3cmd(
        &endpoint,
        &keys["MINIO_ACCESS_KEY"],
        &keys["MINIO_SECRET_KEY"],
        &["put", &file.display().to_string(), &target],
    );
    assert!(ok, "s3cmd put: {output}");
    let url = parse(&keys["URL"]);
    assert_eq!(url.path, "wandb-files");
    let (ok, listing) =
        s3cmd(&format!("{}:{}", url.host, url.port), &url.user, &url.password, &["ls", "s3://wandb-files"]);
    assert!(ok && listing.contains("s3://wandb-files/check.txt"), "s3cmd ls: {listing}");
    let back = file.with_extension("back");
    let (ok, output) = s3cmd(
        &endpoint,
        &keys["MINIO_ACCESS_KEY"],
        &keys["MINIO_SECRET_KEY"],
        &["get", "--force", &target, &back.display().to_string()],
    );
    assert!(ok, "s3cmd get: {output}");
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "from s3cmd");
    let (ok, output) = s3cmd(&endpoint, &keys["MINIO_ACCESS_KEY"], "wrong", &["ls", "s3://wandb-files"]);
    assert!(!ok && output.contains("SignatureDoesNotMatch"), "a wrong secret key: {output}");
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&back);
}

/// Redis behind Sentinel: a real redis-server and a real Sentinel monitoring it; the
/// connection Secret's sentinel `URL` names each Sentinel, which redis-cli asks for the master
/// (`SENTINEL get-master-addr-by-name`), and then the master answers `PING` with the URL's
/// user and password. (No client of the three takes the multi-host sentinel URL whole:
/// redis-cli takes one host, redis-py and go-redis have their own sentinel constructors.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_sentinel_url_leads_redis_cli_to_the_master() {
    let master = servers::redis(Some(PASSWORD));
    let sentinel = servers::redis_sentinel(&master, "wandb-master", PASSWORD);
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.secret("apps", "cache", &[("password", PASSWORD)]).await;
    let yaml = format!(
        "apiVersion: apps.wandb.com/v2
kind: WeightsAndBiases
metadata:
  name: wandb
spec:
  size: dev
  mysql: {{enabled: false}}
  kafka: {{enabled: false}}
  minio: {{enabled: false}}
  clickhouse: {{enabled: false}}
  redis:
    external:
      passwordSecret: {{name: cache, key: password}}
      sentinel: {{hosts: ['127.0.0.1:{port}'], masterName: wandb-master}}
",
        port = sentinel.port
    );
    h.apply_yaml("apps", &yaml).await;
    h.wait_ready("apps", "wandb").await;
    let keys = h.secret_data("apps", "wandb-redis-connection").await.unwrap();
    let url = &keys["URL"];
    let (rest, query) = url.split_once('?').unwrap();
    assert_eq!(query, "master=wandb-master");
    let (userinfo, hosts) = rest.split_once("://").unwrap().1.rsplit_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap();
    assert_eq!(decode(user), "default");
    for host in hosts.split(',') {
        let (host, port) = host.rsplit_once(':').unwrap();
        let answer = run("redis-cli", &["-h", host, "-p", port, "SENTINEL", "get-master-addr-by-name", "wandb-master"]);
        let lines: Vec<&str> = answer.lines().collect();
        assert_eq!(lines, ["127.0.0.1", master.port.to_string().as_str()], "sentinel {host}:{port}");
        let master_url = format!("redis://{user}:{password}@{}:{}", lines[0], lines[1]);
        assert_eq!(run("redis-cli", &["-u", &master_url, "--no-auth-warning", "PING"]).trim(), "PONG");
    }
}
