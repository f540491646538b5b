//! Where the images the operator deploys by default come from: the registry they are pulled
//! from (a mirror, for air-gapped clusters) and the pull Secrets every vendor pod gets.

use super::error::ModelError;
use crate::api::WeightsAndBiasesSpec;

/// The image source of every component of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageSource {
    /// A mirror that replaces each default image's registry; `None`: the images' own registries.
    pub registry: Option<String>,
    /// Image pull Secrets (in each component's namespace) for every vendor pod.
    pub pull_secrets: Vec<String>,
}

impl ImageSource {
    /// `image` as pulled from the mirror: its registry (`quay.io`, or Docker Hub when the
    /// reference names none) replaced by the mirror, its repository path and tag kept
    /// (`percona/haproxy:2.8.18-1` → `<mirror>/percona/haproxy:2.8.18-1`,
    /// `quay.io/opstree/redis:v7.4.11` → `<mirror>/opstree/redis:v7.4.11`).
    pub fn mirrored(&self, image: &str) -> String {
        let Some(registry) = &self.registry else { return image.to_owned() };
        let path = match image.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => rest,
            _ => image,
        };
        format!("{}/{path}", registry.trim_end_matches('/'))
    }
}

/// The image source `spec.images` asks for, validated.
pub fn image_source(spec: &WeightsAndBiasesSpec) -> Result<ImageSource, ModelError> {
    let Some(images) = &spec.images else { return Ok(ImageSource::default()) };
    if let Some(registry) = &images.registry {
        let valid = !registry.is_empty()
            && !registry.contains("://")
            && !registry.contains(char::is_whitespace)
            && !registry.contains(['@', '?', '#'])
            && registry.split('/').next().is_some_and(|host| !host.is_empty());
        if !valid {
            return Err(ModelError::invalid(
                "spec.images.registry",
                "a registry host with an optional port and path (e.g. registry.example.com:5000/mirror), without a scheme",
            ));
        }
    }
    let pull_secrets = images.pull_secrets.clone().unwrap_or_default();
    if let Some(bad) = pull_secrets.iter().find(|name| super::fields::validate_dns_subdomain(name).is_err()) {
        return Err(ModelError::invalid("spec.images.pullSecrets", format!("{bad:?} is not a Secret name")));
    }
    Ok(ImageSource { registry: images.registry.clone(), pull_secrets })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_replaces_the_registry_and_keeps_the_path_and_tag() {
        let mirror = ImageSource { registry: Some("registry.example:5000/mirror/".to_owned()), pull_secrets: vec![] };
        assert_eq!(
            mirror.mirrored("percona/haproxy:2.8.18-1"),
            "registry.example:5000/mirror/percona/haproxy:2.8.18-1"
        );
        assert_eq!(
            mirror.mirrored("quay.io/opstree/redis:v7.4.11"),
            "registry.example:5000/mirror/opstree/redis:v7.4.11"
        );
        assert_eq!(mirror.mirrored("localhost:5000/x/y:1.2.3"), "registry.example:5000/mirror/x/y:1.2.3");
        assert_eq!(ImageSource::default().mirrored("percona/haproxy:2.8.18-1"), "percona/haproxy:2.8.18-1");
    }
}
