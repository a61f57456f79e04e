//! Every acknowledged write survives `kill -9`: a real server process (the
//! fixture server with the todo plugin) takes 1,000 concurrent creates and
//! updates from 64 clients and is killed with SIGKILL half-way; after a
//! restart on the same database every write it acknowledged is there. On
//! SQLite (group commit, `synchronous = FULL`) and on PostgreSQL.

use std::{
    collections::HashMap,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use raclette_tests::{PgDatabase, TempApp};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

const HANG: Duration = Duration::from_secs(60);
const BASE: &str = "/plugin/pacifico/todo/todo";
const OPERATIONS: usize = 1000;
const KILL_AFTER: usize = 500;
const CLIENTS: usize = 64;

struct Server {
    child: Child,
    url: String,
}

async fn spawn(app: &TempApp, database: Option<&str>) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fixture-server"));
    command.arg("--app").arg(app.path());
    if let Some(url) = database {
        command.arg("--database").arg(url);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the fixture server starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = tokio::time::timeout(HANG, async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(url) = line.strip_prefix("raclette: listening on ") {
                return url.trim_end_matches('/').to_owned();
            }
        }
        panic!("the fixture server exited before listening");
    })
    .await
    .expect("the fixture server listens");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server { child, url }
}

/// What the server acknowledged.
#[derive(Default)]
struct Acknowledged {
    /// Created todos: id and name.
    creates: Vec<(String, String)>,
    /// Updates: id, the content written, the version the answer carried.
    updates: Vec<(String, String, i64)>,
}

async fn acknowledged_writes_survive_a_kill(database: Option<&str>) {
    let app = TempApp::new();
    app.with_todo_plugin();
    let mut server = spawn(&app, database).await;
    let client = reqwest::Client::new();
    let mut seeded = Vec::new();
    for i in 0..100 {
        let reply = client
            .post(format!("{}{BASE}", server.url))
            .json(&json!({ "name": format!("seed {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 201);
        let item: Value = reply.json().await.unwrap();
        seeded.push(item["_id"].as_str().unwrap().to_owned());
    }
    let seeded = Arc::new(seeded);
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let acks = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (client, url) = (client.clone(), server.url.clone());
        let (seeded, acknowledged, acks, next) = (
            seeded.clone(),
            acknowledged.clone(),
            acks.clone(),
            next.clone(),
        );
        clients.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= OPERATIONS {
                    return;
                }
                if n % 2 == 0 {
                    let id = uuid::Uuid::new_v4().to_string();
                    let name = format!("created {n}");
                    let sent = client
                        .post(format!("{url}{BASE}"))
                        .json(&json!({ "_id": id, "name": name }))
                        .send()
                        .await;
                    match sent {
                        Ok(reply) if reply.status() == 201 => {
                            acknowledged.lock().unwrap().creates.push((id, name));
                        }
                        Ok(reply) => panic!("a create answered {}", reply.status()),
                        Err(_) => return, // the server is gone
                    }
                } else {
                    let id = seeded[n % seeded.len()].clone();
                    let content = format!("content {n}");
                    let sent = client
                        .patch(format!("{url}{BASE}/{id}"))
                        .json(&json!({ "content": content }))
                        .send()
                        .await;
                    let reply = match sent {
                        Ok(reply) if reply.status() == 200 => reply,
                        Ok(reply) => panic!("an update answered {}", reply.status()),
                        Err(_) => return,
                    };
                    let Ok(item) = reply.json::<Value>().await else {
                        return; // cut while reading: not acknowledged
                    };
                    let version = item["version"].as_i64().unwrap();
                    acknowledged
                        .lock()
                        .unwrap()
                        .updates
                        .push((id, content, version));
                }
                acks.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    tokio::time::timeout(HANG, async {
        while acks.load(Ordering::Relaxed) < KILL_AFTER {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("half of the writes are acknowledged");
    server.child.start_kill().expect("SIGKILL");
    server.child.wait().await.unwrap();
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }

    let server = spawn(&app, database).await;
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(acknowledged.creates.len() + acknowledged.updates.len() >= KILL_AFTER);
    for (id, name) in &acknowledged.creates {
        let reply = client
            .get(format!("{}{BASE}/{id}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "acknowledged create {id} was lost");
        let item: Value = reply.json().await.unwrap();
        assert_eq!(item["name"], name.as_str());
    }
    let mut latest: HashMap<&str, (&str, i64)> = HashMap::new();
    for (id, content, version) in &acknowledged.updates {
        let entry = latest.entry(id).or_insert((content, *version));
        if *version > entry.1 {
            *entry = (content, *version);
        }
    }
    for (id, (content, version)) in latest {
        let item: Value = client
            .get(format!("{}{BASE}/{id}", server.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let stored = item["version"].as_i64().unwrap();
        assert!(
            stored >= version,
            "todo {id} is at version {stored}, but version {version} was acknowledged"
        );
        if stored == version {
            assert_eq!(
                item["content"], content,
                "acknowledged update of {id} was lost"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    acknowledged_writes_survive_a_kill(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgresql() {
    let pg = PgDatabase::create().await;
    acknowledged_writes_survive_a_kill(Some(&pg.url())).await;
    pg.drop().await;
}
