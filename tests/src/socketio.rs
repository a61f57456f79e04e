//! A minimal socket.io client for tests: engine.io v4 over WebSocket,
//! the default namespace, events in, pings answered.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

/// Where the realtime plugin serves socket.io.
pub const SOCKET_PATH: &str = "/plugin/raclette/realtime/socket.io/";

/// A connected socket.io client.
pub struct SocketClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Why a connection failed: the HTTP status of the refused upgrade (and its
/// body), or another error as text.
#[derive(Debug)]
pub struct Refused {
    /// The answer's status, when the server answered.
    pub status: Option<u16>,
    /// The answer's body or the error.
    pub text: String,
}

impl SocketClient {
    /// Connects to `base` (`http://127.0.0.1:port`) with extra request
    /// headers (`Cookie`, `Authorization`, `Origin`), and joins the default
    /// namespace.
    pub async fn connect(base: &str, headers: &[(&str, &str)]) -> Result<SocketClient, Refused> {
        let mut client = SocketClient::open(base, headers).await?;
        let answer = client.open_socket().await;
        assert!(
            answer.starts_with("40"),
            "socket.io connect expected, got {answer}"
        );
        Ok(client)
    }

    /// Opens the connection (engine.io) without opening its socket yet.
    pub async fn open(base: &str, headers: &[(&str, &str)]) -> Result<SocketClient, Refused> {
        let url = format!(
            "{}{SOCKET_PATH}?EIO=4&transport=websocket",
            base.replacen("http", "ws", 1)
        );
        let mut request = url.into_client_request().expect("request");
        for (name, value) in headers {
            request.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        let (ws, _) = match tokio_tungstenite::connect_async(request).await {
            Ok(done) => done,
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let text = response
                    .body()
                    .as_ref()
                    .map(|body| String::from_utf8_lossy(body).into_owned())
                    .unwrap_or_default();
                return Err(Refused {
                    status: Some(status),
                    text,
                });
            }
            Err(err) => {
                return Err(Refused {
                    status: None,
                    text: err.to_string(),
                });
            }
        };
        let mut client = SocketClient { ws };
        let open = client
            .packet(Duration::from_secs(5))
            .await
            .expect("engine.io open");
        assert!(
            open.starts_with('0'),
            "engine.io open packet expected, got {open}"
        );
        Ok(client)
    }

    /// Asks to open the socket (the default namespace) on this connection;
    /// returns the server's answer: `40{…}` when opened, `44{…}` when
    /// refused, or an empty text when the connection closed.
    pub async fn open_socket(&mut self) -> String {
        self.ws
            .send(Message::text("40"))
            .await
            .expect("namespace connect");
        self.packet(Duration::from_secs(5))
            .await
            .unwrap_or_default()
    }

    /// The next engine.io text packet other than a ping (pings are
    /// answered), or `None` after `wait` or when the connection closed.
    async fn packet(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??;
            match message.ok()? {
                Message::Text(text) if text.as_str() == "2" => {
                    self.ws.send(Message::text("3")).await.ok()?;
                }
                Message::Text(text) => return Some(text.as_str().to_owned()),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// The next socket.io event (`name`, first argument) within `wait`.
    pub async fn event(&mut self, wait: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let packet = self.packet(left).await?;
            if let Some(json) = packet.strip_prefix("42") {
                let mut args: Vec<Value> = serde_json::from_str(json).expect("event JSON");
                let name = args.remove(0).as_str().expect("event name").to_owned();
                let first = args.into_iter().next().unwrap_or(Value::Null);
                return Some((name, first));
            }
        }
    }

    /// Every event that arrives within `wait`.
    pub async fn events_within(&mut self, wait: Duration) -> Vec<(String, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut events = Vec::new();
        while let Some(event) = self
            .event(deadline.saturating_duration_since(tokio::time::Instant::now()))
            .await
        {
            events.push(event);
        }
        events
    }

    /// Whether the server closes this socket (a socket.io disconnect or the
    /// connection's end) within `wait`; events before that are skipped.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            match tokio::time::timeout(left, self.packet(left)).await {
                Err(_) => return false,
                Ok(None) => return tokio::time::Instant::now() < deadline,
                Ok(Some(packet)) if packet.starts_with("41") || packet.starts_with('1') => {
                    return true;
                }
                Ok(Some(_)) => {}
            }
        }
    }

    /// Sends the event `name` with `data` to the server.
    pub async fn emit(&mut self, name: &str, data: &Value) {
        let packet = format!("42{}", serde_json::json!([name, data]));
        self.ws.send(Message::text(packet)).await.expect("emit");
    }

    /// Sends a raw engine.io text packet.
    pub async fn send_text(&mut self, packet: &str) {
        let _ = self.ws.send(Message::text(packet)).await;
    }

    /// Sends a binary frame (a socket.io attachment).
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        let _ = self.ws.send(Message::binary(bytes)).await;
    }

    /// Leaves the namespace (socket.io's `41`): the socket closes, the
    /// connection is the server's to close.
    pub async fn leave(&mut self) {
        let _ = self.ws.send(Message::text("41")).await;
    }

    /// Whether the connection itself (not only its socket) ends within
    /// `wait`; pings are answered meanwhile.
    pub async fn connection_closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_) | Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(Message::Text(text)))) if text.as_str() == "2" => {
                    let _ = self.ws.send(Message::text("3")).await;
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
