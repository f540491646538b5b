//! The merge of spec + size profile: omitted fields come from the profile, user values win key
//! by key, invalid values are errors naming the field, and components are independent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

mod support;

use support::fixtures as common;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use proptest::prelude::*;
use wandb_operator::api::*;
use wandb_operator::model::{
    ClickHouse, Edition, ExternalService, Kafka, Minio, MySql, Plan, Redis, RedisTopology, resolve,
};
use wandb_operator::model::{clickhouse, kafka, minio, mysql, redis};
use wandb_operator::registry::Registry;
use wandb_operator::vendors::percona;

/// Every component's profile of one size.
struct Profile {
    mysql: &'static mysql::MySqlProfile,
    redis: &'static redis::RedisProfile,
    kafka: &'static kafka::KafkaProfile,
    minio: &'static minio::MinioProfile,
    clickhouse: &'static clickhouse::ClickHouseProfile,
}

fn profile(size: Size) -> Profile {
    Profile {
        mysql: mysql::profile(size),
        redis: redis::profile(size),
        kafka: kafka::profile(size),
        minio: minio::profile(size),
        clickhouse: clickhouse::profile(size),
    }
}

fn errors(config: &wandb_operator::model::Resolution) -> Vec<wandb_operator::model::ModelError> {
    Registry::default().spec_errors(config)
}

fn spec_with(f: impl FnOnce(&mut WeightsAndBiasesSpec)) -> WeightsAndBiasesSpec {
    let mut spec = WeightsAndBiasesSpec::default();
    f(&mut spec);
    spec
}

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn as_strings(m: &BTreeMap<String, wandb_operator::model::Quantity>) -> BTreeMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.as_str().to_owned())).collect()
}

#[test]
fn omitted_fields_come_from_the_size_profile() {
    for size in Size::ALL {
        let p = profile(size);
        let config = resolve(&common::sized(size)).unwrap();
        let mysql = config.plan::<MySql>().unwrap();
        let mysql = mysql.enabled().unwrap();
        assert_eq!(mysql.storage.as_str(), p.mysql.storage);
        assert_eq!(mysql.replicas, p.mysql.replicas);
        // No image set: the vendor picks its image for the size (covered by the render snapshots).
        assert_eq!(mysql.image, None);
        assert_eq!(mysql.tls, p.mysql.tls);
        assert_eq!(as_strings(&mysql.resources.requests), quantities(p.mysql.resources.requests));
        assert_eq!(as_strings(&mysql.resources.limits), quantities(p.mysql.resources.limits));
        assert_eq!(mysql.placement.namespace, "wandb");

        let redis = config.plan::<Redis>().unwrap();
        let redis = redis.enabled().unwrap();
        assert_eq!(redis.storage.as_str(), p.redis.storage);
        assert_eq!(matches!(redis.topology, RedisTopology::Replication { .. }), p.redis.sentinel);
        if let RedisTopology::Replication { replicas, sentinel } = &redis.topology {
            assert_eq!((*replicas, sentinel.replicas), (3, 3));
            assert_eq!(sentinel.master_name, "gorilla");
        }

        let kafka = config.plan::<Kafka>().unwrap();
        let kafka = kafka.enabled().unwrap();
        assert_eq!((kafka.storage.as_str(), kafka.replicas), (p.kafka.storage, p.kafka.replicas));
        assert_eq!(kafka.version, "4.2.0");
        let expected_rf = if size == Size::Dev { (1, 1) } else { (3, 2) };
        assert_eq!((kafka.replication.replication_factor, kafka.replication.min_insync_replicas), expected_rf);

        let minio = config.plan::<Minio>().unwrap();
        let minio = minio.enabled().unwrap();
        assert_eq!((minio.servers, minio.volumes_per_server), (p.minio.servers, p.minio.volumes_per_server));
        assert_eq!((minio.storage.as_str(), minio.tls), (p.minio.storage, p.minio.tls));
        let tenant = Registry::default().minio.desired(minio).unwrap();
        let image = tenant.objects[0].body.pointer("/spec/image").and_then(|i| i.as_str()).unwrap();
        assert!(!image.ends_with(":latest"), "{image}");

        let clickhouse = config.plan::<ClickHouse>().unwrap();
        let clickhouse = clickhouse.enabled().unwrap();
        assert_eq!(clickhouse.replicas, p.clickhouse.replicas);
        assert_eq!((clickhouse.image.as_deref(), clickhouse.version.as_str()), (None, "26.3.19.3"));
        let installation = Registry::default().clickhouse.desired(clickhouse).unwrap();
        let images = installation.objects.iter().map(|o| o.body.to_string()).collect::<String>();
        assert!(images.contains("\"clickhouse/clickhouse-server:26.3.19.3\""), "{images}");
        // An install of the 2025 edition keeps 25.8 and its cluster name.
        let kept = config.at_edition(Edition::Y2025).plan::<ClickHouse>().unwrap();
        let kept = kept.enabled().unwrap();
        assert_eq!((kept.version.as_str(), kept.cluster.as_str()), ("25.8", "cluster"));
        assert_eq!((clickhouse.cluster.as_str(), clickhouse.database.as_deref()), ("weave", Some("wandb_weave")));
        assert_eq!(clickhouse.keeper.is_some(), p.clickhouse.replicas > 1);
    }
}

#[test]
fn profile_tables_match_the_product_spec() {
    let (dev, small, large) = (profile(Size::Dev), profile(Size::Small), profile(Size::Large));
    assert_eq!((dev.mysql.storage, small.mysql.storage, large.mysql.storage), ("1Gi", "10Gi", "500Gi"));
    assert_eq!((dev.redis.storage, small.redis.storage, large.redis.storage), ("100Mi", "2Gi", "64Gi"));
    assert_eq!((dev.kafka.storage, small.kafka.storage, large.kafka.storage), ("1Gi", "5Gi", "100Gi"));
    assert_eq!((dev.minio.storage, small.minio.storage, large.minio.storage), ("10Gi", "10Gi", "200Gi"));
    assert_eq!((dev.clickhouse.storage, small.clickhouse.storage, large.clickhouse.storage), ("10Gi", "10Gi", "200Gi"));
    assert_eq!(small.mysql.resources.requests, &[("cpu", "500m"), ("memory", "1Gi")]);
    assert_eq!(large.minio.resources.limits, &[("cpu", "8"), ("memory", "32Gi")]);
    assert_eq!(large.clickhouse.keeper.resources.requests, &[("cpu", "2"), ("memory", "4Gi")]);
    assert_eq!(small.redis.sentinel_resources.limits, &[("cpu", "256m"), ("memory", "256Mi")]);
    assert!(dev.mysql.log_collector && !small.mysql.log_collector);
    assert!(dev.mysql.proxy.is_none() && small.mysql.proxy == Some(3));
}

#[test]
fn resources_merge_key_by_key_with_user_keys_winning() {
    let spec = spec_with(|s| {
        s.size = Size::Small;
        s.mysql = Some(MySqlSpec {
            common: ComponentCommon {
                config: Some(ComponentConfig {
                    resources: Some(ResourceRequirements {
                        limits: Some([("memory".to_owned(), K8sQuantity("4Gi".to_owned()))].into()),
                        requests: Some([("ephemeral-storage".to_owned(), K8sQuantity("1Gi".to_owned()))].into()),
                        ..Default::default()
                    }),
                    image: None,
                }),
                ..Default::default()
            },
            ..Default::default()
        });
    });
    let config = resolve(&common::wandb("w", "ns", spec)).unwrap();
    let mysql = config.plan::<MySql>().unwrap();
    let r = &mysql.enabled().unwrap().resources;
    assert_eq!(as_strings(&r.limits), quantities(&[("cpu", "1000m"), ("memory", "4Gi")]));
    assert_eq!(
        as_strings(&r.requests),
        quantities(&[("cpu", "500m"), ("ephemeral-storage", "1Gi"), ("memory", "1Gi")])
    );
}

#[test]
fn a_request_above_the_merged_limit_is_an_error() {
    let spec = spec_with(|s| {
        s.size = Size::Small;
        s.kafka = Some(KafkaSpec {
            common: ComponentCommon {
                config: Some(ComponentConfig {
                    resources: Some(ResourceRequirements {
                        requests: Some([("memory".to_owned(), K8sQuantity("3Gi".to_owned()))].into()),
                        ..Default::default()
                    }),
                    image: None,
                }),
                ..Default::default()
            },
            ..Default::default()
        });
    });
    let err = resolve(&common::wandb("w", "ns", spec)).unwrap().plan::<Kafka>().unwrap_err();
    assert_eq!(err.field(), "spec.kafka.config.resources.requests.memory");
}

#[test]
fn an_invalid_component_does_not_affect_the_others() {
    let spec = spec_with(|s| {
        s.mysql = Some(MySqlSpec {
            common: ComponentCommon { storage_size: Some("lots".to_owned()), ..Default::default() },
            ..Default::default()
        });
    });
    let config = resolve(&common::wandb("w", "ns", spec)).unwrap();
    assert_eq!(config.plan::<MySql>().as_ref().unwrap_err().field(), "spec.mysql.storageSize");
    assert!(
        config.plan::<Redis>().is_ok()
            && config.plan::<Kafka>().is_ok()
            && config.plan::<Minio>().is_ok()
            && config.plan::<ClickHouse>().is_ok()
    );
    assert_eq!(errors(&config).len(), 1);
}

#[test]
fn disabled_components_keep_their_placement_and_retention() {
    let spec = spec_with(|s| {
        s.retention_policy = Some(RetentionPolicy { on_delete: OnDelete::Purge });
        s.kafka = Some(KafkaSpec {
            common: ComponentCommon {
                enabled: false,
                namespace: Some("other".to_owned()),
                retention_policy: Some(ComponentRetentionPolicy { on_delete: Some(OnDelete::Detach) }),
                // Invalid values of a disabled component are not looked at.
                storage_size: Some("junk".to_owned()),
                ..Default::default()
            },
            ..Default::default()
        });
    });
    let config = resolve(&common::wandb("w", "ns", spec)).unwrap();
    let Ok(Plan::Disabled(placement)) = &config.plan::<Kafka>() else {
        panic!("kafka not disabled: {:?}", config.plan::<Kafka>())
    };
    assert_eq!((placement.namespace.as_str(), placement.on_delete), ("other", OnDelete::Detach));
    assert_eq!(config.plan::<MySql>().unwrap().enabled().unwrap().placement.on_delete, OnDelete::Purge);
}

#[test]
fn instance_level_errors_fail_the_whole_resolution() {
    let mut w = common::sized(Size::Dev);
    w.metadata.namespace = None;
    assert_eq!(resolve(&w).unwrap_err().field(), "metadata.namespace");
    let w = common::wandb("this-name-is-too-long", "ns", WeightsAndBiasesSpec::default());
    assert_eq!(resolve(&w).unwrap_err().field(), "metadata.name");
}

#[test]
fn mysql_seven_nodes_sets_percona_size_flag_only() {
    let spec = spec_with(|s| {
        s.size = Size::Large;
        s.mysql = Some(MySqlSpec { replicas: Some(7), ..Default::default() });
    });
    let config = resolve(&common::wandb("w", "ns", spec)).unwrap();
    let mysql = config.plan::<MySql>().unwrap();
    let flags = percona::unsafe_flags(mysql.enabled().unwrap());
    assert!(flags.pxc_size && !flags.proxy_size && !flags.tls);
}

fn positive_quantity() -> impl Strategy<Value = String> {
    (1u32..100_000, prop::sample::select(vec!["", "Ki", "Mi", "Gi", "Ti", "k", "M", "G", "m"]))
        .prop_map(|(n, suffix)| format!("{n}{suffix}"))
}

fn cpu_quantity() -> impl Strategy<Value = String> {
    (1u32..64_000).prop_map(|n| format!("{n}m"))
}

proptest! {
    #[test]
    fn any_valid_user_value_survives_the_merge(
        size in prop::sample::select(Size::ALL.to_vec()),
        storage in positive_quantity(),
        cpu_limit in cpu_quantity(),
        kafka_replicas in 1i32..=99,
        clickhouse_replicas in 1i32..=32,
        mysql_replicas in prop::sample::select(vec![3, 5, 7]),
        minio_servers in 6i32..=32,
        image in "[a-z]{1,10}(/[a-z]{1,10}){0,2}:[a-z0-9.]{1,8}",
        namespace in "[a-z]([a-z0-9-]{0,20}[a-z0-9])?",
    ) {
        let common = |ns: bool| ComponentCommon {
            storage_size: Some(storage.clone()),
            namespace: ns.then(|| namespace.clone()),
            config: Some(ComponentConfig {
                resources: Some(ResourceRequirements {
                    limits: Some([("cpu".to_owned(), K8sQuantity(cpu_limit.clone()))].into()),
                    // Requests above the limit would be an error; keep them at the limit.
                    requests: Some([("cpu".to_owned(), K8sQuantity(cpu_limit.clone()))].into()),
                    ..Default::default()
                }),
                image: Some(image.clone()),
            }),
            ..Default::default()
        };
        let spec = WeightsAndBiasesSpec {
            size,
            retention_policy: None,
            images: None,
            mysql: Some(MySqlSpec { common: common(true), replicas: Some(mysql_replicas), ..Default::default() }),
            redis: Some(RedisSpec { common: common(false), sentinel: None, external: None, version: None }),
            kafka: Some(KafkaSpec { common: common(false), replicas: Some(kafka_replicas), version: None, external: None }),
            minio: Some(MinioSpec { common: common(false), replicas: Some(minio_servers), external: None }),
            clickhouse: Some(ClickHouseSpec { common: common(false), replicas: Some(clickhouse_replicas), version: None, external: None }),
        };
        let config = resolve(&common::wandb("w", "home", spec)).unwrap();
        prop_assert!(errors(&config).is_empty(), "{:?}", errors(&config));
        let mysql = config.plan::<MySql>().unwrap();
        let mysql = mysql.enabled().unwrap();
        prop_assert_eq!(mysql.storage.as_str(), storage.as_str());
        prop_assert_eq!(mysql.replicas, mysql_replicas);
        prop_assert_eq!(mysql.image.as_deref(), Some(image.as_str()));
        prop_assert_eq!(mysql.resources.limits["cpu"].as_str(), cpu_limit.as_str());
        prop_assert_eq!(&mysql.placement.namespace, &namespace);
        // Keys the user did not set still come from the profile.
        prop_assert_eq!(mysql.resources.limits.contains_key("memory"), !profile(size).mysql.resources.limits.is_empty());
        let redis = config.plan::<Redis>().unwrap();
        prop_assert_eq!(&redis.enabled().unwrap().placement.namespace, "home");
        let kafka = config.plan::<Kafka>().unwrap();
        prop_assert_eq!(kafka.enabled().unwrap().replicas, kafka_replicas);
        prop_assert_eq!(kafka.enabled().unwrap().image.as_deref(), Some(image.as_str()));
        prop_assert_eq!(config.plan::<Minio>().unwrap().enabled().unwrap().servers, minio_servers);
        let clickhouse = config.plan::<ClickHouse>().unwrap();
        let clickhouse = clickhouse.enabled().unwrap();
        prop_assert_eq!(clickhouse.replicas, clickhouse_replicas);
        prop_assert_eq!(clickhouse.keeper.is_some(), clickhouse_replicas > 1);
    }

    #[test]
    fn an_invalid_storage_size_is_an_error_naming_the_field(
        text in "[a-zA-Z ]{1,6}|-[1-9][0-9]{0,3}Gi|0(Gi|Mi)?|[0-9]+(GB|gi|kb)",
        which in 0usize..5,
    ) {
        let common = ComponentCommon { storage_size: Some(text.clone()), ..Default::default() };
        let mut spec = WeightsAndBiasesSpec::default();
        let key = ["mysql", "redis", "kafka", "minio", "clickhouse"][which];
        match which {
            0 => spec.mysql = Some(MySqlSpec { common, ..Default::default() }),
            1 => spec.redis = Some(RedisSpec { common, ..Default::default() }),
            2 => spec.kafka = Some(KafkaSpec { common, ..Default::default() }),
            3 => spec.minio = Some(MinioSpec { common, ..Default::default() }),
            _ => spec.clickhouse = Some(ClickHouseSpec { common, ..Default::default() }),
        }
        let config = resolve(&common::wandb("w", "ns", spec)).unwrap();
        let errors = errors(&config);
        prop_assert_eq!(errors.len(), 1);
        let expected = format!("spec.{key}.storageSize");
        prop_assert_eq!(errors[0].field(), expected.as_str());
    }
}

fn external_mysql() -> ExternalMySql {
    ExternalMySql {
        host: "db.example.com".to_owned(),
        port: 3307,
        database: "wandb".to_owned(),
        user: "wandb".to_owned(),
        password_secret: SecretKeySelector { name: "db".to_owned(), key: "password".to_owned() },
        tls: None,
    }
}

#[test]
fn an_external_component_resolves_to_its_endpoint_and_references() {
    let spec = spec_with(|s| {
        s.mysql = Some(MySqlSpec { external: Some(external_mysql()), ..Default::default() });
    });
    let config = resolve(&common::wandb("w", "ns", spec)).unwrap();
    let Ok(Plan::External(external)) = &config.plan::<MySql>() else {
        panic!("mysql not external: {:?}", config.plan::<MySql>())
    };
    let mysql::MySqlService { endpoint, password, tls, .. } = &external.service;
    assert_eq!((endpoint.host.as_str(), endpoint.port), ("db.example.com", 3307));
    assert_eq!((password.name.as_str(), password.key.as_str()), ("db", "password"));
    assert!(!tls.enabled);
    assert_eq!(external.service.secret_references().len(), 1);
    assert!(matches!(config.plan::<Redis>(), Ok(Plan::Enabled(_))), "other components stay managed");
}

#[test]
fn external_contradictions_and_bad_values_name_the_field() {
    let cases: Vec<(WeightsAndBiasesSpec, &str)> = vec![
        (
            spec_with(|s| {
                s.mysql = Some(MySqlSpec { replicas: Some(3), external: Some(external_mysql()), ..Default::default() })
            }),
            "spec.mysql.external",
        ),
        (
            spec_with(|s| {
                let mut e = external_mysql();
                e.host = "db:3306".to_owned();
                s.mysql = Some(MySqlSpec { external: Some(e), ..Default::default() });
            }),
            "spec.mysql.external.host",
        ),
        (
            spec_with(|s| {
                let mut e = external_mysql();
                e.port = 0;
                s.mysql = Some(MySqlSpec { external: Some(e), ..Default::default() });
            }),
            "spec.mysql.external.port",
        ),
        (
            spec_with(|s| {
                s.minio = Some(MinioSpec {
                    external: Some(ExternalObjectStorage {
                        provider: ObjectStorageProvider::S3Compatible,
                        bucket: "wandb".to_owned(),
                        region: None,
                        endpoint: None,
                        path: None,
                        credentials_secret: None,
                        force_path_style: false,
                        tls: None,
                    }),
                    ..Default::default()
                })
            }),
            "spec.minio.external.endpoint",
        ),
        (
            spec_with(|s| {
                s.kafka = Some(KafkaSpec {
                    external: Some(ExternalKafka { bootstrap_servers: vec!["k:0".to_owned()], sasl: None, tls: None }),
                    ..Default::default()
                })
            }),
            "spec.kafka.external.bootstrapServers[0]",
        ),
    ];
    for (spec, field) in cases {
        let config = resolve(&common::wandb("w", "ns", spec)).unwrap();
        let errors = errors(&config);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field(), field, "{errors:?}");
    }
}

#[test]
fn a_disabled_component_ignores_its_external_block() {
    let spec = spec_with(|s| {
        s.mysql = Some(MySqlSpec {
            common: ComponentCommon { enabled: false, ..Default::default() },
            external: Some(external_mysql()),
            ..Default::default()
        });
    });
    let config = resolve(&common::wandb("w", "ns", spec)).unwrap();
    assert!(matches!(config.plan::<MySql>(), Ok(Plan::Disabled(_))));
}

fn mysql_of(
    spec: WeightsAndBiasesSpec,
) -> Result<wandb_operator::model::MySqlConfig, wandb_operator::model::ModelError> {
    let config = resolve(&common::wandb("w", "ns", spec)).unwrap();
    config.plan::<MySql>().map(|p| p.enabled().cloned().expect("mysql enabled"))
}

#[test]
fn backups_default_on_for_small_and_large_to_the_managed_minio_and_off_for_dev() {
    use wandb_operator::model::mysql_backup::BackupTarget;
    for size in Size::ALL {
        let mysql = mysql_of(spec_with(|s| s.size = size)).unwrap();
        assert_eq!(mysql.backup.is_some(), size != Size::Dev, "{size:?}");
        if let Some(b) = mysql.backup {
            assert_eq!((b.schedule.as_str(), b.keep), ("0 3 * * *", 7));
            assert!(matches!(b.target, BackupTarget::ManagedMinio { tls: true, .. }));
        }
    }
    // small without a managed MinIO: off, and status says why.
    let mysql = mysql_of(spec_with(|s| {
        s.size = Size::Small;
        s.minio =
            Some(MinioSpec { common: ComponentCommon { enabled: false, ..Default::default() }, ..Default::default() });
    }))
    .unwrap();
    assert!(mysql.backup.is_none());
    assert!(mysql.backup_off_reason.unwrap().contains("spec.mysql.backup.storage.external"));
}

#[test]
fn bad_backup_settings_name_the_field() {
    let backup =
        |b: MySqlBackupSpec| spec_with(|s| s.mysql = Some(MySqlSpec { backup: Some(b), ..Default::default() }));
    let on = || MySqlBackupSpec { enabled: Some(true), ..Default::default() };
    let cases = [
        (backup(MySqlBackupSpec { schedule: Some("61 * * * *".to_owned()), ..on() }), "spec.mysql.backup.schedule"),
        (backup(MySqlBackupSpec { schedule: Some("0 0 * * * *".to_owned()), ..on() }), "spec.mysql.backup.schedule"),
        (backup(MySqlBackupSpec { keep: Some(0), ..on() }), "spec.mysql.backup.keep"),
        (
            spec_with(|s| {
                s.mysql = Some(MySqlSpec { backup: Some(on()), ..Default::default() });
                s.minio = Some(MinioSpec {
                    common: ComponentCommon { enabled: false, ..Default::default() },
                    ..Default::default()
                });
            }),
            "spec.mysql.backup",
        ),
        (
            spec_with(|s| {
                s.mysql = Some(MySqlSpec {
                    restore: Some(MySqlRestoreSpec {
                        backup_name: Some("a".to_owned()),
                        destination: Some("s3://b/c".to_owned()),
                    }),
                    ..Default::default()
                })
            }),
            "spec.mysql.restore",
        ),
    ];
    for (spec, field) in cases {
        let error = mysql_of(spec).unwrap_err();
        assert_eq!(error.field(), field, "{error}");
    }
}

#[test]
fn mysql_settings_add_to_wandbs_and_replacing_a_required_one_is_reported() {
    let spec = spec_with(|s| {
        s.size = Size::Small;
        s.mysql = Some(MySqlSpec {
            settings: Some(
                [("max_connections", "1000"), ("sync-binlog", "0"), ("binlog_format", "row")]
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .into(),
            ),
            ..Default::default()
        });
    });
    let resolution = resolve(&common::wandb("wandb", "apps", spec.clone())).unwrap();
    let plan = resolution.plan::<MySql>().unwrap();
    let mysql = plan.enabled().unwrap();
    assert_eq!(mysql.settings["max_connections"], "1000", "added");
    assert_eq!(mysql.settings["sync_binlog"], "0", "the user's value wins, under the canonical name");
    assert_eq!(mysql.settings["innodb_flush_log_at_trx_commit"], "1", "the other required ones stay");
    assert_eq!(mysql.settings["collation_server"], "utf8mb4_general_ci");
    // `row` is `ROW` (MySQL's values are case-insensitive): only sync_binlog is weakened.
    assert_eq!(mysql.overridden, vec!["sync_binlog=0 (W&B requires 1)".to_owned()]);
    let registry = Registry::default();
    let status = registry.mysql.observe(mysql, &wandb_operator::vendors::Observed::default(), false);
    let notice = status.details.iter().find(|d| d.code == "RequiredSettingOverridden").unwrap();
    assert!(notice.message.contains("sync_binlog=0"), "{}", notice.message);
    assert_eq!(notice.state, wandb_operator::api::State::Ready, "a notice, not an outage");

    // The 2025 edition sets none of W&B's settings (existing installs keep theirs), only the user's.
    let kept = resolution.at_edition(Edition::Y2025).plan::<MySql>().unwrap();
    let kept = kept.enabled().unwrap();
    assert_eq!(kept.settings.len(), 3);
    assert!(kept.app_account.is_none());

    // A value that would inject configuration lines is refused with the field named.
    let spec = spec_with(|s| {
        s.mysql = Some(MySqlSpec {
            settings: Some([("max_connections".to_owned(), "1\n[client]".to_owned())].into()),
            ..Default::default()
        })
    });
    let error = resolve(&common::wandb("wandb", "apps", spec)).unwrap().plan::<MySql>().unwrap_err();
    assert!(error.to_string().contains("spec.mysql.settings.max_connections"), "{error}");
}
