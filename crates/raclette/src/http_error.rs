use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::ErrorBody;

/// An error answer of a route: a status code and a JSON body.
///
/// The body ([`ErrorBody`]) has the shape the original framework's clients
/// know: `{ "statusCode": 400, "error": "Bad Request", "message": "…",
/// "field": "name" }` (`field` only when one field is at fault). A 401 also
/// carries `WWW-Authenticate: Bearer realm="raclette"`.
///
/// ```
/// use raclette::HttpError;
///
/// let err = HttpError::bad_request("name must be a string").with_field("name");
/// assert_eq!(err.status().as_u16(), 400);
/// assert_eq!(err.field(), Some("name"));
/// ```
#[derive(Debug, Clone)]
pub struct HttpError {
    status: StatusCode,
    message: String,
    field: Option<String>,
    current: Option<serde_json::Value>,
}

impl HttpError {
    /// An error with any status code.
    ///
    /// ```
    /// let err = raclette::HttpError::new(raclette::http::StatusCode::GONE, "the invoice was archived");
    /// assert_eq!(err.status().as_u16(), 410);
    /// ```
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        HttpError {
            status,
            message: message.into(),
            field: None,
            current: None,
        }
    }

    /// 400 Bad Request.
    ///
    /// ```
    /// let err = raclette::HttpError::bad_request("name must not be empty").with_field("name");
    /// assert_eq!(err.status().as_u16(), 400);
    /// ```
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 Not Found.
    ///
    /// ```
    /// let err = raclette::HttpError::not_found("no todo n1");
    /// assert_eq!(err.status().as_u16(), 404);
    /// ```
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409 Conflict.
    ///
    /// ```
    /// let err = raclette::HttpError::conflict("the todo changed meanwhile");
    /// assert_eq!(err.status().as_u16(), 409);
    /// ```
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 500 Internal Server Error. The message is sent to the client, so keep
    /// secrets out of it.
    ///
    /// ```
    /// let err = raclette::HttpError::internal("the mail server is down");
    /// assert_eq!(err.status().as_u16(), 500);
    /// ```
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Names the request field at fault.
    ///
    /// ```
    /// let err = raclette::HttpError::bad_request("too long").with_field("tags[2]");
    /// assert_eq!(err.field(), Some("tags[2]"));
    /// ```
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Adds the item as it is now (the `current` field of a 409 body).
    ///
    /// ```
    /// let err = raclette::HttpError::conflict("changed since read")
    ///     .with_current(serde_json::json!({ "_id": "…", "version": 4 }));
    /// assert_eq!(err.body().current.unwrap()["version"], 4);
    /// ```
    #[must_use]
    pub fn with_current(mut self, current: serde_json::Value) -> Self {
        self.current = Some(current);
        self
    }

    /// The status code.
    ///
    /// ```
    /// assert_eq!(raclette::HttpError::not_found("x").status(), raclette::http::StatusCode::NOT_FOUND);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    ///
    /// ```
    /// assert_eq!(raclette::HttpError::not_found("no todo n1").message(), "no todo n1");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The field at fault, if one was named.
    ///
    /// ```
    /// assert_eq!(raclette::HttpError::not_found("x").field(), None);
    /// ```
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The JSON body of this error.
    ///
    /// ```
    /// let body = raclette::HttpError::not_found("no todo 7").with_field("_id").body();
    /// assert_eq!(body.error, "Not Found");
    /// assert_eq!(
    ///     serde_json::to_string(&body).unwrap(),
    ///     r#"{"statusCode":404,"error":"Not Found","message":"no todo 7","field":"_id"}"#
    /// );
    /// ```
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            status_code: self.status.as_u16(),
            error: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            message: self.message.clone(),
            field: self.field.clone(),
            current: self.current.clone(),
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for HttpError {}

impl IntoResponse for HttpError {
    /// The JSON body with the status; a 401 also says how to authenticate
    /// (`WWW-Authenticate: Bearer realm="raclette"`, as RFC 9110 asks),
    /// and a 503 when to try again (`Retry-After: 1`, in seconds: the
    /// framework's 503s are a busy database or session store, brief by
    /// nature).
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"raclette\""),
            );
        } else if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

impl From<sqlx::Error> for HttpError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(target: "raclette::http", error = %err, "database error");
        HttpError::internal("database error")
    }
}

impl From<crate::Error> for HttpError {
    fn from(err: crate::Error) -> Self {
        tracing::error!(target: "raclette::http", error = %err, "plugin error");
        match err {
            // The database's own message may name tables and values.
            crate::Error::Database(_) => HttpError::internal("database error"),
            other => HttpError::internal(other.to_string()),
        }
    }
}

/// A handler may return `raclette::Result<T>`: an error answers a JSON 500
/// (a database error without the database's message).
///
/// ```
/// use raclette::{Json, Service};
///
/// struct Notes;
/// impl Notes {
///     fn count(&self) -> raclette::Result<i64> { Ok(3) }
/// }
///
/// async fn count(Service(notes): Service<Notes>) -> raclette::Result<Json<i64>> {
///     Ok(Json(notes.count()?))
/// }
/// # let _ = raclette::Routes::<()>::new().get("/count", count);
/// ```
impl IntoResponse for crate::Error {
    fn into_response(self) -> Response {
        HttpError::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    #[test]
    fn a_plugin_error_answers_500_and_keeps_database_messages_private() {
        let response = crate::Error::Database(sqlx::Error::RowNotFound).into_response();
        assert_eq!(response.status(), 500);
        let err = super::HttpError::from(crate::Error::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(err.message(), "database error");
        let err = super::HttpError::from(crate::Error::msg("no licence key"));
        assert_eq!(err.message(), "no licence key");
    }

    #[test]
    fn a_401_says_how_to_authenticate_and_a_503_when_to_retry() {
        use axum::http::{StatusCode, header};
        let unauthorized = super::HttpError::new(StatusCode::UNAUTHORIZED, "sign in first");
        let response = unauthorized.into_response();
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"raclette\""
        );
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
        let busy = super::HttpError::new(StatusCode::SERVICE_UNAVAILABLE, "database busy");
        let response = busy.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert!(!response.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
