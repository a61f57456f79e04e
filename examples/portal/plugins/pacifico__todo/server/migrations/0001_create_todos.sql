CREATE TABLE IF NOT EXISTS pacifico_todo_todos (
    id TEXT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pacifico_todo_todos_live ON pacifico_todo_todos (is_deleted, created_at);
