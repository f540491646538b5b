//! External infrastructure (issue 11), end to end on both backends: the operator probes real
//! servers on 127.0.0.1 (MariaDB, redis-server and ClickHouse from Debian; protocol-level fakes
//! for Kafka and S3, which Debian does not package: `support::servers`) and publishes the
//! connection Secrets. The harness probes every second (`probe_interval`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use support::{Harness, servers};
use wandb_operator::api::{State, WeightsAndBiases};

fn redis_status(w: &WeightsAndBiases) -> (State, Vec<String>) {
    let s = w.status.as_ref().and_then(|s| s.redis_status.as_ref());
    (
        s.map_or(State::Unknown, |s| s.state),
        s.map(|s| s.details.iter().map(|d| d.code.clone()).collect()).unwrap_or_default(),
    )
}

/// Only Redis is used; the other components are off so that the scenario is about it alone.
fn redis_only(redis: &str) -> String {
    format!(
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n  mysql: {{enabled: false}}\n  kafka: {{enabled: false}}\n  minio: {{enabled: false}}\n  clickhouse: {{enabled: false}}\n  redis:\n{redis}"
    )
}

on_both_backends!(ext01_every_component_external_is_ready_with_its_connection_secret);
async fn ext01_every_component_external_is_ready_with_its_connection_secret(h: Harness) {
    let mysql = servers::mariadb();
    let redis = servers::redis(Some("redis-pw"));
    let clickhouse = servers::clickhouse();
    let kafka = servers::kafka().await;
    let s3 = servers::s3().await;
    h.namespace("apps").await;
    h.secret("apps", "db", &[("password", "p@ss:word")]).await;
    h.secret("apps", "cache", &[("auth", "redis-pw")]).await;
    h.secret("apps", "broker", &[("password", "kafka-pw")]).await;
    h.secret("apps", "bucket", &[("accessKey", "AKIAEXAMPLE"), ("secretKey", "s3/secret")]).await;
    h.secret("apps", "olap", &[("password", "ch-pw")]).await;
    let yaml = format!(
        "apiVersion: apps.wandb.com/v2
kind: WeightsAndBiases
metadata:
  name: wandb
spec:
  size: small
  mysql:
    external: {{host: 127.0.0.1, port: {mysql}, database: wandb_local, user: wandb, passwordSecret: {{name: db, key: password}}}}
  redis:
    external: {{host: 127.0.0.1, port: {redis}, passwordSecret: {{name: cache, key: auth}}}}
  kafka:
    external:
      bootstrapServers: ['127.0.0.1:{kafka}']
      sasl: {{mechanism: SCRAM-SHA-512, user: wandb, passwordSecret: {{name: broker, key: password}}}}
  minio:
    external: {{provider: s3-compatible, bucket: wandb-files, endpoint: '127.0.0.1:{s3}', region: us-east-1, credentialsSecret: {{name: bucket}}, forcePathStyle: true, tls: {{enabled: false}}}}
  clickhouse:
    external: {{host: 127.0.0.1, tcpPort: {ch}, httpPort: {ch_http}, database: default, user: default, passwordSecret: {{name: olap, key: password}}}}
",
        mysql = mysql.port,
        redis = redis.port,
        kafka = kafka.port,
        s3 = s3.port,
        ch = clickhouse.server.port,
        ch_http = clickhouse.http_port,
    );
    h.apply_yaml("apps", &yaml).await;
    let w = h.wait_ready("apps", "wandb").await;
    let s = w.status.unwrap();

    let m = s.mysql_status.unwrap();
    let c = m.connection.unwrap();
    assert_eq!((c.host.as_str(), c.port.clone()), ("127.0.0.1", mysql.port.to_string()));
    assert_eq!(m.credentials_secret.unwrap().name, "db");
    assert_eq!(m.connection_secret.as_deref(), Some("wandb-mysql-connection"));
    assert!(
        m.details.iter().any(|d| d.code == "Reachable" && d.message.contains("MySQL handshake")),
        "{:?}",
        m.details
    );
    // MariaDB answers the MySQL protocol, but it is not the MySQL 8.4 W&B needs: its version is
    // reported and flagged, and the component stays ready (a warning, not an outage).
    let version = m.version.clone().unwrap_or_default();
    assert!(version.contains("MariaDB"), "{version:?}");
    let below = m.details.iter().find(|d| d.code == "VersionBelowMinimum").expect("VersionBelowMinimum");
    assert!(below.message.contains("MariaDB, not MySQL") && below.message.contains("8.4"), "{}", below.message);
    assert!(m.ready && m.state == State::Ready, "{:?}", m.details);
    let r = s.redis_status.unwrap();
    // Versions their greetings do not carry, read once authenticated (`INFO server`, `SELECT
    // version()`): what the installed servers are.
    assert_eq!(r.version, servers::installed_version("redis-server"), "{:?}", r.details);
    assert_eq!(r.connection.unwrap().port, Some(redis.port.to_string()));
    assert!(r.details.iter().any(|d| d.code == "Reachable" && d.message.contains("Redis PING")));
    let k = s.kafka_status.unwrap();
    assert_eq!(k.connection.unwrap().port, kafka.port.to_string());
    assert!(k.details.iter().any(|d| d.message.contains("Kafka ApiVersions")));
    let o = s.minio_status.unwrap();
    assert_eq!(o.connection.unwrap().access_key, None, "a cloud access key is not published in status");
    let ch = s.clickhouse_status.unwrap();
    let ch_version = ch.version.clone().unwrap_or_default();
    if let Some(installed) = servers::installed_version("clickhouse-server") {
        assert!(ch_version.starts_with(&installed), "{ch_version:?} is not {installed}");
    }
    assert!(ch_version.starts_with(|c: char| c.is_ascii_digit()), "{:?}", ch.details);
    // Debian's ClickHouse (18.16) is far below W&B's minimum: a warning, not an outage.
    assert!(
        ch.details.iter().any(|d| d.code == "VersionBelowMinimum" && d.message.contains("25.8")),
        "{:?}",
        ch.details
    );
    assert!(ch.ready);
    assert_eq!(ch.connection.unwrap().user, "default");
    assert!(ch.details.iter().any(|d| d.message.contains("HTTP GET /ping")));

    // The connection Secrets: status keys, copied credentials and the URL.
    let secret = h.secret_data("apps", "wandb-mysql-connection").await.unwrap();
    assert_eq!(secret["MYSQL_PASSWORD"], "p@ss:word");
    assert_eq!(secret["URL"], format!("mysql://wandb:p%40ss%3Aword@127.0.0.1:{}/wandb_local", mysql.port));
    let secret = h.secret_data("apps", "wandb-redis-connection").await.unwrap();
    assert_eq!(secret["URL"], format!("redis://default:redis-pw@127.0.0.1:{}", redis.port));
    let secret = h.secret_data("apps", "wandb-kafka-connection").await.unwrap();
    assert_eq!(secret["KAFKA_BOOTSTRAP_SERVERS"], format!("127.0.0.1:{}", kafka.port));
    assert_eq!(secret["URL"], format!("kafka://wandb:kafka-pw@127.0.0.1:{}?mechanism=SCRAM-SHA-512", kafka.port));
    let secret = h.secret_data("apps", "wandb-minio-connection").await.unwrap();
    assert_eq!(
        (secret["MINIO_ACCESS_KEY"].as_str(), secret["MINIO_SECRET_KEY"].as_str()),
        ("AKIAEXAMPLE", "s3/secret")
    );
    assert_eq!(
        secret["URL"],
        format!("s3://AKIAEXAMPLE:s3%2Fsecret@127.0.0.1:{}/wandb-files?region=us-east-1", s3.port)
    );
    let secret = h.secret_data("apps", "wandb-clickhouse-connection").await.unwrap();
    assert_eq!(secret["CLICKHOUSE_HTTP_PORT"], clickhouse.http_port.to_string());
    assert_eq!(secret["URL"], format!("clickhouse://default:ch-pw@127.0.0.1:{}/default", clickhouse.server.port));

    // No vendor object was created.
    assert!(h.names("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters", "apps").await.is_empty());
    assert!(h.names("kafka.strimzi.io/v1", "Kafka", "kafkas", "apps").await.is_empty());
    assert!(h.names("minio.min.io/v2", "Tenant", "tenants", "apps").await.is_empty());
    // Credentials are never in status.
    let text = serde_json::to_string(&h.wandb_api("apps").get("wandb").await.unwrap().status).unwrap();
    for value in ["p@ss:word", "redis-pw", "kafka-pw", "s3/secret", "ch-pw", "AKIAEXAMPLE"] {
        assert!(!text.contains(value), "{value} leaked into status");
    }
}

on_both_backends!(ext02_a_missing_secret_or_key_is_credentials_missing_until_created);
async fn ext02_a_missing_secret_or_key_is_credentials_missing_until_created(h: Harness) {
    let redis = servers::redis(Some("pw-1"));
    h.namespace("apps").await;
    let yaml = redis_only(&format!(
        "    external: {{host: 127.0.0.1, port: {}, passwordSecret: {{name: cache, key: auth}}}}\n",
        redis.port
    ));
    h.apply_yaml("apps", &yaml).await;
    let apps = h.ns("apps");
    let w = h
        .wait_for("apps", "wandb", "CredentialsMissing", |w| {
            redis_status(w).1.contains(&"CredentialsMissing".to_owned())
        })
        .await;
    let detail = w.status.unwrap().redis_status.unwrap().details.into_iter().find(|d| d.code == "CredentialsMissing");
    assert!(detail.unwrap().message.contains(&format!("Secret {apps}/cache does not exist")));
    // The Secret without the key: the key is named.
    h.secret("apps", "cache", &[("password", "pw-1")]).await;
    let w = h
        .wait_for("apps", "wandb", "the key named", |w| {
            w.status.as_ref().and_then(|s| s.redis_status.as_ref()).is_some_and(|r| {
                r.details.iter().any(|d| d.message.contains(&format!("key auth of Secret {apps}/cache")))
            })
        })
        .await;
    assert_eq!(redis_status(&w).0, State::Error);
    assert!(
        h.secret_data("apps", "wandb-redis-connection").await.is_none(),
        "no connection Secret without credentials"
    );
    h.secret("apps", "cache", &[("auth", "pw-1")]).await;
    let w = h.wait_ready("apps", "wandb").await;
    assert_eq!(w.status.unwrap().redis_status.unwrap().connection_secret.as_deref(), Some("wandb-redis-connection"));
    // A rotated password reaches the connection Secret.
    h.secret("apps", "cache", &[("auth", "pw-2")]).await;
    h.eventually("the rotated password in the connection Secret", || async {
        h.secret_data("apps", "wandb-redis-connection").await.is_some_and(|s| s["REDIS_PASSWORD"] == "pw-2")
    })
    .await;
}

on_both_backends!(ext03_a_stopped_server_is_unreachable_and_ready_again_once_restarted);
async fn ext03_a_stopped_server_is_unreachable_and_ready_again_once_restarted(h: Harness) {
    let mut redis = servers::redis(None);
    h.namespace("apps").await;
    h.apply_yaml("apps", &redis_only(&format!("    external: {{host: 127.0.0.1, port: {}}}\n", redis.port))).await;
    let ready = h.wait_ready("apps", "wandb").await;
    // Nothing changes: probes go on every second, the status is not rewritten.
    let version = ready.resource_version();
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let later = h.wandb_api("apps").get("wandb").await.unwrap();
    assert_eq!(
        later.resource_version(),
        version,
        "status rewritten while nothing changed:\nbefore {}\nafter {}",
        serde_json::to_string(&ready.status).unwrap(),
        serde_json::to_string(&later.status).unwrap()
    );

    redis.stop();
    let w = h.wait_for("apps", "wandb", "Unreachable", |w| redis_status(w).1.contains(&"Unreachable".to_owned())).await;
    let r = w.status.unwrap().redis_status.unwrap();
    assert_eq!(r.state, State::Degraded, "it was ready: losing it is Degraded");
    let message = &r.details.iter().find(|d| d.code == "Unreachable").unwrap().message;
    assert!(
        message.contains(&format!("127.0.0.1:{}", redis.port)) && message.contains("connection refused"),
        "{message}"
    );
    // Still Degraded on the following probes (not flapping to Updating).
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(redis_status(&h.wandb_api("apps").get("wandb").await.unwrap()).0, State::Degraded);

    redis.start();
    h.wait_ready("apps", "wandb").await;
}

on_both_backends!(ext04_managed_to_external_and_back_with_detach_keeps_the_data);
async fn ext04_managed_to_external_and_back_with_detach_keeps_the_data(h: Harness) {
    let redis = servers::redis(None);
    h.namespace("apps").await;
    h.apply_yaml("apps", &redis_only("    enabled: true\n")).await;
    let w = h.wait_ready("apps", "wandb").await;
    let uid = w.uid().unwrap();
    let redis_api: Api<DynamicObject> = h.dyn_api("apps", "redis.redis.opstreelabs.in/v1beta2", "Redis", "redis");
    let managed = redis_api.get("wandb-redis").await.unwrap();
    let claims = h.pvcs("apps").await;
    assert!(!claims.is_empty());
    let managed_secret = h.secret_data("apps", "wandb-redis-connection").await.unwrap();
    // The managed Redis requires its generated password (2026 edition).
    let password = h.secret_data("apps", "wandb-redis-credentials").await.unwrap()["password"].clone();
    assert_eq!(managed_secret["REDIS_PASSWORD"], password);
    assert!(
        managed_secret["URL"].starts_with(&format!("redis://default:{password}@wandb-redis.")),
        "{managed_secret:?}"
    );

    // To external: the managed Redis is detached (kept, with its claim), the connection
    // Secret now points at the external server.
    let external = serde_json::json!({"spec": {"redis": {"external": {"host": "127.0.0.1", "port": redis.port}}}});
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(&external)).await.unwrap();
    h.eventually("the connection Secret points at the external Redis", || async {
        h.secret_data("apps", "wandb-redis-connection")
            .await
            .is_some_and(|s| s["URL"] == format!("redis://127.0.0.1:{}", redis.port))
    })
    .await;
    h.wait_ready("apps", "wandb").await;
    h.eventually("the managed Redis is detached", || async {
        redis_api.get("wandb-redis").await.is_ok_and(|r| !r.owner_references().iter().any(|o| o.uid == uid))
    })
    .await;
    let kept = redis_api.get("wandb-redis").await.unwrap();
    assert_eq!(kept.uid(), managed.uid(), "the managed Redis is the same object");
    for claim in &claims {
        assert!(h.pvcs("apps").await.contains(claim), "claim {claim} lost");
    }

    // Back to managed: the same Redis is adopted again, with its data.
    let back = serde_json::json!({"spec": {"redis": {"external": null}}});
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(&back)).await.unwrap();
    h.eventually("the managed Redis is adopted again", || async {
        redis_api.get("wandb-redis").await.is_ok_and(|r| r.owner_references().iter().any(|o| o.uid == uid))
    })
    .await;
    assert_eq!(redis_api.get("wandb-redis").await.unwrap().uid(), managed.uid());
    // With the same password: the generated Secret was kept through the detach.
    h.eventually("the connection Secret points at the managed Redis again", || async {
        h.secret_data("apps", "wandb-redis-connection").await.is_some_and(|s| s["URL"] == managed_secret["URL"])
    })
    .await;
    h.wait_ready("apps", "wandb").await;
}

on_both_backends!(ext05_managed_components_publish_connection_secrets_that_follow_their_credentials);
async fn ext05_managed_components_publish_connection_secrets_that_follow_their_credentials(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml(
        "apps",
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n",
    )
    .await;
    let w = h.wait_ready("apps", "wandb").await;
    let s = w.status.unwrap();
    let apps = h.ns("apps");
    for (component, status) in [
        ("mysql", s.mysql_status.as_ref().and_then(|c| c.connection_secret.clone())),
        ("redis", s.redis_status.as_ref().and_then(|c| c.connection_secret.clone())),
        ("kafka", s.kafka_status.as_ref().and_then(|c| c.connection_secret.clone())),
        ("minio", s.minio_status.as_ref().and_then(|c| c.connection_secret.clone())),
        ("clickhouse", s.clickhouse_status.as_ref().and_then(|c| c.connection_secret.clone())),
    ] {
        assert_eq!(status, Some(format!("wandb-{component}-connection")));
    }
    // The application user (never Percona's `root`), its password generated once into ours.
    let app_user = h.secret_data("apps", "wandb-mysql-app-user").await.unwrap();
    let mysql = h.secret_data("apps", "wandb-mysql-connection").await.unwrap();
    assert_eq!(mysql["MYSQL_PASSWORD"], app_user["password"]);
    assert_eq!(
        mysql["URL"],
        format!(
            "mysql://wandb_local:{}@wandb-mysql-pxc.{apps}.svc.cluster.local:3306/wandb_local",
            app_user["password"]
        )
    );
    let minio_config = h.secret_data("apps", "wandb-minio-config").await.unwrap();
    let minio = h.secret_data("apps", "wandb-minio-connection").await.unwrap();
    assert_eq!(minio["MINIO_SECRET_KEY"], minio_config["MINIO_ROOT_PASSWORD"]);
    assert_eq!(minio["MINIO_ACCESS_KEY"], minio_config["MINIO_ROOT_USER"]);
    let kafka = h.secret_data("apps", "wandb-kafka-connection").await.unwrap();
    assert_eq!(kafka["URL"], format!("kafka://wandb-kafka-kafka-bootstrap.{apps}.svc:9092"));
    let clickhouse = h.secret_data("apps", "wandb-clickhouse-connection").await.unwrap();
    assert!(clickhouse["URL"].starts_with("clickhouse://wandb:"));

    // A password rotated in the application user's Secret (Percona applies it with ALTER USER)
    // reaches the connection Secret.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = h.api("apps");
    let rotate = serde_json::json!({"stringData": {"password": "rotated-app-password"}});
    secrets.patch("wandb-mysql-app-user", &PatchParams::default(), &Patch::Merge(&rotate)).await.unwrap();
    h.eventually("the rotated password in the connection Secret", || async {
        h.secret_data("apps", "wandb-mysql-connection")
            .await
            .is_some_and(|s| s["MYSQL_PASSWORD"] == "rotated-app-password")
    })
    .await;
}

on_both_backends!(ext06_a_hand_edit_of_a_connection_secret_is_reverted);
async fn ext06_a_hand_edit_of_a_connection_secret_is_reverted(h: Harness) {
    h.namespace("apps").await;
    let minio_only = "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n  mysql: {enabled: false}\n  redis: {enabled: false}\n  kafka: {enabled: false}\n  clickhouse: {enabled: false}\n";
    h.apply_yaml("apps", minio_only).await;
    h.wait_ready("apps", "wandb").await;
    let before = h.secret_data("apps", "wandb-minio-connection").await.unwrap();
    let generated = h.secret_data("apps", "wandb-minio-config").await.unwrap();
    // `kubectl edit` (an update by another field manager) of one value, then of a deleted key.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = h.api("apps");
    let params = PatchParams { field_manager: Some("kubectl-edit".into()), ..Default::default() };
    for edit in [
        serde_json::json!({"stringData": {"MINIO_SECRET_KEY": "hand-edited"}}),
        serde_json::json!({"data": {"URL": null}}),
    ] {
        secrets.patch("wandb-minio-connection", &params, &Patch::Merge(&edit)).await.unwrap();
        h.eventually("the connection Secret holds the operator's values again", || async {
            h.secret_data("apps", "wandb-minio-connection").await.is_some_and(|s| s == before)
        })
        .await;
    }
    assert_eq!(h.secret_data("apps", "wandb-minio-config").await.unwrap(), generated, "generated values are kept");
}
