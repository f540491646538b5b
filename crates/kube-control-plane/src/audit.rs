//! The API server's audit log (JSON lines, level `Metadata`, stage `ResponseComplete` and
//! `Panic`): who made which request and what the server answered.

use std::path::Path;

use serde::Deserialize;

/// One audited request.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// The stage (`ResponseStarted` for watches, `ResponseComplete` otherwise).
    pub stage: String,
    /// The verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, …).
    pub verb: String,
    /// The request URI.
    #[serde(rename = "requestURI")]
    pub request_uri: String,
    /// Who made it.
    pub user: User,
    /// The user agent.
    #[serde(default)]
    pub user_agent: String,
    /// The object.
    #[serde(default)]
    pub object_ref: Option<ObjectRef>,
    /// The response status.
    #[serde(default)]
    pub response_status: Option<ResponseStatus>,
}

/// The authenticated user.
#[derive(Clone, Debug, Deserialize)]
pub struct User {
    /// The user name (`system:serviceaccount:NS:NAME` for a ServiceAccount).
    #[serde(default)]
    pub username: String,
}

/// The object a request was about.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// The resource (plural).
    #[serde(default)]
    pub resource: String,
    /// The subresource (`status`, …).
    #[serde(default)]
    pub subresource: String,
    /// The namespace.
    #[serde(default)]
    pub namespace: String,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The API group (empty for core).
    #[serde(default)]
    pub api_group: String,
}

/// The response's status.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ResponseStatus {
    /// The HTTP code.
    #[serde(default)]
    pub code: u16,
}

impl AuditEvent {
    /// The HTTP code (0 when the server did not record one).
    pub fn code(&self) -> u16 {
        self.response_status.as_ref().map(|s| s.code).unwrap_or(0)
    }

    /// Whether the request writes (create, update, patch, delete, deletecollection).
    pub fn is_write(&self) -> bool {
        matches!(self.verb.as_str(), "create" | "update" | "patch" | "delete" | "deletecollection")
    }

    /// Whether the request reads without watching (get, list).
    pub fn is_read(&self) -> bool {
        matches!(self.verb.as_str(), "get" | "list")
    }

    /// `verb resource[/subresource] namespace/name → code`, for messages.
    pub fn describe(&self) -> String {
        let o = self.object_ref.clone().unwrap_or_default();
        let sub = if o.subresource.is_empty() { String::new() } else { format!("/{}", o.subresource) };
        format!("{} {}{} {}/{} -> {}", self.verb, o.resource, sub, o.namespace, o.name, self.code())
    }
}

/// The events of the audit log at `path` from byte `from` on (only complete lines); returns
/// them and the byte offset after the last line read.
pub fn read(path: &Path, from: u64) -> std::io::Result<(Vec<AuditEvent>, u64)> {
    let bytes = std::fs::read(path)?;
    let start = (from as usize).min(bytes.len());
    let rest = &bytes[start..];
    let end = rest.iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(0);
    let events = rest[..end]
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(serde_json::from_slice::<AuditEvent>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(std::io::Error::other)?
        .into_iter()
        .filter(|e| e.stage != "ResponseStarted")
        .collect();
    Ok((events, (start + end) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_complete_lines_from_an_offset_and_skips_watch_starts() {
        let dir = std::env::temp_dir().join(format!("audit-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log");
        let line = |stage: &str, verb: &str, code: u16| {
            format!(
                r#"{{"stage":"{stage}","verb":"{verb}","requestURI":"/api/v1/namespaces/a/pods","user":{{"username":"u"}},"objectRef":{{"resource":"pods","namespace":"a"}},"responseStatus":{{"code":{code}}}}}"#
            )
        };
        let first = format!("{}\n{}\n", line("ResponseComplete", "create", 201), line("ResponseStarted", "watch", 200));
        std::fs::write(&path, format!("{first}{}", &line("ResponseComplete", "get", 403)[..20])).unwrap();
        let (events, offset) = read(&path, 0).unwrap();
        assert_eq!(events.len(), 1, "the watch start is skipped and the partial line left for later");
        assert!(events[0].is_write() && events[0].code() == 201);
        assert_eq!(offset, first.len() as u64);
        std::fs::write(&path, format!("{first}{}\n", line("ResponseComplete", "get", 403))).unwrap();
        let (events, _) = read(&path, offset).unwrap();
        assert_eq!(events.iter().map(AuditEvent::describe).collect::<Vec<_>>(), vec!["get pods a/ -> 403"]);
        std::fs::write(&path, "not json\n").unwrap();
        assert!(read(&path, 0).is_err(), "an unreadable line is an error, not a silent gap");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
