//! Test control: fault injection, added latency and the request log.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Requests matching this fail with `code`: the next `remaining` of them, or, for a
/// [`Fault::rate`], each matching request with a given probability (drawn from a seeded
/// generator, so a run's sequence of failures is reproducible for the same request order).
#[derive(Debug, Clone)]
pub struct Fault {
    /// HTTP method to match (`None` = any).
    pub method: Option<String>,
    /// Substring the path must contain (`None` = any).
    pub path_contains: Option<String>,
    /// Only watch requests (`Some(true)`), only non-watch (`Some(false)`), or both.
    pub watch: Option<bool>,
    /// Only writes (POST, PUT, PATCH, DELETE).
    pub writes_only: bool,
    /// Substring the request's `User-Agent` must contain (`None` = any client).
    pub user_agent_contains: Option<String>,
    /// How many more matching requests fail.
    pub remaining: u32,
    /// Probability that a matching request fails (1.0: every one).
    pub probability: f64,
    /// The status code to answer.
    pub code: u16,
    rng: StdRng,
}

impl Fault {
    /// The next `count` requests with `method` (any if `None`) whose path contains `path`
    /// fail with `code`.
    pub fn new(method: Option<&str>, path: Option<&str>, count: u32, code: u16) -> Self {
        Fault {
            method: method.map(str::to_owned),
            path_contains: path.map(str::to_owned),
            watch: None,
            writes_only: false,
            user_agent_contains: None,
            remaining: count,
            probability: 1.0,
            code,
            rng: StdRng::seed_from_u64(0),
        }
    }

    /// Each matching request fails with `code` with `probability` (e.g. 0.05), until the faults
    /// are cleared. `seed` seeds the draw.
    pub fn rate(method: Option<&str>, path: Option<&str>, probability: f64, code: u16, seed: u64) -> Self {
        Fault {
            remaining: u32::MAX,
            probability: probability.clamp(0.0, 1.0),
            rng: StdRng::seed_from_u64(seed),
            ..Fault::new(method, path, 0, code)
        }
    }

    /// Matches only requests whose `User-Agent` contains `agent` (e.g. one client of several).
    pub fn from_user_agent(mut self, agent: &str) -> Self {
        self.user_agent_contains = Some(agent.to_owned());
        self
    }

    /// Matches only writes (POST, PUT, PATCH, DELETE).
    pub fn writes(mut self) -> Self {
        self.writes_only = true;
        self
    }

    fn matches(&self, request: &RequestFacts<'_>) -> bool {
        self.remaining > 0
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(request.method))
            && self.path_contains.as_deref().is_none_or(|p| request.path.contains(p))
            && self.watch.is_none_or(|w| w == request.watch)
            && (!self.writes_only || is_write_method(request.method))
            && self.user_agent_contains.as_deref().is_none_or(|a| request.user_agent.contains(a))
    }
}

/// What a fault is matched against.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path.
    pub path: &'a str,
    /// Whether it is a watch.
    pub watch: bool,
    /// The `User-Agent` header (empty when absent).
    pub user_agent: &'a str,
}

fn is_write_method(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
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
        is_write_method(&self.method)
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
    /// The code of the first matching fault that fires for this request, consuming one of its
    /// occurrences.
    pub fn take_fault(&mut self, request: &RequestFacts<'_>) -> Option<u16> {
        let fault = self.faults.iter_mut().filter(|f| f.matches(request)).find_map(|f| {
            let fires = f.probability >= 1.0 || f.rng.random_bool(f.probability);
            fires.then_some(f)
        })?;
        fault.remaining -= 1;
        let code = fault.code;
        self.faults.retain(|f| f.remaining > 0);
        Some(code)
    }
}
