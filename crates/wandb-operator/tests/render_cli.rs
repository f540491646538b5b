//! `wandb-operator render` and `crd` through the real binary: snapshots of every example and
//! size, and bad input that must fail with one line on stderr and nothing on stdout.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

mod support;

use support::fixtures as common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wandb-operator"))
        .args(args)
        .current_dir(common::repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn render_ok(args: &[&str], stdin: Option<&str>) -> String {
    let out = run(args, stdin);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "unexpected stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn render_examples_snapshots() {
    for example in ["wandb-dev", "wandb-small", "wandb-large", "wandb-overrides", "wandb-external"] {
        let output = render_ok(&["render", "-f", &format!("examples/{example}.yaml")], None);
        insta::assert_snapshot!(format!("render_{example}"), output);
    }
}

#[test]
fn render_every_size_from_stdin() {
    for size in ["dev", "small", "large"] {
        let manifest = format!(
            "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: w\nspec:\n  size: {size}\n"
        );
        let output = render_ok(&["render", "-f", "-"], Some(&manifest));
        insta::assert_snapshot!(format!("render_size_{size}"), output);
    }
}

#[test]
fn render_is_deterministic_and_prints_no_secret_values() {
    let a = render_ok(&["render", "-f", "examples/wandb-small.yaml"], None);
    let b = render_ok(&["render", "-f", "examples/wandb-small.yaml"], None);
    assert_eq!(a, b);
    for document in a.split("---\n").filter(|d| d.contains("kind: Secret")) {
        assert!(
            !document.lines().any(|l| l.starts_with("data:") || l.starts_with("stringData:")),
            "secret with data: {document}"
        );
        assert!(document.contains("apps.wandb.com/generated-keys"));
    }
}

#[test]
fn small_renders_the_ha_topology() {
    let text = render_ok(&["render", "-f", "examples/wandb-small.yaml"], None);
    let objects: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
    let pxc = common::find(&objects, "PerconaXtraDBCluster");
    assert_eq!(pxc["spec"]["pxc"]["size"], 3);
    // One writer: HAProxy's primary service, ProxySQL off.
    assert_eq!(pxc["spec"]["haproxy"]["enabled"], true);
    assert_eq!(pxc["spec"]["proxysql"]["enabled"], false);
    assert_eq!(pxc["spec"]["tls"]["enabled"], true);
    let sentinel = common::find(&objects, "RedisSentinel");
    assert_eq!(sentinel["spec"]["redisSentinelConfig"]["masterGroupName"], "gorilla");
    assert_eq!(common::find(&objects, "RedisReplication")["spec"]["clusterSize"], 3);
    let kafka = common::find(&objects, "Kafka");
    assert_eq!(kafka["apiVersion"], "kafka.strimzi.io/v1");
    assert_eq!(kafka["spec"]["kafka"]["config"]["default.replication.factor"], 3);
    assert_eq!(common::find(&objects, "KafkaNodePool")["spec"]["replicas"], 3);
    let tenant = common::find(&objects, "Tenant");
    assert_eq!(tenant["spec"]["pools"][0]["servers"], 3);
    assert_eq!(tenant["spec"]["pools"][0]["volumesPerServer"], 4);
    assert!(objects.iter().any(|o| o["kind"] == "Secret" && o["metadata"]["name"] == "wandb-minio-config"));
    assert_eq!(
        common::find(&objects, "ClickHouseInstallation")["spec"]["configuration"]["clusters"][0]["layout"]["replicasCount"],
        3
    );
    assert_eq!(common::find(&objects, "ClickHouseKeeperInstallation")["metadata"]["name"], "wandb-keeper");
}

#[test]
fn an_external_component_renders_only_its_connection_secret_without_values() {
    let out = render_ok(&["render", "-f", "examples/wandb-external.yaml"], None);
    let documents: Vec<serde_json::Value> =
        out.split("---\n").filter(|d| !d.trim().is_empty()).map(|d| serde_saphyr::from_str(d).unwrap()).collect();
    let names: Vec<(&str, &str)> =
        documents.iter().map(|d| (d["kind"].as_str().unwrap(), d["metadata"]["name"].as_str().unwrap())).collect();
    assert_eq!(
        names,
        [
            ("Secret", "wandb-mysql-connection"),
            ("Secret", "wandb-redis-connection"),
            ("Secret", "wandb-kafka-connection"),
            ("Secret", "wandb-minio-connection"),
            ("Secret", "wandb-clickhouse-connection"),
        ]
    );
    for d in &documents {
        assert!(d.get("data").is_none() && d.get("stringData").is_none(), "a value was rendered: {d}");
    }
    let keys = documents[0]["metadata"]["annotations"]["apps.wandb.com/generated-keys"].as_str().unwrap();
    assert_eq!(keys, "MYSQL_CA_CERT,MYSQL_DATABASE,MYSQL_HOST,MYSQL_PASSWORD,MYSQL_PORT,MYSQL_TLS,MYSQL_USER,URL");
    // A managed component's connection Secret follows its vendor objects.
    let dev = render_ok(&["render", "-f", "examples/wandb-dev.yaml"], None);
    assert!(
        dev.contains("name: wandb-mysql-connection")
            && dev.contains("MYSQL_HOST,MYSQL_PASSWORD,MYSQL_PORT,MYSQL_USER,URL")
    );
}

#[test]
fn crd_command_prints_the_crd() {
    let out = render_ok(&["crd"], None);
    assert!(out.starts_with("---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"));
}

#[test]
fn bad_input_fails_with_one_line_naming_the_problem_and_no_output() {
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (vec!["render", "-f", "examples/does-not-exist.yaml"], None, "cannot read examples/does-not-exist.yaml"),
        (vec!["render", "-f", "-"], Some("apiVersion: [unclosed"), "invalid YAML"),
        (vec!["render", "-f", "-"], Some(""), "no WeightsAndBiases document"),
        (
            vec!["render", "-f", "-"],
            Some("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
            "expected apiVersion apps.wandb.com/v2",
        ),
        (
            vec!["render", "-f", "-"],
            Some("apiVersion: apps.wandb.com/v1\nkind: WeightsAndBiases\nmetadata: {name: x}\n"),
            "found apiVersion \"apps.wandb.com/v1\"",
        ),
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {mysql: {storageSize: ten}}\n",
            ),
            "spec.mysql.storageSize",
        ),
        (
            vec!["render", "-f", "-"],
            Some("apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {size: huge}\n"),
            "spec.size",
        ),
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {kafka: {replicas: three}}\n",
            ),
            "spec.kafka.replicas",
        ),
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {redis: {storgeSize: 1Gi}}\n",
            ),
            "spec.redis.storgeSize: unknown field",
        ),
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {size: small, mysql: {replicas: 4}}\n",
            ),
            "spec.mysql.replicas",
        ),
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: a-very-long-name-x}\nspec: {}\n",
            ),
            "metadata.name",
        ),
        // External components: contradictions and incomplete input name the field.
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {mysql: {replicas: 3, external: {host: db, database: d, user: u, passwordSecret: {name: s, key: k}}}}\n",
            ),
            "spec.mysql.external: cannot be combined with the managed settings replicas",
        ),
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {minio: {external: {provider: s3-compatible, bucket: wandb}}}\n",
            ),
            "spec.minio.external.endpoint: is required with provider s3-compatible",
        ),
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {kafka: {external: {bootstrapServers: ['k:99999']}}}\n",
            ),
            "spec.kafka.external.bootstrapServers[0]",
        ),
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {redis: {external: {port: 6379}}}\n",
            ),
            "spec.redis.external: set either host",
        ),
        (
            vec!["render", "-f", "-"],
            Some(
                "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: x}\nspec: {minio: {external: {provider: s3}}}\n",
            ),
            "bucket",
        ),
    ];
    for (args, stdin, expected) in cases {
        let out = run(&args, stdin);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!out.status.success(), "{args:?} {stdin:?} succeeded");
        assert!(out.stdout.is_empty(), "{args:?} {stdin:?} printed to stdout");
        assert_eq!(stderr.lines().count(), 1, "{args:?} {stdin:?}: not one line: {stderr}");
        assert!(stderr.contains(expected), "{args:?} {stdin:?}: {stderr:?} does not mention {expected:?}");
    }
}

/// Every `image` (or `image` field of a container) anywhere in a rendered object.
fn images_in(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("image", serde_json::Value::String(image)) => out.push(image.clone()),
                    _ => images_in(child, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| images_in(item, out)),
        _ => {}
    }
}

#[test]
fn images_lists_every_image_render_names() {
    let listed: Vec<String> = render_ok(&["images"], None).lines().map(str::to_owned).collect();
    assert!(!listed.is_empty());
    let mut rendered = Vec::new();
    // Not `wandb-overrides`: its images are the user's, not ours.
    for example in ["wandb-dev", "wandb-small", "wandb-large"] {
        let text = std::fs::read_to_string(common::repo_root().join(format!("examples/{example}.yaml"))).unwrap();
        let wandb = common::from_yaml(&text);
        let objects =
            wandb_operator::render::render_objects(&wandb, &wandb_operator::registry::Registry::default()).unwrap();
        objects.iter().for_each(|o| images_in(o, &mut rendered));
    }
    for size in wandb_operator::api::Size::ALL {
        let objects = wandb_operator::render::render_objects(
            &common::sized(size),
            &wandb_operator::registry::Registry::default(),
        )
        .unwrap();
        objects.iter().for_each(|o| images_in(o, &mut rendered));
    }
    rendered.sort();
    rendered.dedup();
    assert!(rendered.len() >= 8, "{rendered:?}");
    let missing: Vec<&String> = rendered.iter().filter(|i| !listed.contains(i)).collect();
    assert!(missing.is_empty(), "rendered but not listed by `images`: {missing:?}");
}

/// Whether an image reference names an exact release: a tag of three or more version numbers
/// (`8.4.8-8.1`, `v7.4.11`, `26.3.19.3`) or a MinIO `RELEASE.<timestamp>`; not a line (`8.0`,
/// `25.8`), `latest` or no tag at all.
fn exact_tag(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    let Some((_, tag)) = name.rsplit_once(':') else { return false };
    let tag = tag.strip_prefix('v').unwrap_or(tag);
    if let Some(stamp) = tag.strip_prefix("RELEASE.") {
        return stamp.len() >= 20 && stamp.starts_with(|c: char| c.is_ascii_digit());
    }
    let numbers: Vec<&str> = tag.split(['-', '+']).next().unwrap_or_default().split('.').collect();
    numbers.len() >= 3 && numbers.iter().all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

#[test]
fn every_image_of_the_latest_edition_is_pinned_to_an_exact_tag() {
    let floating = ["percona/percona-xtradb-cluster:8.0", "clickhouse/clickhouse-server:25.8", "redis:latest", "redis"];
    assert!(floating.iter().all(|i| !exact_tag(i)), "the check itself catches floating tags");
    let pinned = [
        "percona/haproxy:2.8.18-1",
        "quay.io/opstree/redis:v7.4.11",
        "quay.io/minio/minio:RELEASE.2025-04-08T15-41-24Z",
    ];
    assert!(pinned.iter().all(|i| exact_tag(i)));

    let listed: Vec<String> = render_ok(&["images"], None).lines().map(str::to_owned).collect();
    let mut rendered = Vec::new();
    for size in wandb_operator::api::Size::ALL {
        let objects = wandb_operator::render::render_objects(
            &common::sized(size),
            &wandb_operator::registry::Registry::default(),
        )
        .unwrap();
        objects.iter().for_each(|o| images_in(o, &mut rendered));
    }
    let floating: Vec<&String> = listed.iter().chain(&rendered).filter(|i| !exact_tag(i)).collect();
    assert!(floating.is_empty(), "images without an exact tag: {floating:?}");
    // The 2025 edition, which existing installs keep, had floating tags: they are listed apart.
    let kept: Vec<String> = render_ok(&["images", "--edition", "2025"], None).lines().map(str::to_owned).collect();
    assert!(kept.contains(&"percona/percona-xtradb-cluster:8.0".to_owned()), "{kept:?}");
}

#[test]
fn every_example_renders_a_wandb_ready_mysql() {
    for example in ["wandb-dev", "wandb-small", "wandb-large", "wandb-overrides"] {
        let text = render_ok(&["render", "-f", &format!("examples/{example}.yaml")], None);
        let objects: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
        let pxc = common::find(&objects, "PerconaXtraDBCluster");
        let spec = &pxc["spec"];
        let image = spec["pxc"]["image"].as_str().unwrap();
        assert!(image.contains("percona/percona-xtradb-cluster:8.4."), "{example}: {image}");
        assert_eq!(spec["crVersion"], "1.20.0", "{example}");
        let configuration = spec["pxc"]["configuration"].as_str().unwrap();
        for (name, value) in wandb_operator::model::mysql::REQUIRED_SETTINGS
            .iter()
            .chain(&wandb_operator::model::mysql::CHARSET_SETTINGS)
        {
            assert!(
                configuration.lines().any(|l| l == format!("{name}={value}")),
                "{example}: {name} in {configuration}"
            );
        }
        let users = spec["users"].as_array().unwrap();
        assert_eq!(users.len(), 1, "{example}");
        assert_eq!(users[0]["name"], "wandb_local");
        assert_eq!(users[0]["dbs"], serde_json::json!(["wandb_local"]));
        assert_eq!(users[0]["grants"], serde_json::json!(["ALL"]));
        assert_ne!(users[0]["name"], "root");
        // One writer: never ProxySQL's read splitting by default.
        assert_eq!(spec["proxysql"]["enabled"], false, "{example}");
        if spec["pxc"]["size"] != 1 {
            assert_eq!(spec["haproxy"]["enabled"], true, "{example}");
        }
        let app_user =
            format!("{}-mysql-app-user", pxc["metadata"]["name"].as_str().unwrap().trim_end_matches("-mysql"));
        assert!(
            objects.iter().any(|o| o["kind"] == "Secret" && o["metadata"]["name"] == app_user.as_str()),
            "{example}"
        );
    }
}

#[test]
fn a_mirror_registry_and_pull_secrets_reach_every_vendor_object() {
    let manifest = "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: wandb, namespace: wandb}\nspec:\n  size: small\n  images: {registry: mirror.example:5000/wandb, pullSecrets: [mirror-pull]}\n";
    let text = render_ok(&["render", "-f", "-"], Some(manifest));
    let objects: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
    let mut images = Vec::new();
    objects.iter().for_each(|o| images_in(o, &mut images));
    assert!(images.len() >= 6, "{images:?}");
    let elsewhere: Vec<&String> = images.iter().filter(|i| !i.starts_with("mirror.example:5000/wandb/")).collect();
    assert!(elsewhere.is_empty(), "images not from the mirror: {elsewhere:?}");
    // What `images --registry` tells to copy is exactly what the objects name.
    let pairs = render_ok(&["images", "--registry", "mirror.example:5000/wandb"], None);
    let targets: Vec<&str> = pairs.lines().filter_map(|l| l.split_once(' ').map(|(_, t)| t)).collect();
    assert!(images.iter().all(|i| targets.contains(&i.as_str())), "{images:?} not in {targets:?}");
    // The pull Secret, in the field each vendor reads.
    let secret = serde_json::json!([{"name": "mirror-pull"}]);
    let pxc = common::find(&objects, "PerconaXtraDBCluster");
    assert_eq!(pxc["spec"]["pxc"]["imagePullSecrets"], secret);
    assert_eq!(pxc["spec"]["haproxy"]["imagePullSecrets"], secret);
    assert_eq!(pxc["spec"]["backup"]["imagePullSecrets"], secret);
    assert_eq!(common::find(&objects, "RedisReplication")["spec"]["kubernetesConfig"]["imagePullSecrets"], secret);
    assert_eq!(common::find(&objects, "RedisSentinel")["spec"]["kubernetesConfig"]["imagePullSecrets"], secret);
    assert_eq!(common::find(&objects, "KafkaNodePool")["spec"]["template"]["pod"]["imagePullSecrets"], secret);
    assert_eq!(common::find(&objects, "Tenant")["spec"]["imagePullSecret"], serde_json::json!({"name": "mirror-pull"}));
    for kind in ["ClickHouseInstallation", "ClickHouseKeeperInstallation"] {
        let templates = &common::find(&objects, kind)["spec"]["templates"]["podTemplates"][0];
        assert_eq!(templates["spec"]["imagePullSecrets"], secret, "{kind}");
    }
    // A registry with a scheme is refused with the field named.
    let bad = manifest.replace("registry: mirror.example:5000/wandb", "registry: 'https://mirror.example'");
    let out = run(&["render", "-f", "-"], Some(&bad));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("spec.images.registry"), "{out:?}");
}

#[test]
fn the_proxy_is_the_users_choice_in_either_direction() {
    let with = |size: &str, proxy: &str| {
        let manifest = format!(
            "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {{name: wandb, namespace: wandb}}\nspec:\n  size: {size}\n  mysql: {{proxy: {proxy}}}\n"
        );
        let objects: Vec<serde_json::Value> =
            serde_saphyr::from_multiple(&render_ok(&["render", "-f", "-"], Some(&manifest))).unwrap();
        common::find(&objects, "PerconaXtraDBCluster")["spec"].clone()
    };
    // ProxySQL on request (its read splitting is then the user's choice).
    let spec = with("small", "proxysql");
    assert_eq!((spec["proxysql"]["enabled"].clone(), spec["haproxy"]["enabled"].clone()), (true.into(), false.into()));
    assert_eq!(spec["proxysql"]["size"], 3);
    // `dev` runs without a proxy unless one is named: then one pod.
    let spec = with("dev", "haproxy");
    assert_eq!((spec["haproxy"]["enabled"].clone(), spec["haproxy"]["size"].clone()), (true.into(), 1.into()));
    assert_eq!(spec["unsafeFlags"]["proxySize"], true, "one proxy pod needs Percona's unsafe flag");
}

#[test]
fn render_from_prints_the_plan_of_a_change() {
    let dev = std::fs::read_to_string(common::repo_root().join("examples/wandb-dev.yaml")).unwrap();
    let small = dev.replace("size: dev", "size: small");
    let dir = std::env::temp_dir().join(format!("wandb-render-from-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let new = dir.join("small.yaml");
    std::fs::write(&new, &small).unwrap();
    let out = render_ok(&["render", "--from", "examples/wandb-dev.yaml", "-f", new.to_str().unwrap()], None);
    // The same plan as the library's (which the operator writes into status.plan).
    let printed: serde_json::Value = serde_saphyr::from_str(out.trim_start_matches("---\n")).unwrap();
    let expected = wandb_operator::registry::change_plan::change_plan(
        &common::from_yaml(&dev),
        &common::from_yaml(&small),
        &wandb_operator::registry::Registry::default(),
        wandb_operator::model::Edition::LATEST,
    )
    .unwrap();
    let mut expected = serde_json::to_value(&expected).unwrap();
    expected["resource"] = serde_json::json!("wandb/wandb");
    assert_eq!(printed, expected);
    let minio = printed["components"].as_array().unwrap().iter().find(|c| c["component"] == "minio").unwrap();
    assert_eq!(minio["refused"]["code"], "PoolGeometryChangeRefused");
    // A resource the current manifest does not have: one line naming it, nothing printed.
    let other = dir.join("other.yaml");
    std::fs::write(&other, small.replace("name: wandb", "name: other")).unwrap();
    let out = run(&["render", "--from", "examples/wandb-dev.yaml", "-f", other.to_str().unwrap()], None);
    assert!(!out.status.success() && out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wandb/other is not in the current manifest") && stderr.lines().count() == 1, "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
