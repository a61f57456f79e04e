//! Writes: what each one does once the current item is known. Both
//! databases run the same plan; they differ only in how they fetch, lock
//! and store.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::{Context, DataError, StoredItem, meta::Meta, sql};

/// One write of a transaction.
pub(crate) struct Write {
    pub(crate) meta: Arc<Meta>,
    pub(crate) kind: WriteKind,
}

pub(crate) enum WriteKind {
    Create {
        id: String,
        doc: String,
    },
    Update {
        id: String,
        patch: Map<String, Value>,
        expected: Option<i64>,
    },
    SetDeleted {
        id: String,
        deleted: bool,
        expected: Option<i64>,
    },
    DeleteHard {
        id: String,
        expected: Option<i64>,
    },
}

/// What a write does to the table.
pub(crate) enum Action {
    Insert(StoredItem),
    Update(StoredItem),
    Delete(StoredItem),
    /// Nothing to change (a delete of a deleted item).
    Keep(StoredItem),
}

/// The result of one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The item as it is after the write.
    Item(StoredItem),
    /// The item as it was before a hard delete.
    Removed(StoredItem),
}

impl Written {
    /// The item written or removed.
    pub fn item(&self) -> &StoredItem {
        match self {
            Written::Item(item) | Written::Removed(item) => item,
        }
    }
}

impl Action {
    pub(crate) fn written(self) -> Written {
        match self {
            Action::Insert(item) | Action::Update(item) | Action::Keep(item) => Written::Item(item),
            Action::Delete(item) => Written::Removed(item),
        }
    }
}

impl Write {
    /// The id whose current item the plan needs, if any.
    pub(crate) fn existing_id(&self) -> Option<&str> {
        match &self.kind {
            WriteKind::Create { .. } => None,
            WriteKind::Update { id, .. }
            | WriteKind::SetDeleted { id, .. }
            | WriteKind::DeleteHard { id, .. } => Some(id),
        }
    }

    /// What to do, given the current item (fetched and locked).
    pub(crate) fn plan(
        &self,
        ctx: &Context,
        current: Option<StoredItem>,
    ) -> Result<Action, DataError> {
        let now = sql::now();
        let user = ctx.user().map(str::to_owned);
        if let WriteKind::Create { id, doc } = &self.kind {
            return Ok(Action::Insert(StoredItem {
                id: id.clone(),
                project: ctx.project().to_owned(),
                owner: user.clone(),
                last_editor: user,
                version: 1,
                is_deleted: false,
                created_at: now.clone(),
                updated_at: now,
                doc: doc.clone(),
            }));
        }
        let id = self.existing_id().unwrap_or_default();
        let mut item = current.ok_or_else(|| DataError::NotFound {
            type_name: self.meta.type_name.clone(),
            id: id.to_owned(),
        })?;
        let expected = match &self.kind {
            WriteKind::Update { expected, .. }
            | WriteKind::SetDeleted { expected, .. }
            | WriteKind::DeleteHard { expected, .. } => *expected,
            WriteKind::Create { .. } => None,
        };
        if let Some(expected) = expected
            && expected != item.version
        {
            return Err(DataError::Conflict {
                message: format!(
                    "{} {id} is at version {}, not {expected}: it changed since it was read",
                    self.meta.type_name, item.version
                ),
                current: Some(Box::new(item)),
            });
        }
        let touch = |item: &mut StoredItem| {
            item.version += 1;
            item.updated_at = now.clone();
            item.last_editor = user.clone();
        };
        Ok(match &self.kind {
            WriteKind::Create { .. } => unreachable!("handled above"),
            WriteKind::Update { patch, .. } => {
                if item.is_deleted {
                    return Err(DataError::Conflict {
                        message: format!(
                            "{} {id} is deleted; restore it before changing it",
                            self.meta.type_name
                        ),
                        current: Some(Box::new(item)),
                    });
                }
                let doc = self.meta.merge(&item.doc, patch)?;
                if doc == item.doc {
                    // Nothing changes (an empty patch, or the values it
                    // has): the version stays, so readers of it keep
                    // writing without a needless conflict.
                    Action::Keep(item)
                } else {
                    item.doc = doc;
                    touch(&mut item);
                    Action::Update(item)
                }
            }
            WriteKind::SetDeleted { deleted, .. } => {
                if item.is_deleted == *deleted {
                    Action::Keep(item)
                } else {
                    item.is_deleted = *deleted;
                    touch(&mut item);
                    Action::Update(item)
                }
            }
            WriteKind::DeleteHard { .. } => Action::Delete(item),
        })
    }
}
