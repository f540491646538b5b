//! Errors of the model layer.

/// A spec value that cannot be turned into a valid configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// A user-supplied value is invalid. `field` is the path in the resource, e.g.
    /// `spec.mysql.storageSize`.
    #[error("{field}: {message}")]
    InvalidField {
        /// Path of the offending field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The resource has no namespace (it is namespaced; a manifest without one must be given a
    /// namespace before it can be resolved).
    #[error("metadata.namespace: the resource has no namespace")]
    MissingNamespace,
    /// The resource has no name.
    #[error("metadata.name: the resource has no name")]
    MissingName,
}

impl ModelError {
    /// Shorthand for [`ModelError::InvalidField`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ModelError::InvalidField { field: field.into(), message: message.into() }
    }

    /// The path of the offending field.
    pub fn field(&self) -> &str {
        match self {
            ModelError::InvalidField { field, .. } => field,
            ModelError::MissingNamespace => "metadata.namespace",
            ModelError::MissingName => "metadata.name",
        }
    }
}
