//! The API of a session this process holds: on the data dir's Unix socket (mode 0600: the
//! file's owner only) always, and on TCP when the config's `[api] listen` asks, with the
//! data dir's token.

use tokio::sync::watch;
use tokio::task::JoinHandle;
use trove_api::{Auth, Listener};
use trove_engine::data_dir::DataDir;
use trove_proto::Client;

use super::AppContext;

/// The API's listeners, served until [`ApiServer::stop`].
pub(crate) struct ApiServer {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl ApiServer {
    /// Binds every listener before it returns, so a client that finds the socket can talk.
    pub(crate) async fn start(ctx: &AppContext, session: &Client) -> anyhow::Result<Self> {
        if let (Some(files), Some(limit)) = (session.files(), ctx.config.api.max_streams) {
            files.set_limit(limit);
        }
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let socket = DataDir::new(&ctx.data_dir).socket();
        let unix = Listener::unix(&socket).await.map_err(|e| {
            anyhow::anyhow!("cannot serve trove's API on {}: {e}", socket.display())
        })?;
        tasks.push(spawn(session.clone(), unix, Auth::none(), stopped.clone()));
        if let Some(addr) = ctx.config.api.listen {
            let mut auth = Auth::token_file(&ctx.data_dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read or create the API token in {}: {e}",
                    ctx.data_dir.display()
                )
            })?;
            // qBittorrent clients (Sonarr, Radarr...) log in at /api/v2 with these.
            if let Some((username, password)) = ctx.config.api.login() {
                auth = auth.with_login(username, password);
            }
            let tcp = Listener::tcp(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot serve trove's API on {addr}: {e}"))?;
            tracing::info!("trove's API listens on http://{addr} (token: `trove token`)");
            tasks.push(spawn(session.clone(), tcp, auth, stopped));
        }
        Ok(ApiServer { stop, tasks })
    }

    /// Stops answering: clients see the session go, and the socket file is removed.
    pub(crate) async fn stop(self) {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

fn spawn(
    session: Client,
    listener: Listener,
    auth: Auth,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let endpoint = listener.endpoint();
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        if let Err(e) = trove_api::serve(session, listener, auth, shutdown).await {
            tracing::error!("trove's API on {endpoint} stopped: {e}");
        }
    })
}
