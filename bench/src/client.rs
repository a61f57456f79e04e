//! The client half: TypeScript compile time, the gzipped size of the
//! browser runtime and shell, and navigation to the first painted widget.

use std::{io::Write, time::Instant};

use crate::{
    report::{Report, ms},
    servers::{Server, portal_copy, repo_root, seed_todos},
};

/// A realistic TypeScript module of `lines` lines: interfaces, generics,
/// classes, arrow functions, template literals, type-only imports.
pub(crate) fn typescript_source(lines: usize) -> String {
    let mut out = String::from(
        "import type { WidgetContext } from '@raclette/client'\nimport { helper } from './helper.ts'\n\n",
    );
    let mut i = 0;
    while out.lines().count() < lines {
        out.push_str(&format!(
            r#"export interface Item{i}<T extends object = Record<string, unknown>> {{
  id: string
  name: string
  payload: T
  tags?: readonly string[]
}}

type Mapper{i} = (item: Item{i}) => string | undefined

export class Store{i}<T extends object> {{
  private readonly items = new Map<string, Item{i}<T>>()
  protected count: number = 0

  add(item: Item{i}<T>): this {{
    this.items.set(item.id, item)
    this.count += 1
    return this
  }}

  find(predicate: (item: Item{i}<T>) => boolean): Item{i}<T> | undefined {{
    for (const item of this.items.values()) if (predicate(item)) return item
    return undefined
  }}
}}

export const render{i}: Mapper{i} = (item) => `${{item.name}} (${{item.tags?.join(', ') ?? 'none'}}) ${{helper({i})}}`

export function mount{i}(el: HTMLElement, ctx: WidgetContext): () => void {{
  const store = new Store{i}<{{ n: number }}>()
  store.add({{ id: 'a{i}', name: 'A', payload: {{ n: {i} }} }})
  el.textContent = render{i}(store.find((x) => x.id === 'a{i}') as Item{i}) ?? String(ctx.config.title as string)
  return () => {{ el.textContent = '' }}
}}

"#
        ));
        i += 1;
    }
    out.lines().take(lines).collect::<Vec<_>>().join("\n") + "\n"
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory").len()
}

/// Runs the client benchmarks.
pub(crate) async fn run(report: &mut Report) -> Result<(), String> {
    let section = "client half";
    let source = typescript_source(2000);
    raclette_client::compile(&source, "bench/big.ts").map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        let js = raclette_client::compile(&source, "bench/big.ts").map_err(|e| e.to_string())?;
        times.push(started.elapsed());
        std::hint::black_box(js);
    }
    times.sort();
    report.line(
        section,
        "compile a 2,000-line TypeScript file",
        format!(
            "median {}   max {}   ({} bytes of source)",
            ms(times[25]),
            ms(times[49]),
            source.len()
        ),
    );
    report.value(
        "compile 2000 lines median ms",
        times[25].as_secs_f64() * 1000.0,
    );

    let mut raw = 0;
    let mut gzipped = 0;
    let mut files = Vec::new();
    for name in raclette_client::runtime_files() {
        let text = raclette_client::runtime_file(&name).ok_or("runtime file vanished")?;
        let served = if name.ends_with(".ts") {
            raclette_client::compile(&text, &format!("raclette/runtime/{name}"))
                .map_err(|e| e.to_string())?
        } else {
            text.into_owned()
        };
        raw += served.len();
        gzipped += gzip_len(served.as_bytes());
        files.push(name);
    }
    let html = raclette_client::shell_html("portal");
    raw += html.len();
    gzipped += gzip_len(html.as_bytes());
    report.line(
        section,
        "runtime and shell, gzipped",
        format!(
            "{:.1} KB ({:.1} KB raw; {} files + the shell page)",
            gzipped as f64 / 1024.0,
            raw as f64 / 1024.0,
            files.len()
        ),
    );
    report.value("runtime+shell gzipped KB", gzipped as f64 / 1024.0);

    let script = repo_root().join("bench/paint.mjs");
    let playwright = repo_root().join("node_modules/playwright-core");
    if !playwright.is_dir() || !std::path::Path::new("/usr/bin/chromium").exists() {
        report.line(
            section,
            "navigation to first widget painted",
            "not measured: run scripts/setup (chromium and npm packages)",
        );
        return Ok(());
    }
    let app = portal_copy()?;
    let dir = app.path().to_str().ok_or("non-UTF-8 temp path")?.to_owned();
    let server = Server::spawn(&["todo-raclette", &dir]).await?;
    seed_todos(server.addr, 100, &[]).await?;
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .arg(format!("http://{}/todo", server.addr))
        .current_dir(repo_root())
        .output()
        .await
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "bench/paint.mjs failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let figures: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    let number = |key: &str| figures[key].as_f64().unwrap_or(f64::NAN);
    report.line(
        section,
        "navigation to first widget painted",
        format!(
            "median {:.1} ms cold, {:.1} ms warm; todo list filled: {:.1} ms cold ({} runs, headless Chromium)",
            number("widgetColdMedian"),
            number("widgetWarmMedian"),
            number("listColdMedian"),
            figures["runs"]
        ),
    );
    report.value(
        "first widget paint cold median ms",
        number("widgetColdMedian"),
    );
    report.value(
        "first widget paint warm median ms",
        number("widgetWarmMedian"),
    );
    Ok(())
}
