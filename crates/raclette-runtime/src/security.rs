//! Security headers on every answer, and the `Host` check that keeps a
//! server on a loopback address out of reach of DNS rebinding.
//!
//! DNS rebinding: a page on `evil.example` makes its own name resolve to
//! `127.0.0.1`, then reads the answers of a local server as same-origin
//! requests. The browser still sends `Host: evil.example`, so a server that
//! answers only the names it is meant to be reached by is not exposed.
//!
//! The rule (see `[server] allowed_hosts` in `raclette.toml`):
//!
//! - loopback names are always accepted: `localhost` and its subdomains
//!   (`portal.localhost`), `127.0.0.0/8` and `[::1]`, with any port;
//! - so are the hosts of `allowed_hosts` (`*` in it accepts every host);
//! - any other host is refused with a JSON 421 when the server listens on a
//!   loopback address, or on another address while `allowed_hosts` is set;
//! - a server listening on another address with no `allowed_hosts` (behind
//!   a proxy, or reached by its IP address) accepts every host.
//!
//! An HTTP/1.1 request without a `Host` header is malformed and answered
//! 400 (RFC 9112 §3.2); an HTTP/1.0 one (old tools) is not a browser's and
//! is accepted.

use std::{
    net::{Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::OnceLock,
};

use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, Version, header, uri::Authority};
use raclette::HttpError;
use raclette_discovery::{HostPattern, ServerConfig};

/// Which `Host` values a server answers.
#[derive(Debug, Clone)]
pub(crate) struct HostPolicy {
    any_host: bool,
    allowed: Vec<HostPattern>,
}

impl HostPolicy {
    /// The policy of a server configured by `config` and listening on
    /// `listening`.
    pub(crate) fn new(config: &ServerConfig, listening: SocketAddr) -> HostPolicy {
        let allowed = config.allowed_hosts.clone();
        let any_host = allowed.iter().any(|p| p.as_str() == "*")
            || (allowed.is_empty() && !listening.ip().is_loopback());
        HostPolicy { any_host, allowed }
    }

    /// Checks the `Host` header (and the authority of an absolute request
    /// URI): a 421 for a host this server does not answer, a 400 for one
    /// that is not a host at all.
    pub(crate) fn check<B>(&self, request: &Request<B>) -> Result<(), HttpError> {
        // Two Host headers are a malformed request (RFC 9112 §3.2), whatever
        // the policy: proxies disagree on which one counts.
        let headers = request.headers();
        // (A header given twice makes more values than names.)
        if headers.len() != headers.keys_len()
            && headers.get_all(header::HOST).iter().nth(1).is_some()
        {
            return Err(HttpError::bad_request(
                "the request has more than one Host header",
            ));
        }
        let host = headers.get(header::HOST);
        if host.is_none() && request.version() == Version::HTTP_11 {
            return Err(HttpError::bad_request(
                "an HTTP/1.1 request needs a Host header",
            ));
        }
        if self.any_host {
            return Ok(());
        }
        if let Some(value) = host
            && !is_plain_loopback(value.as_bytes())
        {
            let text = value
                .to_str()
                .map_err(|_| HttpError::bad_request("the Host header is not a host name"))?;
            self.check_authority(text)?;
        }
        if let Some(authority) = request.uri().authority() {
            self.check_authority(authority.as_str())?;
        }
        Ok(())
    }

    fn check_authority(&self, authority: &str) -> Result<(), HttpError> {
        if is_plain_loopback(authority.as_bytes()) {
            return Ok(());
        }
        let Some(host) = host_name(authority) else {
            return Err(HttpError::bad_request(format!(
                "the Host header `{}` is not a host name",
                authority.escape_debug()
            )));
        };
        if is_loopback_name(&host) || self.allowed.iter().any(|p| p.matches(&host)) {
            return Ok(());
        }
        Err(HttpError::new(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this server does not answer for host `{host}`; an app lists the host names it may be reached by in `[server] allowed_hosts` of raclette.toml"
            ),
        ))
    }
}

/// The usual loopback `Host` values (`127.0.0.1:8081`, `localhost`, …),
/// recognised without parsing: most requests of a local server carry one.
fn is_plain_loopback(authority: &[u8]) -> bool {
    let port = [b"127.0.0.1".as_slice(), b"localhost", b"[::1]"]
        .into_iter()
        .find_map(|host| authority.strip_prefix(host));
    match port {
        Some([]) => true,
        Some([b':', digits @ ..]) => {
            (1..=5).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// The host of an authority (`Host` header value) without port, userinfo
/// or trailing dot, lowercase, IPv6 in brackets in normal form.
fn host_name(authority: &str) -> Option<String> {
    let authority: Authority = authority.trim().parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host);
    if host.is_empty() {
        return None;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().ok().map(|ip| format!("[{ip}]"));
    }
    Some(host.to_owned())
}

/// `localhost`, `*.localhost`, `127.x.y.z` or `[::1]`.
fn is_loopback_name(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return ip.is_loopback();
    }
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<Ipv6Addr>().ok())
        .is_some_and(|ip| {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        })
}

/// The Content-Security-Policy of every HTML page (the shell, the API
/// reference).
///
/// Scripts only from the app itself, plus the shell's inline import map by
/// its hash (no `'unsafe-inline'` scripts, no `eval`); styles from the app
/// and inline, because widgets add their `<style>` at run time; images
/// also from `data:`, `blob:` and any `https:` address (widget
/// descriptions may name images elsewhere); requests (`fetch`, web
/// sockets) only to the app; no plugins (`object`), no framing by other
/// sites.
pub(crate) fn content_security_policy() -> &'static HeaderValue {
    static POLICY: OnceLock<HeaderValue> = OnceLock::new();
    POLICY.get_or_init(|| {
        let policy = format!(
            "default-src 'self'; script-src 'self' {hash}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob: https:; font-src 'self' data:; connect-src 'self'; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
            hash = raclette_client::shell_script_hash()
        );
        HeaderValue::from_str(&policy).expect("the policy is ASCII")
    })
}

/// Adds the security headers to an answer. A header the answer already has
/// (a plugin's own Content-Security-Policy, set by a route or an app-wide
/// layer) is kept. The data API's answers come with all of them
/// (`raclette::data::StoredJson`), so one look over the answer's few
/// headers usually finds nothing to add.
pub(crate) fn add_headers(headers: &mut HeaderMap) {
    let [nosniff, frame, referrer] = &raclette::__private::SECURITY_HEADERS;
    let mut missing = [true; 4];
    for name in headers.keys() {
        let at = if *name == nosniff.0 {
            0
        } else if *name == frame.0 {
            1
        } else if *name == referrer.0 {
            2
        } else if name == header::CONTENT_SECURITY_POLICY {
            3
        } else {
            continue;
        };
        missing[at] = false;
    }
    if missing == [false; 4] {
        return;
    }
    for ((name, value), missing) in raclette::__private::SECURITY_HEADERS
        .into_iter()
        .zip(missing)
    {
        if missing {
            headers.insert(name, value);
        }
    }
    if missing[3] {
        let policy = if is_page(headers) {
            content_security_policy().clone()
        } else {
            raclette::__private::RESOURCE_POLICY
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
}

/// Whether an answer is an HTML page.
fn is_page(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|value| {
        let value = value.as_bytes();
        ["text/html", "application/xhtml+xml"].iter().any(|page| {
            value
                .get(..page.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(page.as_bytes()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str], listening: &str) -> HostPolicy {
        let config = ServerConfig {
            allowed_hosts: hosts
                .iter()
                .map(|h| HostPattern::parse(h).unwrap())
                .collect(),
            ..ServerConfig::default()
        };
        HostPolicy::new(&config, listening.parse().unwrap())
    }

    fn answers(policy: &HostPolicy, host: &str) -> Result<(), u16> {
        let request = Request::builder()
            .uri("/")
            .header(header::HOST, host)
            .body(())
            .unwrap();
        policy.check(&request).map_err(|e| e.status().as_u16())
    }

    #[test]
    fn two_host_headers_are_refused_whatever_the_policy() {
        for policy in [
            policy(&[], "127.0.0.1:8081"),
            policy(&["*"], "127.0.0.1:8081"),
        ] {
            let request = Request::builder()
                .uri("/")
                .header(header::ACCEPT, "*/*")
                .header(header::ACCEPT, "text/html")
                .header(header::HOST, "localhost")
                .header(header::HOST, "evil.example")
                .body(())
                .unwrap();
            let refusal = policy.check(&request).unwrap_err();
            assert_eq!(refusal.status(), StatusCode::BAD_REQUEST);
            // A header given twice that is not Host is no reason to refuse.
            let request = Request::builder()
                .uri("/")
                .header(header::ACCEPT, "*/*")
                .header(header::ACCEPT, "text/html")
                .header(header::HOST, "localhost")
                .body(())
                .unwrap();
            assert!(policy.check(&request).is_ok());
        }
    }

    #[test]
    fn an_http_1_1_request_needs_a_host_header_whatever_the_policy() {
        for policy in [
            policy(&[], "127.0.0.1:8081"),
            policy(&["*"], "0.0.0.0:8081"),
        ] {
            let without = |version| {
                let request = Request::builder()
                    .version(version)
                    .uri("/")
                    .body(())
                    .unwrap();
                policy.check(&request).map_err(|e| e.status().as_u16())
            };
            assert_eq!(without(Version::HTTP_11), Err(400));
            assert_eq!(without(Version::HTTP_10), Ok(()), "old tools send none");
        }
    }

    #[test]
    fn plain_loopback_hosts_are_known_by_their_bytes_alone() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:8081",
            "localhost",
            "localhost:1",
            "[::1]:65535",
        ] {
            assert!(is_plain_loopback(host.as_bytes()), "{host}");
        }
        for host in [
            "127.0.0.1:",
            "127.0.0.1:123456",
            "127.0.0.10",
            "localhost.evil.example",
            "localhost:80x",
            "[::1]x",
            "evil.example",
            "",
        ] {
            assert!(!is_plain_loopback(host.as_bytes()), "{host}");
        }
    }

    #[test]
    fn a_loopback_server_answers_loopback_names_and_listed_hosts() {
        let local = policy(&["portal.example.com"], "127.0.0.1:8081");
        for host in [
            "localhost",
            "localhost:8081",
            "LOCALHOST.:8081",
            "portal.localhost:3000",
            "127.0.0.1:8081",
            "127.1.2.3",
            "[::1]:8081",
            "[0:0:0:0:0:0:0:1]",
            "portal.example.com",
            "Portal.Example.com:443",
        ] {
            assert_eq!(answers(&local, host), Ok(()), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8081",
            "localhost.evil.example",
            "10.0.0.1",
            "portal.example.com.evil.example",
        ] {
            assert_eq!(answers(&local, host), Err(421), "{host}");
        }
        assert_eq!(answers(&local, "user@localhost"), Err(400));
        assert_eq!(answers(&local, "local host"), Err(400));
        let no_host = Request::builder()
            .version(Version::HTTP_10)
            .uri("/")
            .body(())
            .unwrap();
        assert!(local.check(&no_host).is_ok(), "an HTTP/1.0 tool's request");
        let absolute = Request::builder()
            .uri("http://evil.example/")
            .header(header::HOST, "localhost")
            .body(())
            .unwrap();
        assert_eq!(local.check(&absolute).unwrap_err().status().as_u16(), 421);
        for listening in ["127.0.0.1:80", "0.0.0.0:80"] {
            let two = Request::builder()
                .uri("/")
                .header(header::HOST, "localhost")
                .header(header::HOST, "evil.example")
                .body(())
                .unwrap();
            let policy = policy(&[], listening);
            assert_eq!(policy.check(&two).unwrap_err().status().as_u16(), 400);
        }
    }

    #[test]
    fn other_addresses_answer_every_host_unless_hosts_are_listed() {
        assert_eq!(answers(&policy(&[], "0.0.0.0:80"), "evil.example"), Ok(()));
        let listed = policy(&["*.example.com"], "0.0.0.0:80");
        assert_eq!(answers(&listed, "eu.example.com"), Ok(()));
        assert_eq!(answers(&listed, "localhost"), Ok(()));
        assert_eq!(answers(&listed, "evil.example"), Err(421));
        let any = policy(&["*"], "127.0.0.1:80");
        assert_eq!(answers(&any, "evil.example"), Ok(()));
    }

    #[test]
    fn headers_are_added_unless_present() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'"),
        );
        add_headers(&mut headers);
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert!(headers.contains_key(header::REFERRER_POLICY));
        let policy = content_security_policy().to_str().unwrap();
        assert!(
            policy.contains(raclette_client::shell_script_hash()),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");

        let mut page = HeaderMap::new();
        page.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        add_headers(&mut page);
        assert_eq!(
            page[header::CONTENT_SECURITY_POLICY],
            content_security_policy()
        );
        let mut json = HeaderMap::new();
        json.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        add_headers(&mut json);
        assert_eq!(
            json[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; frame-ancestors 'none'"
        );
    }
}
