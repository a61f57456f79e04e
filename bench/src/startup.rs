//! Start-up time: from spawning the server process to its first answered
//! request, with 1, 50 and 200 generated plugins (the binary is already
//! built, so compilation is excluded).

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use crate::{
    Settings, load,
    report::{Report, ms},
    servers::generated_app,
};

/// How many start-ups are timed per plugin count.
const RUNS: usize = 9;

async fn start_once(dir: &str, n: usize) -> Result<Duration, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .args(["child", "plugins", dir, &n.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let addr: std::net::SocketAddr = loop {
        let line = lines
            .next_line()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the server exited before listening")?;
        if let Some(url) = line.strip_prefix("listening http://") {
            break url
                .trim_end_matches('/')
                .parse()
                .map_err(|_| format!("bad address {url}"))?;
        }
    };
    let path = format!("/plugin/gen/p{}/hello", n - 1);
    loop {
        if let Ok((200, _)) = load::once(addr, load::get(&path)).await {
            let elapsed = started.elapsed();
            child.kill().await.map_err(|e| e.to_string())?;
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
