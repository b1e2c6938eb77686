//! Who may talk to the session: the bearer token (made, stored and read back here), its
//! constant-time check, and the per-address brake on wrong guesses.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

/// The name of the token file inside trove's data directory.
const TOKEN_FILE: &str = "api-token";

/// Random bytes in a token (hex-encoded in the file and the header).
const TOKEN_BYTES: usize = 32;

/// How requests prove they may talk to the session.
#[derive(Clone)]
pub struct Auth {
    token: Option<String>,
    /// The username and password qBittorrent clients log in with (`/api/v2/auth/login`).
    login: Option<Login>,
}

/// A username and password for the qBittorrent-compatible login.
#[derive(Clone)]
pub(crate) struct Login {
    pub(crate) username: String,
    pub(crate) password: String,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the token itself.
        let kind = if self.token.is_some() {
            "token"
        } else {
            "none"
        };
        let login = if self.login.is_some() { " + login" } else { "" };
        write!(f, "Auth({kind}{login})")
    }
}

impl Auth {
    /// No token: only for a Unix socket, whose file mode (0600) is the protection.
    pub fn none() -> Auth {
        Auth {
            token: None,
            login: None,
        }
    }

    /// Every request must carry `Authorization: Bearer <token>`.
    pub fn token(token: impl Into<String>) -> Auth {
        Auth {
            token: Some(token.into()),
            login: None,
        }
    }

    /// Also lets qBittorrent clients in with this username and password: they log in at
    /// `/api/v2/auth/login` and carry the session cookie it sets. Meaningful beside a
    /// token (over TCP); over a Unix socket everyone who can connect is let in anyway.
    pub fn with_login(mut self, username: impl Into<String>, password: impl Into<String>) -> Auth {
        self.login = Some(Login {
            username: username.into(),
            password: password.into(),
        });
        self
    }

    pub(crate) fn login(&self) -> Option<&Login> {
        self.login.as_ref()
    }

    /// The token stored in `data_dir`, made on first use (see [`load_or_create_token`]).
    pub fn token_file(data_dir: &Path) -> io::Result<Auth> {
        load_or_create_token(data_dir).map(Auth::token)
    }

    pub(crate) fn expected(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

/// Where the token lives inside trove's data directory.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

/// Reads the token in `data_dir`, or makes a random one and stores it (mode 0600) when there
/// is none yet. Two processes starting at once agree: the file is created exclusively, and
/// the loser reads the winner's.
pub fn load_or_create_token(data_dir: &Path) -> io::Result<String> {
    let path = token_path(data_dir);
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            file.write_all(token.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            Ok(token)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_token(data_dir),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot create the API token file {}: {e}", path.display()),
        )),
    }
}

/// Reads the token stored in `data_dir`. Refuses a file that others may read: whoever read
/// it could drive the session.
pub fn read_token(data_dir: &Path) -> io::Result<String> {
    let path = token_path(data_dir);
    let annotate = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!("cannot read the API token file {}: {e}", path.display()),
        )
    };
    let mut file = fs::File::open(&path).map_err(annotate)?;
    let mode = file.metadata().map_err(annotate)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the API token file {} can be read by others (mode {mode:o}): delete it and \
                 trove makes a new one",
                path.display()
            ),
        ));
    }
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(annotate)?;
    let token = text.trim();
    if token.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the API token file {} is empty: delete it and trove makes a new one",
                path.display()
            ),
        ));
    }
    Ok(token.to_string())
}

/// Compares in time that depends on the lengths only, not on where the bytes differ.
pub(crate) fn token_matches(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// Wrong tokens one address may send within [`WINDOW`] before it is refused.
const MAX_FAILURES: u32 = 5;
/// How long failures are remembered, and how long an address is refused once over.
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most; beyond, the stalest entry is forgotten.
const MAX_TRACKED: usize = 1024;

/// Counts wrong tokens per address so that guessing is slow: after [`MAX_FAILURES`] within
/// [`WINDOW`], every request from that address is refused (429) until the window ends.
#[derive(Default)]
pub(crate) struct Brake {
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

struct Failures {
    count: u32,
    since: Instant,
}

impl Brake {
    /// How long `ip` must still wait, if it is refused now.
    pub(crate) fn refused(&self, ip: IpAddr) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let f = map.get(&ip)?;
        let elapsed = f.since.elapsed();
        (f.count >= MAX_FAILURES && elapsed < WINDOW).then(|| WINDOW - elapsed)
    }

    pub(crate) fn failed(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if !map.contains_key(&ip) && map.len() >= MAX_TRACKED {
            map.retain(|_, f| now.duration_since(f.since) < WINDOW);
            if map.len() >= MAX_TRACKED {
                let stalest = map.iter().min_by_key(|(_, f)| f.since).map(|(ip, _)| *ip);
                if let Some(stalest) = stalest {
                    map.remove(&stalest);
                }
            }
        }
        let f = map.entry(ip).or_insert(Failures {
            count: 0,
            since: now,
        });
        if now.duration_since(f.since) >= WINDOW {
            *f = Failures {
                count: 0,
                since: now,
            };
        }
        f.count += 1;
    }

    pub(crate) fn succeeded(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_made_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load_or_create_token(dir.path()).expect("made");
        assert_eq!(first.len(), TOKEN_BYTES * 2);
        let mode = fs::metadata(token_path(dir.path()))
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create_token(dir.path()).expect("read"), first);
        assert_eq!(read_token(dir.path()).expect("read"), first);
    }

    #[test]
    fn a_token_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        load_or_create_token(dir.path()).expect("made");
        fs::set_permissions(token_path(dir.path()), fs::Permissions::from_mode(0o644))
            .expect("chmod");
        let err = read_token(dir.path()).expect_err("refused");
        assert!(err.to_string().contains("read by others"), "{err}");
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abc", "abd"));
        assert!(!token_matches("abc", "ab"));
        assert!(!token_matches("abc", ""));
    }

    #[test]
    fn the_brake_refuses_after_enough_failures_and_remembers_few_addresses() {
        let brake = Brake::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..MAX_FAILURES - 1 {
            brake.failed(ip);
        }
        assert_eq!(brake.refused(ip), None);
        brake.failed(ip);
        assert!(brake.refused(ip).is_some());
        for i in 0..(MAX_TRACKED as u32 + 10) {
            brake.failed(IpAddr::from(i.to_be_bytes()));
        }
        let tracked = brake.failures.lock().expect("not poisoned").len();
        assert!(tracked <= MAX_TRACKED, "{tracked}");
    }
}
