//! A component's identity: its key, display name, password key and connection URL. Labels,
//! messages and the connection Secret use it.

use std::collections::BTreeMap;
use std::fmt::Debug;

use super::minimum_version::MinimumVersion;

/// The fixed facts of one component.
#[derive(Debug)]
pub struct ComponentInfo {
    /// The spec key and label value, e.g. `mysql`.
    pub key: &'static str,
    /// The name used in condition types and messages, e.g. `MySQL`.
    pub display_name: &'static str,
    /// The connection Secret key holding the client password (or secret key).
    pub password_key: &'static str,
    /// The connection URL composed from the connection Secret's final keys.
    pub url: fn(&BTreeMap<String, String>) -> String,
    /// The oldest server W&B supports, when W&B names one.
    pub minimum_version: Option<MinimumVersion>,
}

/// Which component: a handle on its [`ComponentInfo`]. Equal, ordered and hashed by key.
#[derive(Clone, Copy)]
pub struct Component(&'static ComponentInfo);

impl Component {
    /// The component described by `info`.
    pub const fn new(info: &'static ComponentInfo) -> Self {
        Component(info)
    }

    /// The spec key and label value.
    pub fn key(self) -> &'static str {
        self.0.key
    }

    /// The name used in condition types: `<display name>Ready`.
    pub fn display_name(self) -> &'static str {
        self.0.display_name
    }

    /// The connection Secret key holding the client password (or secret key).
    pub fn password_key(self) -> &'static str {
        self.0.password_key
    }

    /// The oldest server W&B supports, when W&B names one.
    pub fn minimum_version(self) -> Option<MinimumVersion> {
        self.0.minimum_version
    }

    /// The connection URL composed from the connection Secret's final keys.
    pub fn url(self, keys: &BTreeMap<String, String>) -> String {
        (self.0.url)(keys)
    }
}

impl Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.display_name)
    }
}

impl PartialEq for Component {
    fn eq(&self, other: &Self) -> bool {
        self.0.key == other.0.key
    }
}

impl Eq for Component {}

impl std::hash::Hash for Component {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.key.hash(state);
    }
}
