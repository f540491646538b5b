//! Loading `CustomResourceDefinition` manifests.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Why CRDs could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CrdLoadError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid YAML.
    #[error("{path}: invalid YAML: {message}")]
    Yaml {
        /// The path.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Every `CustomResourceDefinition` document in the YAML/JSON files under `path` (a file or a
/// directory, searched recursively in name order). Other kinds are skipped.
pub fn load_crds(path: &Path) -> Result<Vec<Value>, CrdLoadError> {
    let mut files = Vec::new();
    collect_files(path, &mut files)?;
    let mut crds = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| CrdLoadError::Io { path: file.clone(), source })?;
        let documents: Vec<Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| CrdLoadError::Yaml { path: file.clone(), message: e.to_string() })?;
        crds.extend(
            documents.into_iter().filter(|d| d.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")),
        );
    }
    Ok(crds)
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), CrdLoadError> {
    let io = |source| CrdLoadError::Io { path: path.to_owned(), source };
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path).map_err(io)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>().map_err(io)?;
        entries.sort();
        for entry in entries {
            collect_files(&entry, files)?;
        }
    } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")) {
        files.push(path.to_owned());
    }
    Ok(())
}

/// The `openAPIV3Schema` of the served version `version` of `crd`.
pub fn served_schema<'a>(crd: &'a Value, version: &str) -> Option<&'a Value> {
    crd.pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| {
            v.get("name").and_then(Value::as_str) == Some(version)
                && v.get("served").and_then(Value::as_bool) == Some(true)
        })?
        .pointer("/schema/openAPIV3Schema")
}

/// `(group, kind)` of a CRD.
pub fn group_kind(crd: &Value) -> Option<(String, String)> {
    let group = crd.pointer("/spec/group")?.as_str()?.to_owned();
    let kind = crd.pointer("/spec/names/kind")?.as_str()?.to_owned();
    Some((group, kind))
}
