//! What signing in costs: the todo routes of the portal with authentication
//! required, called with a session cookie (and its CSRF token on writes)
//! and with an API token, against the same routes with authentication off;
//! and sign-ins per second (argon2id verification, a new session stored).

use std::{net::SocketAddr, sync::Arc};

use hyper::body::Bytes;

use crate::{
    Settings,
    load::{self, LoadResult, RequestFn},
    report::Report,
    servers::{
        Database, Server, describe, dir_arg, drop_pg_databases, interleaved, pg_database,
        portal_copy, portal_copy_with, seed_todos,
    },
};

/// The development account the core plugin creates on an empty database
/// when `RACLETTE_DEV_ACCOUNT` is set.
const EMAIL: &str = "dev@example.com";
const PASSWORD: &str = "raclette-dev";

/// Authentication required, sign-in limits out of the way of the load.
const AUTH_ON: &str = "\n[auth]\nrequire_authentication = true\n\
    [plugins.raclette__core.options]\n\
    sign_ins_per_minute_per_account = 100000000\n\
    sign_ins_per_minute_per_address = 100000000\n";

const TODO: &str = "/plugin/pacifico/todo/todo";
const SESSION: &str = "/plugin/raclette/core/session";

/// How a request proves who sends it.
#[derive(Clone)]
struct Credentials {
    /// `Cookie` and `X-CSRF-Token`, or `Authorization`.
    headers: Vec<(&'static str, String)>,
}

impl Credentials {
    /// The headers, as `load::with_headers` takes them.
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        self.headers.iter().map(|(n, v)| (*n, v.as_str())).collect()
    }

    /// `request` with the credentials. As the browser runtime does, the
    /// CSRF token goes with writes only.
    fn apply(
        &self,
        request: hyper::Request<http_body_util::Full<Bytes>>,
    ) -> hyper::Request<http_body_util::Full<Bytes>> {
        let write = !matches!(*request.method(), hyper::Method::GET | hyper::Method::HEAD);
        let pairs: Vec<_> = self
            .pairs()
            .into_iter()
            .filter(|(name, _)| write || *name != "x-csrf-token")
            .collect();
        load::with_headers(request, &pairs)
    }
}

/// Signs in; returns the session cookie and the CSRF token.
async fn sign_in(addr: SocketAddr) -> Result<Credentials, String> {
    let body = serde_json::json!({ "email": EMAIL, "password": PASSWORD });
    let (status, headers, bytes) =
        load::once_with_headers(addr, load::post_json(SESSION, &body)).await?;
    if status != 200 {
        return Err(format!(
            "sign-in answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    let cookie = headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("sign-in set no cookie")?
        .to_owned();
    let info: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let csrf = info["csrfToken"]
        .as_str()
        .ok_or("sign-in answered no csrfToken")?
        .to_owned();
    Ok(Credentials {
        headers: vec![("cookie", cookie), ("x-csrf-token", csrf)],
    })
}

/// Creates an API token with a session; returns it as credentials.
async fn api_token(addr: SocketAddr, session: &Credentials) -> Result<Credentials, String> {
    let request = session.apply(load::post_json(
        "/plugin/raclette/core/token",
        &serde_json::json!({ "name": "benchmark" }),
    ));
    let (status, bytes) = load::once(addr, request).await?;
    if status != 201 {
        return Err(format!(
            "token creation answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    let token: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let secret = token["secret"].as_str().ok_or("no token secret")?;
    Ok(Credentials {
        headers: vec![("authorization", format!("Bearer {secret}"))],
    })
}

/// The three todo requests, as `credentials` sends them.
fn requests(
    ids: Arc<Vec<String>>,
    credentials: Option<Credentials>,
) -> Vec<(&'static str, RequestFn)> {
    let with = move |request| match &credentials {
        Some(c) => c.apply(request),
        None => request,
    };
    let with = Arc::new(with);
    let (a, b, c) = (with.clone(), with.clone(), with);
    vec![
        (
            "GET /todo/all",
            Arc::new(move |_| a(load::get(&format!("{TODO}/all")))),
        ),
        (
            "GET /todo/:_id",
            Arc::new(move |n| {
                b(load::get(&format!(
                    "{TODO}/{}",
                    ids[n as usize % ids.len()]
                )))
            }),
        ),
        (
            "POST /todo",
            Arc::new(move |n| {
                c(load::post_json(
                    TODO,
                    &serde_json::json!({ "name": format!("load {n}") }),
                ))
            }),
        ),
    ]
}

/// Runs the sign-in benchmarks on `database`.
pub(crate) async fn run(
    database: Database,
    settings: &Settings,
    report: &mut Report,
) -> Result<(), String> {
    let db = match database {
        Database::Sqlite => "sqlite",
        Database::Postgres => "postgres",
    };
    let section = format!("sign-in on {db}: todo routes signed in vs authentication off");
    eprintln!("measuring signed-in todo routes and sign-ins on {db}…");
    let on_app = portal_copy_with(AUTH_ON)?;
    let off_app = portal_copy()?;
    let pid = std::process::id();
    let urls = match database {
        Database::Sqlite => None,
        Database::Postgres => Some((
            pg_database(&format!("raclette_bench_{pid}_on")).await?,
            pg_database(&format!("raclette_bench_{pid}_off")).await?,
        )),
    };
    let dev = [("RACLETTE_DEV_ACCOUNT", "1")];
    let (on, off) = match &urls {
        None => (
            Server::spawn_with_env(&["todo-raclette", &dir_arg(&on_app)?], &dev).await?,
            Server::spawn(&["todo-raclette", &dir_arg(&off_app)?]).await?,
        ),
        Some((on_url, off_url)) => (
            Server::spawn_with_env(&["todo-raclette", &dir_arg(&on_app)?, on_url], &dev).await?,
            Server::spawn(&["todo-raclette", &dir_arg(&off_app)?, off_url]).await?,
        ),
    };
    let cookie = sign_in(on.addr).await?;
    let bearer = api_token(on.addr, &cookie).await?;
    let ids = Arc::new(seed_todos(on.addr, 100, &bearer.pairs()).await?);
    seed_todos(off.addr, 100, &[]).await?;

    // Items written by a user carry its id as `owner` and `lastEditor`
    // (`null` when anonymous): the signed-in list is longer.
    let list = format!("{TODO}/all");
    let (_, off_list) = load::once(off.addr, load::get(&list)).await?;
    let (_, on_list) = load::once(on.addr, bearer.apply(load::get(&list))).await?;
    report.line(
        &section,
        "GET /todo/all body",
        format!(
            "{} bytes signed in, {} bytes with auth off",
            on_list.len(),
            off_list.len()
        ),
    );

    let anonymous = requests(ids.clone(), None);
    let with_cookie = requests(ids.clone(), Some(cookie));
    let with_bearer = requests(ids, Some(bearer));
    for ((name, off_make), ((_, cookie_make), (_, bearer_make))) in anonymous
        .into_iter()
        .zip(with_cookie.into_iter().zip(with_bearer))
    {
        let [off_result, cookie_result, bearer_result]: [LoadResult; 3] = interleaved(
            &[(&off, off_make), (&on, cookie_make), (&on, bearer_make)],
            settings,
        )
        .await?
        .try_into()
        .map_err(|_| "three results")?;
        report.line(&section, format!("{name}  auth off"), describe(&off_result));
        for (how, result) in [("cookie", &cookie_result), ("bearer", &bearer_result)] {
            let cost = 1.0 - result.requests_per_second / off_result.requests_per_second;
            report.line(&section, format!("{name}  {how}"), describe(result));
            report.line(
                &section,
                format!("{name}  {how} cost"),
                format!("{:.1} %", cost * 100.0),
            );
            let key = name
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            report.value(
                format!("{db} {key} {how} req/s"),
                result.requests_per_second,
            );
            report.value(format!("{db} {key} {how} cost"), cost);
        }
    }

    // Sign-ins: each verifies an argon2id hash and stores a session.
    let body = serde_json::json!({ "email": EMAIL, "password": PASSWORD });
    let make: RequestFn = Arc::new(move |_| load::post_json(SESSION, &body));
    let [signins]: [LoadResult; 1] = interleaved(&[(&on, make)], settings)
        .await?
        .try_into()
        .map_err(|_| "one result")?;
    report.line(&section, "POST /session (sign-in)", describe(&signins));
    report.value(format!("{db} sign-ins/s"), signins.requests_per_second);

    on.stop().await?;
    off.stop().await?;
    if urls.is_some() {
        drop_pg_databases(&[
            format!("raclette_bench_{pid}_on"),
            format!("raclette_bench_{pid}_off"),
        ])
        .await?;
    }
    Ok(())
}
