//! The `dev`, `small` and `large` size profiles (PRODUCT §3): every default before user
//! overrides. Storage and resources are per replica (per volume for MinIO).

use crate::api::Size;

/// Requests and limits as `(resource, quantity)` pairs; empty means "not set".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceProfile {
    /// Requests, e.g. `[("cpu", "500m"), ("memory", "1Gi")]`.
    pub requests: &'static [(&'static str, &'static str)],
    /// Limits.
    pub limits: &'static [(&'static str, &'static str)],
}

const NONE: ResourceProfile = ResourceProfile { requests: &[], limits: &[] };
const fn res(
    requests: &'static [(&'static str, &'static str)],
    limits: &'static [(&'static str, &'static str)],
) -> ResourceProfile {
    ResourceProfile { requests, limits }
}
const SMALL_DEFAULT: ResourceProfile =
    res(&[("cpu", "500m"), ("memory", "1Gi")], &[("cpu", "1000m"), ("memory", "2Gi")]);
const LARGE_30: ResourceProfile = res(&[("cpu", "8"), ("memory", "30Gi")], &[("cpu", "8"), ("memory", "30Gi")]);
const LARGE_32: ResourceProfile = res(&[("cpu", "8"), ("memory", "32Gi")], &[("cpu", "8"), ("memory", "32Gi")]);

/// MySQL (Percona XtraDB Cluster) defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MySqlProfile {
    /// Storage per PXC node.
    pub storage: &'static str,
    /// PXC nodes.
    pub replicas: i32,
    /// PXC resources.
    pub resources: ResourceProfile,
    /// PXC image.
    pub image: &'static str,
    /// TLS on.
    pub tls: bool,
    /// ProxySQL `(size, image)` when clients go through ProxySQL.
    pub proxysql: Option<(i32, &'static str)>,
    /// Log collector image when the log collector runs.
    pub log_collector: Option<&'static str>,
    /// Percona `unsafeFlags` (`pxcSize`, `proxySize`, `tls`) all set to this.
    pub unsafe_flags: bool,
}

/// Redis defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisProfile {
    /// Storage per Redis replica.
    pub storage: &'static str,
    /// Redis resources.
    pub resources: ResourceProfile,
    /// Redis image.
    pub image: &'static str,
    /// Replication + sentinel (3 + 3) instead of standalone.
    pub sentinel: bool,
    /// Sentinel resources.
    pub sentinel_resources: ResourceProfile,
    /// Sentinel image.
    pub sentinel_image: &'static str,
}

/// Kafka defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KafkaProfile {
    /// Storage per node.
    pub storage: &'static str,
    /// Dual-role nodes.
    pub replicas: i32,
    /// Node resources.
    pub resources: ResourceProfile,
}

/// MinIO defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinioProfile {
    /// Storage per volume.
    pub storage: &'static str,
    /// Servers.
    pub servers: i32,
    /// Volumes per server.
    pub volumes_per_server: i32,
    /// Server resources.
    pub resources: ResourceProfile,
    /// TLS through the operator's auto-certificate.
    pub tls: bool,
    /// MinIO image (pinned, never `latest`).
    pub image: &'static str,
}

/// ClickHouse Keeper defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeeperProfile {
    /// Keeper nodes.
    pub replicas: i32,
    /// Storage per node.
    pub storage: &'static str,
    /// Keeper resources.
    pub resources: ResourceProfile,
}

/// ClickHouse defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClickHouseProfile {
    /// Storage per replica.
    pub storage: &'static str,
    /// Replicas of the single shard.
    pub replicas: i32,
    /// Server resources.
    pub resources: ResourceProfile,
    /// Keeper used when replicas > 1.
    pub keeper: KeeperProfile,
}

/// All defaults of one size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// MySQL.
    pub mysql: MySqlProfile,
    /// Redis.
    pub redis: RedisProfile,
    /// Kafka.
    pub kafka: KafkaProfile,
    /// MinIO.
    pub minio: MinioProfile,
    /// ClickHouse.
    pub clickhouse: ClickHouseProfile,
}

/// Percona `crVersion` written on every PerconaXtraDBCluster.
pub const PXC_CR_VERSION: &str = "1.18.0";
/// Default Kafka version (supported by Strimzi 1.0 to 1.2).
pub const KAFKA_VERSION: &str = "4.2.0";
/// Default ClickHouse (and Keeper) image tag.
pub const CLICKHOUSE_VERSION: &str = "25.8";
/// Default Redis sentinel master group name.
pub const REDIS_MASTER_NAME: &str = "gorilla";
/// ClickHouse server image repository; the tag is the version.
pub const CLICKHOUSE_IMAGE_REPOSITORY: &str = "clickhouse/clickhouse-server";
/// ClickHouse Keeper image repository; the tag is the version.
pub const CLICKHOUSE_KEEPER_IMAGE_REPOSITORY: &str = "clickhouse/clickhouse-keeper";
/// Redis replicas and sentinels when sentinel is on.
pub const REDIS_HA_REPLICAS: i32 = 3;

const REDIS_IMAGE: &str = "quay.io/opstree/redis:v7.0.15";
const REDIS_SENTINEL_IMAGE: &str = "quay.io/opstree/redis-sentinel:v7.0.12";
const MINIO_IMAGE: &str = "quay.io/minio/minio:RELEASE.2025-04-08T15-41-24Z";
const HA_PXC_IMAGE: &str = "percona/percona-xtradb-cluster:8.0";
const PROXYSQL: Option<(i32, &str)> = Some((3, "percona/proxysql2:2.7.3"));
const SENTINEL_SMALL: ResourceProfile =
    res(&[("cpu", "125m"), ("memory", "128Mi")], &[("cpu", "256m"), ("memory", "256Mi")]);

const DEV: Profile = Profile {
    mysql: MySqlProfile {
        storage: "1Gi",
        replicas: 1,
        resources: NONE,
        image: "perconalab/percona-xtradb-cluster-operator:main-pxc8.0",
        tls: false,
        proxysql: None,
        log_collector: Some("perconalab/percona-xtradb-cluster-operator:main-logcollector"),
        unsafe_flags: true,
    },
    redis: RedisProfile {
        storage: "100Mi",
        resources: NONE,
        image: REDIS_IMAGE,
        sentinel: false,
        sentinel_resources: NONE,
        sentinel_image: REDIS_SENTINEL_IMAGE,
    },
    kafka: KafkaProfile { storage: "1Gi", replicas: 1, resources: NONE },
    minio: MinioProfile {
        storage: "10Gi",
        servers: 1,
        volumes_per_server: 1,
        resources: NONE,
        tls: false,
        image: MINIO_IMAGE,
    },
    clickhouse: ClickHouseProfile {
        storage: "10Gi",
        replicas: 1,
        resources: NONE,
        // Used only if a dev user asks for more than one replica.
        keeper: KeeperProfile {
            replicas: 3,
            storage: "20Gi",
            resources: res(&[("cpu", "1"), ("memory", "2Gi")], &[("cpu", "1"), ("memory", "2Gi")]),
        },
    },
};

const SMALL: Profile = Profile {
    mysql: MySqlProfile {
        storage: "10Gi",
        replicas: 3,
        resources: SMALL_DEFAULT,
        image: HA_PXC_IMAGE,
        tls: true,
        proxysql: PROXYSQL,
        log_collector: None,
        unsafe_flags: false,
    },
    redis: RedisProfile {
        storage: "2Gi",
        resources: res(&[("cpu", "250m"), ("memory", "256Mi")], &[("cpu", "500m"), ("memory", "512Mi")]),
        image: REDIS_IMAGE,
        sentinel: true,
        sentinel_resources: SENTINEL_SMALL,
        sentinel_image: REDIS_SENTINEL_IMAGE,
    },
    kafka: KafkaProfile { storage: "5Gi", replicas: 3, resources: SMALL_DEFAULT },
    minio: MinioProfile {
        storage: "10Gi",
        servers: 3,
        volumes_per_server: 4,
        resources: SMALL_DEFAULT,
        tls: true,
        image: MINIO_IMAGE,
    },
    clickhouse: ClickHouseProfile {
        storage: "10Gi",
        replicas: 3,
        resources: SMALL_DEFAULT,
        keeper: KeeperProfile {
            replicas: 3,
            storage: "20Gi",
            resources: res(&[("cpu", "1"), ("memory", "2Gi")], &[("cpu", "1"), ("memory", "2Gi")]),
        },
    },
};

const LARGE: Profile = Profile {
    mysql: MySqlProfile { storage: "500Gi", resources: LARGE_30, ..SMALL.mysql },
    redis: RedisProfile { storage: "64Gi", resources: LARGE_30, ..SMALL.redis },
    kafka: KafkaProfile { storage: "100Gi", replicas: 3, resources: LARGE_30 },
    minio: MinioProfile { storage: "200Gi", resources: LARGE_32, ..SMALL.minio },
    clickhouse: ClickHouseProfile {
        storage: "200Gi",
        replicas: 3,
        resources: LARGE_32,
        keeper: KeeperProfile {
            replicas: 3,
            storage: "20Gi",
            resources: res(&[("cpu", "2"), ("memory", "4Gi")], &[("cpu", "2"), ("memory", "4Gi")]),
        },
    },
};

/// The profile of a size.
pub fn profile(size: Size) -> &'static Profile {
    match size {
        Size::Dev => &DEV,
        Size::Small => &SMALL,
        Size::Large => &LARGE,
    }
}
