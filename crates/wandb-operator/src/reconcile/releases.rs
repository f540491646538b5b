//! The vendor operator releases installed, as the vendors' CRDs name them: kept up to date by
//! the controller's watch of CRD metadata, read by each component's reconcile (no request).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::RwLock;

use crate::vendors::{Release, ReleaseSource};

/// The installed release of each vendor CRD we read, by CRD name.
#[derive(Debug, Default)]
pub struct InstalledReleases {
    by_crd: RwLock<BTreeMap<String, Release>>,
    present: RwLock<BTreeSet<String>>,
}

impl InstalledReleases {
    /// The release `source` names, if its CRD is installed and names one.
    pub fn get(&self, source: Option<ReleaseSource>) -> Option<Release> {
        let source = source?;
        self.by_crd.read().ok()?.get(source.crd).copied()
    }

    /// Whether the CRD of `source` is installed (whatever it serves).
    pub fn installed(&self, source: Option<ReleaseSource>) -> bool {
        source.is_some_and(|s| self.present.read().is_ok_and(|p| p.contains(s.crd)))
    }

    /// Records whether a CRD is installed.
    pub fn set_present(&self, crd: &str, present: bool) {
        if let Ok(mut set) = self.present.write() {
            if present {
                set.insert(crd.to_owned());
            } else {
                set.remove(crd);
            }
        }
    }

    /// Records what a CRD names (`None`: no release, or the CRD was deleted); whether it changed.
    pub fn set(&self, crd: &str, release: Option<Release>) -> bool {
        let Ok(mut by_crd) = self.by_crd.write() else { return false };
        let before = match release {
            Some(release) => by_crd.insert(crd.to_owned(), release),
            None => by_crd.remove(crd),
        };
        before != release
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_is_read_back_and_changes_are_told() {
        let releases = InstalledReleases::default();
        let source = ReleaseSource {
            crd: "perconaxtradbclusters.pxc.percona.com",
            key: "app.kubernetes.io/version",
            serves_our_version: "",
        };
        assert!(!releases.installed(Some(source)));
        releases.set_present(source.crd, true);
        assert!(releases.installed(Some(source)));
        assert_eq!(releases.get(Some(source)), None);
        assert!(releases.set(source.crd, Some(Release::new(1, 19, 0))));
        assert!(!releases.set(source.crd, Some(Release::new(1, 19, 0))), "the same release is no change");
        assert_eq!(releases.get(Some(source)), Some(Release::new(1, 19, 0)));
        assert_eq!(releases.get(None), None);
        assert!(releases.set(source.crd, None));
        assert_eq!(releases.get(Some(source)), None);
    }
}
