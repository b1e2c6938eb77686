//! Who may use `/api/v2`: the login qBittorrent clients do (`auth/login` gives a `SID`
//! cookie), the cookie's check on every other call, and `auth/logout`.
//!
//! A SID is 24 random bytes from the operating system, hex-encoded. It lapses after an
//! hour without use (qBittorrent's default session timeout). At most [`MAX_SESSIONS`] are
//! kept; a new login beyond that forgets the one used longest ago. A cookie is compared
//! with every live SID in constant time, so timing does not tell how much of a guess was
//! right.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::Ctx;
use super::errors::{Answer, Refusal, text};
use super::forms::Params;
use crate::auth::token_matches;

/// A session not used for this long is forgotten (qBittorrent's default).
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_secs(3600);
/// Live sessions kept at most.
const MAX_SESSIONS: usize = 256;
const SID_BYTES: usize = 24;

/// What qBittorrent answers an address refused after too many wrong passwords.
pub(crate) const BANNED: &str =
    "Your IP address has been banned after too many failed authentication attempts.";

#[derive(Default)]
pub(crate) struct Sessions {
    live: Mutex<Vec<Sid>>,
}

struct Sid {
    id: String,
    used: Instant,
}

impl Sessions {
    /// A new session's id, or None when the system has no randomness to give.
    pub(crate) fn create(&self) -> Option<String> {
        let mut bytes = [0u8; SID_BYTES];
        getrandom::fill(&mut bytes).ok()?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        live.retain(|s| now.duration_since(s.used) < SESSION_TIMEOUT);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.used)
                .map(|(i, _)| i)
        {
            live.swap_remove(oldest);
        }
        live.push(Sid {
            id: id.clone(),
            used: now,
        });
        Some(id)
    }

    /// Whether `given` is a live session; using it keeps it alive.
    pub(crate) fn check(&self, given: &str) -> bool {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let mut found = None;
        // Every entry is compared, found or not: the time taken does not depend on which.
        for (i, s) in live.iter().enumerate() {
            let same: bool = s.id.as_bytes().ct_eq(given.as_bytes()).into();
            if same && now.duration_since(s.used) < SESSION_TIMEOUT {
                found = Some(i);
            }
        }
        match found {
            Some(i) => {
                live[i].used = now;
                true
            }
            None => false,
        }
    }

    pub(crate) fn remove(&self, given: &str) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|s| !bool::from(s.id.as_bytes().ct_eq(given.as_bytes())));
    }

    #[cfg(test)]
    fn age(&self, by: Duration) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        for s in live.iter_mut() {
            s.used = s.used.checked_sub(by).unwrap_or(s.used);
        }
    }
}

/// The `SID` cookie of a request, if it sent one.
pub(crate) fn cookie_sid(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "SID")
        .map(|(_, value)| value.trim())
}

/// Whether a request (other than login) may go on: over the Unix socket always; over TCP
/// with a live SID cookie or trove's bearer token. Otherwise qBittorrent's `403 Forbidden`
/// (and after repeated wrong tokens or passwords, its ban message).
pub(crate) fn admit(ctx: &Ctx<'_>, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(expected) = ctx.auth.expected() else {
        return Ok(());
    };
    if let Some(ip) = ctx.ip
        && ctx.brake.refused(ip).is_some()
    {
        return Err(Refusal::new(axum::http::StatusCode::FORBIDDEN, BANNED));
    }
    if let Some(given) = crate::server::bearer(headers) {
        if token_matches(expected, given) {
            return Ok(());
        }
        if let Some(ip) = ctx.ip {
            ctx.brake.failed(ip);
        }
        return Err(Refusal::forbidden());
    }
    match cookie_sid(headers) {
        Some(sid) if ctx.state.sessions.check(sid) => Ok(()),
        _ => Err(Refusal::forbidden()),
    }
}

/// `POST auth/login`: `Ok.` and a fresh SID cookie for the configured username and
/// password, `Fails.` otherwise (status 200 both, as qBittorrent answers). Wrong passwords
/// count toward the same per-address brake as wrong tokens; a refused address gets `403`
/// and qBittorrent's ban message.
pub(crate) fn login(ctx: &Ctx<'_>, params: &Params) -> Answer {
    if let Some(ip) = ctx.ip
        && ctx.brake.refused(ip).is_some()
    {
        return Err(Refusal::new(axum::http::StatusCode::FORBIDDEN, BANNED));
    }
    let username = params.get("username").unwrap_or("");
    let password = params.get("password").unwrap_or("");
    let over_unix = ctx.auth.expected().is_none();
    let accepted = match ctx.auth.login() {
        Some(login) => {
            // Both compared, always, so that timing does not tell which one was wrong.
            let user_ok = token_matches(&login.username, username);
            let pass_ok = token_matches(&login.password, password);
            user_ok & pass_ok
        }
        None if over_unix => true,
        None => {
            tracing::warn!(
                "a qBittorrent client tried to log in, but no login is configured: set \
                 username and password under [api] in the config file (trove's API token \
                 works as a bearer token meanwhile)"
            );
            false
        }
    };
    if !accepted {
        if let Some(ip) = ctx.ip {
            ctx.brake.failed(ip);
        }
        return Ok(text("Fails."));
    }
    if let Some(ip) = ctx.ip {
        ctx.brake.succeeded(ip);
    }
    let Some(sid) = ctx.state.sessions.create() else {
        return Err(Refusal::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the system gave no randomness for a session id",
        ));
    };
    Ok(with_cookie(text("Ok."), &sid))
}

fn with_cookie(mut response: Response, sid: &str) -> Response {
    if let Ok(value) =
        HeaderValue::from_str(&format!("SID={sid}; HttpOnly; SameSite=Strict; path=/"))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST auth/logout`: forgets the caller's SID.
pub(crate) fn logout(ctx: &Ctx<'_>, headers: &HeaderMap) -> Answer {
    if let Some(sid) = cookie_sid(headers) {
        ctx.state.sessions.remove(sid);
    }
    Ok(text(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_while_used_and_lapses_after_the_timeout() {
        let sessions = Sessions::default();
        let sid = sessions.create().expect("random");
        assert_eq!(sid.len(), SID_BYTES * 2);
        assert!(sessions.check(&sid));
        assert!(!sessions.check(&sid[1..]));
        assert!(!sessions.check(""));
        sessions.age(SESSION_TIMEOUT + Duration::from_secs(1));
        assert!(!sessions.check(&sid), "lapsed after an hour unused");
        let other = sessions.create().expect("random");
        sessions.remove(&other);
        assert!(!sessions.check(&other), "logged out");
    }

    #[test]
    fn sessions_are_bounded() {
        let sessions = Sessions::default();
        let first = sessions.create().expect("random");
        for _ in 0..MAX_SESSIONS {
            sessions.create().expect("random");
        }
        assert!(!sessions.check(&first), "the oldest was forgotten");
        assert!(sessions.live.lock().expect("lock").len() <= MAX_SESSIONS);
    }

    #[test]
    fn the_sid_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; SID=abc ; b=2".parse().expect("header"),
        );
        assert_eq!(cookie_sid(&headers), Some("abc"));
        let mut none = HeaderMap::new();
        none.insert(header::COOKIE, "garbage;;=;SIDx=1".parse().expect("header"));
        assert_eq!(cookie_sid(&none), None);
    }
}
