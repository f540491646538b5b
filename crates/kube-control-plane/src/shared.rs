//! One control plane per test binary: started on first use in a thread of its own (with its own
//! tokio runtime, so it outlives every test's runtime) and stopped when the test binary exits
//! (its processes exit when their standard input closes; etcd then removes the data folder).

use std::path::PathBuf;
use std::sync::OnceLock;

use kube::Client;

use crate::{ControlPlane, Error, Options};

/// What tests need to reach the shared control plane (clients are made per test: a client
/// belongs to the runtime it was made on).
#[derive(Clone, Debug)]
pub struct SharedControlPlane {
    /// The API server's URL.
    pub server: String,
    /// The CA clients trust (PEM).
    pub ca_pem: Vec<u8>,
    /// The admin token.
    pub admin_token: String,
    /// The data folder (component logs, audit log).
    pub dir: PathBuf,
    /// The users of [`Options::users`] with their tokens.
    pub tokens: Vec<(String, String)>,
}

impl SharedControlPlane {
    /// An admin client (on the caller's runtime).
    pub async fn admin_client(&self) -> Client {
        match crate::client_for(&self.server, &self.ca_pem, &self.admin_token).await {
            Ok(client) => client,
            Err(e) => panic!("control plane client: {e}"),
        }
    }

    /// A client with another bearer token (e.g. a ServiceAccount's).
    pub async fn client_with_token(&self, token: &str) -> Result<Client, Error> {
        crate::client_for(&self.server, &self.ca_pem, token).await
    }

    /// The token of a user of [`Options::users`] (panics for another user).
    pub fn token(&self, user: &str) -> &str {
        match self.tokens.iter().find(|(u, _)| u == user) {
            Some((_, token)) => token,
            None => panic!("no control plane user {user}"),
        }
    }

    /// The audit log.
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join("audit.log")
    }

    /// A kubeconfig with `token` as `user`, default namespace `namespace`.
    pub fn kubeconfig(&self, user: &str, token: &str, namespace: &str) -> String {
        crate::kubeconfig_yaml(&self.server, &self.ca_pem, user, token, namespace)
    }
}

static SHARED: OnceLock<Result<SharedControlPlane, String>> = OnceLock::new();

/// The test binary's control plane, started on first call with `options` (later calls get the
/// same one, whatever their options). Panics with the reason when it cannot start: a missing Go
/// toolchain or module fails loudly, never skips.
pub fn shared(options: impl FnOnce() -> Options) -> SharedControlPlane {
    let result = SHARED.get_or_init(|| {
        let options = options();
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name("control-plane".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                match ControlPlane::start(options).await {
                    Ok(plane) => {
                        let info = SharedControlPlane {
                            server: plane.server().to_owned(),
                            ca_pem: plane.ca_pem().to_vec(),
                            admin_token: plane.admin_token().to_owned(),
                            dir: plane.dir().to_owned(),
                            tokens: plane.tokens().to_vec(),
                        };
                        let _ = tx.send(Ok(info));
                        // Keep the processes and the stand-in kubelet until the binary exits.
                        std::future::pending::<()>().await;
                        drop(plane);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            });
        });
        if let Err(e) = spawned {
            return Err(e.to_string());
        }
        rx.recv().unwrap_or_else(|e| Err(e.to_string()))
    });
    match result {
        Ok(info) => info.clone(),
        Err(e) => panic!("the real control plane could not start: {e}"),
    }
}
