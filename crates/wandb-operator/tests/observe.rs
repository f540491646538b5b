//! Status readers per vendor on realistic status shapes: not yet reported, progressing, ready,
//! stale generation, vendor error, degraded; plus the connection keys of PRODUCT §2.2.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

mod support;

use support::fixtures as common;

use serde_json::{Value, json};
use wandb_operator::api::{Size, State, WeightsAndBiasesSpec};
use wandb_operator::model::{ClickHouse, Edition, Kafka, Minio, MySql, Redis};
use wandb_operator::model::{ClickHouseConfig, KafkaConfig, MinioConfig, MySqlConfig, RedisConfig, resolve};
use wandb_operator::registry::Registry;
use wandb_operator::vendors::{Desired, ObjectKey, Observed};

fn configs(size: Size) -> (MySqlConfig, RedisConfig, KafkaConfig, MinioConfig, ClickHouseConfig) {
    configs_at(size, Edition::LATEST)
}

fn configs_at(size: Size, edition: Edition) -> (MySqlConfig, RedisConfig, KafkaConfig, MinioConfig, ClickHouseConfig) {
    let c = resolve(&common::wandb("wandb", "apps", WeightsAndBiasesSpec { size, ..Default::default() }))
        .unwrap()
        .at_edition(edition);
    (
        c.plan::<MySql>().unwrap().enabled().unwrap().clone(),
        c.plan::<Redis>().unwrap().enabled().unwrap().clone(),
        c.plan::<Kafka>().unwrap().enabled().unwrap().clone(),
        c.plan::<Minio>().unwrap().enabled().unwrap().clone(),
        c.plan::<ClickHouse>().unwrap().enabled().unwrap().clone(),
    )
}

/// What the API server would return for the desired objects: the body with a generation and
/// the given status per kind.
fn observed(desired: &Desired, generation: i64, status: impl Fn(&str) -> Option<Value>) -> Observed {
    let mut observed = Observed::default();
    for object in &desired.objects {
        let mut body = object.body.clone();
        body["metadata"]["generation"] = json!(generation);
        if let Some(s) = status(&object.key.kind) {
            body["status"] = s;
        }
        observed.insert(object.key.clone(), body);
    }
    observed
}

fn statefulset(namespace: &str, name: &str, replicas: i32, ready: i32, observed_generation: i64) -> (ObjectKey, Value) {
    (
        ObjectKey::new("apps/v1", "StatefulSet", namespace, name),
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": namespace, "generation": 1},
               "spec": {"replicas": replicas, "selector": {}, "template": {}, "serviceName": name},
               "status": {"replicas": replicas, "readyReplicas": ready, "observedGeneration": observed_generation}}),
    )
}

fn codes<C>(s: &wandb_operator::api::ComponentStatus<C>) -> Vec<&str> {
    s.details.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn percona_readiness() {
    let v = Registry::default();
    let (mysql, ..) = configs(Size::Small);
    let desired = v.mysql.desired(&mysql).unwrap();
    let pxc = |state: &'static str, generation: i64, ready: i32| {
        let s = json!({"state": state, "observedGeneration": generation, "pxc": {"size": 3, "ready": ready, "status": state}, "host": "wandb-mysql-proxysql.apps"});
        move |_: &str| Some(s.clone())
    };

    let missing = v.mysql.observe(&mysql, &Observed::default(), false);
    assert_eq!((missing.ready, missing.state, codes(&missing)), (false, State::Updating, vec!["Creating"]));

    let unreported = v.mysql.observe(&mysql, &observed(&desired, 1, |_| None), false);
    assert_eq!((unreported.state, codes(&unreported)), (State::Updating, vec!["WaitingForVendor"]));

    let progressing = v.mysql.observe(&mysql, &observed(&desired, 1, pxc("initializing", 1, 0)), false);
    assert_eq!(
        (progressing.ready, progressing.state, codes(&progressing)),
        (false, State::Updating, vec!["VendorProgressing"])
    );

    let ready = v.mysql.observe(&mysql, &observed(&desired, 1, pxc("ready", 1, 3)), false);
    assert_eq!((ready.ready, ready.state), (true, State::Ready));

    // The vendor still reports ready, but for an older generation: not ready yet.
    let stale = v.mysql.observe(&mysql, &observed(&desired, 2, pxc("ready", 1, 3)), true);
    assert_eq!((stale.ready, stale.state, codes(&stale)), (false, State::Updating, vec!["WaitingForVendor"]));
    assert!(stale.details[0].message.contains("generation 1 of 2"));

    let error = v.mysql.observe(
        &mysql,
        &observed(&desired, 1, |_| {
            Some(json!({"state": "error", "message": ["PXC size must be odd"], "observedGeneration": 1}))
        }),
        true,
    );
    assert_eq!((error.state, codes(&error)), (State::Error, vec!["VendorError"]));
    assert!(error.details[0].message.contains("PXC size must be odd"));

    let degraded = v.mysql.observe(&mysql, &observed(&desired, 1, pxc("initializing", 1, 2)), true);
    assert_eq!((degraded.state, codes(&degraded)), (State::Degraded, vec!["Degraded"]));
    let starting = v.mysql.observe(&mysql, &observed(&desired, 1, pxc("initializing", 1, 2)), false);
    assert_eq!(starting.state, State::Updating);

    // The latest edition: HAProxy's writer service and the application user's Secret.
    let conn = ready.connection.unwrap();
    assert_eq!((conn.host.as_str(), conn.port.as_str()), ("wandb-mysql-haproxy.apps.svc.cluster.local", "3306"));
    let secret = ready.credentials_secret.unwrap();
    assert_eq!((secret.name.as_str(), secret.key.as_str()), ("wandb-mysql-app-user", "password"));
    assert_eq!(v.mysql.connection_extras(&mysql)["MYSQL_USER"], "wandb_local");
    assert_eq!(v.mysql.connection_extras(&mysql)["MYSQL_DATABASE"], "wandb_local");

    // The 2025 edition, which existing clusters keep: ProxySQL and Percona's `root`.
    let legacy = configs_at(Size::Small, Edition::Y2025).0;
    let kept = v.mysql.observe(&legacy, &observed(&desired, 1, pxc("ready", 1, 3)), false);
    let conn = kept.connection.unwrap();
    assert_eq!(conn.host, "wandb-mysql-proxysql.apps.svc.cluster.local");
    let secret = kept.credentials_secret.unwrap();
    assert_eq!((secret.name.as_str(), secret.key.as_str()), ("wandb-mysql-secrets", "root"));
    assert_eq!(v.mysql.connection_extras(&legacy)["MYSQL_USER"], "root");

    let (dev_mysql, ..) = configs(Size::Dev);
    let dev = v.mysql.observe(&dev_mysql, &Observed::default(), false);
    assert_eq!(dev.connection.unwrap().host, "wandb-mysql-pxc.apps.svc.cluster.local");
}

#[test]
fn opstree_readiness_from_statefulsets_and_master() {
    let v = Registry::default();
    let (_, redis, ..) = configs(Size::Small);
    let desired = v.redis.desired(&redis).unwrap();
    assert_eq!(desired.reads.len(), 2, "both StatefulSets are read back");
    let with = |sts: Vec<(ObjectKey, Value)>, master: Option<&str>| {
        let mut o = observed(&desired, 1, |kind| (kind == "RedisReplication").then(|| json!({"masterNode": master})));
        for (k, body) in sts {
            o.insert(k, body);
        }
        o
    };

    let no_sts = v.redis.observe(&redis, &with(vec![], None), false);
    assert_eq!((no_sts.state, codes(&no_sts)), (State::Updating, vec!["VendorProgressing", "VendorProgressing"]));

    let ready_sets =
        || vec![statefulset("apps", "wandb-redis", 3, 3, 1), statefulset("apps", "wandb-redis-sentinel", 3, 3, 1)];
    let no_master = v.redis.observe(&redis, &with(ready_sets(), None), false);
    assert!(!no_master.ready);
    assert!(no_master.details[0].message.contains("no master elected"));

    let ready = v.redis.observe(&redis, &with(ready_sets(), Some("wandb-redis-0")), false);
    assert_eq!((ready.ready, ready.state), (true, State::Ready));

    let stale = v.redis.observe(
        &redis,
        &with(
            vec![statefulset("apps", "wandb-redis", 3, 3, 0), statefulset("apps", "wandb-redis-sentinel", 3, 3, 1)],
            Some("wandb-redis-0"),
        ),
        true,
    );
    assert_eq!(codes(&stale), vec!["WaitingForVendor", "Ready"]);

    let degraded = v.redis.observe(
        &redis,
        &with(
            vec![statefulset("apps", "wandb-redis", 3, 2, 1), statefulset("apps", "wandb-redis-sentinel", 3, 3, 1)],
            Some("wandb-redis-0"),
        ),
        true,
    );
    assert_eq!(degraded.state, State::Degraded);

    let conn = ready.connection.unwrap();
    assert_eq!(conn.sentinel_host.as_deref(), Some("wandb-redis-sentinel.apps.svc.cluster.local"));
    assert_eq!(conn.sentinel_port.as_deref(), Some("26379"));
    assert_eq!(conn.master_name.as_deref(), Some("gorilla"));
    assert_eq!(conn.host, None);

    let (_, dev_redis, ..) = configs(Size::Dev);
    let dev_desired = v.redis.desired(&dev_redis).unwrap();
    let mut o = observed(&dev_desired, 1, |_| None);
    let (k, body) = statefulset("apps", "wandb-redis", 1, 1, 1);
    o.insert(k, body);
    let dev = v.redis.observe(&dev_redis, &o, false);
    assert!(dev.ready);
    let conn = dev.connection.unwrap();
    assert_eq!(
        (conn.host.as_deref(), conn.port.as_deref()),
        (Some("wandb-redis.apps.svc.cluster.local"), Some("6379"))
    );
}

#[test]
fn strimzi_readiness_and_bootstrap_from_status() {
    let v = Registry::default();
    let (_, _, kafka, ..) = configs(Size::Small);
    let desired = v.kafka.desired(&kafka).unwrap();
    let status = |cond: Value, generation: i64, pool_replicas: i32| {
        move |kind: &str| match kind {
            "Kafka" => Some(json!({"conditions": [cond.clone()], "observedGeneration": generation,
                "listeners": [{"name": "plain", "bootstrapServers": "wandb-kafka-kafka-bootstrap.apps.svc:9092",
                               "addresses": [{"host": "wandb-kafka-kafka-bootstrap.apps.svc", "port": 9092}]},
                              {"name": "tls", "bootstrapServers": "wandb-kafka-kafka-bootstrap.apps.svc:9093",
                               "addresses": [{"host": "wandb-kafka-kafka-bootstrap.apps.svc", "port": 9093}]}]})),
            _ => Some(json!({"observedGeneration": generation, "replicas": pool_replicas, "nodeIds": [0, 1, 2]})),
        }
    };
    let ready_cond = json!({"type": "Ready", "status": "True"});

    // `small` of the latest edition gives clients the TLS listener.
    let before = v.kafka.observe(&kafka, &Observed::default(), false);
    let conn = before.connection.unwrap();
    assert_eq!(
        (conn.host.as_str(), conn.port.as_str()),
        ("wandb-kafka-kafka-bootstrap.apps.svc.cluster.local", "9093")
    );

    let creating = v.kafka.observe(
        &kafka,
        &observed(&desired, 1, status(json!({"type": "NotReady", "status": "True", "reason": "Creating"}), 1, 0)),
        false,
    );
    assert_eq!((creating.state, creating.ready), (State::Updating, false));

    let ready = v.kafka.observe(&kafka, &observed(&desired, 1, status(ready_cond.clone(), 1, 3)), false);
    assert_eq!((ready.ready, ready.state), (true, State::Ready));
    let conn = ready.connection.unwrap();
    assert_eq!((conn.host.as_str(), conn.port.as_str()), ("wandb-kafka-kafka-bootstrap.apps.svc", "9093"));
    assert_eq!(v.kafka.connection_extras(&kafka)["KAFKA_TLS"], "true");
    assert_eq!(v.kafka.connection_sources(&kafka)[0].1.name, "wandb-kafka-cluster-ca-cert");
    // The 2025 edition, which existing installs keep, gave the plain listener.
    let legacy = configs_at(Size::Small, Edition::Y2025).2;
    let kept = v.kafka.observe(&legacy, &observed(&desired, 1, status(ready_cond.clone(), 1, 3)), false);
    assert_eq!(kept.connection.unwrap().port, "9092");
    assert_eq!(v.kafka.connection_extras(&legacy)["KAFKA_TLS"], "false");
    assert!(v.kafka.connection_sources(&legacy).is_empty());

    let stale = v.kafka.observe(&kafka, &observed(&desired, 2, status(ready_cond.clone(), 1, 3)), true);
    assert_eq!(codes(&stale), vec!["WaitingForVendor", "WaitingForVendor"]);

    let failed = v.kafka.observe(
        &kafka,
        &observed(&desired, 1, status(json!({"type": "NotReady", "status": "True", "reason": "UnsupportedKafkaVersionException", "message": "Unsupported Kafka.spec.kafka.version: 4.1.0"}), 1, 3)),
        true,
    );
    assert_eq!(failed.state, State::Error);
    assert!(failed.details[0].message.contains("Unsupported Kafka.spec.kafka.version"));

    let degraded = v.kafka.observe(&kafka, &observed(&desired, 1, status(ready_cond, 1, 2)), true);
    assert_eq!(degraded.state, State::Degraded);
}

#[test]
fn minio_readiness_and_access_key_from_the_generated_secret() {
    let v = Registry::default();
    let (.., minio, _) = configs(Size::Small);
    let desired = v.minio.desired(&minio).unwrap();
    let tenant = |state: &str, health: &str, available: i32| {
        let s = json!({"currentState": state, "healthStatus": health, "availableReplicas": available});
        move |_: &str| Some(s.clone())
    };
    let unreported = v.minio.observe(&minio, &observed(&desired, 1, |_| None), false);
    assert_eq!(codes(&unreported), vec!["WaitingForVendor"]);
    let progressing =
        v.minio.observe(&minio, &observed(&desired, 1, tenant("Waiting for MinIO TLS Certificate", "", 0)), false);
    assert!(progressing.details[0].message.contains("Waiting for MinIO TLS Certificate"));
    let failed = v.minio.observe(
        &minio,
        &observed(&desired, 1, tenant("Another MinIO Tenant already exists in the namespace", "", 0)),
        false,
    );
    assert_eq!(failed.state, State::Error);
    let degraded = v.minio.observe(&minio, &observed(&desired, 1, tenant("Initialized", "yellow", 2)), true);
    assert_eq!(degraded.state, State::Degraded);

    let mut o = observed(&desired, 1, tenant("Initialized", "green", 3));
    let secret = desired.secrets[0].materialize(&mut rand::rng());
    let user = secret.string_data.as_ref().unwrap()["MINIO_ROOT_USER"].clone();
    o.insert(desired.secrets[0].key.clone(), serde_json::to_value(&secret).unwrap());
    let ready = v.minio.observe(&minio, &o, false);
    assert_eq!((ready.ready, ready.state), (true, State::Ready));
    let conn = ready.connection.unwrap();
    assert_eq!((conn.host.as_str(), conn.port.as_str()), ("minio.apps.svc.cluster.local", "443"));
    assert_eq!(conn.access_key.as_deref(), Some(user.as_str()));
    let secret_ref = ready.credentials_secret.unwrap();
    assert_eq!((secret_ref.name.as_str(), secret_ref.key.as_str()), ("wandb-minio-config", "MINIO_ROOT_PASSWORD"));
    // The password is never in the status.
    let password = &secret.string_data.unwrap()["MINIO_ROOT_PASSWORD"];
    let status_json = serde_json::to_string(&ready.details).unwrap() + &serde_json::to_string(&conn).unwrap();
    assert!(!status_json.contains(password.as_str()));

    let (.., dev_minio, _) = configs(Size::Dev);
    assert_eq!(v.minio.observe(&dev_minio, &Observed::default(), false).connection.unwrap().port, "80");
}

#[test]
fn altinity_readiness_needs_keeper_and_installation() {
    // Status shapes as the real Altinity 0.25.6 writes them (tests/real_vendors.rs): a Keeper
    // installation carries `normalizedCompleted` (its generation); a server installation does
    // not, and names the tasks it completed (`taskIDsCompleted`, newest first).
    let v = Registry::default();
    let (.., clickhouse) = configs(Size::Small);
    let desired = v.clickhouse.desired(&clickhouse).unwrap();
    let chi = desired.objects.iter().find(|o| o.key.kind == "ClickHouseInstallation").unwrap();
    let task = chi.body["spec"]["taskID"].as_str().unwrap().to_owned();
    assert!(task.starts_with("wandb-"), "{task}");
    let status = |chk: &'static str, chi: &'static str, keeper_gen: i64, completed: Vec<String>| {
        move |kind: &str| {
            Some(if kind == "ClickHouseKeeperInstallation" {
                json!({"status": chk, "normalizedCompleted": {"metadata": {"generation": keeper_gen}}, "taskIDsCompleted": [""]})
            } else {
                json!({"status": chi, "taskIDsCompleted": completed, "error": "host wandb-0 failed"})
            })
        }
    };
    let done = || vec![task.clone(), "auto-1".to_owned()];
    let ready =
        v.clickhouse.observe(&clickhouse, &observed(&desired, 1, status("Completed", "Completed", 1, done())), false);
    assert_eq!((ready.ready, ready.state), (true, State::Ready));
    let keeper_pending =
        v.clickhouse.observe(&clickhouse, &observed(&desired, 1, status("InProgress", "Completed", 1, done())), false);
    assert_eq!((keeper_pending.ready, codes(&keeper_pending)), (false, vec!["VendorProgressing", "Ready"]));
    // The server installation completed an earlier spec (ours is not its newest task).
    let earlier = vec!["wandb-0123".to_owned(), task.clone()];
    let stale_chi =
        v.clickhouse.observe(&clickhouse, &observed(&desired, 1, status("Completed", "Completed", 1, earlier)), true);
    assert_eq!(codes(&stale_chi), vec!["Ready", "VendorProgressing"]);
    assert!(stale_chi.details[1].message.contains(&format!("waiting for task {task}")), "{:?}", stale_chi.details);
    let never =
        v.clickhouse.observe(&clickhouse, &observed(&desired, 1, status("Completed", "Completed", 1, vec![])), false);
    assert!(!never.ready);
    // The Keeper installation completed an earlier generation.
    let stale_keeper =
        v.clickhouse.observe(&clickhouse, &observed(&desired, 2, status("Completed", "Completed", 1, done())), true);
    assert_eq!(codes(&stale_keeper), vec!["WaitingForVendor", "Ready"]);
    let aborted =
        v.clickhouse.observe(&clickhouse, &observed(&desired, 1, status("Completed", "Aborted", 1, done())), true);
    assert_eq!(aborted.state, State::Error);
    assert!(aborted.details[1].message.contains("host wandb-0 failed"));
    let unreported = v.clickhouse.observe(&clickhouse, &observed(&desired, 1, |_| None), false);
    assert_eq!(unreported.state, State::Updating);

    // The 2025 edition wrote no task: its server installation is read from `status` alone.
    let (.., old) = configs_at(Size::Small, Edition::Y2025);
    let old_desired = v.clickhouse.desired(&old).unwrap();
    assert!(old_desired.objects.iter().all(|o| o.body["spec"].get("taskID").is_none()), "unchanged objects");
    let old_ready =
        v.clickhouse.observe(&old, &observed(&old_desired, 1, status("Completed", "Completed", 1, vec![])), false);
    assert!(old_ready.ready);

    let conn = ready.connection.unwrap();
    assert_eq!(
        (conn.host.as_str(), conn.port.as_str(), conn.user.as_str()),
        ("clickhouse-wandb-clickhouse.apps.svc.cluster.local", "9000", "wandb")
    );
    let secret = ready.credentials_secret.unwrap();
    assert_eq!((secret.name.as_str(), secret.key.as_str()), ("wandb-clickhouse-credentials", "password"));
}
