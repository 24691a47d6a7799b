//! Who may do what: writes (start, cancel, approve) need the bearer token
//! of `RIPCORD_API_TOKEN`; reads are open unless the server protects them,
//! and then take the same token as a bearer header or as the
//! `ripcord_token` cookie (which a browser's EventSource sends; it cannot
//! set headers). Writes never accept the cookie, so another site cannot
//! make a browser start or cancel anything.
//!
//! Tokens are compared as SHA-256 digests in constant time: neither the
//! token's bytes nor its length leak through timing.

use super::error::ApiError;
use axum::http::{HeaderMap, StatusCode, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie a browser sends the token in (reads only).
pub const TOKEN_COOKIE: &str = "ripcord_token";

#[derive(Clone)]
pub struct Auth {
    token: Option<[u8; 32]>,
    protect_reads: bool,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token", &self.token.map(|_| "<set>"))
            .field("protect_reads", &self.protect_reads)
            .finish()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Auth {
    /// `token`: the write token (none: writes are refused). An empty token
    /// counts as none.
    pub fn new(token: Option<&str>, protect_reads: bool) -> Self {
        Self {
            token: token.filter(|t| !t.is_empty()).map(digest),
            protect_reads,
        }
    }

    pub fn writes_enabled(&self) -> bool {
        self.token.is_some()
    }

    pub fn reads_protected(&self) -> bool {
        self.protect_reads
    }

    /// A write may go ahead only with the right bearer token.
    pub fn check_write(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(expected) = &self.token else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "writes_disabled",
                "this server takes no writes: start `ripcord serve` with RIPCORD_API_TOKEN set to enable them",
            ));
        };
        match bearer(headers) {
            Some(given) if matches(expected, given) => Ok(()),
            Some(_) => Err(unauthorized(
                "the bearer token is not the one this server was started with",
            )),
            None => Err(unauthorized(
                "writes need `Authorization: Bearer <token>` with the server's RIPCORD_API_TOKEN",
            )),
        }
    }

    /// A read goes ahead if reads are open, or with the token as a bearer
    /// header or the `ripcord_token` cookie.
    pub fn check_read(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if !self.protect_reads {
            return Ok(());
        }
        let Some(expected) = &self.token else {
            // Refused at start-up; kept closed if it ever happens.
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "reads_disabled",
                "reads are protected but the server has no token; set RIPCORD_API_TOKEN",
            ));
        };
        let given = bearer(headers).or_else(|| cookie(headers, TOKEN_COOKIE));
        match given {
            Some(given) if matches(expected, given) => Ok(()),
            _ => Err(unauthorized(
                "this server protects reads: send `Authorization: Bearer <token>` (or the ripcord_token cookie)",
            )),
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn matches(expected: &[u8; 32], given: &str) -> bool {
    expected.ct_eq(&digest(given)).into()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn writes_need_the_exact_bearer_token() {
        let auth = Auth::new(Some("s3cret"), false);
        assert!(
            auth.check_write(&headers(&[(header::AUTHORIZATION, "Bearer s3cret")]))
                .is_ok()
        );
        assert!(
            auth.check_write(&headers(&[(header::AUTHORIZATION, "bearer s3cret")]))
                .is_ok()
        );
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Basic s3cret",
            "s3cret",
            "Bearer ",
        ] {
            let e = auth
                .check_write(&headers(&[(header::AUTHORIZATION, wrong)]))
                .unwrap_err();
            assert_eq!(e.status, StatusCode::UNAUTHORIZED, "{wrong}");
        }
        let e = auth.check_write(&HeaderMap::new()).unwrap_err();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn the_cookie_opens_reads_but_never_writes() {
        let auth = Auth::new(Some("s3cret"), true);
        let with_cookie = headers(&[(header::COOKIE, "theme=dark; ripcord_token=s3cret")]);
        assert!(auth.check_read(&with_cookie).is_ok());
        assert_eq!(
            auth.check_write(&with_cookie).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            auth.check_read(&HeaderMap::new()).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn without_a_token_writes_are_forbidden_and_reads_open() {
        for token in [None, Some("")] {
            let auth = Auth::new(token, false);
            assert!(!auth.writes_enabled());
            let e = auth
                .check_write(&headers(&[(header::AUTHORIZATION, "Bearer anything")]))
                .unwrap_err();
            assert_eq!(
                (e.status, e.code),
                (StatusCode::FORBIDDEN, "writes_disabled")
            );
            assert!(auth.check_read(&HeaderMap::new()).is_ok());
        }
    }
}
