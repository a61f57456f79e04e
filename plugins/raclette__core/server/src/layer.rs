//! Who sends each request: the plugin's [`IdentifyRequests`].
//!
//! Only this plugin's routes change a session (sign-in, sign-out, project
//! switch), so only they take the session layer, with the authenticating
//! middleware inside it (both added as this plugin's own layers). Every
//! other request is identified before routing: anonymous when it has
//! neither an `Authorization` header nor the session cookie, else from the
//! caches of tokens, sessions (by the cookie's value) and users when they
//! know it, and only otherwise by reading the database. No cookie jar, no
//! session object, no copy of the record, no boxed future for the usual
//! request. The one thing such a request does not do is tell the browser
//! to drop a cookie whose session has ended; the next request to this
//! plugin's routes does.

use std::sync::Arc;

use raclette::{
    Identified, IdentifyRequests,
    http::{HeaderMap, header},
};
use tower_sessions::cookie::Cookie;

use crate::{
    Core, SESSION_COOKIE,
    authenticate::{identify, identify_now},
};

/// Identifies the requests to every route but this plugin's own.
pub(crate) struct SignIn(pub(crate) Arc<Core>);

impl IdentifyRequests for SignIn {
    fn identify(&self, mut request: raclette::http::Request<raclette::Body>) -> Identified {
        if request.uri().path().starts_with(crate::ROUTE_PREFIX) {
            // This plugin's routes sign in and out, switch projects and read
            // the session: its session layer and middleware identify them.
            return Identified::Ready(request);
        }
        match identify_now(&self.0, &mut request) {
            Some(Ok(())) => Identified::Ready(request),
            Some(Err(refusal)) => Identified::Answered(refusal),
            None => {
                let core = self.0.clone();
                Identified::later(async move {
                    identify(&core, &mut request).await?;
                    Ok(request)
                })
            }
        }
    }
}

/// The session cookie, if the request has one, read as the session layer
/// reads it (tower-cookies' jar: percent-decoded, the last one when there
/// are several), so that every route takes a request for the same session.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<Cookie<'_>> {
    let is_session = |cookie: &Cookie<'_>| cookie.name() == SESSION_COOKIE;
    let mut last = None;
    for value in headers.get_all(header::COOKIE).iter() {
        let Ok(value) = value.to_str() else { continue };
        // Without a `%`, decoding changes nothing: the plain parse, which
        // costs less, finds the same cookies.
        let found = if value.contains('%') {
            Cookie::split_parse_encoded(value)
                .filter_map(Result::ok)
                .filter(is_session)
                .last()
        } else {
            Cookie::split_parse(value)
                .filter_map(Result::ok)
                .filter(is_session)
                .last()
        };
        if found.is_some() {
            last = found;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let headers = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, value.parse().unwrap());
            headers
        };
        let value = |headers: &HeaderMap| session_cookie(headers).map(|c| c.value().to_owned());
        assert_eq!(
            value(&headers("a=1; raclette_session=abc ; b=2")).as_deref(),
            Some("abc")
        );
        assert_eq!(value(&headers("raclette_sessionx=1")), None);
        assert_eq!(value(&headers("theme=dark")), None);
        assert_eq!(value(&HeaderMap::new()), None);
        // As the session layer reads it: decoded, and the last of several.
        assert_eq!(
            value(&headers("raclette_session=%41bc")).as_deref(),
            Some("Abc")
        );
        assert_eq!(
            value(&headers("raclette_session=first; raclette_session=last")).as_deref(),
            Some("last")
        );
        let mut two = headers("raclette_session=first");
        two.append(header::COOKIE, "raclette_session=second".parse().unwrap());
        assert_eq!(value(&two).as_deref(), Some("second"));
        assert_eq!(
            crate::ROUTE_PREFIX,
            format!("{}/", raclette_contract::route_prefix("raclette__core"))
        );
    }
}
