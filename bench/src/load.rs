//! The load generator: keep-alive HTTP/1.1 connections over loopback, each
//! sending requests one after another for a fixed time, with every
//! latency recorded.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full};
use hyper::{Request, body::Bytes};
use hyper_util::rt::TokioIo;

/// How to make the n-th request of a run.
pub(crate) type RequestFn = Arc<dyn Fn(u64) -> Request<Full<Bytes>> + Send + Sync>;

/// What a run measured.
#[derive(Debug, Clone)]
pub(crate) struct LoadResult {
    /// Successful requests per second.
    pub(crate) requests_per_second: f64,
    /// Median latency.
    pub(crate) p50: Duration,
    /// 99th percentile latency.
    pub(crate) p99: Duration,
    /// Answers that were not 2xx.
    pub(crate) failures: u64,
    /// CPU time the server used per request measured, when its process
    /// was known: unlike the rate, it does not move with what else the
    /// machine runs (the load generator included).
    pub(crate) server_cpu_per_request: Option<Duration>,
}

/// CPU time (user and system) process `pid` used so far.
pub(crate) fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux counts in clock ticks of 1/100 s.
    Some(Duration::from_millis(ticks * 10))
}

/// A request with an empty body.
pub(crate) fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", "127.0.0.1")
        .body(Full::new(Bytes::new()))
        .expect("a valid request")
}

/// A request with a JSON body.
pub(crate) fn post_json(path: &str, body: &serde_json::Value) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid request")
}

/// `request` with `headers` added.
pub(crate) fn with_headers(
    mut request: Request<Full<Bytes>>,
    headers: &[(&'static str, &str)],
) -> Request<Full<Bytes>> {
    for (name, value) in headers {
        if let Ok(value) = hyper::header::HeaderValue::from_str(value) {
            request.headers_mut().insert(*name, value);
        }
    }
    request
}

/// Sends one request on a new connection; returns status and body.
pub(crate) async fn once(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<(u16, Bytes), String> {
    let (status, _, body) = once_with_headers(addr, request).await?;
    Ok((status, body))
}

/// Sends one request on a new connection; returns status, headers and body.
pub(crate) async fn once_with_headers(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<(u16, hyper::HeaderMap, Bytes), String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, headers, body))
}

/// Runs `connections` connections against `addr` for `warmup` (not
/// counted) and then `duration`.
pub(crate) async fn run(
    addr: SocketAddr,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    make: RequestFn,
    server: Option<u32>,
) -> Result<LoadResult, String> {
    let start = Instant::now();
    let measure_from = start + warmup;
    let stop_at = measure_from + duration;
    let mut tasks = Vec::new();
    for connection in 0..connections {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(conn);
            let mut latencies = Vec::with_capacity(100_000);
            let mut failures = 0u64;
            let mut n = connection as u64 * 1_000_000_000;
            loop {
                let sent = Instant::now();
                if sent >= stop_at {
                    break;
                }
                n += 1;
                sender.ready().await.map_err(|e| e.to_string())?;
                let response = sender
                    .send_request(make(n))
                    .await
                    .map_err(|e| e.to_string())?;
                let ok = response.status().is_success();
                response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?;
                if sent >= measure_from {
                    latencies.push(sent.elapsed());
                    if !ok {
                        failures += 1;
                    }
                }
            }
            Ok::<_, String>((latencies, failures))
        }));
    }
    // The server's CPU time over the measured window.
    let server_cpu = match server {
        Some(pid) => {
            tokio::time::sleep_until(measure_from.into()).await;
            let before = cpu_time(pid);
            tokio::time::sleep_until(stop_at.into()).await;
            before
                .zip(cpu_time(pid))
                .map(|(before, after)| after.saturating_sub(before))
        }
        None => None,
    };
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (l, f) = task.await.map_err(|e| e.to_string())??;
        latencies.extend(l);
        failures += f;
    }
    latencies.sort_unstable();
    if latencies.is_empty() {
        return Err("no request finished during the measurement".into());
    }
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Ok(LoadResult {
        requests_per_second: (latencies.len() as u64 - failures) as f64 / duration.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        failures,
        server_cpu_per_request: server_cpu.map(|cpu| cpu / latencies.len() as u32),
    })
}
