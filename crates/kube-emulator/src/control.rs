//! Test control: fault injection, added latency and the request log.

use std::time::Duration;

/// Requests matching this fail with `code` (the next `remaining` of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// HTTP method to match (`None` = any).
    pub method: Option<String>,
    /// Substring the path must contain (`None` = any).
    pub path_contains: Option<String>,
    /// Only watch requests (`Some(true)`), only non-watch (`Some(false)`), or both.
    pub watch: Option<bool>,
    /// How many more matching requests fail.
    pub remaining: u32,
    /// The status code to answer.
    pub code: u16,
}

impl Fault {
    /// The next `count` requests with `method` (any if `None`) whose path contains `path`
    /// fail with `code`.
    pub fn new(method: Option<&str>, path: Option<&str>, count: u32, code: u16) -> Self {
        Fault {
            method: method.map(str::to_owned),
            path_contains: path.map(str::to_owned),
            watch: None,
            remaining: count,
            code,
        }
    }

    fn matches(&self, method: &str, path: &str, watch: bool) -> bool {
        self.remaining > 0
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path_contains.as_deref().is_none_or(|p| path.contains(p))
            && self.watch.is_none_or(|w| w == watch)
    }
}

/// One request as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Whether it was a watch.
    pub watch: bool,
    /// Status code answered (200 for a watch that started).
    pub status: u16,
    /// User agent.
    pub user_agent: String,
}

impl LoggedRequest {
    /// Whether the request changed (or tried to change) state.
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
    }
}

/// Test control state.
#[derive(Debug, Default)]
pub struct Control {
    /// Pending faults.
    pub faults: Vec<Fault>,
    /// Latency added before every request.
    pub latency: Option<Duration>,
    /// Every request, in arrival order.
    pub log: Vec<LoggedRequest>,
}

impl Control {
    /// The code of the first matching fault, consuming one of its occurrences.
    pub fn take_fault(&mut self, method: &str, path: &str, watch: bool) -> Option<u16> {
        let fault = self.faults.iter_mut().find(|f| f.matches(method, path, watch))?;
        fault.remaining -= 1;
        let code = fault.code;
        self.faults.retain(|f| f.remaining > 0);
        Some(code)
    }
}
