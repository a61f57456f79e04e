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
    io::ErrorKind,
    net::{SocketAddr, TcpStream},
    os::fd::AsRawFd,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::mpsc;
use tungstenite::{Message, WebSocket, protocol::WebSocketConfig};

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
    let addr = server.addr;
    tokio::task::spawn_blocking(move || connect(addr).map(drop))
        .await
        .map_err(|e| e.to_string())??;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = resident_kib(pid).ok_or("cannot read the server's memory")?;

    let clock = Clock::new();
    let (arrived, mut arrivals) = mpsc::unbounded_channel::<Vec<Duration>>();
    let clients = tokio::task::spawn_blocking({
        let clock = clock.clone();
        move || Clients::open(addr, n, clock, arrived)
    })
    .await
    .map_err(|e| e.to_string())??;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = resident_kib(pid).ok_or("cannot read the server's memory")?;
    let per_socket_kib = (after - before) / n as f64;

    let server_cpu = load::cpu_time(pid);
    let own_cpu = load::cpu_time(std::process::id());
    let mut latencies = Vec::with_capacity(n * BROADCASTS);
    let mut missing = 0;
    for i in 0..BROADCASTS {
        // The clients measure from the instant stored here.
        clock.restart();
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
                Ok(Some(batch)) => {
                    got += batch.len();
                    latencies.extend(batch);
                }
                _ => break,
            }
        }
        missing += n.saturating_sub(got);
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
        cpu_per_delivery(server_cpu, load::cpu_time(pid)),
        cpu_per_delivery(own_cpu, load::cpu_time(std::process::id()))
    );
    drop(clients);
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

/// The benchmark's socket.io clients: N WebSocket connections read by one
/// thread through one `epoll` set (mio), so that a delivery costs the
/// clients a `read` and a frame parse rather than a task wake-up each.
/// Dropping it closes every connection.
struct Clients {
    stop: Arc<AtomicBool>,
    waker: Arc<mio::Waker>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Clients {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.waker.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// When the broadcast being measured was sent, in nanoseconds since `base`.
struct Clock {
    base: Instant,
    start: AtomicU64,
}

impl Clock {
    fn new() -> Arc<Self> {
        Arc::new(Clock {
            base: Instant::now(),
            start: AtomicU64::new(0),
        })
    }

    fn now(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    fn restart(&self) {
        self.start.store(self.now(), Ordering::Release);
    }

    fn since_start(&self) -> Duration {
        Duration::from_nanos(
            self.now()
                .saturating_sub(self.start.load(Ordering::Acquire)),
        )
    }
}

const WAKER: mio::Token = mio::Token(usize::MAX);

impl Clients {
    /// Opens `n` socket.io connections (blocking: call it off the async
    /// runtime) and starts the thread that answers pings and reports the
    /// latency of every `todoCreated` event since `clock`'s start, one batch
    /// per wake-up.
    fn open(
        addr: SocketAddr,
        n: usize,
        clock: Arc<Clock>,
        arrived: mpsc::UnboundedSender<Vec<Duration>>,
    ) -> Result<Clients, String> {
        let poll = mio::Poll::new().map_err(|e| e.to_string())?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER).map_err(|e| e.to_string())?);
        let mut sockets = Vec::with_capacity(n);
        for token in 0..n {
            let mut ws = connect(addr)?;
            ws.get_mut()
                .set_nonblocking(true)
                .map_err(|e| e.to_string())?;
            let fd = ws.get_ref().as_raw_fd();
            poll.registry()
                .register(
                    &mut mio::unix::SourceFd(&fd),
                    mio::Token(token),
                    mio::Interest::READABLE,
                )
                .map_err(|e| e.to_string())?;
            sockets.push(ws);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || read_all(poll, sockets, &stop, &clock, &arrived)
        });
        Ok(Clients {
            stop,
            waker,
            thread: Some(thread),
        })
    }
}

/// The clients' thread: reads every socket that has data until it has none
/// left (mio is edge-triggered).
fn read_all(
    mut poll: mio::Poll,
    mut sockets: Vec<WebSocket<TcpStream>>,
    stop: &AtomicBool,
    clock: &Clock,
    arrived: &mpsc::UnboundedSender<Vec<Duration>>,
) {
    let mut events = mio::Events::with_capacity(1024);
    // Sockets with data waiting: those that woke up before registration
    // are read once at the start.
    let mut ready: Vec<usize> = (0..sockets.len()).collect();
    while !stop.load(Ordering::Acquire) {
        let mut latencies = Vec::new();
        for token in ready.drain(..) {
            let ws = &mut sockets[token];
            loop {
                match ws.read() {
                    Ok(Message::Text(text)) if text.as_str() == "2" => {
                        // A ping: answer, or leave the pong buffered until
                        // the next flush.
                        let _ = ws.send(Message::text("3"));
                    }
                    Ok(Message::Text(text)) if text.as_str().starts_with(EVENT_PREFIX) => {
                        latencies.push(clock.since_start());
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                        let _ = ws.flush();
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        if !latencies.is_empty() && arrived.send(latencies).is_err() {
            return;
        }
        if poll.poll(&mut events, None).is_err() {
            return;
        }
        ready.extend(
            events
                .iter()
                .map(|event| event.token())
                .filter(|token| *token != WAKER)
                .map(|token| token.0),
        );
    }
}

/// Opens one socket.io connection (blocking) and waits until its namespace
/// is open.
fn connect(addr: SocketAddr) -> Result<WebSocket<TcpStream>, String> {
    let url = format!("ws://{addr}/plugin/raclette/realtime/socket.io/?EIO=4&transport=websocket");
    let stream = TcpStream::connect(addr).map_err(|e| format!("cannot connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tungstenite::client::client_with_config(url, stream, Some(config))
        .map_err(|e| format!("socket refused: {e}"))?;
    // The open packet, then the namespace's; pings may come between.
    for prefix in ["0", "40"] {
        loop {
            match ws.read() {
                Ok(Message::Text(text)) if text.as_str() == "2" => {
                    ws.send(Message::text("3")).map_err(|e| e.to_string())?;
                }
                Ok(Message::Text(text)) if text.as_str().starts_with(prefix) => break,
                other => return Err(format!("expected `{prefix}…`, got {other:?}")),
            }
        }
        if prefix == "0" {
            ws.send(Message::text("40")).map_err(|e| e.to_string())?;
        }
    }
    Ok(ws)
}
