//! The pause a user asks for with the annotation `apps.wandb.com/pause`: which components the
//! operator must not write for.

use std::collections::BTreeMap;

use super::component::Component;
use crate::api::PAUSE_ANNOTATION;

/// Which components are paused.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Pause {
    /// None (no annotation, or `"false"`).
    #[default]
    None,
    /// Every component: `"true"` (or empty, `"all"`), or a value the operator cannot read.
    All {
        /// Why the value could not be read, when it could not: a pause that names something
        /// unknown stops every write rather than none.
        unreadable: Option<String>,
    },
    /// The components listed by key (`"mysql,redis"`).
    Listed(Vec<Component>),
}

impl Pause {
    /// The pause `annotations` ask for; `components` are the keys a list may name.
    pub fn of(annotations: &BTreeMap<String, String>, components: &[Component]) -> Pause {
        let Some(value) = annotations.get(PAUSE_ANNOTATION) else { return Pause::None };
        let value = value.trim().to_ascii_lowercase();
        match value.as_str() {
            "false" => return Pause::None,
            "" | "true" | "all" => return Pause::All { unreadable: None },
            _ => {}
        }
        let mut listed = Vec::new();
        let mut unknown = Vec::new();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match components.iter().find(|c| c.key() == name) {
                Some(component) if !listed.contains(component) => listed.push(*component),
                Some(_) => {}
                None => unknown.push(name.to_owned()),
            }
        }
        if unknown.is_empty() && !listed.is_empty() {
            return Pause::Listed(listed);
        }
        let known: Vec<&str> = components.iter().map(|c| c.key()).collect();
        let named = if unknown.is_empty() { "no component".to_owned() } else { unknown.join(", ") };
        Pause::All {
            unreadable: Some(format!(
                "{PAUSE_ANNOTATION} names {named}; it takes \"true\" or a comma-separated list of {}; every component is paused until it is corrected",
                known.join(", ")
            )),
        }
    }

    /// Whether `component` is paused.
    pub fn covers(&self, component: Component) -> bool {
        match self {
            Pause::None => false,
            Pause::All { .. } => true,
            Pause::Listed(listed) => listed.contains(&component),
        }
    }

    /// Why the annotation's value could not be read, if it could not.
    pub fn unreadable(&self) -> Option<&str> {
        match self {
            Pause::All { unreadable } => unreadable.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ComponentDescriptor;
    use crate::model::components::{ClickHouse, MySql, Redis};

    fn pause(value: &str) -> Pause {
        let annotations = BTreeMap::from([(PAUSE_ANNOTATION.to_owned(), value.to_owned())]);
        Pause::of(&annotations, &[MySql::COMPONENT, Redis::COMPONENT, ClickHouse::COMPONENT])
    }

    #[test]
    fn the_annotation_pauses_all_some_or_none() {
        assert_eq!(Pause::of(&BTreeMap::new(), &[MySql::COMPONENT]), Pause::None);
        assert_eq!(pause("false"), Pause::None);
        for all in ["true", "", "All", " TRUE "] {
            assert_eq!(pause(all), Pause::All { unreadable: None }, "{all:?}");
        }
        let listed = pause("mysql, redis,mysql");
        assert_eq!(listed, Pause::Listed(vec![MySql::COMPONENT, Redis::COMPONENT]));
        assert!(listed.covers(Redis::COMPONENT));
        assert!(!listed.covers(ClickHouse::COMPONENT));
    }

    #[test]
    fn a_value_naming_something_unknown_pauses_everything_and_says_why() {
        let typo = pause("mysq,redis");
        assert!(typo.covers(ClickHouse::COMPONENT));
        let why = typo.unreadable().unwrap_or_default();
        assert!(why.contains("names mysq") && why.contains("mysql, redis, clickhouse"), "{why}");
        assert!(pause(",").unreadable().is_some_and(|w| w.contains("names no component")));
        assert!(pause("yes").covers(MySql::COMPONENT));
    }
}
