//! Editions of the defaults: the set of defaults (engine versions, proxy, server settings,
//! users) a managed component was created with.
//!
//! Defaults change between operator releases (MySQL 8.0 → 8.4, ClickHouse 25.8 → 26.3, …).
//! A component keeps the edition it was created with, so a new operator release never changes
//! what a running install runs as a side effect; moving a component to a newer edition is an
//! upgrade. A new component gets [`Edition::LATEST`].

use std::fmt;

/// One edition of the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edition {
    /// The defaults of 2025 (the Go operator's of late 2025, and ours until 2026-12): MySQL 8.0
    /// behind ProxySQL with the app as `root`, Redis 7.0, ClickHouse 25.8. Objects of this
    /// edition carry no edition annotation (they predate it).
    Y2025,
    /// The defaults of 2026-12: what W&B Server needs today (MySQL 8.4 behind HAProxy with
    /// W&B's settings and a `wandb_local` user, Redis 7.4, ClickHouse 26.3 with the Weave
    /// cluster and user, pinned images).
    Y2026,
}

impl Edition {
    /// The edition of components created from now on.
    pub const LATEST: Edition = Edition::Y2026;

    /// Every edition, oldest first.
    pub const ALL: [Edition; 2] = [Edition::Y2025, Edition::Y2026];

    /// Its name, as written in the edition annotation.
    pub fn as_str(self) -> &'static str {
        match self {
            Edition::Y2025 => "2025",
            Edition::Y2026 => "2026",
        }
    }

    /// The edition an object's annotation names: `None` (no annotation) is [`Edition::Y2025`],
    /// whose objects predate the annotation; an unknown name is `Err` (written by a newer
    /// operator: nothing must be written over it).
    pub fn from_annotation(value: Option<&str>) -> Result<Edition, String> {
        match value {
            None => Ok(Edition::Y2025),
            Some(name) => {
                name.parse().map_err(|_| format!("unknown defaults edition {name:?} (written by a newer operator?)"))
            }
        }
    }

    /// Whether objects of this edition carry the edition annotation.
    pub fn annotated(self) -> bool {
        self != Edition::Y2025
    }
}

impl std::str::FromStr for Edition {
    type Err = String;

    fn from_str(name: &str) -> Result<Edition, String> {
        Edition::ALL.into_iter().find(|e| e.as_str() == name).ok_or_else(|| {
            let known: Vec<&str> = Edition::ALL.iter().map(|e| e.as_str()).collect();
            format!("unknown edition {name:?}; the editions are {}", known.join(", "))
        })
    }
}

impl fmt::Display for Edition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_annotation_reads_back_as_the_edition_that_wrote_it() {
        for edition in Edition::ALL {
            let written = edition.annotated().then_some(edition.as_str());
            assert_eq!(Edition::from_annotation(written), Ok(edition));
        }
        assert!(Edition::from_annotation(Some("2031")).is_err());
        assert_eq!(Edition::ALL.last(), Some(&Edition::LATEST));
    }
}
