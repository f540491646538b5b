//! List and watch fan-out figures: `cargo bench -p kube-emulator --bench scale [-- --quick]`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a benchmark binary

use std::time::Instant;

use bytes::Bytes;
use kube_emulator::{ApiRequest, ApiResponse, Emulator};
use serde_json::json;

fn request(method: &str, path: &str, query: &str, body: Option<serde_json::Value>) -> ApiRequest {
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (objects, watches, changes) = if quick { (500, 10, 50) } else { (5_000, 50, 1_000) };
    let emu = Emulator::default();
    let path = "/api/v1/namespaces/default/configmaps";
    let start = Instant::now();
    for i in 0..objects {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i:05}"), "labels": {"bench": "yes"}}, "data": {"i": i.to_string()}});
        emu.handle(request("POST", path, "", Some(body))).await;
    }
    let create = start.elapsed();
    let start = Instant::now();
    let response = emu.handle(request("GET", path, "", None)).await;
    let list = start.elapsed();
    let bytes = match response {
        ApiResponse::Full { body, .. } => body.len(),
        ApiResponse::Stream { .. } => 0,
    };
    let start = Instant::now();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let query = if token.is_empty() { "limit=500".to_owned() } else { format!("limit=500&continue={token}") };
        let ApiResponse::Full { body, .. } = emu.handle(request("GET", path, &query, None)).await else {
            unreachable!()
        };
        pages += 1;
        let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
        match page["metadata"]["continue"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    let paged = start.elapsed();
    let rv = emu.resource_version();
    let mut streams = Vec::new();
    for _ in 0..watches {
        let ApiResponse::Stream { lines, .. } =
            emu.handle(request("GET", path, &format!("watch=true&resourceVersion={rv}"), None)).await
        else {
            unreachable!()
        };
        streams.push(lines);
    }
    let start = Instant::now();
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut lines| {
            tokio::spawn(async move {
                let mut n = 0;
                while n < changes {
                    lines.recv().await.unwrap();
                    n += 1;
                }
            })
        })
        .collect();
    for i in 0..changes {
        emu.handle(request(
            "PATCH",
            &format!("{path}/cm-{:05}", i % objects),
            "",
            Some(json!({"data": {"n": i.to_string()}})),
        ))
        .await;
    }
    for r in readers {
        r.await.unwrap();
    }
    let fanout = start.elapsed();
    println!("objects                  {objects}");
    println!("create                   {:.1} µs/object", create.as_secs_f64() * 1e6 / objects as f64);
    println!("list all                 {:.1} ms ({} KiB)", list.as_secs_f64() * 1e3, bytes / 1024);
    println!("list in pages of 500     {:.1} ms ({pages} pages)", paged.as_secs_f64() * 1e3);
    println!(
        "watch fan-out            {changes} changes × {watches} watches delivered in {:.1} ms ({:.0} events/s)",
        fanout.as_secs_f64() * 1e3,
        (changes * watches) as f64 / fanout.as_secs_f64()
    );
}
