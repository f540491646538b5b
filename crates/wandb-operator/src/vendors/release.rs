//! Which release of a vendor operator is installed: read from the labels or annotations its
//! CRDs carry (Percona `app.kubernetes.io/version`, Altinity `clickhouse.altinity.com/chop`,
//! MinIO `operator.min.io/version`); Strimzi and Opstree label none.

use std::fmt;

/// A vendor release, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
}

impl Release {
    /// A release from its numbers.
    pub const fn new(major: u64, minor: u64, patch: u64) -> Release {
        Release { major, minor, patch }
    }

    /// Parses `v1.19.0`, `1.19.1` or `0.25.6` (a suffix after `-` or `+` is ignored); `None`
    /// for anything else.
    pub fn parse(text: &str) -> Option<Release> {
        let text = text.trim().strip_prefix('v').unwrap_or(text.trim());
        let core = text.split(['-', '+']).next()?;
        let mut numbers = core.split('.').map(|n| n.parse::<u64>().ok());
        let release = Release::new(numbers.next()??, numbers.next()??, numbers.next().unwrap_or(Some(0))?);
        numbers.next().is_none().then_some(release)
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Where a vendor's CRDs say which release they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseSource {
    /// The CRD read (its name, `<plural>.<group>`).
    pub crd: &'static str,
    /// The label or annotation holding the release; empty when the vendor labels none (the
    /// CRD's presence is still known).
    pub key: &'static str,
    /// Which releases serve the API version we write, for when the CRD is installed but does
    /// not serve it (e.g. "Strimzi 0.49 or newer serves kafka.strimzi.io/v1").
    pub serves_our_version: &'static str,
}

impl ReleaseSource {
    /// The release the CRD's `labels` and `annotations` name, if any.
    pub fn read(
        &self,
        labels: &std::collections::BTreeMap<String, String>,
        annotations: &std::collections::BTreeMap<String, String>,
    ) -> Option<Release> {
        if self.key.is_empty() {
            return None;
        }
        labels.get(self.key).or_else(|| annotations.get(self.key)).and_then(|v| Release::parse(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_and_order_by_their_numbers() {
        assert_eq!(Release::parse("v1.19.0"), Some(Release::new(1, 19, 0)));
        assert_eq!(Release::parse("0.25.6"), Some(Release::new(0, 25, 6)));
        assert_eq!(Release::parse("1.20.0-rc.1"), Some(Release::new(1, 20, 0)));
        assert_eq!(Release::parse("1.2"), Some(Release::new(1, 2, 0)));
        assert_eq!(Release::parse("latest"), None);
        assert_eq!(Release::parse("1.2.3.4"), None);
        assert!(Release::new(1, 9, 0) < Release::new(1, 19, 0));
        assert_eq!(Release::new(1, 19, 1).to_string(), "1.19.1");
    }
}
