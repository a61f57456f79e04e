//! # raclette-bench
//!
//! The benchmark suite of raclette (not part of the tests). One run reports:
//!
//! - requests/s and p99 latency of the todo routes (`GET /todo/all` with 100
//!   todos, `GET /todo/:_id`, `POST /todo`) served by raclette, beside the
//!   same handlers mounted in bare axum (the ceiling);
//! - what signing in costs: the same todo routes with authentication
//!   required, called with a session cookie and with an API token, against
//!   authentication off; and sign-ins per second;
//! - start-up time from process start to the first answered request with
//!   1, 50 and 200 generated plugins (compilation excluded);
//! - throughput of one route with 200 plugins against 1;
//! - resident memory of the example portal's server under load;
//! - the client half: compile time of a 2,000-line TypeScript file, gzipped
//!   size of the browser runtime and shell, and time from navigation to the
//!   first painted widget in headless Chromium.
//!
//! ```text
//! cargo run --release -p raclette-bench [-- [all|http|auth|startup|client] [--seconds N] [--connections N] [--rounds N] [--database sqlite|postgres]]
//! ```
//!
//! Servers run as child processes of this binary (`raclette-bench child …`),
//! so the load generator, written with hyper's client over loopback, and the
//! server measured never share a process.

mod auth;
mod bare;
mod child;
mod client;
mod load;
mod realtime;
mod report;
mod servers;
mod startup;

use std::process::ExitCode;

/// What to measure and how hard.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Seconds of load per measured route.
    pub(crate) seconds: u64,
    /// Concurrent keep-alive connections of the load generator.
    pub(crate) connections: usize,
    /// Rounds per measurement; servers compared take turns, the median round counts.
    pub(crate) rounds: usize,
    /// The databases of the todo benchmarks: `sqlite`, `postgres` or both.
    pub(crate) databases: Vec<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        return child::main(&args[1..]);
    }
    let mut what = "all".to_owned();
    let mut settings = Settings {
        seconds: 3,
        connections: 64,
        rounds: 5,
        databases: vec!["sqlite".to_owned(), "postgres".to_owned()],
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            rest.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a positive number"))
        };
        let parsed = match arg.as_str() {
            "--seconds" => number("--seconds").map(|n| settings.seconds = n.max(1)),
            "--rounds" => number("--rounds").map(|n| settings.rounds = n.max(1) as usize),
            "--connections" => {
                number("--connections").map(|n| settings.connections = n.max(1) as usize)
            }
            "--database" => match rest.next().map(String::as_str) {
                Some(db @ ("sqlite" | "postgres")) => {
                    settings.databases = vec![db.to_owned()];
                    Ok(())
                }
                _ => Err("--database needs `sqlite` or `postgres`".to_owned()),
            },
            "all" | "http" | "auth" | "startup" | "client" | "realtime" => {
                what = arg.clone();
                Ok(())
            }
            other => Err(format!(
                "unknown argument `{other}`; usage: raclette-bench [all|http|auth|startup|client|realtime] [--seconds N] [--connections N] [--rounds N] [--database sqlite|postgres]"
            )),
        };
        if let Err(message) = parsed {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build; run with `cargo run --release -p raclette-bench` for real figures"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut report = report::Report::default();
    let result = runtime.block_on(async {
        if what == "all" || what == "http" {
            servers::run(&settings, &mut report).await?;
        }
        if what == "auth" {
            servers::run_auth(&settings, &mut report).await?;
        }
        if what == "all" || what == "realtime" {
            realtime::run(&mut report).await?;
        }
        if what == "all" || what == "startup" {
            startup::run(&settings, &mut report).await?;
        }
        if what == "all" || what == "client" {
            client::run(&mut report).await?;
        }
        Ok::<(), String>(())
    });
    report.print();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("benchmark failed: {message}");
            ExitCode::FAILURE
        }
    }
}
