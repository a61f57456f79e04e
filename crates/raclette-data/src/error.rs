//! What can go wrong with a data operation.

use crate::item::StoredItem;

/// The error of a data operation. Every variant but [`DataError::Database`]
/// is the caller's doing and maps to a 4xx answer naming the field.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A value the caller sent is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field (or query parameter) at fault, as the client names it.
        field: String,
        /// What was expected.
        message: String,
    },
    /// No item with this id in the request's project.
    #[error("{type_name} {id} not found")]
    NotFound {
        /// The collection's item type, as clients name it.
        type_name: String,
        /// The id asked for.
        id: String,
    },
    /// The item changed (or is in a state) that the write did not expect;
    /// `current` is the item as it is now, when there is one.
    #[error("{message}")]
    Conflict {
        /// What was in the way.
        message: String,
        /// The item as stored now.
        current: Option<Box<StoredItem>>,
    },
    /// The database is too busy to take the operation now (every
    /// connection stayed taken); the client may retry shortly.
    #[error("the database is busy; try again shortly")]
    Busy,
    /// The database failed; details go to the log, not to the client.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl DataError {
    /// An [`DataError::Invalid`] for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DataError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn database(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        DataError::Database(Box::new(err))
    }
}

impl From<rusqlite::Error> for DataError {
    fn from(err: rusqlite::Error) -> Self {
        DataError::database(err)
    }
}

impl From<sqlx::Error> for DataError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut => DataError::Busy,
            err => DataError::database(err),
        }
    }
}
