//! Building the multicall Go binary (`tools/control-plane`): etcd, kube-apiserver and
//! kube-controller-manager from their upstream modules, and the stand-in kubelet's logs server.
//!
//! The build runs on demand and is cached: the binary under `target/control-plane/` is reused
//! while the module's sources (`go.mod`, `go.sum`, `main.go`, `kubelet_logs.go`) and the build flags are the ones
//! it was built from (kept beside it in a stamp file); Go's own build and module caches make a
//! rebuild after a change mostly a link.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;

/// The Kubernetes version the module pins (and stamps into the binaries).
pub const KUBERNETES_VERSION: &str = "v1.36.3";

/// The repository's root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Go module's folder.
pub fn module_dir() -> PathBuf {
    repo_root().join("tools/control-plane")
}

/// Where the binary is built.
pub fn output_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("control-plane")
}

fn ldflags() -> String {
    let minor = KUBERNETES_VERSION.split('.').nth(1).unwrap_or("0");
    let v = KUBERNETES_VERSION;
    [
        "-s -w".to_owned(),
        format!("-X k8s.io/component-base/version.gitVersion={v}"),
        "-X k8s.io/component-base/version.gitMajor=1".to_owned(),
        format!("-X k8s.io/component-base/version.gitMinor={minor}"),
        "-X k8s.io/component-base/version.gitTreeState=clean".to_owned(),
        format!("-X k8s.io/client-go/pkg/version.gitVersion={v}"),
        "-X k8s.io/client-go/pkg/version.gitMajor=1".to_owned(),
        format!("-X k8s.io/client-go/pkg/version.gitMinor={minor}"),
    ]
    .join(" ")
}

fn stamp(module: &Path) -> Result<String, Error> {
    let mut text = format!("ldflags: {}\n", ldflags());
    for file in ["go.mod", "go.sum", "main.go", "kubelet_logs.go"] {
        let path = module.join(file);
        let content =
            std::fs::read_to_string(&path).map_err(|source| Error::Io { what: path.display().to_string(), source })?;
        text.push_str(&format!("== {file}\n{content}"));
    }
    Ok(text)
}

/// The path of an up-to-date binary, building it first when needed (prints what it does on
/// stderr). A missing `go` or a module the proxy does not serve is an error saying so.
pub fn ensure_built() -> Result<PathBuf, Error> {
    let module = module_dir();
    let out = output_dir();
    let binary = out.join("control-plane");
    let stamp_path = out.join("control-plane.stamp");
    let wanted = stamp(&module)?;
    if binary.is_file() && std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(binary);
    }
    std::fs::create_dir_all(&out).map_err(|source| Error::Io { what: out.display().to_string(), source })?;
    // A unique temporary name, renamed into place: concurrent builders never see half a file.
    let partial = out.join(format!("control-plane.partial-{}", std::process::id()));
    eprintln!(
        "control-plane: building etcd, kube-apiserver and kube-controller-manager {KUBERNETES_VERSION} from Go modules \
         ({} -> {}); a cold build takes about 10 minutes on 2 cores",
        module.display(),
        binary.display()
    );
    let started = std::time::Instant::now();
    let status = Command::new("go")
        .current_dir(&module)
        .args(["build", "-trimpath", "-pgo=off", "-ldflags", &ldflags(), "-o"])
        .arg(&partial)
        .arg(".")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=readonly")
        .status()
        .map_err(|source| Error::GoMissing { source })?;
    if !status.success() {
        let _ = std::fs::remove_file(&partial);
        return Err(Error::Build { status: status.to_string() });
    }
    std::fs::rename(&partial, &binary).map_err(|source| Error::Io { what: binary.display().to_string(), source })?;
    std::fs::write(&stamp_path, wanted)
        .map_err(|source| Error::Io { what: stamp_path.display().to_string(), source })?;
    eprintln!("control-plane: built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(binary)
}
