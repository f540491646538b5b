//! The errors of a reconcile.

/// Errors of a reconcile. Each variant has a stable name used as metric label and event reason.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// An API request failed.
    #[error("{action}: {source}")]
    Api {
        /// What was being done.
        action: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// A builder failed (a bug).
    #[error(transparent)]
    Vendor(#[from] crate::vendors::VendorError),
    /// The resource lacks a name or namespace.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// A kind the operator has no cache for (a bug: every written kind is watched).
    #[error("no cache for {0}")]
    UnknownKind(String),
}

impl ReconcileError {
    /// A stable reason label.
    pub fn reason(&self) -> &'static str {
        match self {
            ReconcileError::Api { .. } => "ApiError",
            ReconcileError::Vendor(_) => "BuildError",
            ReconcileError::Model(_) => "InvalidResource",
            ReconcileError::UnknownKind(_) => "UnknownKind",
        }
    }

    /// The API server's answer, when the error is one.
    pub fn api_status(&self) -> Option<&kube::core::Status> {
        match self {
            ReconcileError::Api { source: kube::Error::Api(status), .. } => Some(status),
            _ => None,
        }
    }

    pub(crate) fn api(action: impl Into<String>) -> impl FnOnce(kube::Error) -> ReconcileError {
        let action = action.into();
        move |source| ReconcileError::Api { action, source }
    }
}
