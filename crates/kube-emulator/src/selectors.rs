//! Label and field selectors, as the API server parses them.

use serde_json::Value;

/// One label requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelRequirement {
    /// `k=v`, `k==v`.
    Equals(String, String),
    /// `k!=v`.
    NotEquals(String, String),
    /// `k in (a,b)`.
    In(String, Vec<String>),
    /// `k notin (a,b)`.
    NotIn(String, Vec<String>),
    /// `k`.
    Exists(String),
    /// `!k`.
    NotExists(String),
}

/// A parsed label selector (all requirements must hold).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector(pub Vec<LabelRequirement>);

/// A parsed field selector: `(path, equals?, value)` terms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

/// A selector that cannot be parsed (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub struct SelectorError(pub String);

/// Splits at commas that are not inside parentheses.
fn split_terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for ch in text.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    if !current.trim().is_empty() {
        terms.push(current);
    }
    terms.into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect()
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

fn set_values(text: &str) -> Result<Vec<String>, SelectorError> {
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| SelectorError(text.to_owned()))?;
    Ok(inner.split(',').map(|v| v.trim().to_owned()).collect())
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (f,g),!h,i`.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut out = Vec::new();
        for term in split_terms(text) {
            let bad = || SelectorError(term.clone());
            let requirement = if let Some(key) = term.strip_prefix('!') {
                LabelRequirement::NotExists(key.trim().to_owned())
            } else if let Some((key, values)) = term.split_once(" notin ") {
                LabelRequirement::NotIn(key.trim().to_owned(), set_values(values)?)
            } else if let Some((key, values)) = term.split_once(" in ") {
                LabelRequirement::In(key.trim().to_owned(), set_values(values)?)
            } else if let Some((key, value)) = term.split_once("!=") {
                LabelRequirement::NotEquals(key.trim().to_owned(), value.trim().to_owned())
            } else if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
                LabelRequirement::Equals(key.trim().to_owned(), value.trim().to_owned())
            } else {
                LabelRequirement::Exists(term.clone())
            };
            let key = match &requirement {
                LabelRequirement::Equals(k, _)
                | LabelRequirement::NotEquals(k, _)
                | LabelRequirement::In(k, _)
                | LabelRequirement::NotIn(k, _)
                | LabelRequirement::Exists(k)
                | LabelRequirement::NotExists(k) => k,
            };
            if !valid_key(key) {
                return Err(bad());
            }
            out.push(requirement);
        }
        Ok(LabelSelector(out))
    }

    /// Whether an object's labels satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelRequirement::Equals(k, v) => get(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            LabelRequirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelRequirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            LabelRequirement::Exists(k) => get(k).is_some(),
            LabelRequirement::NotExists(k) => get(k).is_none(),
        })
    }
}

impl FieldSelector {
    /// Parses `metadata.name=x,involvedObject.uid!=y`; every field must be in `allowed`
    /// (besides `metadata.name` and `metadata.namespace`), else the API server answers 400.
    pub fn parse(text: &str, allowed: &[String]) -> Result<Self, SelectorError> {
        let mut out = Vec::new();
        for term in split_terms(text) {
            let (field, equals, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (f, true, v)
            } else {
                return Err(SelectorError(term.clone()));
            };
            let field = field.trim();
            if !(field == "metadata.name" || field == "metadata.namespace" || allowed.iter().any(|a| a == field)) {
                return Err(SelectorError(format!("field label not supported: {field}")));
            }
            out.push((field.to_owned(), equals, value.trim().to_owned()));
        }
        Ok(FieldSelector(out))
    }

    /// Whether the object's fields satisfy every term.
    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equals, value)| {
            let pointer = format!("/{}", field.replace('.', "/"));
            let actual = match object.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == *value) == *equals
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
    #[test]
    fn label_selectors_equality_and_set_based() {
        let obj = json!({"metadata": {"labels": {"app": "web", "tier": "front"}}});
        for (selector, expected) in [
            ("app=web", true),
            ("app==web,tier=front", true),
            ("app!=web", false),
            ("app in (web,db)", true),
            ("app notin (web)", false),
            ("env notin (prod)", true),
            ("tier", true),
            ("!tier", false),
            ("!env", true),
            ("", true),
        ] {
            assert_eq!(LabelSelector::parse(selector).unwrap().matches(&obj), expected, "{selector}");
        }
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("a b=c").is_err());
    }

    // https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/
    #[test]
    fn field_selectors_and_unsupported_fields() {
        let obj = json!({"metadata": {"name": "x", "namespace": "ns"}, "involvedObject": {"kind": "Pod"}});
        let allowed = vec!["involvedObject.kind".to_owned()];
        assert!(FieldSelector::parse("metadata.name=x,involvedObject.kind=Pod", &allowed).unwrap().matches(&obj));
        assert!(!FieldSelector::parse("metadata.namespace!=ns", &allowed).unwrap().matches(&obj));
        assert!(FieldSelector::parse("spec.replicas=1", &allowed).is_err());
    }
}
