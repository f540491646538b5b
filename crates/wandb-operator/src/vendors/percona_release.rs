//! What each edition of the defaults writes on a `PerconaXtraDBCluster`: the `crVersion` and
//! the images. The latest edition pins every image to an exact tag (floating tags have broken
//! backups before: a newer 8.4 patch against the XtraBackup image); the 2025 edition's are
//! kept exactly as clusters created with it were written, floating tags included, so that a
//! new operator release changes nothing they run.

use crate::api::Size;
use crate::model::{Edition, MySqlConfig};

/// The `crVersion` and images of one edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerconaRelease {
    /// `spec.crVersion`: the operator release the CR is written for.
    pub cr_version: &'static str,
    /// PXC image for `small` and `large`.
    pub pxc: &'static str,
    /// PXC image for `dev`.
    pub dev_pxc: &'static str,
    /// HAProxy image.
    pub haproxy: &'static str,
    /// ProxySQL image.
    pub proxysql: &'static str,
    /// Log collector image (`dev`).
    pub log_collector: &'static str,
    /// XtraBackup image for MySQL 8.4 (XtraBackup backs up only its own line).
    pub backup: &'static str,
    /// XtraBackup image for MySQL 8.0.
    pub backup_80: &'static str,
}

/// The 2025 edition: Percona 1.18 with MySQL 8.0, as the Go operator wrote it.
const EDITION_2025: PerconaRelease = PerconaRelease {
    cr_version: "1.18.0",
    pxc: "percona/percona-xtradb-cluster:8.0",
    dev_pxc: "perconalab/percona-xtradb-cluster-operator:main-pxc8.0",
    // Never a 2025 default; Percona 1.18's HAProxy, for a cluster whose user picks it.
    haproxy: "percona/haproxy:2.8.15",
    proxysql: "percona/proxysql2:2.7.3",
    log_collector: "perconalab/percona-xtradb-cluster-operator:main-logcollector",
    // The 2025 edition ran 8.0 with this XtraBackup; a cluster it made that moves to 8.4
    // (`spec.mysql.version`, which needs Percona 1.19 or newer) gets the 8.4 line's.
    backup: "percona/percona-xtrabackup:8.4.0-5.1",
    backup_80: "percona/percona-xtrabackup:8.0.35-34.1",
};

/// The 2026 edition: Percona 1.20 with its recommended MySQL 8.4 image (`pxc84recommended`),
/// the XtraBackup of the 8.4 line and the proxies and log collector of the release.
const EDITION_2026: PerconaRelease = PerconaRelease {
    cr_version: "1.20.0",
    pxc: "percona/percona-xtradb-cluster:8.4.8-8.1",
    dev_pxc: "percona/percona-xtradb-cluster:8.4.8-8.1",
    haproxy: "percona/haproxy:2.8.18-1",
    proxysql: "percona/proxysql2:2.7.3-1.3",
    log_collector: "percona/fluentbit:5.0.6-1",
    backup: "percona/percona-xtrabackup:8.4.0-5.1",
    backup_80: "percona/percona-xtrabackup:8.0.35-35.1",
};

/// The latest MySQL 8.0 Percona certifies (with its operator 1.20): Percona XtraDB Cluster
/// upgrades to 8.4 in a rolling restart only from the latest 8.0 ("Upgrade to the latest 8.0
/// release before upgrading to 8.4"), so an upgrade from 8.0 passes through it.
pub const LATEST_80: &str = "percona/percona-xtradb-cluster:8.0.45-36.1";

/// The major line (`[8, 0]`) a PXC image's tag (or a version) names; `None` when it names
/// none (a custom image).
pub fn line_of(image_or_version: &str) -> Option<[u64; 2]> {
    let version = super::meta::version_of(image_or_version);
    let mut numbers = version.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse::<u64>().ok());
    Some([numbers.next()?, numbers.next()?])
}

/// The XtraBackup image for a cluster running `pxc_image`: of its line, or of the edition's
/// default line when the image's tag names none.
pub fn backup_image_for(release: &PerconaRelease, pxc_image: &str) -> &'static str {
    let line = line_of(pxc_image).or_else(|| line_of(release.pxc));
    if line == Some([8, 0]) { release.backup_80 } else { release.backup }
}

/// The PXC image for `config`: the user's, else Percona's for the version asked for, else the
/// one of its edition for its size.
pub fn pxc_image(config: &MySqlConfig) -> String {
    let release = release(config.edition);
    let default = match &config.version {
        Some(version) => format!("{PXC_REPOSITORY}:{version}"),
        None if config.size == Size::Dev => release.dev_pxc.to_owned(),
        None => release.pxc.to_owned(),
    };
    config.image.clone().unwrap_or_else(|| config.images.mirrored(&default))
}

/// Percona's PXC image repository; the tag is the version.
const PXC_REPOSITORY: &str = "percona/percona-xtradb-cluster";

/// What `edition` writes.
pub fn release(edition: Edition) -> &'static PerconaRelease {
    match edition {
        Edition::Y2025 => &EDITION_2025,
        Edition::Y2026 => &EDITION_2026,
    }
}

impl PerconaRelease {
    /// Every image of the edition.
    pub fn images(&self) -> [&'static str; 7] {
        [self.pxc, self.dev_pxc, self.haproxy, self.proxysql, self.log_collector, self.backup, self.backup_80]
    }
}
