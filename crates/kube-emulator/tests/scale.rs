//! Scale: 5,000 objects and 50 concurrent watches work (figures come from the bench, not here).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use kube_emulator::{ApiRequest, ApiResponse, Emulator};
use serde_json::{Value, json};

fn request(method: &str, path: &str, query: &str, body: Option<Value>) -> ApiRequest {
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, "application/merge-patch+json".parse().unwrap());
    ApiRequest {
        method: method.parse().unwrap(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: body.map(|b| Bytes::from(b.to_string())).unwrap_or_default(),
    }
}

async fn full(emu: &Emulator, r: ApiRequest) -> (u16, Value) {
    match emu.handle(r).await {
        ApiResponse::Full { status, body, .. } => (status, serde_json::from_slice(&body).unwrap()),
        ApiResponse::Stream { .. } => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_objects_and_fifty_watches() {
    const OBJECTS: usize = 5_000;
    const WATCHES: usize = 50;
    const CHANGES: usize = 100;
    let emu = Emulator::default();
    let path = "/api/v1/namespaces/default/configmaps";
    for i in 0..OBJECTS {
        let (code, _) = full(&emu, request("POST", path, "", Some(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i:05}")}, "data": {"i": i.to_string()}})))).await;
        assert_eq!(code, 201);
    }
    // Paginated list covers every object exactly once.
    let mut seen = 0;
    let mut token = String::new();
    loop {
        let query = if token.is_empty() { "limit=500".to_owned() } else { format!("limit=500&continue={token}") };
        let (_, page) = full(&emu, request("GET", path, &query, None)).await;
        seen += page["items"].as_array().unwrap().len();
        match page["metadata"]["continue"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    // And `kube-root-ca.crt`, which every namespace holds.
    assert_eq!(seen, OBJECTS + 1);
    let rv = emu.resource_version();
    let mut streams = Vec::new();
    for _ in 0..WATCHES {
        match emu.handle(request("GET", path, &format!("watch=true&resourceVersion={rv}"), None)).await {
            ApiResponse::Stream { lines, .. } => streams.push(lines),
            ApiResponse::Full { status, .. } => panic!("watch answered {status}"),
        }
    }
    for i in 0..CHANGES {
        let (code, _) =
            full(&emu, request("PATCH", &format!("{path}/cm-{i:05}"), "", Some(json!({"data": {"changed": "yes"}}))))
                .await;
        assert_eq!(code, 200);
    }
    let mut handles = Vec::new();
    for mut lines in streams {
        handles.push(tokio::spawn(async move {
            let mut modified = 0;
            while modified < CHANGES {
                let line = tokio::time::timeout(std::time::Duration::from_secs(60), lines.recv())
                    .await
                    .expect("watch stalled")
                    .expect("watch ended");
                let event: Value = serde_json::from_slice(&line).unwrap();
                assert_eq!(event["type"], "MODIFIED");
                modified += 1;
            }
            modified
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), CHANGES);
    }
}
