//! Realtime: one broadcast to 1,000 and to 10,000 connected sockets, and
//! the server's memory per idle connection.
//!
//! The example portal (authentication off, memory adapter) runs in its own
//! process. The benchmark opens N socket.io connections over loopback
//! (engine.io v4 over WebSocket, spoken directly), waits until they are
//! idle, and reads the server's resident memory before and after. Then it
//! creates a todo 20 times, one at a time; each creation is broadcast on
//! `plugin_pacifico__todo--todoCreated` to every socket. A delivery's
//! latency runs from sending the `POST` to a socket reading the event;
//! p50 and p99 are over every delivery of every broadcast.

use std::{
    net::SocketAddr,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    load,
    report::{Report, ms},
    servers::{Server, dir_arg, portal_copy_with},
};

const SECTION: &str = "realtime: one broadcast to N sockets";
const BROADCASTS: usize = 20;
const EVENT_PREFIX: &str = "42[\"plugin_pacifico__todo--todoCreated\"";

/// Runs the realtime figures.
pub(crate) async fn run(report: &mut Report) -> Result<(), String> {
    for n in [1_000, 10_000] {
        measure(n, report).await?;
    }
    Ok(())
}

/// CPU time (user and system) process `pid` used so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux counts in clock ticks of 1/100 s.
    Some(Duration::from_millis(ticks * 10))
}

/// Resident memory (`VmRSS`) of process `pid`, in KiB.
fn resident_kib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn measure(n: usize, report: &mut Report) -> Result<(), String> {
    let dir = portal_copy_with(
        "\n[auth]\nrequire_authentication = false\nanonymous_permissions = [\"*\"]\n",
    )?;
    // Room for N sockets besides the benchmark's requests.
    let config = dir.path().join("raclette.toml");
    let text = std::fs::read_to_string(&config).map_err(|e| e.to_string())?;
    std::fs::write(
        &config,
        text.replace("[server]\n", "[server]\nmax_connections = 20000\n"),
    )
    .map_err(|e| e.to_string())?;
    let server = Server::spawn(&["todo-raclette", &dir_arg(&dir)?]).await?;
    let pid = server.pid().ok_or("the server has no process id")?;
    // Warm up: the first request opens the database, the first socket
    // starts the realtime plugin's tasks.
    let warm = load::post_json(
        "/plugin/pacifico/todo/todo",
        &serde_json::json!({ "name": "warm-up" }),
    );
    load::once(server.addr, warm).await?;
    drop(
        connect(
            server.addr,
            Arc::new(RwLock::new(Instant::now())),
            mpsc::unbounded_channel().0,
        )
        .await?,
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = resident_kib(pid).ok_or("cannot read the server's memory")?;

    let start = Arc::new(RwLock::new(Instant::now()));
    let (arrived, mut arrivals) = mpsc::unbounded_channel::<Duration>();
    let mut sockets = Vec::with_capacity(n);
    for batch in (0..n).collect::<Vec<_>>().chunks(250) {
        let opened = futures_util::future::join_all(
            batch
                .iter()
                .map(|_| connect(server.addr, start.clone(), arrived.clone())),
        )
        .await;
        for socket in opened {
            sockets.push(socket?);
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = resident_kib(pid).ok_or("cannot read the server's memory")?;
    let per_socket_kib = (after - before) / n as f64;

    let server_cpu = cpu_time(pid);
    let own_cpu = cpu_time(std::process::id());
    let mut latencies = Vec::with_capacity(n * BROADCASTS);
    let mut missing = 0;
    for i in 0..BROADCASTS {
        // Each socket task measures from the instant stored here.
        *start.write().expect("start lock") = Instant::now();
        let request = load::post_json(
            "/plugin/pacifico/todo/todo",
            &serde_json::json!({ "name": format!("broadcast {i}") }),
        );
        let (status, _) = load::once(server.addr, request).await?;
        if status != 201 {
            return Err(format!("creating a todo answered {status}"));
        }
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got < n {
            match tokio::time::timeout_at(deadline, arrivals.recv()).await {
                Ok(Some(latency)) => {
                    latencies.push(latency);
                    got += 1;
                }
                _ => break,
            }
        }
        missing += n - got;
    }
    let cpu_per_delivery = |before: Option<Duration>, now: Option<Duration>| match (before, now) {
        (Some(before), Some(now)) => format!(
            "{:.1} µs",
            (now - before).as_secs_f64() * 1e6 / (n * BROADCASTS) as f64
        ),
        _ => "?".to_owned(),
    };
    let cpu = format!(
        "CPU per delivery: server {}, benchmark's clients {}",
        cpu_per_delivery(server_cpu, cpu_time(pid)),
        cpu_per_delivery(own_cpu, cpu_time(std::process::id()))
    );
    drop(sockets);
    server.stop().await?;

    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let (p50, p99) = (at(0.50), at(0.99));
    report.line(
        SECTION,
        format!("{n} sockets"),
        format!(
            "delivery p50 {}, p99 {} over {BROADCASTS} broadcasts{}; {per_socket_kib:.1} KiB of server memory per idle socket",
            ms(p50),
            ms(p99),
            if missing > 0 {
                format!(" ({missing} deliveries missing)")
            } else {
                String::new()
            }
        ),
    );
    report.line(SECTION, format!("{n} sockets, CPU"), cpu);
    report.value(format!("realtime.{n}.p50_ms"), p50.as_secs_f64() * 1e3);
    report.value(format!("realtime.{n}.p99_ms"), p99.as_secs_f64() * 1e3);
    report.value(format!("realtime.{n}.kib_per_idle_socket"), per_socket_kib);
    report.value(format!("realtime.{n}.missing"), missing as f64);
    Ok(())
}

/// A connected socket's task; dropping it closes the connection.
struct Socket(tokio::task::JoinHandle<()>);

impl Drop for Socket {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Opens a socket.io connection; its task answers pings and reports the
/// latency of every `todoCreated` event since `start`.
async fn connect(
    addr: SocketAddr,
    start: Arc<RwLock<Instant>>,
    arrived: mpsc::UnboundedSender<Duration>,
) -> Result<Socket, String> {
    let url = format!("ws://{addr}/plugin/raclette/realtime/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("socket refused: {e}"))?;
    // The open packet, then the namespace's; pings may come between.
    for prefix in ["0", "40"] {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                    ws.send(Message::text("3"))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Some(Ok(Message::Text(text))) if text.as_str().starts_with(prefix) => break,
                other => return Err(format!("expected `{prefix}…`, got {other:?}")),
            }
        }
        if prefix == "0" {
            ws.send(Message::text("40"))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(Socket(tokio::spawn(async move {
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            if text.as_str() == "2" {
                if ws.send(Message::text("3")).await.is_err() {
                    return;
                }
            } else if text.as_str().starts_with(EVENT_PREFIX) {
                let latency = start.read().expect("start lock").elapsed();
                let _ = arrived.send(latency);
            }
        }
    })))
}
