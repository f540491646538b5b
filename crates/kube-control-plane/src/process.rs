//! The control plane's processes: each component runs as its own process of the multicall
//! binary, logs to a file in the control plane's folder, and holds a pipe on its standard input.
//! The binary exits when that pipe closes, so the components stop with whoever started them,
//! even when that process dies without running destructors (a test binary ends that way).

use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use crate::Error;

/// One running component.
pub struct Component {
    /// What it is (`etcd`, `kube-apiserver`, …).
    pub name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Component {
    /// Starts `binary name args…`, logging to `dir/name.log`. `remove_on_exit` is a folder the
    /// process deletes when its standard input closes (the control plane's data folder).
    pub fn spawn(
        binary: &Path,
        name: &'static str,
        args: &[String],
        dir: &Path,
        remove_on_exit: Option<&Path>,
    ) -> Result<Component, Error> {
        let log_path = dir.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)
            .map_err(|source| Error::Io { what: log_path.display().to_string(), source })?;
        let log_err = log.try_clone().map_err(|source| Error::Io { what: log_path.display().to_string(), source })?;
        let mut command = Command::new(binary);
        command
            .arg(name)
            .args(args)
            .env("CONTROL_PLANE_EXIT_ON_STDIN_EOF", "1")
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(log_err);
        if let Some(folder) = remove_on_exit {
            command.env("CONTROL_PLANE_REMOVE_ON_EXIT", folder);
        }
        let mut child = command.spawn().map_err(|source| Error::Io { what: format!("spawn {name}"), source })?;
        let stdin = child.stdin.take();
        Ok(Component { name, child, stdin })
    }

    /// Whether it has exited (with its status).
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it: closes its standard input (it exits at once), waits up to 5 s, then kills it.
    pub fn stop(&mut self) {
        self.stdin.take();
        for _ in 0..50 {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        self.stop();
    }
}
