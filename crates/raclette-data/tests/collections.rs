//! Collections on both databases: atomic partial updates under concurrency,
//! soft deletes that stay deleted, versions, project scoping, paging and
//! limits. SQLite in a temporary folder; PostgreSQL on 127.0.0.1:5432
//! (database `test`), each test in tables of its own.

use std::sync::atomic::{AtomicU32, Ordering};

use raclette_data::{Collection, CollectionSpec, Context, DataError, FilterOp, ListQuery, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Note {
    title: String,
    #[serde(default)]
    a: String,
    #[serde(default)]
    b: String,
    #[serde(default)]
    c: String,
    #[serde(default)]
    d: String,
    #[serde(default)]
    rank: i64,
}

fn note(title: &str) -> Note {
    Note {
        title: title.into(),
        a: String::new(),
        b: String::new(),
        c: String::new(),
        d: String::new(),
        rank: 0,
    }
}

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store of each kind, each with a `note` collection in tables of its
/// own; the temporary folder must outlive the SQLite store.
async fn stores() -> Vec<(Store, Collection<Note>, tempfile::TempDir)> {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let prefix = format!("t{}_{n}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("db.sqlite").display()
    ))
    .await
    .unwrap();
    let postgres = Store::open(POSTGRES)
        .await
        .expect("PostgreSQL runs on 127.0.0.1:5432 with a database `test`");
    let mut out = Vec::new();
    for store in [sqlite, postgres] {
        let notes = CollectionSpec::<Note>::new("note")
            .max_field_size("title", 100)
            .max_item_size(4096)
            .declare(&store, &prefix)
            .unwrap();
        store.create_tables().await.unwrap();
        out.push((store, notes, tempfile::tempdir().unwrap()));
    }
    out[0].2 = dir;
    out
}

fn ctx() -> Context {
    Context::new("alpha").with_user("u-1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_of_different_fields_lose_nothing() {
    for (store, notes, _dir) in stores().await {
        let mut ids = Vec::new();
        for i in 0..40 {
            ids.push(
                notes
                    .create(&ctx(), &note(&format!("n{i}")))
                    .await
                    .unwrap()
                    .id,
            );
        }
        let mut tasks = tokio::task::JoinSet::new();
        for id in &ids {
            for field in ["a", "b", "c", "d"] {
                let (notes, id) = (notes.clone(), id.clone());
                tasks.spawn(async move {
                    let patch = json!({ field: format!("{field}-{id}") });
                    notes.update(&ctx(), &id, &patch, None).await.unwrap();
                });
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        for id in &ids {
            let item = notes.get(&ctx(), id).await.unwrap();
            assert_eq!(
                (item.data.a, item.data.b, item.data.c, item.data.d),
                (
                    format!("a-{id}"),
                    format!("b-{id}"),
                    format!("c-{id}"),
                    format!("d-{id}")
                ),
                "{}: every acknowledged update is kept",
                store.database_name()
            );
            assert_eq!(item.version, 5);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_soft_delete_racing_updates_stays_deleted() {
    for (store, notes, _dir) in stores().await {
        let mut ids = Vec::new();
        for i in 0..40 {
            ids.push(
                notes
                    .create(&ctx(), &note(&format!("n{i}")))
                    .await
                    .unwrap()
                    .id,
            );
        }
        let mut tasks = tokio::task::JoinSet::new();
        for id in &ids {
            let (n, i) = (notes.clone(), id.clone());
            tasks.spawn(async move { n.delete(&ctx(), &i, None).await.map(|_| ()) });
            for field in ["a", "b"] {
                let (n, i) = (notes.clone(), id.clone());
                tasks.spawn(async move {
                    match n.update(&ctx(), &i, &json!({ field: "x" }), None).await {
                        Ok(_) | Err(DataError::Conflict { .. }) => Ok(()),
                        Err(e) => Err(e),
                    }
                });
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap().unwrap();
        }
        let live = notes.count(&ctx(), &ListQuery::new()).await.unwrap();
        assert_eq!(
            live,
            0,
            "{}: every deleted note stays deleted",
            store.database_name()
        );
        for id in &ids {
            assert!(notes.get(&ctx(), id).await.unwrap().is_deleted);
        }
    }
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_with_the_current_item() {
    for (store, notes, _dir) in stores().await {
        let item = notes.create(&ctx(), &note("v")).await.unwrap();
        assert_eq!(item.version, 1);
        let newer = notes
            .update(&ctx(), &item.id, &json!({"title": "w"}), Some(1))
            .await
            .unwrap();
        assert_eq!(newer.version, 2);
        match notes
            .update(&ctx(), &item.id, &json!({"title": "stale"}), Some(1))
            .await
        {
            Err(DataError::Conflict {
                current: Some(current),
                ..
            }) => {
                assert_eq!(current.version, 2);
                assert!(current.doc.contains("\"w\""), "{}", store.database_name());
            }
            other => panic!(
                "{}: expected a conflict, got {other:?}",
                store.database_name()
            ),
        }
        // A version in the patch body counts the same.
        let stale = notes
            .update_json(&ctx(), &item.id, json!({"title": "x", "version": 1}), None)
            .await;
        assert!(matches!(stale, Err(DataError::Conflict { .. })));
        assert_eq!(notes.get(&ctx(), &item.id).await.unwrap().data.title, "w");
        let removed = notes.delete_hard(&ctx(), &item.id, Some(1)).await;
        assert!(matches!(removed, Err(DataError::Conflict { .. })));
        notes.delete_hard(&ctx(), &item.id, Some(2)).await.unwrap();
        assert!(matches!(
            notes.get(&ctx(), &item.id).await,
            Err(DataError::NotFound { .. })
        ));
    }
}

#[tokio::test]
async fn another_projects_items_are_invisible_and_untouchable() {
    for (store, notes, _dir) in stores().await {
        let other = Context::new("beta").with_user("u-2");
        let mine = notes.create(&ctx(), &note("mine")).await.unwrap();
        assert_eq!(mine.project, "alpha");
        assert_eq!(mine.owner.as_deref(), Some("u-1"));
        let db = store.database_name();
        assert!(
            matches!(
                notes.get(&other, &mine.id).await,
                Err(DataError::NotFound { .. })
            ),
            "{db}"
        );
        assert!(matches!(
            notes
                .update(&other, &mine.id, &json!({"title": "theirs"}), None)
                .await,
            Err(DataError::NotFound { .. })
        ));
        assert!(matches!(
            notes.delete(&other, &mine.id, None).await,
            Err(DataError::NotFound { .. })
        ));
        assert!(matches!(
            notes.delete_hard(&other, &mine.id, None).await,
            Err(DataError::NotFound { .. })
        ));
        assert_eq!(notes.count(&other, &ListQuery::new()).await.unwrap(), 0);
        assert!(
            notes
                .list(&other, &ListQuery::new())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let filtered = ListQuery::new().filter("_id", FilterOp::Eq, mine.id.clone());
        assert!(
            notes
                .list(&other, &filtered)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let project = ListQuery::new().filter("project", FilterOp::Eq, "alpha");
        assert!(matches!(
            notes.list(&other, &project).await,
            Err(DataError::Invalid { .. })
        ));
        let edited = notes
            .update(
                &Context::new("alpha").with_user("u-3"),
                &mine.id,
                &json!({"a": "1"}),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            (edited.owner.as_deref(), edited.last_editor.as_deref()),
            (Some("u-1"), Some("u-3"))
        );
    }
}

#[tokio::test]
async fn lists_are_paged_filtered_and_sorted() {
    for (store, notes, _dir) in stores().await {
        let db = store.database_name();
        let mut all = Vec::new();
        for i in 0..230 {
            let mut n = note(&format!("n{i:03}"));
            n.rank = i % 7;
            all.push(n);
        }
        notes.create_many(&ctx(), &all).await.unwrap();
        let first = notes.list_stored(&ctx(), &ListQuery::new()).await.unwrap();
        assert_eq!(first.items.len(), 100, "{db}: the default page size");
        assert_eq!(first.next_offset, Some(100));
        let mut seen = 0;
        let mut offset = 0;
        loop {
            let page = notes
                .list(&ctx(), &ListQuery::new().limit(64).offset(offset))
                .await
                .unwrap();
            seen += page.items.len();
            match page.next_offset {
                Some(next) => offset = next,
                None => break,
            }
        }
        assert_eq!(seen, 230, "{db}: paging covers every item once");
        let ranked = ListQuery::new()
            .filter("rank", FilterOp::Eq, 3)
            .sort_by("title", true)
            .limit(1000);
        let page = notes.list(&ctx(), &ranked).await.unwrap();
        assert_eq!(page.items.len(), 33, "{db}");
        assert_eq!(page.items[0].data.title, "n227");
        assert!(page.items.iter().all(|i| i.data.rank == 3));
        assert_eq!(notes.count(&ctx(), &ranked).await.unwrap(), 33);
        let above = ListQuery::new()
            .filter("rank", FilterOp::Gte, 5)
            .limit(1000);
        assert_eq!(notes.count(&ctx(), &above).await.unwrap(), 65, "{db}");
        for bad in [
            ListQuery::new().filter("colour", FilterOp::Eq, "red"),
            ListQuery::new().sort_by("colour", false),
            ListQuery::new().limit(1001),
            ListQuery::new().limit(0),
            ListQuery::new().filter("createdAt", FilterOp::Gt, "yesterday"),
            ListQuery::new().filter("version", FilterOp::Eq, "one"),
            ListQuery::new().filter("title", FilterOp::Lt, serde_json::Value::Null),
        ] {
            match notes.list(&ctx(), &bad).await {
                Err(DataError::Invalid { field, .. }) => {
                    assert!(field.starts_with("query."), "{field}")
                }
                other => panic!("{db}: {bad:?} gave {other:?}"),
            }
        }
        let injection = ListQuery::new().filter("title", FilterOp::Eq, "x' OR '1'='1");
        assert!(
            notes
                .list(&ctx(), &injection)
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
}

#[tokio::test]
async fn bad_ids_and_oversized_or_invalid_items_are_refused_and_nothing_is_stored() {
    for (store, notes, _dir) in stores().await {
        let db = store.database_name();
        for id in ["\0", "abc", "%00", "00000000-0000-0000-0000-00000000000g"] {
            match notes.get(&ctx(), id).await {
                Err(DataError::Invalid { field, .. }) => assert_eq!(field, "_id"),
                other => panic!("{db}: {id:?} gave {other:?}"),
            }
        }
        let long = note(&"x".repeat(101));
        match notes.create(&ctx(), &long).await {
            Err(DataError::Invalid { field, .. }) => assert_eq!(field, "body.title"),
            other => panic!("{db}: {other:?}"),
        }
        let mut huge = note("h");
        huge.a = "y".repeat(5000);
        match notes.create(&ctx(), &huge).await {
            Err(DataError::Invalid { field, .. }) => assert_eq!(field, "body"),
            other => panic!("{db}: {other:?}"),
        }
        for (body, field) in [
            (json!({"title": 3}), "body.title"),
            (json!({"a": "no title"}), "body.title"),
            (json!({"title": "t", "colour": "red"}), "body.colour"),
            (json!({"title": "nul \u{0}"}), "body.title"),
            (json!({"title": "a\\u0000 is no NUL"}), ""),
            (json!({"title": "t", "_id": "not-a-uuid"}), "body._id"),
            (json!(["not", "an", "object"]), "body"),
        ] {
            match notes.create_json(&ctx(), body.clone()).await {
                Ok(_) if field.is_empty() => {}
                Err(DataError::Invalid { field: got, .. }) => {
                    assert_eq!(got, field, "{db}: {body}")
                }
                other => panic!("{db}: {body} gave {other:?}"),
            }
        }
        let item = notes.create(&ctx(), &note("ok")).await.unwrap();
        for (patch, field) in [
            (json!({"title": 3}), "body.title"),
            (json!({"isDeleted": true}), "body.isDeleted"),
            (json!({"colour": "red"}), "body.colour"),
            (json!({"version": "2"}), "body.version"),
        ] {
            match notes
                .update_json(&ctx(), &item.id, patch.clone(), None)
                .await
            {
                Err(DataError::Invalid { field: got, .. }) => {
                    assert_eq!(got, field, "{db}: {patch}")
                }
                other => panic!("{db}: {patch} gave {other:?}"),
            }
        }
        assert_eq!(
            notes.count(&ctx(), &ListQuery::new()).await.unwrap(),
            2,
            "{db}: nothing else stored"
        );
        assert_eq!(notes.get(&ctx(), &item.id).await.unwrap().version, 1);
        // A given id is kept; a second create with it is a conflict.
        let id = "6f1c2c1e-2b0a-4c7e-9a43-1f3f3b2f9d10";
        let made = notes
            .create_json(&ctx(), json!({"_id": id, "title": "given"}))
            .await
            .unwrap();
        assert_eq!(made.id, id);
        assert!(matches!(
            notes
                .create_json(&ctx(), json!({"_id": id, "title": "again"}))
                .await,
            Err(DataError::Conflict { .. })
        ));
    }
}

#[tokio::test]
async fn a_transaction_stores_all_or_nothing_and_restore_undoes_a_delete() {
    for (store, notes, _dir) in stores().await {
        let db = store.database_name();
        let kept = notes.create(&ctx(), &note("kept")).await.unwrap();
        let missing = "6f1c2c1e-2b0a-4c7e-9a43-000000000000";
        let failed = store
            .transaction()
            .create(&notes, &note("new"))
            .unwrap()
            .update(&notes, &kept.id, &json!({"a": "changed"}), None)
            .unwrap()
            .delete(&notes, missing, None)
            .unwrap()
            .commit(&ctx())
            .await;
        assert!(
            matches!(failed, Err(DataError::NotFound { .. })),
            "{db}: {failed:?}"
        );
        assert_eq!(
            notes.count(&ctx(), &ListQuery::new()).await.unwrap(),
            1,
            "{db}"
        );
        assert_eq!(notes.get(&ctx(), &kept.id).await.unwrap().data.a, "");
        let written = store
            .transaction()
            .create(&notes, &note("new"))
            .unwrap()
            .delete(&notes, &kept.id, None)
            .unwrap()
            .commit(&ctx())
            .await
            .unwrap();
        assert_eq!(written.len(), 2);
        let deleted = notes.get(&ctx(), &kept.id).await.unwrap();
        assert!(deleted.is_deleted);
        assert!(matches!(
            notes
                .update(&ctx(), &kept.id, &json!({"a": "z"}), None)
                .await,
            Err(DataError::Conflict { .. })
        ));
        let trash = ListQuery::new().filter("isDeleted", FilterOp::Eq, true);
        assert_eq!(notes.count(&ctx(), &trash).await.unwrap(), 1);
        let restored = notes.restore(&ctx(), &kept.id, None).await.unwrap();
        assert!(!restored.is_deleted);
        assert_eq!(restored.version, deleted.version + 1);
        assert_eq!(
            notes.count(&ctx(), &ListQuery::new()).await.unwrap(),
            2,
            "{db}"
        );
    }
}

#[tokio::test]
async fn declarations_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("d.sqlite").display()
    ))
    .await
    .unwrap();
    #[derive(Serialize, Deserialize)]
    struct Clash {
        version: i64,
    }
    let err = CollectionSpec::<Clash>::new("clash")
        .declare(&store, "p")
        .unwrap_err();
    assert!(err.to_string().contains("`version`"), "{err}");
    let err = CollectionSpec::<Note>::new("Bad-Name")
        .declare(&store, "p")
        .unwrap_err();
    assert!(err.to_string().contains("Bad-Name"), "{err}");
    let err = CollectionSpec::<Note>::new("note")
        .max_field_size("colour", 3)
        .declare(&store, "p")
        .unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
    CollectionSpec::<Note>::new("note")
        .declare(&store, "p")
        .unwrap();
    let twice = CollectionSpec::<Note>::new("note")
        .declare(&store, "p")
        .unwrap_err();
    assert!(twice.to_string().contains("twice"), "{twice}");
}
