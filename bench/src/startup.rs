//! Start-up time: from spawning the server process to its first answered
//! request, with 1, 50 and 200 generated plugins (the binary is already
//! built, so compilation is excluded).

use std::time::{Duration, Instant};

use crate::{
    Settings, load,
    report::{Report, ms},
    servers::{Server, generated_app},
};

/// How many start-ups are timed per plugin count.
const RUNS: usize = 9;

async fn start_once(dir: &str, n: usize) -> Result<Duration, String> {
    let started = Instant::now();
    let server = Server::spawn(&["plugins", dir, &n.to_string()]).await?;
    let path = format!("/plugin/gen/p{}/hello", n - 1);
    loop {
        if let Ok((200, _)) = load::once(server.addr, load::get(&path)).await {
            let elapsed = started.elapsed();
            server.stop().await?;
            return Ok(elapsed);
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!("no answer from {path} within 30 s"));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Runs the start-up benchmark.
pub(crate) async fn run(_: &Settings, report: &mut Report) -> Result<(), String> {
    let section = "start-up: process start to first answered request";
    for n in [1usize, 50, 200] {
        eprintln!("timing start-up with {n} plugins…");
        let app = generated_app(n)?;
        let dir = app.path().to_str().ok_or("non-UTF-8 temp path")?.to_owned();
        // The first start creates the SQLite file; it is timed separately.
        let first = start_once(&dir, n).await?;
        let mut times = Vec::new();
        for _ in 0..RUNS {
            times.push(start_once(&dir, n).await?);
        }
        times.sort();
        let median = times[RUNS / 2];
        report.line(
            section,
            format!("{n} plugin{}", if n == 1 { "" } else { "s" }),
            format!(
                "median {}   max {}   (first start, creating the database: {})",
                ms(median),
                ms(times[RUNS - 1]),
                ms(first)
            ),
        );
        report.value(
            format!("start-up {n} plugins median ms"),
            median.as_secs_f64() * 1000.0,
        );
    }
    Ok(())
}
