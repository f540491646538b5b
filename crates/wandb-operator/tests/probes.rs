//! The reachability probes against real servers on 127.0.0.1 (`support::servers`): each
//! greeting succeeds against its own server and fails against another service or a closed port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::servers;
use wandb_operator::model::Endpoint;
use wandb_operator::model::{Greeting, ProbeTarget};
use wandb_operator::reconcile::{NetworkProber, Prober};

fn target(port: u16, greeting: Greeting) -> ProbeTarget {
    ProbeTarget { endpoint: Endpoint { host: "127.0.0.1".to_owned(), port }, greeting }
}

async fn probe(port: u16, greeting: Greeting) -> Result<Option<String>, String> {
    NetworkProber { timeout: Duration::from_secs(2) }.probe(&target(port, greeting)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_greeting_answers_only_from_its_own_service() {
    let mysql = servers::mariadb();
    let redis = servers::redis(Some("secret"));
    let open_redis = servers::redis(None);
    let clickhouse = servers::clickhouse();
    let kafka = servers::kafka().await;
    let s3 = servers::s3().await;
    let ping = || Greeting::HttpOk { path: "/ping".to_owned() };
    let head = || Greeting::HttpHead { path: "/wandb".to_owned() };

    // Their own services answer: MariaDB's handshake, Redis `-NOAUTH` and `+PONG`, the Kafka
    // fake's ApiVersions, ClickHouse's `/ping`, and any HTTP answer for a bucket HEAD.
    // The MySQL handshake carries the server's version: MariaDB says so in it.
    let version = probe(mysql.port, Greeting::MySql).await.unwrap().expect("the handshake names a version");
    assert!(version.contains("MariaDB"), "{version}");
    probe(redis.port, Greeting::Redis).await.unwrap();
    probe(open_redis.port, Greeting::Redis).await.unwrap();
    probe(kafka.port, Greeting::Kafka).await.unwrap();
    probe(clickhouse.http_port, ping()).await.unwrap();
    probe(clickhouse.server.port, Greeting::Tcp).await.unwrap();
    probe(s3.port, head()).await.unwrap();
    probe(clickhouse.http_port, head()).await.unwrap();

    // Another service does not pass for one.
    let wrong = [
        // Redis waits for a command, so a MySQL client waits in vain for the handshake.
        (redis.port, Greeting::MySql, "no answer within 2 s"),
        (mysql.port, Greeting::Redis, "not a Redis server"),
        (mysql.port, Greeting::Kafka, "Kafka"),
        // Redis reads a binary frame as an unfinished inline command and waits.
        (open_redis.port, Greeting::Kafka, "no answer within 2 s"),
        (s3.port, ping(), "answered 403"),
    ];
    for (port, greeting, reason) in wrong {
        let described = greeting.describe();
        let error = probe(port, greeting).await.expect_err(&described);
        assert!(error.contains(reason), "{described} on {port}: {error}");
    }

    // A closed port is refused, with a reason that does not depend on the OS.
    let closed = servers::free_port();
    for greeting in [Greeting::Tcp, Greeting::MySql, Greeting::Redis, Greeting::Kafka, ping()] {
        assert_eq!(probe(closed, greeting).await, Err("cannot connect: connection refused".to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_accepts_and_never_speaks_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let error = NetworkProber { timeout: Duration::from_millis(300) }.probe(&target(port, Greeting::MySql)).await;
    assert_eq!(error, Err("no answer within 0.3 s".to_owned()));
    hold.abort();
}
