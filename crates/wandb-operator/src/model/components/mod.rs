//! The five components, one module each: what each needs (profile, merge, external service,
//! connection keys), whoever runs it. The module list below and the registry are the only
//! places besides the CRD types that name every component.

pub mod clickhouse;
pub mod kafka;
pub mod minio;
pub mod mysql;
pub mod mysql_backup;
pub mod redis;

pub use clickhouse::{ClickHouse, ClickHouseConfig, KeeperConfig};
pub use kafka::{Kafka, KafkaConfig, KafkaReplication};
pub use minio::{Minio, MinioConfig};
pub use mysql::{MySql, MySqlConfig};
pub use redis::{Redis, RedisConfig, RedisTopology, SentinelConfig};
