//! The configuration reference (docs/configuration.md), generated from the CRD so that it
//! cannot drift from what the API server enforces.

use serde_json::Value;

fn type_of(node: &Value) -> String {
    if node.get("x-kubernetes-int-or-string").is_some() {
        return "int or string".to_owned();
    }
    match node.get("type").and_then(Value::as_str) {
        Some("array") => format!("[]{}", node.get("items").map(type_of).unwrap_or_default()),
        Some("object") if node.get("additionalProperties").is_some() => "map".to_owned(),
        Some(t) => t.to_owned(),
        None => "any".to_owned(),
    }
}

fn rules(node: &Value) -> String {
    let mut out = Vec::new();
    if let Some(e) = node.get("enum").and_then(Value::as_array) {
        out.push(format!(
            "one of {}",
            e.iter().map(|v| format!("`{}`", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(", ")
        ));
    }
    let number = |v: &Value| {
        v.as_f64()
            .map_or_else(|| v.to_string(), |f| if f.fract() == 0.0 { format!("{}", f as i64) } else { f.to_string() })
    };
    if let (Some(min), Some(max)) = (node.get("minimum"), node.get("maximum")) {
        out.push(format!("{}..={}", number(min), number(max)));
    }
    if let Some(p) = node.get("pattern").and_then(Value::as_str) {
        out.push(format!("pattern `{p}`"));
    }
    if let Some(m) = node.get("maxLength") {
        out.push(format!("at most {m} characters"));
    }
    if let Some(v) = node.get("x-kubernetes-validations").and_then(Value::as_array) {
        for rule in v {
            out.push(format!(
                "CEL: {}",
                rule.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| rule["rule"].as_str().unwrap_or_default())
            ));
        }
    }
    out.join("; ")
}

fn description(node: &Value) -> String {
    node.get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .replace('\n', " ")
        .replace('|', "\\|")
}

fn walk(node: &Value, path: &str, rows: &mut Vec<String>) {
    let Some(props) = node.get("properties").and_then(Value::as_object) else { return };
    for (name, child) in props {
        let field = format!("{path}.{name}");
        let default = child.get("default").map(|d| format!("`{d}`")).unwrap_or_default();
        rows.push(format!(
            "| `{field}` | {} | {default} | {} | {} |",
            type_of(child),
            rules(child).replace('|', "\\|"),
            description(child)
        ));
        // ResourceRequirements is Kubernetes' own type: documented upstream.
        if name != "resources" {
            walk(child, &field, rows);
        }
    }
}

/// The Markdown reference of every spec field, and the resource-level rules.
pub fn configuration_reference() -> String {
    let crd = serde_json::to_value(super::crd::crd()).unwrap_or_default();
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let mut rows = Vec::new();
    walk(&schema["properties"]["spec"], "spec", &mut rows);
    let root_rules = rules(schema);
    let spec_rules = rules(&schema["properties"]["spec"]);
    format!(
        "# Configuration reference: `WeightsAndBiases` (`apps.wandb.com/v2`)\n\n\
         Generated from the CRD by `wandb-operator reference` (a test fails when this file is stale).\n\
         Types, defaults and rules are enforced by the API server; `kubectl explain wandb.spec` shows\n\
         the same text.\n\n\
         Resource-level rules: {root_rules}; {spec_rules}.\n\n\
         | Field | Type | Default | Rules | Description |\n|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    )
}
