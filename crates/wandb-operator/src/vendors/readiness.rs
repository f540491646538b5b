//! Turning per-object readiness verdicts into a component status.

use crate::api::{ComponentStatus, State, StatusDetail};

/// What a vendor object's status says, judged by the vendor's own readiness rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The object does not exist (yet).
    Missing,
    /// The vendor has not written any status yet.
    NotReported,
    /// The vendor has not yet observed the latest spec (`observedGeneration` behind).
    Stale {
        /// Generation the vendor last observed.
        observed: Option<i64>,
        /// Current generation.
        generation: i64,
    },
    /// The vendor is working towards ready.
    Progressing(String),
    /// Fewer members ready than desired although the spec is observed: a loss of capacity
    /// when the component was ready before, otherwise still starting.
    FewerReady(String),
    /// The vendor reports an error.
    Failed(String),
    /// Ready by the vendor's rule.
    Ready,
}

/// Folds the verdicts of a component's objects (`(what, verdict)`) into readiness, state and
/// details. `previously_ready` turns `FewerReady` into `Degraded`.
pub(crate) fn fold<C>(verdicts: Vec<(String, Verdict)>, previously_ready: bool) -> ComponentStatus<C> {
    let mut state = State::Ready;
    let mut details = Vec::new();
    let mut ready = true;
    for (what, verdict) in verdicts {
        let (detail_state, code, message) = match verdict {
            Verdict::Ready => (State::Ready, "Ready", format!("{what} is ready")),
            Verdict::Missing => (State::Updating, "Creating", format!("{what} does not exist yet")),
            Verdict::NotReported => (
                State::Updating,
                "WaitingForVendor",
                format!("{what}: the vendor operator has not reported status yet"),
            ),
            Verdict::Stale { observed, generation } => (
                State::Updating,
                "WaitingForVendor",
                format!(
                    "{what}: the vendor operator has observed generation {} of {generation}",
                    observed.map_or_else(|| "none".to_owned(), |g| g.to_string())
                ),
            ),
            Verdict::Progressing(message) => (State::Updating, "VendorProgressing", format!("{what}: {message}")),
            Verdict::FewerReady(message) if previously_ready => {
                (State::Degraded, "Degraded", format!("{what}: {message}"))
            }
            Verdict::FewerReady(message) => (State::Updating, "VendorProgressing", format!("{what}: {message}")),
            Verdict::Failed(message) => (State::Error, "VendorError", format!("{what}: {message}")),
        };
        ready &= detail_state == State::Ready;
        state = state.worst(detail_state);
        details.push(StatusDetail { state: detail_state, code: code.to_owned(), message });
    }
    ComponentStatus { ready, state, details, ..ComponentStatus::default() }
}

/// A notice: a detail that changes neither readiness nor state (state `Ready`).
pub(crate) fn notice(code: &str, message: String) -> StatusDetail {
    StatusDetail { state: State::Ready, code: code.to_owned(), message }
}

/// `Stale` when the vendor's observed generation is behind the object's generation.
pub(crate) fn stale(observed: Option<i64>, generation: Option<i64>) -> Option<Verdict> {
    let generation = generation?;
    (observed.is_none_or(|o| o < generation)).then_some(Verdict::Stale { observed, generation })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(verdicts: Vec<Verdict>, previously_ready: bool) -> ComponentStatus<()> {
        fold(verdicts.into_iter().enumerate().map(|(i, v)| (format!("object {i}"), v)).collect(), previously_ready)
    }

    #[test]
    fn all_ready_is_ready() {
        let s = status(vec![Verdict::Ready, Verdict::Ready], false);
        assert!(s.ready);
        assert_eq!(s.state, State::Ready);
    }

    #[test]
    fn worst_verdict_wins_and_ready_needs_every_object() {
        let s = status(vec![Verdict::Ready, Verdict::NotReported, Verdict::Failed("boom".into())], false);
        assert!(!s.ready);
        assert_eq!(s.state, State::Error);
        assert!(s.details.iter().any(|d| d.code == "VendorError" && d.message.contains("boom")));
    }

    #[test]
    fn fewer_ready_is_degraded_only_after_ready() {
        assert_eq!(status(vec![Verdict::FewerReady("2/3".into())], true).state, State::Degraded);
        assert_eq!(status(vec![Verdict::FewerReady("2/3".into())], false).state, State::Updating);
    }

    #[test]
    fn stale_generation_is_detected() {
        assert_eq!(stale(Some(1), Some(2)), Some(Verdict::Stale { observed: Some(1), generation: 2 }));
        assert_eq!(stale(None, Some(1)), Some(Verdict::Stale { observed: None, generation: 1 }));
        assert_eq!(stale(Some(2), Some(2)), None);
        assert_eq!(stale(Some(1), None), None);
    }
}
