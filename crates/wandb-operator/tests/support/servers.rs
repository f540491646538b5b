//! Real servers for the external-infrastructure and client tests, on 127.0.0.1, started and
//! stopped by the tests (`scripts/test-servers install` provides them): MariaDB, redis-server
//! (and its Sentinel) and ClickHouse from Debian's packages; Apache Kafka's broker (its jars
//! from Maven Central, run by Debian's Java 17); versitygw, an S3 gateway that checks request
//! signatures (built from Go modules). Two protocol-level fakes remain for the probe tests
//! that need nothing more: a Kafka broker that answers `ApiVersions` and an S3 endpoint that
//! answers a `HEAD`.
//!
//! Debian's servers cannot be told to pick a port themselves (port 0 turns off TCP in Redis
//! and means "default" to MariaDB), so each gets a port the kernel chose for a socket bound to
//! 127.0.0.1:0 and then released.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A port the kernel picked on 127.0.0.1.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn find(name: &str) -> Option<PathBuf> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/sbin", "/usr/bin", "/sbin"])
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

/// A standard client of an engine (`mariadb`, `redis-cli`, `clickhouse-client`), installed
/// like the servers when missing.
pub fn client(name: &str) -> String {
    binary(name).display().to_string()
}

/// Finds a server binary. A missing one is installed once by `scripts/test-servers install`
/// (as the control plane is built when missing), so that the test command passes on a fresh
/// machine; if it is still missing the test fails loudly.
fn binary(name: &str) -> PathBuf {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    if let Some(path) = find(name) {
        return path;
    }
    INSTALL.call_once(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-servers");
        eprintln!("NOTICE: {name} is missing: running {} install", script.display());
        let status = Command::new(&script).arg("install").status();
        eprintln!("NOTICE: scripts/test-servers install: {status:?}");
    });
    find(name).unwrap_or_else(|| {
        panic!(
            "{name} is not installed and scripts/test-servers install did not install it (Debian packages mariadb-server, redis-server, clickhouse-server, openjdk-17-jre-headless, maven and the clients mariadb-client, redis-tools, clickhouse-client, curl, kcat, python3-kafka, s3cmd; needs root or sudo and apt)"
        )
    })
}

/// Something `scripts/test-servers install` fetches or builds under `target/test-servers/`
/// (Kafka's jars, versitygw): run once when missing, as for the Debian packages.
fn built(name: &str) -> PathBuf {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join("target/test-servers").join(name);
    let stamped = || path.exists() && path.with_file_name(format!("{name}.stamp")).is_file();
    if !stamped() {
        INSTALL.call_once(|| {
            let status = Command::new(root.join("scripts/test-servers")).arg("install").status();
            eprintln!("NOTICE: {name} is missing: scripts/test-servers install: {status:?}");
        });
    }
    assert!(stamped(), "{} is missing and scripts/test-servers install did not make it", path.display());
    path
}

fn wait_for_port(host: &str, port: u16, child: &mut Child, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect((host, port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited with {status}: {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on {host}:{port} within 60 s: {}", std::fs::read_to_string(log).unwrap_or_default());
}

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wandb-{what}-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One server process with its data folder; stopped (and the folder removed) when dropped.
pub struct Server {
    /// Its loopback address (127.0.0.1 unless given).
    pub host: String,
    /// Its port on [`Server::host`].
    pub port: u16,
    dir: PathBuf,
    command: Vec<String>,
    env: Vec<(String, String)>,
    what: &'static str,
    child: Option<Child>,
}

impl Server {
    fn spawn(what: &'static str, dir: PathBuf, port: u16, command: Vec<String>) -> Server {
        Self::spawn_at(what, dir, "127.0.0.1", port, command)
    }

    fn spawn_at(what: &'static str, dir: PathBuf, host: &str, port: u16, command: Vec<String>) -> Server {
        Self::spawn_with_env(what, dir, host, port, command, Vec::new())
    }

    fn spawn_with_env(
        what: &'static str,
        dir: PathBuf,
        host: &str,
        port: u16,
        command: Vec<String>,
        env: Vec<(String, String)>,
    ) -> Server {
        let mut server = Server { host: host.to_owned(), port, dir, command, env, what, child: None };
        server.start();
        server
    }

    /// Starts the process (again, on the same port and data).
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} already runs", self.what);
        let log = self.dir.join("server.log");
        let out = std::fs::File::create(&log).unwrap();
        let mut child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.what));
        wait_for_port(&self.host, self.port, &mut child, self.what, &log);
        self.child = Some(child);
    }

    /// Moves a stopped server to another loopback address (a Pod recreated with its claim gets
    /// a new address): the next [`Server::start`] listens there, on the same data.
    pub fn move_to(&mut self, host: &str) {
        assert!(self.child.is_none(), "{} runs; stop it first", self.what);
        let old = format!("--bind-address={}", self.host);
        for arg in &mut self.command {
            if *arg == old {
                *arg = format!("--bind-address={host}");
            }
        }
        self.host = host.to_owned();
    }

    /// Stops the process and waits for it; the data stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The port is free once nothing accepts on it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect((self.host.as_str(), self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// MariaDB (the MySQL protocol), with a fresh data folder.
pub fn mariadb() -> Server {
    let dir = temp_dir("mariadb");
    let data = dir.join("data");
    let install = Command::new(binary("mariadb-install-db"))
        .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db", "--user=root"])
        .arg(format!("--datadir={}", data.display()))
        .output()
        .unwrap();
    assert!(install.status.success(), "mariadb-install-db: {}", String::from_utf8_lossy(&install.stderr));
    let port = free_port();
    let command = vec![
        binary("mariadbd").display().to_string(),
        "--no-defaults".to_owned(),
        format!("--datadir={}", data.display()),
        format!("--port={port}"),
        "--bind-address=127.0.0.1".to_owned(),
        format!("--socket={}", dir.join("mysqld.sock").display()),
        format!("--pid-file={}", dir.join("mysqld.pid").display()),
        "--user=root".to_owned(),
        "--skip-log-error".to_owned(),
    ];
    Server::spawn("mariadbd", dir, port, command)
}

/// MariaDB as a Percona XtraDB Cluster Pod's MySQL: on the Pod's loopback address, MySQL's port
/// (3306) and the admin port Percona's operator uses (33062, MariaDB's `extra_port`), with a
/// fresh data folder. It has only MariaDB's `root`@`localhost` until [`Server::mariadb_root`]
/// creates more.
pub fn mariadb_pod(ip: &str) -> Server {
    let dir = temp_dir("mariadb-pod");
    let data = dir.join("data");
    let install = Command::new(binary("mariadb-install-db"))
        .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db", "--user=root"])
        .arg(format!("--datadir={}", data.display()))
        .output()
        .unwrap();
    assert!(install.status.success(), "mariadb-install-db: {}", String::from_utf8_lossy(&install.stderr));
    let command = vec![
        binary("mariadbd").display().to_string(),
        "--no-defaults".to_owned(),
        format!("--datadir={}", data.display()),
        "--port=3306".to_owned(),
        "--extra-port=33062".to_owned(),
        format!("--bind-address={ip}"),
        format!("--socket={}", dir.join("mysqld.sock").display()),
        format!("--pid-file={}", dir.join("mysqld.pid").display()),
        "--user=root".to_owned(),
        "--skip-log-error".to_owned(),
        "--character-set-server=utf8mb4".to_owned(),
        "--collation-server=utf8mb4_general_ci".to_owned(),
        // Clients from 127.0.0.1 are matched by address, not as `localhost` (where MariaDB's
        // own passwordless `root`@`localhost` would shadow the `root`@`%` of the cluster).
        "--skip-name-resolve".to_owned(),
    ];
    Server::spawn_at("mariadbd (pod)", dir, ip, 3306, command)
}

impl Server {
    /// Runs `sql` as MariaDB's `root` over the server's socket (e.g. to create an application
    /// user the way an administrator would).
    pub fn mariadb_root(&self, sql: &str) {
        let output = Command::new(binary("mariadb"))
            .args(["--no-defaults", "-u", "root"])
            .arg(format!("--socket={}", self.dir.join("mysqld.sock").display()))
            .args(["-e", sql])
            .output()
            .unwrap();
        assert!(output.status.success(), "mariadb: {}", String::from_utf8_lossy(&output.stderr));
    }
}

/// redis-server, with `password` required when given; no persistence.
pub fn redis(password: Option<&str>) -> Server {
    let dir = temp_dir("redis");
    let port = free_port();
    let mut command = vec![
        binary("redis-server").display().to_string(),
        "--port".to_owned(),
        port.to_string(),
        "--bind".to_owned(),
        "127.0.0.1".to_owned(),
        "--save".to_owned(),
        String::new(),
        "--appendonly".to_owned(),
        "no".to_owned(),
        "--dir".to_owned(),
        dir.display().to_string(),
    ];
    if let Some(p) = password {
        command.extend(["--requirepass".to_owned(), p.to_owned()]);
    }
    Server::spawn("redis-server", dir, port, command)
}

/// redis-server as a Pod's Redis: on the Pod's loopback address and Redis's own port (6379),
/// requiring `password` (when the Pod has one) and using it towards a master it replicates; no
/// persistence.
pub fn redis_pod(ip: &str, password: Option<&str>) -> Server {
    let dir = temp_dir("redis-pod");
    let command = [
        binary("redis-server").display().to_string(),
        "--port".to_owned(),
        "6379".to_owned(),
        "--bind".to_owned(),
        ip.to_owned(),
        "--save".to_owned(),
        String::new(),
        "--appendonly".to_owned(),
        "no".to_owned(),
        "--dir".to_owned(),
        dir.display().to_string(),
    ]
    .to_vec();
    let mut command = command;
    if let Some(p) = password {
        command.extend(["--requirepass".to_owned(), p.to_owned(), "--masterauth".to_owned(), p.to_owned()]);
    } else {
        // As the image runs it without a password: reachable from other addresses.
        command.extend(["--protected-mode".to_owned(), "no".to_owned()]);
    }
    Server::spawn_at("redis-server (pod)", dir, ip, 6379, command)
}

/// Redis Sentinel (`redis-server --sentinel`) on a free port, monitoring `master` as
/// `master_name` with `password` (quorum 1).
pub fn redis_sentinel(master: &Server, master_name: &str, password: &str) -> Server {
    let dir = temp_dir("redis-sentinel");
    let port = free_port();
    let quoted = |text: &str| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
    let config = format!(
        "port {port}\nbind 127.0.0.1\ndir {dir}\nsentinel monitor {master_name} {host} {master_port} 1\nsentinel auth-pass {master_name} {password}\n",
        dir = quoted(&dir.display().to_string()),
        host = master.host,
        master_port = master.port,
        password = quoted(password),
    );
    let path = dir.join("sentinel.conf");
    std::fs::write(&path, config).unwrap();
    let command =
        vec![binary("redis-server").display().to_string(), path.display().to_string(), "--sentinel".to_owned()];
    Server::spawn("redis-sentinel", dir, port, command)
}

/// Apache Kafka's broker (one KRaft node, the release `tools/test-servers/kafka-broker/pom.xml`
/// names) whose client listener ([`Server::port`]) speaks `SASL_PLAINTEXT` and knows `user`
/// with `password` for both `PLAIN` and `SCRAM-SHA-512`.
pub fn kafka_broker(user: &str, password: &str) -> Server {
    // The JAAS and the `--add-scram` syntaxes quote and separate with these.
    assert!(!password.contains(['"', '\\', ',', ']', ';']), "the test broker cannot take {password:?}");
    let version = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/test-servers/kafka-broker/pom.xml"),
    )
    .unwrap()
    .split("<kafka.version>")
    .nth(1)
    .and_then(|rest| rest.split('<').next())
    .unwrap()
    .to_owned();
    let classpath = format!("{}/*", built(&format!("kafka-broker-{version}")).display());
    let java = binary("java").display().to_string();
    let dir = temp_dir("kafka");
    let (client, internal, controller) = (free_port(), free_port(), free_port());
    let properties = format!(
        "process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller}
listeners=SASL_PLAINTEXT://127.0.0.1:{client},INTERNAL://127.0.0.1:{internal},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{client},INTERNAL://127.0.0.1:{internal}
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_{user}=\"{password}\";
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs={data}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
",
        data = dir.join("data").display(),
    );
    let config = dir.join("server.properties");
    std::fs::write(&config, properties).unwrap();
    let jvm = |main: &str| {
        let mut command = Command::new(&java);
        command.args(["-Xmx384m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"]);
        command.arg(format!("-Djava.io.tmpdir={}", dir.display())).args(["-cp", &classpath, main]);
        command
    };
    // A cluster id is 16 random bytes in unpadded URL-safe base64; any fixed one will do here.
    let format = jvm("kafka.tools.StorageTool")
        .args(["format", "-t", "d2FuZGItdGVzdC1rYWZrYQ", "--standalone", "-c"])
        .arg(&config)
        .arg("--add-scram")
        .arg(format!("SCRAM-SHA-512=[name={user},password={password}]"))
        .output()
        .unwrap();
    assert!(format.status.success(), "kafka-storage format: {}", String::from_utf8_lossy(&format.stdout));
    let mut command =
        vec![java.clone(), "-Xmx384m".to_owned(), "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn".to_owned()];
    command.push(format!("-Djava.io.tmpdir={}", dir.display()));
    command.extend(["-cp".to_owned(), classpath, "kafka.Kafka".to_owned(), config.display().to_string()]);
    Server::spawn("kafka broker", dir, client, command)
}

/// versitygw serving S3 on a free port from a folder holding the empty bucket `bucket`; only
/// requests signed with `access_key` and `secret_key` (AWS Signature V4) are accepted.
pub fn s3_gateway(access_key: &str, secret_key: &str, bucket: &str) -> Server {
    let dir = temp_dir("s3");
    std::fs::create_dir_all(dir.join("data").join(bucket)).unwrap();
    let port = free_port();
    let command = vec![
        built("versitygw").display().to_string(),
        "--port".to_owned(),
        format!("127.0.0.1:{port}"),
        "posix".to_owned(),
        dir.join("data").display().to_string(),
    ];
    let env = vec![
        ("ROOT_ACCESS_KEY".to_owned(), access_key.to_owned()),
        ("ROOT_SECRET_KEY".to_owned(), secret_key.to_owned()),
    ];
    Server::spawn_with_env("versitygw", dir, "127.0.0.1", port, command, env)
}

/// ClickHouse: native protocol on `port`, HTTP on [`ClickHouse::http_port`].
pub struct ClickHouse {
    /// The server (native protocol port).
    pub server: Server,
    /// The HTTP port.
    pub http_port: u16,
}

/// The password of the test ClickHouse's `default` user.
pub const CLICKHOUSE_PASSWORD: &str = "ch-pw";

/// The version an installed server binary reports: Redis from `redis-server --version`,
/// ClickHouse from its Debian package (its binary has no `--version`); `None` when neither
/// tells.
pub fn installed_version(server: &str) -> Option<String> {
    let output = match server {
        "redis-server" => Command::new(binary("redis-server")).arg("--version").output().ok()?,
        "clickhouse-server" => {
            Command::new("dpkg-query").args(["-W", "-f", "${Version}", "clickhouse-server"]).output().ok()?
        }
        _ => return None,
    };
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let version = match server {
        "redis-server" => text.split_whitespace().find_map(|w| w.strip_prefix("v="))?.to_owned(),
        _ => text.split(['+', '-', '~']).next()?.trim().to_owned(),
    };
    (!version.is_empty()).then_some(version)
}

/// ClickHouse from Debian (18.16: old, but its native port, `/ping` and HTTP queries are
/// those of today's), with [`CLICKHOUSE_PASSWORD`] for `default`.
pub fn clickhouse() -> ClickHouse {
    clickhouse_with_password(CLICKHOUSE_PASSWORD)
}

/// [`clickhouse`] with `password` for `default`.
pub fn clickhouse_with_password(password: &str) -> ClickHouse {
    let password = password.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let (tcp, http) = (free_port(), free_port());
    let users = format!(
        r#"<profiles><default></default></profiles>
  <users><default><password>{password}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>"#
    );
    let listen = ClickHouseListen { what: "clickhouse-server", host: "127.0.0.1", http, tcp };
    let server = spawn_clickhouse(listen, "", &users);
    ClickHouse { server, http_port: http }
}

/// Where a [`spawn_clickhouse`] server listens, and what it is called in errors.
struct ClickHouseListen<'a> {
    what: &'static str,
    host: &'a str,
    http: u16,
    tcp: u16,
}

/// Starts Debian's ClickHouse (18.16) in a directory of its own, listening as `listen` says,
/// with `config` added to its server configuration and `users` (profiles and users) as its
/// users configuration; returns once its HTTP port answers.
fn spawn_clickhouse(listen: ClickHouseListen, config: &str, users: &str) -> Server {
    let ClickHouseListen { what, host, http, tcp } = listen;
    let dir = temp_dir(what);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let server_config = format!(
        r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <listen_host>{host}</listen_host>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <path>{data}/</path>
  <tmp_path>{tmp}/</tmp_path>
  <mark_cache_size>5368709</mark_cache_size>
  <users_config>{users_file}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  {config}
</yandex>
"#,
        data = dir.join("data").display(),
        tmp = dir.join("tmp").display(),
        users_file = dir.join("users.xml").display(),
    );
    std::fs::write(dir.join("config.xml"), server_config).unwrap();
    let users = format!(
        r#"<?xml version="1.0"?>
<yandex>
  {users}
  <quotas><default></default></quotas>
</yandex>
"#
    );
    std::fs::write(dir.join("users.xml"), users).unwrap();
    let command = vec![
        binary("clickhouse-server").display().to_string(),
        format!("--config-file={}", dir.join("config.xml").display()),
    ];
    let server = Server::spawn_at(what, dir, host, tcp, command);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect((host, http)).is_err() {
        assert!(Instant::now() < deadline, "ClickHouse HTTP port {host}:{http} did not open");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// ClickHouse as an Altinity installation's Pod: on the Pod's loopback address and
/// ClickHouse's own ports (HTTP 8123, native 9000), with `default` (no password) and the user
/// Altinity's operator connects as when no `clickhouse-operator` Secret names another
/// (`clickhouse_operator`, password `clickhouse_operator_password`: the operator's defaults,
/// which in a cluster it writes into the installation's users configuration).
///
/// It declares `cluster` with itself as its one host, so that `system.clusters` shows it
/// local to that cluster, as Altinity checks before it counts a host completed. Altinity's own
/// `remote_servers` (in its ConfigMap) names every host by DNS name, and this ClickHouse would
/// not take any of them as local: it compares with its interfaces' addresses, and the Pods'
/// 127.x addresses are not assigned to `lo` (only 127.0.0.1 is), so `localhost` stands in.
/// Queries are logged (`system.query_log`), so a test can see what the vendor asked.
pub fn clickhouse_pod(ip: &str, cluster: &str) -> Server {
    let config = format!(
        r#"<query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>500</flush_interval_milliseconds></query_log>
  <remote_servers>
    <{cluster}><shard><replica><host>localhost</host><port>9000</port></replica></shard></{cluster}>
  </remote_servers>"#
    );
    let users = r#"<profiles><default><log_queries>1</log_queries></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.0/8</ip></networks><profile>default</profile><quota>default</quota></default>
    <clickhouse_operator><password>clickhouse_operator_password</password><networks><ip>127.0.0.0/8</ip></networks><profile>default</profile><quota>default</quota></clickhouse_operator>
  </users>"#;
    let listen = ClickHouseListen { what: "clickhouse-pod", host: ip, http: 8123, tcp: 9000 };
    spawn_clickhouse(listen, &config, users)
}

/// A protocol-level fake: a task answering on 127.0.0.1, aborted when dropped.
pub struct Fake {
    /// Its port.
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A Kafka broker as far as `ApiVersions` v0 goes: the response echoes the correlation id
/// with error code 0 and an empty list of API versions.
pub async fn kafka() -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut size = [0u8; 4];
                if stream.read_exact(&mut size).await.is_err() {
                    return;
                }
                let mut request = vec![0u8; i32::from_be_bytes(size).clamp(0, 1 << 16) as usize];
                if stream.read_exact(&mut request).await.is_err() || request.len() < 8 {
                    return;
                }
                let api_key = i16::from_be_bytes([request[0], request[1]]);
                let correlation = &request[4..8];
                if api_key != 18 {
                    return;
                }
                // correlation id, error_code 0, api_versions: empty array.
                let mut body = correlation.to_vec();
                body.extend_from_slice(&0i16.to_be_bytes());
                body.extend_from_slice(&0i32.to_be_bytes());
                let mut frame = (body.len() as i32).to_be_bytes().to_vec();
                frame.extend_from_slice(&body);
                let _ = stream.write_all(&frame).await;
            });
        }
    });
    Fake { port, task }
}

/// An S3 endpoint as far as a `HEAD` of a bucket goes: `403` (no credentials were sent), as S3
/// answers for a bucket that exists.
pub async fn s3() -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ =
                    stream.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            });
        }
    });
    Fake { port, task }
}

/// Runs a client with `/etc/hosts` replaced by `entries` (`(address, name)`) in a private mount
/// namespace (`unshare -m`; needs root): the stand-in for cluster DNS and the Service's proxy,
/// so that a client reaches a Service's Pod by the name a connection Secret holds. Returns
/// whether it succeeded, and its output.
pub fn run_with_hosts(entries: &[(String, String)], program: &str, args: &[&str]) -> (bool, String) {
    let dir = temp_dir("hosts");
    let mut hosts = "127.0.0.1 localhost\n".to_owned();
    for (address, name) in entries {
        hosts.push_str(&format!("{address} {name}\n"));
    }
    let file = dir.join("hosts");
    std::fs::write(&file, hosts).unwrap();
    let output = Command::new("unshare")
        .args(["-m", "sh", "-c", "mount --bind \"$0\" /etc/hosts && exec \"$@\""])
        .arg(&file)
        .arg(binary(program))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("unshare: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}
