//! The TOML config file: storage roots, rate limits, network and UI settings.
//!
//! Every table denies unknown keys and every error names the file, the line and the key, so a
//! typo fails loudly instead of silently falling back to a default.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use trove_proto::snapshot::Limits;

/// Port librqbit listens on when the file does not say.
pub const DEFAULT_LISTEN_PORT: u16 = 4240;

/// librqbit's disk permits (its runtime worker threads, as trove starts it), which open
/// streams share with every disk write.
const ENGINE_DISK_PERMITS: usize = 8;
/// Most streams `[api] max_streams` may allow: at least two permits stay for writes.
const MAX_STREAMS_CEILING: usize = ENGINE_DISK_PERMITS - 2;

/// The whole file. Every section is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub roots: Vec<RootConfig>,
    pub limits: LimitsConfig,
    pub network: NetworkConfig,
    pub ui: UiConfig,
    pub api: ApiConfig,
    pub queue: crate::queue_config::QueueConfig,
    pub seeding: crate::queue_config::SeedingConfig,
    /// `[[mounts]]`: folders the torrents are mounted on at start.
    pub mounts: Vec<crate::mount_config::MountEntry>,
    /// `[mount]`: how mounts behave.
    pub mount: crate::mount_config::MountConfig,
    /// `[cache]`: the vault roots' decrypted-chunk cache.
    pub cache: CacheConfig,
}

/// `[cache]`: how much decrypted vault data is kept in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Like "256MiB"; chunks peers are being served are pinned within it.
    #[serde(deserialize_with = "de_size")]
    pub size: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig { size: 256 << 20 }
    }
}

/// A size in bytes, written as a number or with a unit ("256MiB", "1 GB").
fn de_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Number(u64),
        Text(String),
    }
    match Written::deserialize(d)? {
        Written::Number(n) => Ok(n),
        Written::Text(t) => parse_size::parse_size(t.trim()).map_err(|_| {
            de::Error::custom(format!(
                "'{t}' is not a size: use a number with an optional unit, like 256MiB or 1GiB"
            ))
        }),
    }
}

/// What a storage root keeps its torrents as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RootKind {
    /// Their files, as the torrent names them.
    #[default]
    Plain,
    /// Encrypted chunks, opened with the root's `key_file`.
    Vault,
}

/// `[api]`: trove's API over TCP, beside the Unix socket every session serves in its data
/// dir. Off unless `listen` is set; every request over TCP needs the token.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Address and port to serve on, like "127.0.0.1:8765".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<std::net::SocketAddr>,
    /// Must be true for a `listen` address other than loopback: the API then answers the
    /// network, and its token is the only thing between a stranger and the session.
    pub allow_remote: bool,
    /// The login qBittorrent clients (Sonarr, Radarr...) give at `/api/v2/auth/login`.
    /// Both or neither; without them only the token lets a client in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// How many files may be streamed over HTTP at once (the engine's default when unset).
    /// Each open stream holds one of the few permits librqbit's disk writes also need.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_streams: Option<usize>,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("ApiConfig")
            .field("listen", &self.listen)
            .field("allow_remote", &self.allow_remote)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(set)"))
            .field("max_streams", &self.max_streams)
            .finish()
    }
}

impl ApiConfig {
    /// The qBittorrent login, when both halves are set.
    pub fn login(&self) -> Option<(&str, &str)> {
        match (&self.username, &self.password) {
            (Some(u), Some(p)) => Some((u.as_str(), p.as_str())),
            _ => None,
        }
    }
}

/// A directory torrents are saved under, as `[[roots]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootConfig {
    pub label: String,
    /// Absolute; relative paths are rejected because the working directory is arbitrary.
    pub path: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default)]
    pub default: bool,
    /// A watch folder: a `.torrent` or `.magnet` file put there is added to this root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<PathBuf>,
    /// The label of another root: a torrent that finishes downloading in this one is moved
    /// there (as `trove move` would).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_to: Option<String>,
    #[serde(default)]
    pub kind: RootKind,
    /// A vault's key: a file of 32 random bytes that only its owner can read (`trove vault
    /// keygen PATH` writes one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// The cipher a new vault seals its chunks with; unset, the fastest on this CPU. An
    /// existing vault keeps the one it was made with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<VaultCipher>,
}

/// The ciphers a vault root can seal its chunks with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VaultCipher {
    /// The fastest where the CPU has AES instructions.
    #[serde(rename = "aes-256-gcm")]
    Aes256Gcm,
    /// The fastest without them (a Raspberry Pi 4, older ARM boards).
    #[serde(rename = "xchacha20-poly1305")]
    XChaCha20Poly1305,
}

/// `[limits]`: session-wide caps. Absent or 0 means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download: Option<Rate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<Rate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers: Option<u32>,
}

impl LimitsConfig {
    /// The engine's form. `peers = 0` is read as unlimited, like a rate of 0, since a
    /// torrent that may never connect to a peer is not something anyone means to ask for.
    pub fn to_limits(&self) -> Limits {
        Limits {
            download_bps: self.download.and_then(|r| r.0),
            upload_bps: self.upload.and_then(|r| r.0),
            peers: self.peers.filter(|&p| p > 0),
        }
    }
}

/// `[network]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// `None` means [`DEFAULT_LISTEN_PORT`]; 0 means any free port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen_port: Option<u16>,
    /// Address to listen on; `None` means all interfaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<IpAddr>,
    pub dht: bool,
    pub lsd: bool,
    pub upnp: bool,
    pub trackers: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            listen_port: None,
            bind: None,
            dht: true,
            lsd: true,
            // Off by default: it opens a port on the user's router without asking.
            upnp: false,
            trackers: true,
        }
    }
}

impl NetworkConfig {
    /// The port to listen on, 0 meaning any free port.
    pub fn listen_port_or_default(&self) -> u16 {
        self.listen_port.unwrap_or(DEFAULT_LISTEN_PORT)
    }
}

/// `[ui]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keymap: Option<PathBuf>,
}

/// Bytes per second; `None` is unlimited. Written as `"500KiB"`, `"2 MB/s"`, `"0"` or a plain
/// integer of bytes per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Rate(pub Option<u64>);

impl Rate {
    pub fn bytes_per_second(self) -> Option<u64> {
        self.0
    }
}

const RATE_HINT: &str = "use a number with an optional unit, like 500KiB, 2MiB or 0 for unlimited";

/// Parses a rate as written in the config file or on the command line. 0 (or `unlimited`)
/// means unlimited and gives `None`. KB/MB are powers of 1000, KiB/MiB powers of 1024; a trailing `/s` is
/// allowed.
pub fn parse_rate(s: &str) -> Result<Option<u64>, String> {
    let shown = s.trim();
    let number = strip_suffix_ignore_case(shown, "/s")
        .unwrap_or(shown)
        .trim_end();
    if number.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    if number.is_empty() {
        return Err(format!("'{shown}' is not a rate: {RATE_HINT}"));
    }
    match parse_size::parse_size(number) {
        // "0.1" rounds to zero bytes, which would silently mean unlimited.
        Ok(0) if number.chars().any(|c| ('1'..='9').contains(&c)) => Err(format!(
            "'{shown}' is less than one byte per second: {RATE_HINT}"
        )),
        Ok(0) => Ok(None),
        Ok(bytes) => Ok(Some(bytes)),
        Err(parse_size::Error::PosOverflow) => {
            Err(format!("'{shown}' is too large a rate: {RATE_HINT}"))
        }
        Err(_) => Err(format!("'{shown}' is not a rate: {RATE_HINT}")),
    }
}

fn strip_suffix_ignore_case<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let split = s.len().checked_sub(suffix.len())?;
    let (head, tail) = (s.get(..split)?, s.get(split..)?);
    tail.eq_ignore_ascii_case(suffix).then_some(head)
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0.unwrap_or(0))
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RateVisitor;

        impl Visitor<'_> for RateVisitor {
            type Value = Rate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate like \"500KiB\", \"2MiB\" or 0 for unlimited")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                parse_rate(v).map(Rate).map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                Ok(Rate((v > 0).then_some(v)))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                u64::try_from(v)
                    .map(|v| Rate((v > 0).then_some(v)))
                    .map_err(|_| E::custom(format!("{v} is not a rate: {RATE_HINT}")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
                parse_rate(&v.to_string()).map(Rate).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(RateVisitor)
    }
}

/// Why the config file could not be used. Each displays as one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file was given explicitly and is not there.
    #[error("config file {} does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("config file {}: cannot read it: {io}", path.display())]
    Read { path: PathBuf, io: std::io::Error },
    /// Not valid TOML, or not the shape trove expects.
    #[error("config file {}{}: {message}", path.display(), location_text(*line, *column))]
    Parse {
        path: PathBuf,
        /// 1-based; 0 when the parser gave no position.
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed but inconsistent, e.g. two roots with the same label.
    #[error("config file {}{}: {message}", path.display(), location_text(*line, 0))]
    Invalid {
        path: PathBuf,
        /// Line of the offending root's `[[roots]]` header; 0 when unknown.
        line: usize,
        message: String,
    },
}

fn location_text(line: usize, column: usize) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (line, 0) => format!(", line {line}"),
        (line, column) => format!(", line {line}, column {column}"),
    }
}

/// Reads and checks the file at `path`. A missing file is the default config unless
/// `must_exist` (the user named it with `--config`).
pub fn load(path: &Path, must_exist: bool) -> Result<Config, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if must_exist {
                return Err(ConfigError::NotFound {
                    path: path.to_owned(),
                });
            }
            return Ok(Config::default());
        }
        Err(io) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                io,
            });
        }
    };
    parse_str(&text, path)
}

/// Parses and checks config text; `path` is only used to name the file in errors.
pub fn parse_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let (line, column, context) = match e.span() {
            Some(span) => locate(text, span),
            None => (0, 0, None),
        };
        let message = one_line(e.message());
        ConfigError::Parse {
            path: path.to_owned(),
            line,
            column,
            message: match context {
                Some(context) => format!("{context}: {message}"),
                None => message,
            },
        }
    })?;
    validate(&config).map_err(|(root, message)| ConfigError::Invalid {
        path: path.to_owned(),
        line: root_header_line(text, root).unwrap_or(0),
        message,
    })?;
    Ok(config)
}

/// toml's messages can span lines; the error must stay on one.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// 1-based line and column of the span's start, and which key or table it is in, as in
/// "`download` in [limits]".
fn locate(text: &str, span: Range<usize>) -> (usize, usize, Option<String>) {
    let start = span.start.min(text.len());
    let before: String = text
        .char_indices()
        .take_while(|(i, _)| *i < start)
        .map(|(_, c)| c)
        .collect();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;

    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let offset_in_line = start.saturating_sub(line_start);
    // The span points at a value when it starts after the `=`; then the key is worth naming.
    let key = line_text
        .find('=')
        .filter(|&eq| offset_in_line > eq && table_header(line_text).is_none())
        .and_then(|eq| line_text.get(..eq))
        .map(|k| k.trim().trim_matches('"').to_owned())
        .filter(|k| !k.is_empty());

    // A span at a header's bracket is about that whole table (a missing field); one inside
    // the name is about the name as a key of the parent table (an unknown section).
    let inside_header_name = line_text
        .get(..offset_in_line)
        .is_some_and(|lead| !lead.trim().is_empty());
    let table = match table_header(line_text) {
        Some((name, _)) if inside_header_name => name
            .rsplit_once('.')
            .map(|(parent, _)| format!("[{parent}]")),
        _ => enclosing_table(text, line),
    };

    let context = match (key, table) {
        (Some(key), Some(table)) => Some(format!("`{key}` in {table}")),
        (Some(key), None) => Some(format!("`{key}`")),
        (None, Some(table)) => Some(format!("in {table}")),
        (None, None) => None,
    };
    (line, column, context)
}

/// `[name]` or `[[name]]` on a line of its own (ignoring a trailing comment).
fn table_header(line: &str) -> Option<(String, bool)> {
    let line = line.trim();
    let line = match line.find('#') {
        Some(hash) => line.get(..hash).unwrap_or(line).trim_end(),
        None => line,
    };
    let (name, array) = if let Some(inner) = line.strip_prefix("[[") {
        (inner.strip_suffix("]]")?, true)
    } else {
        (line.strip_prefix('[')?.strip_suffix(']')?, false)
    };
    let name = name.trim();
    // Rules out lines of a multi-line array such as `[1, 2]`.
    let plausible = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | ' '));
    plausible.then(|| (name.to_owned(), array))
}

/// The table in force on line `upto` (1-based, inclusive), e.g. `[limits]` or `[[roots]] #2`.
fn enclosing_table(text: &str, upto: usize) -> Option<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut current = None;
    for line in text.lines().take(upto) {
        if let Some((name, array)) = table_header(line) {
            current = Some(if array {
                let n = counts.entry(name.clone()).or_insert(0);
                *n += 1;
                format!("[[{name}]] #{n}")
            } else {
                format!("[{name}]")
            });
        }
    }
    current
}

/// 1-based line of the `index`th (0-based) `[[roots]]` header, if roots are written that way.
fn root_header_line(text: &str, index: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            table_header(line).is_some_and(|(name, array)| array && name == "roots")
        })
        .nth(index)
        .map(|(i, _)| i + 1)
}

/// A root's `complete_to` must name another root by its label.
fn validate_complete_to(config: &Config) -> Result<(), (usize, String)> {
    for (i, root) in config.roots.iter().enumerate() {
        let Some(to) = &root.complete_to else {
            continue;
        };
        let name = format!("root \"{}\" (#{})", root.label, i + 1);
        if *to == root.label {
            return Err((
                i,
                format!(
                    "{name}: complete_to = \"{to}\" names the root itself: name another root, or remove complete_to"
                ),
            ));
        }
        if !config.roots.iter().any(|r| r.label == *to) {
            let labels: Vec<&str> = config.roots.iter().map(|r| r.label.as_str()).collect();
            return Err((
                i,
                format!(
                    "{name}: complete_to = \"{to}\" names no root: the roots are {}",
                    labels.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A vault root has an absolute `key_file`; a plain one has none.
fn validate_vaults(config: &Config) -> Result<(), (usize, String)> {
    for (i, root) in config.roots.iter().enumerate() {
        let name = format!("root \"{}\" (#{})", root.label, i + 1);
        match (root.kind, &root.key_file) {
            (RootKind::Vault, None) => {
                return Err((
                    i,
                    format!(
                        "{name}: kind = \"vault\" needs key_file = \"/path/to/key\": make a key with `trove vault keygen PATH`"
                    ),
                ));
            }
            (RootKind::Vault, Some(k)) if !k.is_absolute() => {
                return Err((
                    i,
                    format!(
                        "{name}: key_file = \"{}\" is not absolute: give the key's full path",
                        k.display()
                    ),
                ));
            }
            (RootKind::Plain, Some(_)) => {
                return Err((
                    i,
                    format!(
                        "{name}: key_file is only for a vault root: add kind = \"vault\", or remove key_file"
                    ),
                ));
            }
            _ => {}
        }
        if root.kind == RootKind::Plain && root.cipher.is_some() {
            return Err((
                i,
                format!(
                    "{name}: cipher is only for a vault root: add kind = \"vault\" and key_file, or remove cipher"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks what serde cannot: relations between roots and absolute paths. The error carries
/// the index of the root at fault.
fn validate(config: &Config) -> Result<(), (usize, String)> {
    validate_complete_to(config)?;
    validate_vaults(config)?;
    config
        .mount
        .to_options()
        .map_err(|e| (usize::MAX, e.to_string()))?;
    for m in &config.mounts {
        if !m.path.is_absolute() {
            return Err((
                usize::MAX,
                format!(
                    "[[mounts]] path = \"{}\" is not absolute: give the full path of the folder to mount on",
                    m.path.display()
                ),
            ));
        }
    }
    if let Some(addr) = config.api.listen
        && !addr.ip().is_loopback()
        && !config.api.allow_remote
    {
        return Err((
            usize::MAX,
            format!(
                "[api] listen = \"{addr}\" answers other machines: set allow_remote = true under [api] if that is what you want, or listen on 127.0.0.1 and reach it through `ssh -L`"
            ),
        ));
    }
    if let Some(n) = config.api.max_streams
        && !(1..=MAX_STREAMS_CEILING).contains(&n)
    {
        return Err((
            usize::MAX,
            format!(
                "[api] max_streams = {n} is out of range: give 1 to {MAX_STREAMS_CEILING} (each open stream holds one of the torrent engine's {ENGINE_DISK_PERMITS} disk permits, and writes need the rest)"
            ),
        ));
    }
    // HTTP streams and the mount's waiting reads draw on the same permits.
    let streams = config
        .api
        .max_streams
        .unwrap_or(trove_engine::session::DEFAULT_MAX_STREAMS);
    if streams + config.mount.priority_streams > MAX_STREAMS_CEILING {
        return Err((
            usize::MAX,
            format!(
                "[api] max_streams ({streams}) and [mount] priority_streams ({}) together hold more than {MAX_STREAMS_CEILING} of the torrent engine's {ENGINE_DISK_PERMITS} disk permits, and writes need the rest: lower one of them",
                config.mount.priority_streams
            ),
        ));
    }
    match (&config.api.username, &config.api.password) {
        (Some(_), None) => {
            return Err((
                usize::MAX,
                "[api] has a username but no password: qBittorrent clients log in with both, so set password too (or remove username)".into(),
            ));
        }
        (None, Some(_)) => {
            return Err((
                usize::MAX,
                "[api] has a password but no username: qBittorrent clients log in with both, so set username too (or remove password)".into(),
            ));
        }
        (Some(u), Some(p)) if u.trim().is_empty() || p.is_empty() => {
            return Err((
                usize::MAX,
                "[api] username and password must not be empty".into(),
            ));
        }
        (Some(u), Some(_)) if u.chars().any(char::is_control) => {
            return Err((
                usize::MAX,
                "[api] username has control characters: use letters, digits and punctuation".into(),
            ));
        }
        _ => {}
    }
    // Earlier roots by label, token, and the one marked default, with how to name them.
    let mut labels: HashMap<&str, usize> = HashMap::new();
    let mut tokens: HashMap<&str, String> = HashMap::new();
    let mut default_root: Option<String> = None;
    let mut watch_dirs: HashMap<&Path, String> = HashMap::new();
    for (i, root) in config.roots.iter().enumerate() {
        let n = i + 1;
        if root.label.trim().is_empty() {
            return Err((
                i,
                format!("root #{n} has an empty label: give it a name, like label = \"movies\""),
            ));
        }
        let name = format!("root \"{}\" (#{n})", root.label);
        if let Some(first) = labels.insert(&root.label, n) {
            return Err((
                i,
                format!(
                    "roots #{first} and #{n} both have the label \"{}\": labels must be unique",
                    root.label
                ),
            ));
        }
        if root.path.is_relative() {
            let tilde = if root.path.starts_with("~") {
                " (~ is not expanded)"
            } else {
                ""
            };
            return Err((
                i,
                format!(
                    "{name}: path \"{}\" is relative{tilde}: use an absolute path, like /srv/media",
                    root.path.display()
                ),
            ));
        }
        if let Some(watch) = &root.watch {
            if watch.is_relative() {
                return Err((
                    i,
                    format!(
                        "{name}: watch = \"{}\" is relative: use an absolute path, like /srv/watch/movies",
                        watch.display()
                    ),
                ));
            }
            if let Some(first) = watch_dirs.insert(watch, name.clone()) {
                return Err((
                    i,
                    format!(
                        "{first} and {name} both watch \"{}\": a folder can feed one root only",
                        watch.display()
                    ),
                ));
            }
        }
        if let Some(token) = &root.token {
            if token.trim().is_empty() {
                return Err((
                    i,
                    format!("{name}: token is empty: remove it or give it a value"),
                ));
            }
            if let Some(first) = tokens.insert(token, name.clone()) {
                return Err((
                    i,
                    format!(
                        "{first} and {name} both have the token \"{token}\": tokens must be unique"
                    ),
                ));
            }
        }
        if root.default {
            if let Some(first) = &default_root {
                return Err((
                    i,
                    format!(
                        "{first} and {name} are both marked default = true: only one root can be the default"
                    ),
                ));
            }
            default_root = Some(name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE_EXAMPLE: &str = r#"
[[roots]]
label = "movies"
path = "/srv/media/movies"
token = "movies"
default = true
[[roots]]
label = "linux-isos"
path = "/srv/isos"
[limits]
download = "20MiB"
upload = "1MiB"
peers = 200
"#;

    fn samples(kind: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/configs")
            .join(kind);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn issue_example_parses() {
        let config = parse_str(ISSUE_EXAMPLE, Path::new("trove.toml")).expect("valid");
        assert_eq!(config.roots.len(), 2);
        assert_eq!(config.roots[0].label, "movies");
        assert_eq!(config.roots[0].token.as_deref(), Some("movies"));
        assert!(config.roots[0].default);
        assert_eq!(config.roots[1].path, PathBuf::from("/srv/isos"));
        assert!(!config.roots[1].default);
        assert_eq!(
            config.limits.to_limits(),
            Limits {
                download_bps: Some(20 << 20),
                upload_bps: Some(1 << 20),
                peers: Some(200),
            }
        );
        assert_eq!(config.network, NetworkConfig::default());
        assert_eq!(config.ui, UiConfig::default());
    }

    #[test]
    fn empty_file_is_the_default() {
        let config = parse_str("", Path::new("trove.toml")).expect("valid");
        assert_eq!(config, Config::default());
        assert!(config.network.dht && config.network.lsd && config.network.trackers);
        assert!(!config.network.upnp);
        assert_eq!(config.network.listen_port_or_default(), DEFAULT_LISTEN_PORT);
        assert_eq!(config.limits.to_limits(), Limits::default());
    }

    #[test]
    fn missing_file_is_default_unless_required() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nope.toml");
        assert_eq!(load(&path, false).expect("default"), Config::default());
        let err = load(&path, true).expect_err("required");
        assert_eq!(
            err.to_string(),
            format!("config file {} does not exist", path.display())
        );
    }

    #[test]
    fn unreadable_file_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = load(dir.path(), false).expect_err("a directory is not a file");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "config file {}: cannot read it: ",
                dir.path().display()
            )),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }

    #[test]
    fn rates_parse_from_strings() {
        assert_eq!(parse_rate("500KiB"), Ok(Some(500 * 1024)));
        assert_eq!(parse_rate("2MiB"), Ok(Some(2 << 20)));
        assert_eq!(parse_rate("2 MB"), Ok(Some(2_000_000)));
        assert_eq!(parse_rate("1.5MiB/s"), Ok(Some(3 << 19)));
        assert_eq!(parse_rate("1.5 MiB/S"), Ok(Some(3 << 19)));
        assert_eq!(parse_rate(" 100 "), Ok(Some(100)));
        assert_eq!(parse_rate("0"), Ok(None));
        assert_eq!(parse_rate("0 KiB/s"), Ok(None));
        assert_eq!(parse_rate("Unlimited"), Ok(None));
    }

    #[test]
    fn bad_rates_say_what_was_wrong() {
        assert_eq!(
            parse_rate("fast"),
            Err("'fast' is not a rate: use a number with an optional unit, like 500KiB, 2MiB or 0 for unlimited".to_owned())
        );
        for bad in ["", "/s", "-1", "10 Mbps", "2 MiB per second", "é"] {
            let err = parse_rate(bad).expect_err(bad);
            assert!(err.contains("is not a rate"), "{bad}: {err}");
        }
        assert!(
            parse_rate("99999EiB")
                .expect_err("huge")
                .contains("too large")
        );
        assert!(
            parse_rate("0.4")
                .expect_err("tiny")
                .contains("less than one byte")
        );
    }

    #[test]
    fn the_api_login_needs_both_halves() {
        let path = Path::new("t.toml");
        let err = |text: &str| parse_str(text, path).expect_err(text).to_string();
        assert!(err("[api]\nusername = \"u\"\n").contains("no password"));
        assert!(err("[api]\npassword = \"p\"\n").contains("no username"));
        assert!(err("[api]\nusername = \"\"\npassword = \"p\"\n").contains("must not be empty"));
        let config = parse_str("[api]\nusername = \"u\"\npassword = \"p\"\n", path).expect("valid");
        assert_eq!(config.api.login(), Some(("u", "p")));
    }

    #[test]
    fn rates_deserialize_from_integers() {
        let config = parse_str(
            "[limits]\ndownload = 1000\nupload = 0\n",
            Path::new("trove.toml"),
        )
        .expect("valid");
        assert_eq!(config.limits.download, Some(Rate(Some(1000))));
        assert_eq!(config.limits.upload, Some(Rate(None)));
        assert_eq!(config.limits.to_limits().upload_bps, None);
    }

    #[test]
    fn zero_peers_is_unlimited() {
        let limits = LimitsConfig {
            peers: Some(0),
            ..LimitsConfig::default()
        };
        assert_eq!(limits.to_limits().peers, None);
    }

    #[test]
    fn config_round_trips_through_toml() {
        let config = parse_str(ISSUE_EXAMPLE, Path::new("trove.toml")).expect("valid");
        let text = toml::to_string(&config).expect("serialise");
        assert_eq!(
            parse_str(&text, Path::new("again.toml")).expect("valid"),
            config
        );
    }

    #[test]
    fn errors_name_the_key_and_table() {
        let path = Path::new("t.toml");
        let err = |text: &str| parse_str(text, path).expect_err(text).to_string();
        assert_eq!(
            err("colour = 1\n"),
            "config file t.toml, line 1, column 1: unknown field `colour`, expected one of `roots`, `limits`, `network`, `ui`, `api`, `queue`, `seeding`, `mounts`, `mount`, `cache`"
        );
        assert_eq!(
            err("[network]\ndht = \"yes\"\n"),
            "config file t.toml, line 2, column 7: `dht` in [network]: invalid type: string \"yes\", expected a boolean"
        );
        assert_eq!(
            err("[limits]\npeers = 1\n[limits.extra]\n"),
            "config file t.toml, line 3, column 9: in [limits]: unknown field `extra`, expected one of `download`, `upload`, `peers`"
        );
    }

    #[test]
    fn inline_roots_are_validated_without_a_line() {
        let err = parse_str(
            "roots = [{ label = \"a\", path = \"rel\" }]\n",
            Path::new("t.toml"),
        )
        .expect_err("relative");
        assert_eq!(
            err.to_string(),
            "config file t.toml: root \"a\" (#1): path \"rel\" is relative: use an absolute path, like /srv/media"
        );
    }

    #[test]
    fn complete_to_names_another_root() {
        let err = |text: &str| {
            parse_str(text, Path::new("t.toml"))
                .expect_err(text)
                .to_string()
        };
        let two = "[[roots]]\nlabel = \"a\"\npath = \"/a\"\ncomplete_to = \"TO\"\n\
                   [[roots]]\nlabel = \"b\"\npath = \"/b\"\n";
        let e = err(&two.replace("TO", "nope"));
        assert!(
            e.contains("root \"a\" (#1): complete_to = \"nope\" names no root: the roots are a, b"),
            "{e}"
        );
        let e = err(&two.replace("TO", "a"));
        assert!(e.contains("names the root itself"), "{e}");
        let ok = parse_str(&two.replace("TO", "b"), Path::new("t.toml")).expect("valid");
        assert_eq!(ok.roots[0].complete_to.as_deref(), Some("b"));
    }

    #[test]
    fn watch_folders_are_absolute_and_feed_one_root() {
        let err = |text: &str| {
            parse_str(text, Path::new("t.toml"))
                .expect_err(text)
                .to_string()
        };
        assert!(
            err("[[roots]]\nlabel = \"a\"\npath = \"/a\"\nwatch = \"w\"\n")
                .contains("watch = \"w\" is relative: use an absolute path"),
        );
        let twice = "[[roots]]\nlabel = \"a\"\npath = \"/a\"\nwatch = \"/w\"\n\
                     [[roots]]\nlabel = \"b\"\npath = \"/b\"\nwatch = \"/w\"\n";
        assert!(err(twice).contains("both watch \"/w\": a folder can feed one root only"));
        let ok = parse_str(
            "[[roots]]\nlabel = \"a\"\npath = \"/a\"\nwatch = \"/w\"\n",
            Path::new("t.toml"),
        )
        .expect("valid");
        assert_eq!(ok.roots[0].watch.as_deref(), Some(Path::new("/w")));
    }

    #[test]
    fn errors_stay_on_one_line() {
        for text in ["[limits\n", "x = \"\n", "[[roots]]\nlabel = 3\n", "= 1"] {
            let err = parse_str(text, Path::new("t.toml"))
                .expect_err(text)
                .to_string();
            assert!(!err.contains('\n'), "{err}");
            assert!(err.starts_with("config file t.toml, line "), "{err}");
        }
    }

    #[test]
    fn valid_samples_load() {
        let files = samples("valid");
        assert!(files.len() >= 4, "{files:?}");
        for file in files {
            if let Err(e) = load(&file, true) {
                panic!("{e}");
            }
        }
    }

    /// Each invalid sample states its exact error on `# expect:` lines (joined with spaces),
    /// with `{path}` standing for the file's own path.
    #[test]
    fn invalid_samples_fail_with_their_expected_error() {
        let files = samples("invalid");
        assert!(files.len() >= 8, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable");
            let expected = text
                .lines()
                .filter_map(|l| l.strip_prefix("# expect: "))
                .collect::<Vec<_>>()
                .join(" ")
                .replace("{path}", &file.display().to_string());
            assert!(
                !expected.is_empty(),
                "{} has no # expect: line",
                file.display()
            );
            let err = load(&file, true).expect_err(&file.display().to_string());
            assert_eq!(err.to_string(), expected, "{}", file.display());
        }
    }
}
