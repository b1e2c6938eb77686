//! The one door into a session: [`Client`].
//!
//! The dashboard and every CLI command hold a `Client`; whatever holds the session answers
//! on the other side of its channels. In-process that is the engine's task; over a socket
//! it is a task that forwards requests and relays snapshots. Either way the client code is
//! the same, which is the point: nothing that holds a `Client` knows where the session is.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use crate::command::{
    AddOptions, Added, Command, EngineError, EngineResult, Exported, Reply, TorrentSource,
};
use crate::log::{LogFilter, LogLine};
use crate::snapshot::{SessionSnapshot, TorrentDetails};
use crate::stream::FileStreams;

/// One command and where its answer goes.
pub type Request = (Command, oneshot::Sender<EngineResult<Reply>>);

/// The server's half of a [`Client`]: what a session answers from.
pub struct Server {
    /// Commands in arrival order.
    pub requests: mpsc::Receiver<Request>,
    /// Publish a new session snapshot here.
    pub snapshots: watch::Sender<Arc<SessionSnapshot>>,
    /// Publish the sequence number of the newest log line here.
    pub log_seq: watch::Sender<u64>,
    /// Say here when the link to the session breaks and when it is back.
    pub link: watch::Sender<Link>,
}

/// How the link between a client and its session stands. A session in the same process
/// is always [`Link::Connected`]; one reached over a socket can be lost and come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Connected,
    /// The session stopped answering (the reason, for a person). Commands fail at once
    /// until it is back; the last snapshot stays readable.
    Lost(String),
    /// Connected again, with a fresh snapshot.
    Reconnected,
}

/// A cheap, cloneable handle to a session.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Request>,
    snapshots: watch::Receiver<Arc<SessionSnapshot>>,
    log_seq: watch::Receiver<u64>,
    link: watch::Receiver<Link>,
    /// Set by the process that holds the session: its files, readable as they download.
    files: Option<Arc<dyn FileStreams>>,
}

/// Commands that may wait for the session at once before a sender waits.
const QUEUE: usize = 64;

impl Client {
    /// A client of a session that answers `commands` and publishes on the two watches.
    pub fn new(
        commands: mpsc::Sender<Request>,
        snapshots: watch::Receiver<Arc<SessionSnapshot>>,
        log_seq: watch::Receiver<u64>,
    ) -> Self {
        // In the same process the link cannot break: the sender goes at once, and the
        // receiver keeps saying `Connected`.
        let (_, link) = watch::channel(Link::Connected);
        Client {
            commands,
            snapshots,
            log_seq,
            link,
            files: None,
        }
    }

    /// A connected pair: the client, and the server half that answers it.
    pub fn pair(first: SessionSnapshot) -> (Client, Server) {
        let (commands, requests) = mpsc::channel(QUEUE);
        let (snap_tx, snapshots) = watch::channel(Arc::new(first));
        let (seq_tx, log_seq) = watch::channel(0);
        let (link_tx, link) = watch::channel(Link::Connected);
        (
            Client {
                commands,
                snapshots,
                log_seq,
                link,
                files: None,
            },
            Server {
                requests,
                snapshots: snap_tx,
                log_seq: seq_tx,
                link: link_tx,
            },
        )
    }

    /// This client, able to open the session's files ([`Client::files`]).
    pub fn with_files(mut self, files: Arc<dyn FileStreams>) -> Self {
        self.files = Some(files);
        self
    }

    /// The session's files as streams, when this process holds the session; `None` for a
    /// session reached over a socket.
    pub fn files(&self) -> Option<&Arc<dyn FileStreams>> {
        self.files.as_ref()
    }

    pub async fn call(&self, command: Command) -> EngineResult<Reply> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send((command, tx))
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    pub async fn add(&self, source: TorrentSource, options: AddOptions) -> EngineResult<Added> {
        match self.call(Command::Add(source, options)).await? {
            Reply::Added(a) => Ok(a),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn details(&self, id: &str) -> EngineResult<TorrentDetails> {
        match self.call(Command::Details(id.to_string())).await? {
            Reply::Details(d) => Ok(*d),
            other => Err(unexpected(&other)),
        }
    }

    /// The log lines the session keeps that pass `filter`, oldest first.
    pub async fn log(&self, filter: LogFilter) -> EngineResult<Vec<LogLine>> {
        match self.call(Command::ReadLog(filter)).await? {
            Reply::Log(lines) => Ok(lines),
            other => Err(unexpected(&other)),
        }
    }

    /// The whole session as an export document.
    pub async fn export(&self) -> EngineResult<Exported> {
        match self.call(Command::Export).await? {
            Reply::Exported(e) => Ok(e),
            other => Err(unexpected(&other)),
        }
    }

    /// What sits in each storage root (see [`crate::library`]).
    pub async fn library(&self) -> EngineResult<crate::library::LibraryReport> {
        match self.call(Command::Library).await? {
            Reply::Library(l) => Ok(l),
            other => Err(unexpected(&other)),
        }
    }

    /// The session's mounts.
    pub async fn mounts(&self) -> EngineResult<Vec<crate::command::MountInfo>> {
        match self.call(Command::MountStatus).await? {
            Reply::Mounts(m) => Ok(m),
            other => Err(unexpected(&other)),
        }
    }

    /// Runs a command whose only answer is success or an error.
    pub async fn run(&self, command: Command) -> EngineResult<()> {
        self.call(command).await.map(|_| ())
    }

    /// The latest snapshot (refreshed about once a second, and after every command).
    pub fn snapshot(&self) -> Arc<SessionSnapshot> {
        self.snapshots.borrow().clone()
    }

    /// A receiver that wakes whenever a new snapshot is published.
    pub fn watch(&self) -> watch::Receiver<Arc<SessionSnapshot>> {
        self.snapshots.clone()
    }

    /// A receiver that wakes when new log lines are kept; its value is the newest line's
    /// sequence number. Several lines in a burst wake it once.
    pub fn log_changes(&self) -> watch::Receiver<u64> {
        self.log_seq.clone()
    }

    /// A receiver that wakes when the link to the session breaks or comes back.
    pub fn link(&self) -> watch::Receiver<Link> {
        self.link.clone()
    }
}

fn unexpected(reply: &Reply) -> EngineError {
    let kind = match reply {
        Reply::Done => "done",
        Reply::Added(_) => "added",
        Reply::Details(_) => "details",
        Reply::Log(_) => "log",
        Reply::Exported(_) => "exported",
        Reply::Library(_) => "library",
        Reply::Mounts(_) => "mounts",
    };
    EngineError::Engine(format!("the session answered with '{kind}' out of turn"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_gets_what_its_server_answers() {
        let (client, mut server) = Client::pair(SessionSnapshot::default());
        let answering = tokio::spawn(async move {
            while let Some((command, reply)) = server.requests.recv().await {
                let answer = match command {
                    Command::ReadLog(_) => Ok(Reply::Log(Vec::new())),
                    Command::Pause(id) => Err(EngineError::UnknownId(id)),
                    _ => Ok(Reply::Done),
                };
                let _ = reply.send(answer);
            }
        });
        assert_eq!(client.log(LogFilter::default()).await, Ok(Vec::new()));
        assert_eq!(
            client.run(Command::Pause("ab".into())).await,
            Err(EngineError::UnknownId("ab".into()))
        );
        assert!(matches!(
            client.details("ab").await,
            Err(EngineError::Engine(m)) if m.contains("'done' out of turn")
        ));
        drop(client);
        answering
            .await
            .expect("the server task ends when every client is gone");
    }

    #[tokio::test]
    async fn a_client_of_a_stopped_session_says_so() {
        let (client, server) = Client::pair(SessionSnapshot::default());
        drop(server);
        assert_eq!(client.run(Command::Flush).await, Err(EngineError::Stopped));
    }

    #[test]
    fn every_command_and_reply_survives_json() {
        let commands = [
            Command::Add(
                TorrentSource::Bytes(vec![1, 2, 3]),
                AddOptions {
                    root: Some("movies".into()),
                    only_files: Some(vec![0, 2]),
                    ..Default::default()
                },
            ),
            Command::Remove {
                id: "ab".into(),
                delete_data: true,
            },
            Command::ReadLog(LogFilter::default()),
        ];
        for c in commands {
            let text = serde_json::to_string(&c).expect("encodes");
            assert_eq!(serde_json::from_str::<Command>(&text).expect("decodes"), c);
        }
        let err: EngineResult<Reply> = Err(EngineError::AmbiguousId {
            prefix: "a".into(),
            count: 2,
        });
        let text = serde_json::to_string(&err).expect("encodes");
        assert_eq!(
            serde_json::from_str::<EngineResult<Reply>>(&text).expect("decodes"),
            err
        );
    }
}
