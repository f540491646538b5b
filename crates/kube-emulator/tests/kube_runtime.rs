//! kube-runtime 5 against the emulator through the in-process front door: a Controller with
//! `.owns()`, watcher recovery from an in-stream 410, the finalizer helper, streaming lists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Widget, client, emulator, widget};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::watcher::{self, Event};
use kube::{Resource, ResourceExt};
use tokio::sync::mpsc;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
#[error("reconcile failed")]
struct ReconcileError;

async fn next_reconcile(
    rx: &mut mpsc::UnboundedReceiver<(String, i32)>,
    want: impl Fn(&(String, i32)) -> bool,
) -> (String, i32) {
    loop {
        let item = timeout(WAIT, rx.recv()).await.expect("no reconcile in time").expect("controller stopped");
        if want(&item) {
            return item;
        }
    }
}

// Controller semantics: https://docs.rs/kube/latest/kube/runtime/struct.Controller.html#method.owns
// — a change to an owned object (controller ownerReference) reconciles its owner.
#[tokio::test]
async fn controller_with_owns_sees_changes_of_both_kinds_and_gc_removes_children() {
    let emu = emulator();
    let client = client(&emu);
    let widgets: Api<Widget> = Api::namespaced(client.clone(), "default");
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let ctx = Arc::new((client.clone(), tx));
    let controller = Controller::new(widgets.clone(), watcher::Config::default())
        .owns(maps.clone(), watcher::Config::default())
        .run(
            |w: Arc<Widget>, ctx: Arc<(kube::Client, mpsc::UnboundedSender<(String, i32)>)>| async move {
                let (client, tx) = &*ctx;
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
                let owner = w.controller_owner_ref(&()).unwrap();
                let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("{}-cm", w.name_any()), "ownerReferences": [owner]},
                    "data": {"replicas": w.spec.replicas.to_string()}});
                api.patch(&format!("{}-cm", w.name_any()), &PatchParams::apply("test-controller"), &Patch::Apply(cm))
                    .await
                    .map_err(|_| ReconcileError)?;
                let _ = tx.send((w.name_any(), w.spec.replicas));
                Ok::<_, ReconcileError>(Action::await_change())
            },
            |_, _, _| Action::requeue(Duration::from_millis(100)),
            ctx,
        );
    let handle = tokio::spawn(controller.for_each(|_| async {}));

    widgets.create(&PostParams::default(), &widget("w1", 1)).await.unwrap();
    next_reconcile(&mut rx, |(n, r)| n == "w1" && *r == 1).await;
    let cm = maps.get("w1-cm").await.unwrap();
    assert_eq!(cm.data.unwrap()["replicas"], "1");

    // Update of the main kind.
    widgets
        .patch("w1", &PatchParams::default(), &Patch::Merge(serde_json::json!({"spec": {"replicas": 2}})))
        .await
        .unwrap();
    next_reconcile(&mut rx, |(_, r)| *r == 2).await;

    // Update and delete of the owned kind reconcile the owner.
    emu.clear_request_log();
    maps.patch("w1-cm", &PatchParams::default(), &Patch::Merge(serde_json::json!({"data": {"drift": "x"}})))
        .await
        .unwrap();
    next_reconcile(&mut rx, |(n, _)| n == "w1").await;
    maps.delete("w1-cm", &DeleteParams::default()).await.unwrap();
    next_reconcile(&mut rx, |(n, _)| n == "w1").await;
    let recreated = timeout(WAIT, async {
        loop {
            if let Ok(cm) = maps.get("w1-cm").await {
                return cm;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap();
    assert!(recreated.owner_references().iter().any(|o| o.name == "w1"));

    // Deleting the owner garbage-collects the child (background propagation).
    handle.abort();
    widgets.delete("w1", &DeleteParams::default()).await.unwrap();
    assert!(maps.get_opt("w1-cm").await.unwrap().is_none(), "dependent not collected");
}

// Watch semantics: https://kubernetes.io/docs/reference/using-api/api-concepts/#410-gone-responses
// — an expired resourceVersion yields an ERROR event with code 410; clients must re-list.
#[tokio::test]
async fn watcher_relists_after_an_in_stream_410() {
    let emu = emulator();
    let widgets: Api<Widget> = Api::namespaced(client(&emu), "default");
    widgets.create(&PostParams::default(), &widget("a", 1)).await.unwrap();
    let mut stream = watcher::watcher(widgets.clone(), watcher::Config::default()).boxed();
    let mut init_done = 0;
    let mut saw_error = false;
    let mut compacted = false;
    timeout(WAIT, async {
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::InitDone) => {
                    init_done += 1;
                    if init_done == 2 {
                        return;
                    }
                    if !compacted {
                        compacted = true;
                        // Give the watch request time to open, then expire history.
                        let emu = emu.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            emu.compact();
                        });
                    }
                }
                Err(e) => {
                    assert!(e.to_string().contains("410") || e.to_string().contains("Expired"), "{e}");
                    saw_error = true;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("watcher did not re-list");
    assert!(saw_error, "the 410 was not surfaced");
    let lists =
        emu.request_log().iter().filter(|r| r.method == "GET" && !r.watch && r.path.ends_with("/widgets")).count();
    assert_eq!(lists, 2, "one list at start and one after the 410");
}

// Finalizers: https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/
// — deletion only sets deletionTimestamp while finalizers remain; removing the last one deletes.
#[tokio::test]
async fn finalizer_helper_adds_runs_cleanup_and_removes() {
    let emu = emulator();
    let widgets: Api<Widget> = Api::namespaced(client(&emu), "default");
    widgets.create(&PostParams::default(), &widget("f", 1)).await.unwrap();
    const NAME: &str = "example.com/cleanup";
    let run = |w: Widget| {
        let api = widgets.clone();
        async move {
            finalizer(&api, NAME, Arc::new(w), |event| async move {
                Ok::<_, ReconcileError>(match event {
                    FinalizerEvent::Apply(_) => Action::await_change(),
                    FinalizerEvent::Cleanup(_) => Action::await_change(),
                })
            })
            .await
        }
    };
    run(widgets.get("f").await.unwrap()).await.unwrap();
    assert_eq!(widgets.get("f").await.unwrap().finalizers(), &[NAME.to_owned()]);
    run(widgets.get("f").await.unwrap()).await.unwrap();
    widgets.delete("f", &DeleteParams::default()).await.unwrap();
    let deleting = widgets.get("f").await.unwrap();
    assert!(deleting.meta().deletion_timestamp.is_some());
    run(deleting).await.unwrap();
    assert!(widgets.get_opt("f").await.unwrap().is_none(), "object not deleted after the finalizer was removed");
}

// Streaming lists: https://kubernetes.io/docs/reference/using-api/api-concepts/#streaming-lists
#[tokio::test]
async fn streaming_lists_deliver_initial_events_then_the_end_bookmark() {
    let emu = emulator();
    let widgets: Api<Widget> = Api::namespaced(client(&emu), "default");
    for n in ["s1", "s2", "s3"] {
        widgets.create(&PostParams::default(), &widget(n, 1)).await.unwrap();
    }
    let mut stream = watcher::watcher(widgets.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut names = Vec::new();
    timeout(WAIT, async {
        while let Some(event) = stream.next().await {
            match event.unwrap() {
                Event::InitApply(w) => names.push(w.name_any()),
                Event::InitDone => return,
                _ => {}
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(names, vec!["s1", "s2", "s3"]);
    let log = emu.request_log();
    assert!(log.iter().any(|r| r.watch && r.query.contains("sendInitialEvents=true")));
    assert!(
        !log.iter().any(|r| r.method == "GET" && !r.watch && r.path.ends_with("/widgets")),
        "no list request with streaming lists"
    );
}

// Watch resumption: https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
// — a client that re-watches from the last resourceVersion it saw (event or bookmark) receives
// every later change, so a cache fed by a watcher that is cut again and again still ends equal
// to the server's state. Writes, deletes and dropped watches interleave here at random.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reflector_fed_through_dropped_watches_ends_equal_to_the_server() {
    use kube::runtime::reflector;
    // Bookmarks every millisecond: a bookmark must never announce a version whose changes the
    // watch has not sent yet (else a watch cut right after it loses them for good).
    let emu = kube_emulator::Emulator::new(kube_emulator::EmulatorConfig {
        bookmark_interval: Duration::from_millis(1),
        ..Default::default()
    });
    let client = client(&emu);
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let (reader, writer) = reflector::store::<ConfigMap>();
    let config = watcher::Config::default().labels("app=stress");
    let feed =
        tokio::spawn(reflector::reflector(writer, watcher::watcher(maps.clone(), config)).for_each(|_| async {}));
    reader.wait_until_ready().await.unwrap();
    let dropper = {
        let emu = emu.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(3)).await;
                emu.drop_watches();
            }
        })
    };
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let maps = maps.clone();
            tokio::spawn(async move {
                for i in 0..400 {
                    let name = format!("m{w}-{}", i % 10);
                    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
                        "metadata": {"name": name, "labels": {"app": "stress"}}, "data": {"i": i.to_string()}}))
                    .unwrap();
                    if i % 3 == 2 {
                        let _ = maps.delete(&name, &DeleteParams::default()).await;
                    } else {
                        let _ = maps.patch(&name, &PatchParams::apply("stress").force(), &Patch::Apply(cm)).await;
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    dropper.abort();
    let server = |list: Vec<ConfigMap>| {
        let mut v: Vec<(String, String)> =
            list.into_iter().map(|c| (c.name_any(), c.resource_version().unwrap_or_default())).collect();
        v.sort();
        v
    };
    // The same selection as the watch (the namespace also holds `kube-root-ca.crt`).
    let expected = server(maps.list(&kube::api::ListParams::default().labels("app=stress")).await.unwrap().items);
    let converged = timeout(WAIT, async {
        loop {
            let cached = server(reader.state().iter().map(|c| (**c).clone()).collect());
            if cached == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let cached = server(reader.state().iter().map(|c| (**c).clone()).collect());
    feed.abort();
    assert!(converged.is_ok(), "cache {cached:?}\nserver {expected:?}");
}
