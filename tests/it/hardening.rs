//! A server that holds up: connection timeouts and cap, shutdown deadline,
//! client files that must not be served and binary ones that must, JSON
//! for every rejection, security headers and the `Host` check, each against
//! a really started server.
//!
//! Timeouts here only detect hangs: every wait has a generous bound, and
//! nothing asserts how fast the server is.

use std::{collections::BTreeMap, time::Duration};

use axum::extract::Query;
use base64::{Engine, engine::general_purpose::STANDARD};
use raclette::{Registrar, Routes};
use raclette_client::ClientFiles;
use raclette_runtime::RunningApp;
use raclette_tests::{TempApp, call, start};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Longest wait for anything the server should do: past it, it hangs.
const HANG: Duration = Duration::from_secs(20);

/// The first bytes of a PNG file and a few more that are not UTF-8.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe, 0x80,
];

/// An answer read off a socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// Reads one answer (headers, then a `content-length` body) off `stream`.
async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = tokio::time::timeout(HANG, stream.read(&mut chunk))
            .await
            .expect("an answer before the hang bound")
            .expect("read");
        assert!(n > 0, "connection closed before an answer: {data:?}");
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .map_or(0, |v| v.parse().expect("content-length"));
    let mut body = data[end + 4..].to_vec();
    while body.len() < length {
        let n = tokio::time::timeout(HANG, stream.read(&mut chunk))
            .await
            .expect("a body before the hang bound")
            .expect("read");
        assert!(n > 0, "connection closed in the body");
        body.extend_from_slice(&chunk[..n]);
    }
    Answer {
        status,
        headers,
        body,
    }
}

/// Sends `request` as it is on a new connection and reads the answer.
async fn raw(server: &RunningApp, request: &str) -> Answer {
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_answer(&mut stream).await
}

/// `GET path` with `Host: host`.
async fn get_as(server: &RunningApp, host: &str, path: &str) -> Answer {
    raw(
        server,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// `GET path` as a browser on this machine would send it.
async fn get(server: &RunningApp, path: &str) -> Answer {
    get_as(server, &format!("localhost:{}", server.addr().port()), path).await
}

/// Waits until the server closes `stream` (end of file or reset), reading
/// and dropping whatever it sends first; panics if it stays open.
async fn assert_closed(stream: &mut TcpStream, what: &str) {
    let mut chunk = [0u8; 1024];
    let closed = tokio::time::timeout(HANG, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "{what}: the connection is still open");
}

/// An app whose `raclette.toml` has this `[server]` section and one plugin,
/// `acme__echo`, with a route that reads its body as text.
fn app_with(server_section: &str) -> TempApp {
    let app = TempApp::new();
    app.config(&format!("name = \"fixture\"\n[server]\n{server_section}\n"));
    app.plugin("acme__echo", "1.0.0", &[], "");
    app
}

fn echo(app: &mut Registrar) -> raclette::Result<()> {
    #[derive(serde::Deserialize)]
    struct Page {
        n: u32,
    }
    async fn text(body: String) -> String {
        format!("{} bytes", body.len())
    }
    async fn page(Query(page): Query<Page>) -> String {
        page.n.to_string()
    }
    async fn big(Query(page): Query<Page>) -> String {
        "x".repeat(page.n as usize * 1024 * 1024)
    }
    app.routes(
        Routes::new()
            .post("/text", text)
            .get("/page", page)
            .get("/big", big),
    )?;
    Ok(())
}

async fn start_echo(app: &TempApp) -> RunningApp {
    start(app.app().plugin("acme__echo", echo)).await
}

#[tokio::test]
async fn silent_and_half_header_clients_are_closed_after_the_header_timeout() {
    let app = app_with("header_read_timeout = 0.3\nkeep_alive_timeout = 60");
    let server = start_echo(&app).await;
    let mut silent = TcpStream::connect(server.addr()).await.unwrap();
    let mut half = TcpStream::connect(server.addr()).await.unwrap();
    half.write_all(b"GET /raclette/health HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    assert_closed(&mut silent, "a client that sends nothing").await;
    assert_closed(&mut half, "a client that sends half a header").await;
    let health = get(&server, "/raclette/health").await;
    assert_eq!(health.status, 200, "others are still served");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let app = app_with("header_read_timeout = 60\nkeep_alive_timeout = 0.3");
    let server = start_echo(&app).await;
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /raclette/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut stream).await.status, 200);
    assert_closed(&mut stream, "an idle kept-alive connection").await;
    server.shutdown().await.unwrap();
}

/// Asks for an answer of `mb` MiB and reads nothing of it for `pause`,
/// then reads until the connection ends; returns the bytes received.
async fn read_big_answer_after(server: &RunningApp, mb: u32, pause: Duration) -> usize {
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(
            format!("GET /plugin/acme/echo/big?n={mb} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(pause).await;
    let mut received = Vec::new();
    tokio::time::timeout(HANG, async {
        let mut chunk = vec![0u8; 64 * 1024];
        while let Ok(n) = stream.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("the connection ends");
    let head = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an answer head");
    received.len() - head - 4
}

#[tokio::test]
async fn a_slow_reader_of_a_large_answer_gets_all_of_it() {
    let app = app_with("keep_alive_timeout = 0.2\nsend_timeout = 60");
    let server = start_echo(&app).await;
    let body = read_big_answer_after(&server, 64, Duration::from_millis(1500)).await;
    assert_eq!(
        body,
        64 * 1024 * 1024,
        "the keep-alive timeout does not cut an answer still being sent"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_after_the_send_timeout() {
    let app = app_with("keep_alive_timeout = 60\nsend_timeout = 0.2");
    let server = start_echo(&app).await;
    let body = read_big_answer_after(&server, 64, Duration::from_millis(1500)).await;
    assert!(
        body < 64 * 1024 * 1024,
        "the answer was cut when its client stopped reading ({body} bytes arrived)"
    );
    let health = get(&server, "/raclette/health").await;
    assert_eq!(health.status, 200, "others are still served");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_half_sent_body_is_cut_with_a_json_408() {
    let app = app_with("request_body_timeout = 0.3");
    let server = start_echo(&app).await;
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(
            b"POST /plugin/acme/echo/text HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly ten b",
        )
        .await
        .unwrap();
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(answer.header("content-type"), "application/json");
    assert_eq!(answer.json()["statusCode"], 408);
    assert_closed(&mut stream, "the connection of a cut body").await;
    let whole = raw(
        &server,
        "POST /plugin/acme/echo/text HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello",
    )
    .await;
    assert_eq!(
        (whole.status, whole.body.as_slice()),
        (200, &b"5 bytes"[..])
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn connections_above_the_cap_wait_while_the_others_are_served() {
    let app = app_with("max_connections = 2\nheader_read_timeout = 60");
    let server = start_echo(&app).await;
    let health = b"GET /raclette/health HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut kept = TcpStream::connect(server.addr()).await.unwrap();
    kept.write_all(health).await.unwrap();
    assert_eq!(read_answer(&mut kept).await.status, 200);
    let silent = TcpStream::connect(server.addr()).await.unwrap();
    // Both slots are taken: a third client is not answered...
    let mut waiting = TcpStream::connect(server.addr()).await.unwrap();
    waiting.write_all(health).await.unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), waiting.read(&mut byte)).await;
    assert!(early.is_err(), "a client above the cap waits: {early:?}");
    // ...while the connected ones are still served...
    for _ in 0..3 {
        kept.write_all(health).await.unwrap();
        assert_eq!(read_answer(&mut kept).await.status, 200);
    }
    // ...and it is answered once a slot is free.
    drop(silent);
    assert_eq!(read_answer(&mut waiting).await.status, 200);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn graceful_shutdown_ends_within_the_deadline_despite_half_sent_requests() {
    let app =
        app_with("shutdown_timeout = 0.5\nheader_read_timeout = 60\nrequest_body_timeout = 60");
    let server = start_echo(&app).await;
    let mut half_header = TcpStream::connect(server.addr()).await.unwrap();
    half_header
        .write_all(b"GET /raclette/health HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let mut half_body = TcpStream::connect(server.addr()).await.unwrap();
    half_body
        .write_all(
            b"POST /plugin/acme/echo/text HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nsome",
        )
        .await
        .unwrap();
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    idle.write_all(b"GET /raclette/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut idle).await.status, 200);
    // Let the server read what was sent before it is asked to stop.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopped = tokio::time::timeout(HANG, server.shutdown()).await;
    assert!(
        matches!(stopped, Ok(Ok(()))),
        "shutdown finished: {stopped:?}"
    );
    assert_closed(&mut half_header, "half a header at shutdown").await;
    assert_closed(&mut half_body, "half a body at shutdown").await;
    assert_closed(&mut idle, "an idle connection at shutdown").await;
}

/// An app with plugin `acme__files`, whose `client/` holds an image, a
/// hidden file and `node_modules`.
fn files_app() -> TempApp {
    let app = TempApp::new();
    app.plugin("acme__files", "1.0.0", &[], "");
    let client = "plugins/acme__files/client";
    app.write(&format!("{client}/index.ts"), "export default {}\n");
    app.write(&format!("{client}/.env.production"), "SECRET=hunter2\n");
    app.write(&format!("{client}/.git/config"), "[core]\n");
    app.write(
        &format!("{client}/node_modules/left-pad/index.js"),
        "export default 1\n",
    );
    app.write(
        &format!("{client}/widgets/x/setup.ts"),
        "export const details = { title: 'X', images: ['icon.png'] }\nexport const config = {}\n",
    );
    app.write(
        &format!("{client}/widgets/x/XWidget.ts"),
        "export default function mount() { return () => {} }\n",
    );
    std::fs::write(app.path().join(client).join("widgets/x/icon.png"), PNG).unwrap();
    app
}

#[tokio::test]
async fn hidden_and_node_modules_client_files_answer_404() {
    let app = files_app();
    let server = start(app.app()).await;
    let base = "/raclette/client/plugin_acme__files";
    for path in [
        ".env.production",
        ".git/config",
        "node_modules/left-pad/index.js",
        "node_modules/left-pad/index",
        "widgets/../.env.production",
    ] {
        let answer = get(&server, &format!("{base}/{path}")).await;
        assert_eq!(answer.status, 404, "{path}: {answer:?}");
        assert!(
            !String::from_utf8_lossy(&answer.body).contains("hunter2"),
            "{path}"
        );
        assert_eq!(answer.header("content-type"), "application/json", "{path}");
    }
    assert_eq!(get(&server, &format!("{base}/index.js")).await.status, 200);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn binary_client_files_are_served_as_bytes_from_disk_and_embedded() {
    let app = files_app();
    let server = start(app.app()).await;
    let png = get(
        &server,
        "/raclette/client/plugin_acme__files/widgets/x/icon.png",
    )
    .await;
    assert_eq!(png.status, 200, "{png:?}");
    assert_eq!(png.header("content-type"), "image/png");
    assert_eq!(png.body, PNG);
    server.shutdown().await.unwrap();

    let embedded = ClientFiles::Embedded(BTreeMap::from([
        ("index.js".to_owned(), &b"export default {}\n"[..]),
        ("widgets/x/icon.png".to_owned(), PNG),
    ]));
    let server = start(app.app().client_files("acme__files", embedded)).await;
    let png = get(
        &server,
        "/raclette/client/plugin_acme__files/widgets/x/icon.png",
    )
    .await;
    assert_eq!(png.status, 200, "{png:?}");
    assert_eq!(png.header("content-type"), "image/png");
    assert_eq!(png.body, PNG);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn rejections_are_json_errors() {
    let app = app_with("");
    app.with_todo_plugin();
    let server = start(
        app.app()
            .plugin("acme__echo", echo)
            .plugin("pacifico__todo", pacifico_todo_server::plugin),
    )
    .await;
    let bad_utf8 = get(&server, "/plugin/pacifico/todo/todo/%ff%fe").await;
    assert_eq!(bad_utf8.status, 400, "{bad_utf8:?}");
    assert_eq!(bad_utf8.header("content-type"), "application/json");
    assert_eq!(bad_utf8.json()["statusCode"], 400);
    assert_eq!(bad_utf8.json()["error"], "Bad Request");
    let query = get(&server, "/plugin/acme/echo/page?n=many").await;
    assert_eq!(query.status, 400, "{query:?}");
    assert_eq!(query.header("content-type"), "application/json");
    assert!(
        query.json()["message"].as_str().unwrap().contains('n'),
        "{query:?}"
    );

    let client = reqwest::Client::new();
    let three_mib = vec![b'a'; 3 << 20];
    let mut json_body = b"{\"name\":\"".to_vec();
    json_body.extend_from_slice(&three_mib);
    json_body.extend_from_slice(b"\"}");
    for (path, content_type, body) in [
        ("/plugin/pacifico/todo/todo", "application/json", json_body),
        ("/plugin/acme/echo/text", "text/plain", three_mib),
    ] {
        let response = tokio::time::timeout(
            HANG,
            client
                .post(format!("{}{path}", server.url()))
                .header("content-type", content_type)
                .body(body)
                .send(),
        )
        .await
        .expect("an answer before the hang bound")
        .expect("an answer, not a reset connection");
        assert_eq!(response.status().as_u16(), 413, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["statusCode"], 413, "{path}");
        assert_eq!(json["error"], "Payload Too Large", "{path}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn security_headers_are_on_every_answer_and_the_csp_admits_the_shell() {
    let app = files_app();
    let server = start(app.app()).await;
    let shell = raw(
        &server,
        "GET /todo HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(shell.header("content-type").starts_with("text/html"));
    let json = get(&server, "/raclette/health").await;
    let script = get(&server, "/raclette/client/plugin_acme__files/index.js").await;
    let image = get(
        &server,
        "/raclette/client/plugin_acme__files/widgets/x/icon.png",
    )
    .await;
    let missing = get(&server, "/raclette/nothing").await;
    for (what, answer) in [
        ("shell", &shell),
        ("JSON", &json),
        ("script", &script),
        ("image", &image),
        ("404", &missing),
    ] {
        assert_eq!(answer.header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(answer.header("x-frame-options"), "DENY", "{what}");
        assert!(!answer.header("referrer-policy").is_empty(), "{what}");
        let csp = answer.header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        // The page may load the app's own resources; anything else
        // (JSON, scripts, images, errors) may load nothing.
        let default = if what == "shell" {
            "default-src 'self'"
        } else {
            "default-src 'none'"
        };
        assert!(csp.contains(default), "{what}: {csp}");
    }

    // The policy admits the shell's inline script by its hash, and no
    // other inline script.
    let html = String::from_utf8(shell.body.clone()).unwrap();
    let mut inline = Vec::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<script") {
        let tag_end = start + rest[start..].find('>').unwrap();
        let end = tag_end + rest[tag_end..].find("</script>").unwrap();
        if !rest[start..tag_end].contains("src=") {
            inline.push(rest[tag_end + 1..end].to_owned());
        }
        rest = &rest[end..];
    }
    assert_eq!(inline.len(), 1, "{html}");
    let hash = format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(inline[0].as_bytes()))
    );
    let csp = shell.header("content-security-policy");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("{csp}"));
    assert!(script_src.contains(&hash), "{hash} in {csp}");
    assert!(!script_src.contains("unsafe-inline"), "{csp}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_loopback_server_answers_only_loopback_names_and_allowed_hosts() {
    let app = app_with("allowed_hosts = [\"portal.example.com\"]");
    let server = start_echo(&app).await;
    let port = server.addr().port();
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "portal.example.com".to_owned(),
        format!("portal.example.com:{port}"),
    ] {
        let answer = get_as(&server, &host, "/raclette/health").await;
        assert_eq!(answer.status, 200, "{host}: {answer:?}");
    }
    for host in ["evil.example", &format!("evil.example:{port}")] {
        let answer = get_as(&server, host, "/raclette/health").await;
        assert_eq!(answer.status, 421, "{host}: {answer:?}");
        assert_eq!(answer.header("content-type"), "application/json");
        assert_eq!(answer.json()["statusCode"], 421);
        assert_eq!(answer.header("x-content-type-options"), "nosniff");
    }
    let shell = get_as(&server, "evil.example", "/").await;
    assert_eq!(shell.status, 421, "the shell is refused too");
    // What every test of the suite does: a client library naming 127.0.0.1.
    let health = call(&server, "GET", "/raclette/health", None).await;
    assert_eq!(health.status, 200);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_server_settings_name_the_field() {
    let app = app_with("allowed_hosts = [\"https://portal.example.com\"]");
    let error = raclette_runtime::App::discover(app.path())
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("raclette.toml"), "{error}");
    assert!(error.contains("server.allowed_hosts[0]"), "{error}");
    let app = app_with("header_read_timeout = \"10s\"");
    let error = raclette_runtime::App::discover(app.path())
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("server.header_read_timeout"), "{error}");
}

#[tokio::test]
async fn oversized_headers_and_missing_or_doubled_host_headers_are_refused() {
    let app = app_with("");
    let server = start_echo(&app).await;
    let port = server.addr().port();
    // A connection buffers at most 64 KiB of request head (hyper may read
    // once more past it; its default of about 400 KiB would take this one).
    let huge = format!(
        "GET /raclette/health HTTP/1.1\r\nHost: localhost:{port}\r\nX-Padding: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    // The server may answer and close before the whole head is written.
    let _ = stream.write_all(huge.as_bytes()).await;
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 431, "{answer:?}");

    let two_hosts = raw(
        &server,
        &format!("GET /raclette/health HTTP/1.1\r\nHost: localhost:{port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(two_hosts.status, 400, "{two_hosts:?}");
    assert_eq!(two_hosts.json()["statusCode"], 400);

    let no_host = raw(
        &server,
        "GET /raclette/health HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(no_host.status, 400, "{no_host:?}");
    assert!(
        no_host.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("Host")),
        "{no_host:?}"
    );

    let fine = get(&server, "/raclette/health").await;
    assert_eq!(fine.status, 200);
    server.shutdown().await.unwrap();
}
