//! Watches: initial events (`resourceVersion` unset/0 or `sendInitialEvents`), replay from
//! history, live changes with selector transitions, bookmarks, timeouts and in-stream 410.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::emulator::Emulator;
use crate::errors::ApiError;
use crate::registry::ResourceType;
use crate::request::{ApiResponse, Format};
use crate::routes::{Query, selectors};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{Broadcast, Change, EventType};
use crate::views::to_view;

struct Filter {
    emulator: Emulator,
    rt: Arc<ResourceType>,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    format: Format,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        let view = to_view(&self.rt, object);
        self.labels.matches(&view) && self.fields.matches(&view)
    }

    fn line(&self, type_: &str, object: &Value) -> Bytes {
        let view = to_view(&self.rt, object);
        let object = match self.format {
            Format::Metadata => {
                json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": view.get("metadata").cloned().unwrap_or(json!({}))})
            }
            Format::Table => {
                let rv =
                    view.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default().to_owned();
                crate::table::table(&self.rt, std::slice::from_ref(&view), &rv, None, self.emulator.inner.clock.now())
            }
            _ => view,
        };
        let mut line = serde_json::to_vec(&json!({"type": type_, "object": object})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }

    /// The event (if any) a change produces for this watch.
    fn event(&self, change: &Change) -> Option<Bytes> {
        if change.key.storage != self.rt.storage
            || self.namespace.as_ref().is_some_and(|ns| &change.key.namespace != ns)
        {
            return None;
        }
        let now = self.matches(&change.object);
        let before = change.old.as_ref().is_some_and(|o| self.matches(o));
        let type_ = match change.type_ {
            EventType::Added if now => "ADDED",
            EventType::Deleted if now || before => "DELETED",
            EventType::Modified if now && before => "MODIFIED",
            EventType::Modified if now => "ADDED",
            EventType::Modified if before => "DELETED",
            _ => return None,
        };
        Some(self.line(type_, &change.object))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let object = json!({"kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": metadata});
        let mut line = serde_json::to_vec(&json!({"type": "BOOKMARK", "object": object})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }
}

fn expired_line(message: &str) -> Bytes {
    let status = ApiError::expired(message).to_status();
    let mut line = serde_json::to_vec(&json!({"type": "ERROR", "object": status})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// Starts a watch and returns its stream.
pub(crate) fn start(
    emulator: Emulator,
    rt: Arc<ResourceType>,
    namespace: Option<String>,
    query: &Query,
    format: Format,
) -> Result<ApiResponse, ApiError> {
    let (labels, fields) = selectors(&rt, query)?;
    let filter = Filter { emulator: emulator.clone(), rt, namespace, labels, fields, format };
    let bookmarks = query.flag("allowWatchBookmarks");
    let send_initial = query.flag("sendInitialEvents");
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(emulator.inner.config.default_watch_timeout);
    let requested_rv = query.get("resourceVersion").filter(|r| !r.is_empty());
    let mut initial: Vec<Bytes> = Vec::new();
    let receiver: broadcast::Receiver<Broadcast>;
    let subscribed_at: u64;
    {
        let state = emulator.state();
        // Subscribing under the lock: no change can slip between the replay and the live feed.
        receiver = emulator.inner.sender.subscribe();
        subscribed_at = state.rv;
        match requested_rv {
            None | Some("0") => {
                for (_, object) in state.list(&filter.rt.storage, filter.namespace.as_deref()) {
                    if filter.matches(object) {
                        initial.push(filter.line("ADDED", object));
                    }
                }
                if send_initial && bookmarks {
                    initial.push(filter.bookmark(state.rv, true));
                }
            }
            Some(rv) => {
                let rv: u64 =
                    rv.parse().map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))?;
                if send_initial {
                    for (_, object) in state.list(&filter.rt.storage, filter.namespace.as_deref()) {
                        if filter.matches(object) {
                            initial.push(filter.line("ADDED", object));
                        }
                    }
                    if bookmarks {
                        initial.push(filter.bookmark(state.rv, true));
                    }
                } else if rv < state.compacted {
                    // An expired version is an in-stream ERROR, never an HTTP 410: kube-runtime
                    // re-lists only on the former.
                    initial.push(expired_line(&format!("too old resource version: {rv} ({})", state.compacted)));
                    let (tx, lines) = mpsc::channel(initial.len().max(1));
                    for line in initial {
                        let _ = tx.try_send(line);
                    }
                    return Ok(ApiResponse::Stream { content_type: "application/json".to_owned(), lines });
                } else {
                    for change in state.history.iter().filter(|c| c.rv > rv) {
                        if let Some(line) = filter.event(change) {
                            initial.push(line);
                        }
                    }
                }
            }
        }
    }
    let (tx, lines) = mpsc::channel(1024);
    let interval = emulator.inner.config.bookmark_interval;
    let feed = Feed { receiver, delivered: subscribed_at };
    tokio::spawn(run(filter, feed, tx, initial, bookmarks, interval, timeout));
    Ok(ApiResponse::Stream { content_type: "application/json".to_owned(), lines })
}

/// The live feed of one watch and how far it has got.
struct Feed {
    receiver: broadcast::Receiver<Broadcast>,
    /// Every change up to this resourceVersion has been sent (or filtered out) by this watch.
    /// Bookmarks announce this version, never the store's current one: changes committed but
    /// still queued for this watch would otherwise be skipped by a client that resumes from the
    /// bookmark after the stream is cut (a watch's bookmark promises that every earlier event
    /// was delivered).
    delivered: u64,
}

async fn run(
    filter: Filter,
    mut feed: Feed,
    tx: mpsc::Sender<Bytes>,
    initial: Vec<Bytes>,
    bookmarks: bool,
    bookmark_interval: Duration,
    timeout: Duration,
) {
    for line in initial {
        if tx.send(line).await.is_err() {
            return;
        }
    }
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut ticker = tokio::time::interval(bookmark_interval);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            _ = tx.closed() => return,
            _ = ticker.tick(), if bookmarks => {
                if tx.send(filter.bookmark(feed.delivered, false)).await.is_err() {
                    return;
                }
            }
            message = feed.receiver.recv() => match message {
                Ok(Broadcast::Change(change)) => {
                    feed.delivered = change.rv;
                    if let Some(line) = filter.event(&change)
                        && tx.send(line).await.is_err()
                    {
                        return;
                    }
                }
                Ok(Broadcast::DropWatches) => return,
                Ok(Broadcast::Expire) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = tx.send(expired_line("the watch fell behind or history was compacted")).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
