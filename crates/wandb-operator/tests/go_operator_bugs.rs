//! One test per applicable bug of the 2025 Go operator (`go-operator-2025-11.md` §6), showing it
//! cannot happen here.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

mod support;

use support::fixtures as common;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};
use wandb_operator::api::*;
use wandb_operator::model::{ClickHouse, Kafka, Minio, MySql, Redis};
use wandb_operator::model::{Plan, resolve};
use wandb_operator::registry::Registry;
use wandb_operator::registry::summary::summarize;
use wandb_operator::render::{parse_manifests, render_objects};
use wandb_operator::vendors::Observed;

fn render(spec: WeightsAndBiasesSpec, namespace: &str) -> Vec<Value> {
    render_objects(&common::wandb("wandb", namespace, spec), &Registry::default()).unwrap()
}

fn component<C>(state: State) -> Option<ComponentStatus<C>> {
    Some(ComponentStatus { ready: state == State::Ready, state, ..Default::default() })
}

fn status_with(states: [State; 5]) -> WeightsAndBiasesStatus {
    WeightsAndBiasesStatus {
        mysql_status: component(states[0]),
        redis_status: component(states[1]),
        kafka_status: component(states[2]),
        minio_status: component(states[3]),
        clickhouse_status: component(states[4]),
        ..Default::default()
    }
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap())
}

/// B2: state precedence was reversed (Unknown "worst", Error "best").
#[test]
fn b2_worst_state_wins_in_the_documented_order() {
    let order =
        [State::Error, State::Degraded, State::Updating, State::Deleting, State::Offline, State::Unknown, State::Ready];
    for (i, worse) in order.iter().enumerate() {
        for better in &order[i + 1..] {
            assert_eq!(worse.worst(*better), *worse, "{worse:?} vs {better:?}");
            assert_eq!(better.worst(*worse), *worse, "{better:?} vs {worse:?}");
        }
    }
    let mut status = status_with([State::Ready, State::Unknown, State::Error, State::Ready, State::Updating]);
    summarize(&mut status, Some(1), &[], &now());
    assert_eq!(status.state, Some(State::Error));
}

/// B3/B4: `ready` was true while Updating (Redis/Kafka) or never computed (MySQL/MinIO/ClickHouse).
#[test]
fn b3_b4_ready_means_ready_for_every_component() {
    let v = Registry::default();
    let c = resolve(&common::sized(Size::Small)).unwrap();
    // Nothing observed yet: no component may claim readiness.
    assert!(
        !v.mysql.observe(c.plan::<MySql>().as_ref().unwrap().enabled().unwrap(), &Observed::default(), false).ready
    );
    assert!(
        !v.redis.observe(c.plan::<Redis>().as_ref().unwrap().enabled().unwrap(), &Observed::default(), false).ready
    );
    assert!(
        !v.kafka.observe(c.plan::<Kafka>().as_ref().unwrap().enabled().unwrap(), &Observed::default(), false).ready
    );
    assert!(
        !v.minio.observe(c.plan::<Minio>().as_ref().unwrap().enabled().unwrap(), &Observed::default(), false).ready
    );
    let ch =
        v.clickhouse.observe(c.plan::<ClickHouse>().as_ref().unwrap().enabled().unwrap(), &Observed::default(), false);
    assert!(!ch.ready);
    assert_eq!(ch.state, State::Updating);
    // And the summary's Ready condition follows readiness, not the absence of errors.
    let mut status = status_with([State::Ready, State::Ready, State::Updating, State::Ready, State::Ready]);
    summarize(&mut status, Some(3), &[], &now());
    let ready = status.conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!((ready.status.as_str(), ready.observed_generation), ("False", Some(3)));
    assert!(ready.message.contains("Kafka"));
}

/// B5: components defaulted to the namespace `default`, not the CR's namespace.
#[test]
fn b5_components_default_to_the_resource_namespace() {
    let objects = render(WeightsAndBiasesSpec { size: Size::Small, ..Default::default() }, "team-a");
    assert!(!objects.is_empty());
    for object in &objects {
        assert_eq!(object["metadata"]["namespace"], "team-a", "{}", object["kind"]);
        let owners = object["metadata"]["ownerReferences"].as_array().unwrap();
        assert_eq!(owners[0]["kind"], "WeightsAndBiases");
        assert_eq!(owners[0]["controller"], true);
    }
}

/// B7/B8: overall state came from Redis only; observedGeneration was never written.
#[test]
fn b7_b8_overall_state_covers_every_component_and_records_the_generation() {
    for (i, bad) in [State::Error, State::Degraded, State::Updating].iter().enumerate() {
        let mut states = [State::Ready; 5];
        states[(i + 2) % 5] = *bad;
        let mut status = status_with(states);
        summarize(&mut status, Some(7), &[], &now());
        assert_eq!(status.state, Some(*bad));
        assert_eq!(status.observed_generation, Some(7));
    }
    // Disabled components do not drag the state down; all of them disabled is Offline.
    let mut status = status_with([State::Ready, State::Offline, State::Ready, State::Ready, State::Ready]);
    summarize(&mut status, Some(1), &[], &now());
    assert_eq!(status.state, Some(State::Ready));
    assert!(status.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    assert!(status.conditions.iter().any(|c| c.type_ == "RedisReady" && c.reason == "Disabled"));
    let mut all_off = status_with([State::Offline; 5]);
    summarize(&mut all_off, Some(1), &[], &now());
    assert_eq!(all_off.state, Some(State::Offline));
}

/// B9: ClickHouse replicas fell back to 0/1 for small, and 3 replicas had no Keeper.
#[test]
fn b9_small_clickhouse_has_three_replicas_and_keeper() {
    let objects = render(WeightsAndBiasesSpec { size: Size::Small, ..Default::default() }, "ns");
    let chi = common::find(&objects, "ClickHouseInstallation");
    assert_eq!(chi["spec"]["configuration"]["clusters"][0]["layout"]["replicasCount"], 3);
    assert_eq!(
        chi["spec"]["configuration"]["zookeeper"]["nodes"][0],
        json!({"host": "keeper-wandb-keeper", "port": 2181})
    );
    let chk = common::find(&objects, "ClickHouseKeeperInstallation");
    assert_eq!(chk["spec"]["configuration"]["clusters"][0]["layout"]["replicasCount"], 3);
    let dev = render(WeightsAndBiasesSpec::default(), "ns");
    assert!(dev.iter().all(|o| o["kind"] != "ClickHouseKeeperInstallation"));
    assert!(common::find(&dev, "ClickHouseInstallation")["spec"]["configuration"].get("zookeeper").is_none());
}

/// B10: `minio.replicas` and `kafka.replicas` were silently ignored.
#[test]
fn b10_minio_and_kafka_replicas_are_honoured() {
    let spec = WeightsAndBiasesSpec {
        size: Size::Small,
        kafka: Some(KafkaSpec { replicas: Some(5), ..Default::default() }),
        minio: Some(MinioSpec { replicas: Some(4), ..Default::default() }),
        ..Default::default()
    };
    let objects = render(spec, "ns");
    assert_eq!(common::find(&objects, "KafkaNodePool")["spec"]["replicas"], 5);
    assert_eq!(common::find(&objects, "Tenant")["spec"]["pools"][0]["servers"], 4);
}

/// B11: the sentinel used `gorilla` while status reported the (empty) user master name.
#[test]
fn b11_sentinel_and_status_agree_on_the_master_name() {
    for master in [None, Some("custom-master")] {
        let spec = WeightsAndBiasesSpec {
            size: Size::Small,
            redis: Some(RedisSpec {
                sentinel: Some(RedisSentinelSpec {
                    enabled: None,
                    config: master.map(|m| RedisSentinelConfig { master_name: Some(m.to_owned()), resources: None }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let w = common::wandb("wandb", "ns", spec);
        let objects = render_objects(&w, &Registry::default()).unwrap();
        let configured =
            common::find(&objects, "RedisSentinel")["spec"]["redisSentinelConfig"]["masterGroupName"].clone();
        let config = resolve(&w).unwrap();
        let reported = Registry::default().redis.observe(
            config.plan::<Redis>().as_ref().unwrap().enabled().unwrap(),
            &Observed::default(),
            false,
        );
        let reported = reported.connection.unwrap().master_name.unwrap();
        assert_eq!(configured, json!(reported));
        assert_eq!(reported, master.unwrap_or("gorilla"));
    }
}

/// B17: the Kafka host was `<name>.<ns>`, not Strimzi's bootstrap service.
#[test]
fn b17_kafka_host_is_the_bootstrap_service() {
    let c = resolve(&common::sized(Size::Dev)).unwrap();
    let s = Registry::default().kafka.observe(
        c.plan::<Kafka>().as_ref().unwrap().enabled().unwrap(),
        &Observed::default(),
        false,
    );
    assert_eq!(s.connection.unwrap().host, "wandb-kafka-kafka-bootstrap.wandb.svc.cluster.local");
}

/// B18: MinIO used the headless service on 443, a wrong access key and hard-coded credentials.
#[test]
fn b18_minio_uses_the_client_service_and_generated_credentials() {
    for (size, port) in [(Size::Dev, "80"), (Size::Small, "443")] {
        let c = resolve(&common::sized(size)).unwrap();
        let plan = c.plan::<Minio>().unwrap();
        let minio = plan.enabled().unwrap();
        let conn = Registry::default().minio.observe(minio, &Observed::default(), false).connection.unwrap();
        assert_eq!((conn.host.as_str(), conn.port.as_str()), ("minio.wandb.svc.cluster.local", port));
        let desired = Registry::default().minio.desired(minio).unwrap();
        let a = desired.secrets[0].materialize(&mut rand::rng()).string_data.unwrap();
        let b = desired.secrets[0].materialize(&mut rand::rng()).string_data.unwrap();
        assert_ne!(a["MINIO_ROOT_PASSWORD"], b["MINIO_ROOT_PASSWORD"]);
        assert!(a["MINIO_ROOT_PASSWORD"].len() >= 16);
        assert!(!a["config.env"].contains("admin123456"));
    }
    let rendered = serde_json::to_string(&render(WeightsAndBiasesSpec::default(), "ns")).unwrap();
    assert!(!rendered.contains("admin123456") && !rendered.contains("MINIO_ROOT_PASSWORD="));
}

/// B19: ClickHouse had a hard-coded `test_user`/`test_password` open to `::/0`, and `version`
/// was never applied.
#[test]
fn b19_clickhouse_user_password_from_secret_and_version_applied() {
    let spec = WeightsAndBiasesSpec {
        clickhouse: Some(ClickHouseSpec { version: Some("25.3".to_owned()), ..Default::default() }),
        ..Default::default()
    };
    let objects = render(spec, "ns");
    let chi = common::find(&objects, "ClickHouseInstallation");
    let users = &chi["spec"]["configuration"]["users"];
    assert_eq!(users["wandb/password"]["valueFrom"]["secretKeyRef"]["name"], "wandb-clickhouse-credentials");
    let text = serde_json::to_string(&chi).unwrap();
    assert!(!text.contains("test_user") && !text.contains("test_password") && !text.contains("::/0"));
    assert_eq!(
        chi["spec"]["templates"]["podTemplates"][0]["spec"]["containers"][0]["image"],
        "clickhouse/clickhouse-server:25.3"
    );
}

/// B20: MYSQL_USER was exposed in status although the plan said not to.
#[test]
fn b20_mysql_status_has_no_user_key() {
    let c = resolve(&common::sized(Size::Dev)).unwrap();
    let s = Registry::default().mysql.observe(
        c.plan::<MySql>().as_ref().unwrap().enabled().unwrap(),
        &Observed::default(),
        false,
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["connection"].as_object().unwrap().keys().collect::<Vec<_>>(), vec!["MYSQL_HOST", "MYSQL_PORT"]);
}

/// B34: `size` had no enum or default; an unknown size silently disabled everything.
#[test]
fn b34_size_is_an_enum_with_a_default_and_unknown_sizes_are_errors() {
    let crd = serde_json::to_value(wandb_operator::api::crd()).unwrap();
    let size = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["size"];
    assert_eq!((size["enum"].clone(), size["default"].clone()), (json!(["dev", "small", "large"]), json!("dev")));
    let err = parse_manifests(
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: w}\nspec: {size: medium}\n",
        "ns",
    )
    .unwrap_err();
    assert!(err.to_string().contains("spec.size"), "{err}");
    let no_spec = parse_manifests("apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: w}\n", "ns")
        .unwrap_err();
    assert!(no_spec.to_string().ends_with("spec: required"), "{no_spec}");
    let omitted =
        parse_manifests("apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: w}\nspec: {}\n", "ns")
            .unwrap();
    let config = resolve(&omitted[0]).unwrap();
    assert_eq!(config.size, Size::Dev);
    assert!(matches!(config.plan::<MySql>(), Ok(Plan::Enabled(_))), "omitted blocks are enabled");
}

/// B38: disabled components still touched their vendor's API. Here they yield no objects.
#[test]
fn b38_disabled_components_produce_nothing() {
    let off = |_: ()| ComponentCommon { enabled: false, ..Default::default() };
    let spec = WeightsAndBiasesSpec {
        kafka: Some(KafkaSpec { common: off(()), ..Default::default() }),
        redis: Some(RedisSpec { common: off(()), ..Default::default() }),
        ..Default::default()
    };
    let objects = render(spec, "ns");
    assert!(objects.iter().all(|o| !o["apiVersion"].as_str().unwrap().contains("strimzi")
        && !o["apiVersion"].as_str().unwrap().contains("opstree")));
    assert!(objects.iter().any(|o| o["kind"] == "PerconaXtraDBCluster"));
}

/// §6 data safety: vendor-side deletion of data is off in every size, whatever the policy.
#[test]
fn vendor_data_safety_flags_are_always_set() {
    for size in Size::ALL {
        for on_delete in [OnDelete::Detach, OnDelete::Purge] {
            let spec = WeightsAndBiasesSpec {
                size,
                retention_policy: Some(RetentionPolicy { on_delete }),
                ..Default::default()
            };
            let objects = render(spec, "ns");
            let pxc = common::find(&objects, "PerconaXtraDBCluster");
            assert!(pxc["metadata"].get("finalizers").is_none());
            let pool = common::find(&objects, "KafkaNodePool");
            assert_eq!(pool["spec"]["storage"]["volumes"][0]["deleteClaim"], false);
            let redis = objects.iter().find(|o| o["kind"] == "Redis" || o["kind"] == "RedisReplication").unwrap();
            assert_eq!(redis["spec"]["storage"]["keepAfterDelete"], true);
            for kind in ["ClickHouseInstallation", "ClickHouseKeeperInstallation"] {
                if let Some(o) = objects.iter().find(|o| o["kind"] == kind) {
                    assert_eq!(o["spec"]["templates"]["volumeClaimTemplates"][0]["reclaimPolicy"], "Retain");
                    assert!(
                        o["spec"]["templates"]["podTemplates"][0]["spec"]["containers"][0]["image"].is_string(),
                        "{kind} without image"
                    );
                }
            }
        }
    }
}

/// Conditions keep their transition time while unchanged, so an unchanged status is identical.
#[test]
fn unchanged_conditions_keep_their_transition_time() {
    let mut first = status_with([State::Ready; 5]);
    summarize(&mut first, Some(1), &[], &now());
    let later = Time(k8s_openapi::jiff::Timestamp::from_second(1_900_000_000).unwrap());
    let mut second = status_with([State::Ready; 5]);
    summarize(&mut second, Some(1), &first.conditions, &later);
    assert_eq!(first, second);
    let mut third = status_with([State::Ready, State::Ready, State::Error, State::Ready, State::Ready]);
    summarize(&mut third, Some(1), &second.conditions, &later);
    let kafka = third.conditions.iter().find(|c| c.type_ == "KafkaReady").unwrap();
    assert_eq!(kafka.last_transition_time, later);
    let mysql = third.conditions.iter().find(|c| c.type_ == "MySQLReady").unwrap();
    assert_eq!(mysql.last_transition_time, now());
}
