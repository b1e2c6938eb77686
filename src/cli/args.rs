//! The command line, as clap reads it. Help texts are written for someone new to trove.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A terminal torrent client and library manager.
///
/// Run `trove` alone for the dashboard. Torrents, their storage roots, options and
/// lifetime counters live in the data dir and survive restarts.
#[derive(Debug, Parser)]
#[command(name = "trove", version, about, long_about = None)]
pub struct Cli {
    /// Where trove keeps its state (torrents, options, counters)
    #[arg(long, global = true, env = "TROVE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The config file (storage roots, limits, network, UI)
    #[arg(long, global = true, env = "TROVE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// A running trove to use instead of the data dir's: http://HOST:PORT (its `[api] listen`,
    /// e.g. through `ssh -L`) with its token in TROVE_TOKEN or --token-file, or a socket path
    #[arg(long, global = true, env = "TROVE_URL", value_name = "URL")]
    pub connect: Option<String>,

    /// A file holding the API token of the trove named by --connect
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Log level or filter: error, warn, info, debug, trace, or a RUST_LOG-style filter
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    #[command(flatten)]
    pub session: SessionArgs,

    /// Dashboard refresh interval for statistics, in milliseconds (input is always answered at once)
    #[arg(long, value_name = "MS")]
    pub refresh_ms: Option<u64>,

    /// Theme: default, light, high-contrast, gruvbox, solarized-dark, mono, basic, or a path to a .toml theme
    #[arg(long, value_name = "NAME|PATH")]
    pub theme: Option<String>,

    #[command(subcommand)]
    pub command: Option<CommandArgs>,
}

/// Session-wide limits, for the dashboard, the daemon and one-shot downloads.
#[derive(Debug, Args, Clone, Default)]
pub struct SessionArgs {
    /// Session download limit, like 500KiB or 2MiB (per second); 0 = unlimited
    #[arg(long, value_name = "RATE", value_parser = parse_rate_arg)]
    pub download_limit: Option<RateArg>,
    /// Session upload limit, like 500KiB or 2MiB (per second); 0 = unlimited
    #[arg(long, value_name = "RATE", value_parser = parse_rate_arg)]
    pub upload_limit: Option<RateArg>,
    /// Default peer limit for each torrent; 0 = librqbit's default
    #[arg(long, value_name = "N")]
    pub peer_limit: Option<u32>,
}

/// One torrent's limits, given when it is added.
#[derive(Debug, Args, Clone, Default)]
pub struct TorrentLimitArgs {
    /// This torrent's download limit, like 500KiB or 2MiB (per second); 0 = unlimited
    #[arg(long, value_name = "RATE", value_parser = parse_rate_arg)]
    pub download_limit: Option<RateArg>,
    /// This torrent's upload limit, like 500KiB or 2MiB (per second); 0 = unlimited
    #[arg(long, value_name = "RATE", value_parser = parse_rate_arg)]
    pub upload_limit: Option<RateArg>,
    /// Connected peers at most for this torrent
    #[arg(long, value_name = "N")]
    pub peer_limit: Option<u32>,
}

/// A rate given on the command line: bytes per second, `None` for unlimited (`0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateArg(pub Option<u64>);

fn parse_rate_arg(s: &str) -> Result<RateArg, String> {
    crate::config::parse_rate(s).map(RateArg)
}

/// A size given on the command line, in bytes.
fn parse_size_arg(s: &str) -> Result<u64, String> {
    parse_size::parse_size(s.trim()).map_err(|_| {
        format!("'{s}' is not a size: use a number with an optional unit, like 512KiB or 2MiB")
    })
}

#[derive(Debug, Subcommand)]
pub enum CommandArgs {
    /// Add torrents to the session: magnet links, .torrent files, `-` for stdin, or http(s) URLs
    Add(AddArgs),
    /// List every torrent with its state, progress, root and lifetime counters
    List {
        /// Print JSON (one array) instead of a table
        #[arg(long)]
        json: bool,
        /// Only the torrents that have this tag
        #[arg(long, value_name = "TAG")]
        tag: Option<String>,
    },
    /// Pause torrents (ID: an info-hash or a unique prefix of one)
    Pause {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Resume paused torrents
    Resume {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Remove torrents from the session, keeping their data unless --delete-data
    Remove {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Also delete the downloaded files
        #[arg(long)]
        delete_data: bool,
    },
    /// Mount the running session's torrents as a read-only filesystem on DIR
    /// (DIR/<root>/<torrent>/<files>), readable while they download; --status lists mounts
    Mount {
        #[arg(value_name = "DIR", required_unless_present = "status")]
        dir: Option<PathBuf>,
        /// What is mounted where: open files, reads waiting, reads served without waiting
        #[arg(long, conflicts_with = "dir")]
        status: bool,
        /// With --status: print JSON
        #[arg(long, requires = "status")]
        json: bool,
    },
    /// Unmount a folder mounted with `trove mount`
    Umount {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Verify torrents' data against their piece hashes (a failed torrent is retried too);
    /// with no session running, the check happens when one next starts
    Recheck {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Choose which files of a torrent to download: indices as the Files tab shows them
    /// (comma-separated), or `all`
    Select {
        #[arg(value_name = "ID")]
        id: String,
        #[arg(value_name = "0,2,5|all")]
        files: String,
    },
    /// Show or change limits: a torrent's (`trove limit ID --download-limit 1MiB`) or the
    /// session's (`trove limit --session --upload-limit 500KiB`); a limit not given is kept
    #[command(arg_required_else_help = true)]
    Limit(LimitArgs),
    /// List a torrent's trackers, or add and remove some
    Trackers {
        #[arg(value_name = "ID")]
        id: String,
        /// A tracker URL to add (repeatable)
        #[arg(long, value_name = "URL")]
        add: Vec<String>,
        /// A tracker URL to remove (repeatable)
        #[arg(long, value_name = "URL")]
        remove: Vec<String>,
    },
    /// Show torrents' tags, or put tags on (--add) and take them off (--remove)
    Tag {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// A tag to put on (repeatable); tags new to the session are created
        #[arg(long, value_name = "TAG")]
        add: Vec<String>,
        /// A tag to take off (repeatable)
        #[arg(long, value_name = "TAG")]
        remove: Vec<String>,
    },
    /// Storage roots kept in the store, beside the config file's: create, remove, or put a
    /// torrent in another root
    #[command(subcommand)]
    Root(RootArgs),
    /// Vault roots (`kind = "vault"` under [[roots]]): their torrents are kept encrypted
    #[command(subcommand)]
    Vault(VaultArgs),
    /// Print a torrent's magnet link (info-hash, name and trackers)
    Magnet {
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Stop the running trove (a daemon, or a dashboard that holds the session): it saves
    /// everything and exits
    Stop,
    /// Print the token that trove's API asks for over TCP (created on first use, mode 0600)
    Token,
    /// Run the session without the dashboard until SIGINT/SIGTERM or `trove stop` (logs go
    /// to stderr and the log file); dashboards and commands attach to it through its API
    Daemon {
        /// Exit 0 once every torrent that is not paused is complete (non-zero if one fails)
        #[arg(long)]
        exit_when_complete: bool,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Download once without touching the saved session, then exit (0 when all completed and verified)
    Download(DownloadArgs),
    /// Save the whole session (torrents with their .torrent files, roots, options, lifetime
    /// counters) to one JSON file, to rebuild a store or move to another machine
    ///
    /// Works on a damaged store too: what can still be read is saved, the rest is named,
    /// and the exit code is 2. The store itself is never changed.
    Export {
        /// The JSON file to write; `-` for stdout
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Add the torrents of a `trove export` file to this session (all of them or none)
    ///
    /// Everything is checked first: the export's version, each .torrent against its
    /// info-hash, and that the config file here declares each storage root token the
    /// torrents use. A torrent already in the session is refused unless --replace.
    Import(ImportArgs),
    /// Move a torrent in the queue: to the top, up one place, down one, or to the bottom
    /// (the queue decides which torrents start when `[queue]` limits are set)
    Queue {
        #[arg(value_name = "ID")]
        id: String,
        #[arg(value_name = "top|up|down|bottom")]
        to: String,
    },
    /// Start torrents now regardless of the queue's limits (--off gives them back to it)
    Force {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Give the torrents back to the queue
        #[arg(long)]
        off: bool,
    },
    /// Show or change how many torrents may be active at once (0 = no limit); with no
    /// option, show them
    QueueLimits(QueueLimitArgs),
    /// Show or set seeding goals: the session's, or one torrent's own (which override the
    /// session's); the first goal reached pauses or removes the torrent (its data is kept)
    Goals(GoalArgs),
    /// Move torrents' data to another storage root (needs a running session): a rename on
    /// the same filesystem, else a copy verified against the piece hashes while the torrent
    /// keeps seeding; waits until each move ends
    Move {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// The storage root to move to (its label)
        #[arg(long, value_name = "LABEL", required_unless_present = "cancel")]
        root: Option<String>,
        /// Stop the torrents' moves under way instead: the partial copies are removed
        #[arg(long, conflicts_with = "root")]
        cancel: bool,
    },
    /// What sits in each storage root: its space, each torrent with the state of its data
    /// on disk (complete, partial, files missing, size changed), and what belongs to no
    /// torrent
    Library {
        /// Print JSON instead of a listing
        #[arg(long)]
        json: bool,
        /// Only this root (label or token)
        #[arg(long, value_name = "LABEL")]
        root: Option<String>,
    },
    /// A torrent's data is in another root: check its files are there, point the torrent
    /// at that root and verify the data against its piece hashes (nothing is downloaded)
    Locate {
        #[arg(value_name = "ID")]
        id: String,
        /// The root its data is in
        #[arg(long, value_name = "LABEL")]
        root: String,
    },
}

/// `trove queue-limits`.
#[derive(Debug, Args)]
pub struct QueueLimitArgs {
    /// Torrents downloading at once at most; 0 = no limit
    #[arg(long, value_name = "N")]
    pub downloads: Option<u32>,
    /// Complete torrents seeding at once at most; 0 = no limit
    #[arg(long, value_name = "N")]
    pub seeds: Option<u32>,
    /// Active torrents (downloading or seeding) at once at most; 0 = no limit
    #[arg(long, value_name = "N")]
    pub torrents: Option<u32>,
    /// A torrent that moved nothing for this long holds no slot: seconds or like 5m; 0 = off
    #[arg(long, value_name = "DURATION")]
    pub slow_after: Option<String>,
}

/// `trove goals`.
#[derive(Debug, Args)]
pub struct GoalArgs {
    /// The torrent whose own goals to show or set; none = the session's
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// Stop at this ratio (uploaded over downloaded), like 1.5; none = no ratio goal
    #[arg(long, value_name = "RATIO")]
    pub ratio: Option<String>,
    /// Stop after seeding this long: seconds or like 2h, 7d; none = no such goal
    #[arg(long, value_name = "DURATION")]
    pub seeding_time: Option<String>,
    /// Stop after seeding this long without uploading: seconds or like 30m; none = no such goal
    #[arg(long, value_name = "DURATION")]
    pub idle_time: Option<String>,
    /// What happens when a goal is reached: pause, or remove (the data is kept)
    #[arg(long, value_name = "pause|remove")]
    pub action: Option<String>,
    /// Clear the goals: a torrent then follows the session's; the session then has none
    #[arg(long, conflicts_with_all = ["ratio", "seeding_time", "idle_time", "action"])]
    pub clear: bool,
}

#[derive(Debug, Subcommand)]
pub enum VaultArgs {
    /// Write a new random key to PATH (mode 0600; an existing file is never replaced), for
    /// a vault root's key_file
    Keygen {
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RootArgs {
    /// Create a storage root kept in the store (its folder is created if missing)
    Add {
        #[arg(value_name = "LABEL")]
        label: String,
        /// An absolute path
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
    /// Point a storage root kept in the store at another folder (refused while a torrent
    /// has data in it; the data is not moved)
    Move {
        #[arg(value_name = "LABEL")]
        label: String,
        /// An absolute path
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
    /// Forget storage roots kept in the store (refused while a torrent uses one)
    Remove {
        #[arg(required = true, value_name = "LABEL")]
        labels: Vec<String>,
    },
    /// Put a torrent in another storage root; only a torrent with no data on disk yet can
    /// move
    Set {
        #[arg(value_name = "ID")]
        id: String,
        #[arg(value_name = "LABEL")]
        root: String,
    },
}

#[derive(Debug, Args)]
pub struct LimitArgs {
    /// The torrents to change (info-hashes or unique prefixes)
    #[arg(
        value_name = "ID",
        required_unless_present = "session",
        conflicts_with = "session"
    )]
    pub ids: Vec<String>,
    /// Change the session's limits instead of a torrent's
    #[arg(long)]
    pub session: bool,
    /// Download limit, like 500KiB or 2MiB (per second); 0 = none (a torrent then follows the session's)
    #[arg(long, value_name = "RATE", value_parser = parse_rate_arg)]
    pub download_limit: Option<RateArg>,
    /// Upload limit, like 500KiB or 2MiB (per second); 0 = none (a torrent then follows the session's)
    #[arg(long, value_name = "RATE", value_parser = parse_rate_arg)]
    pub upload_limit: Option<RateArg>,
    /// Connected peers at most; 0 = none (a torrent then follows the session's)
    #[arg(long, value_name = "N")]
    pub peer_limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A file written by `trove export`; `-` for stdin
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Overwrite torrents (and dashboard-set session limits) already in this session
    #[arg(long)]
    pub replace: bool,
    /// Put every imported torrent in this storage root, whatever root it had before
    #[arg(long, value_name = "LABEL")]
    pub root: Option<String>,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Magnet link, path to a .torrent, `-` to read a .torrent from stdin, or an http(s) URL
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Storage root label (from the config file, or `trove root add`); default: the
    /// default root
    #[arg(long, value_name = "LABEL")]
    pub root: Option<String>,
    /// A tag to put on the torrent (repeatable)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Add without starting
    #[arg(long)]
    pub paused: bool,
    /// A peer to connect to first (repeatable)
    #[arg(long = "peer", value_name = "HOST:PORT")]
    pub peers: Vec<SocketAddr>,
    /// Download only these files (indices as `trove` shows them, comma-separated)
    #[arg(long, value_name = "0,2,5", value_delimiter = ',')]
    pub only_files: Option<Vec<usize>>,
    /// Fetch the release's descriptive files first (.cue, .log, .nfo, .txt, .jpg, .png,
    /// .m3u, and files of at most --metadata-size), then the rest
    #[arg(long)]
    pub metadata_first: bool,
    /// With --metadata-first: files of at most this size count as descriptive too
    /// [default: 1MiB]
    #[arg(long, value_name = "SIZE", requires = "metadata_first", value_parser = parse_size_arg)]
    pub metadata_size: Option<u64>,
    #[command(flatten)]
    pub limits: TorrentLimitArgs,
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Magnet link, path to a .torrent, `-` for stdin, or an http(s) URL
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Folder to download into (created if missing)
    #[arg(long, value_name = "DIR", conflicts_with = "root")]
    pub output: Option<PathBuf>,
    /// Storage root label from the config file
    #[arg(long, value_name = "LABEL")]
    pub root: Option<String>,
    /// A peer to connect to first (repeatable)
    #[arg(long = "peer", value_name = "HOST:PORT")]
    pub peers: Vec<SocketAddr>,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn add_parses_every_option() {
        let cli = Cli::try_parse_from([
            "trove",
            "add",
            "a.torrent",
            "--root",
            "movies",
            "--paused",
            "--peer",
            "127.0.0.1:6881",
            "--only-files",
            "0,2,5",
            "--download-limit",
            "2MiB",
            "--peer-limit",
            "4",
        ])
        .unwrap();
        let Some(CommandArgs::Add(a)) = cli.command else {
            panic!("not add")
        };
        assert_eq!(a.only_files, Some(vec![0, 2, 5]));
        assert_eq!(
            a.limits.download_limit,
            Some(RateArg(Some(2 * 1024 * 1024)))
        );
        assert_eq!(a.limits.peer_limit, Some(4));
        assert!(a.paused);
    }

    #[test]
    fn limit_takes_ids_or_session() {
        let cli =
            Cli::try_parse_from(["trove", "limit", "ab", "cd", "--upload-limit", "1KiB"]).unwrap();
        let Some(CommandArgs::Limit(l)) = cli.command else {
            panic!("not limit")
        };
        assert_eq!(l.ids, ["ab", "cd"]);
        assert_eq!(l.upload_limit, Some(RateArg(Some(1024))));
        assert!(Cli::try_parse_from(["trove", "limit", "--session", "--peer-limit", "3"]).is_ok());
        assert!(Cli::try_parse_from(["trove", "limit", "ab", "--session"]).is_err());
    }

    #[test]
    fn metadata_first_takes_an_optional_size() {
        let parse = |extra: &[&str]| {
            let mut args = vec!["trove", "add", "a.torrent"];
            args.extend_from_slice(extra);
            Cli::try_parse_from(args)
        };
        let Some(CommandArgs::Add(a)) = parse(&["--metadata-first", "--metadata-size", "2MiB"])
            .unwrap()
            .command
        else {
            panic!("not add")
        };
        assert!(a.metadata_first);
        assert_eq!(a.metadata_size, Some(2 * 1024 * 1024));
        let e = parse(&["--metadata-first", "--metadata-size", "big"]).unwrap_err();
        assert!(e.to_string().contains("'big' is not a size"), "{e}");
        let e = parse(&["--metadata-size", "2MiB"]).unwrap_err();
        assert!(e.to_string().contains("--metadata-first"), "{e}");
    }

    #[test]
    fn bad_rate_is_a_usage_error() {
        let e = Cli::try_parse_from(["trove", "--download-limit", "fast"]).unwrap_err();
        assert!(e.to_string().contains("fast"), "{e}");
    }
}
