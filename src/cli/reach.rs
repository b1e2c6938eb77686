//! Where a command finds the session: the trove that holds the data dir (through the API
//! socket it serves there), a trove named with `--connect`, or, when none runs, the saved
//! state itself. Every command goes through [`reach`], so each behaves the same whichever
//! it finds.

use std::time::Duration;

use anyhow::Context as _;
use tokio::time::Instant;
use trove_api::{ApiError, Endpoint};
use trove_engine::data_dir::DataDir;
use trove_engine::saved::SavedSession;
use trove_engine::store::StoreError;
use trove_proto::Client;

use super::AppContext;
use super::args::Cli;

/// A session found by [`reach`].
pub(crate) enum Reach {
    /// A running trove, spoken to through its API.
    Running(Client),
    /// No trove runs: the saved state, locked for this command.
    Saved(SavedSession),
}

/// How long a command waits for a trove that holds the data dir but does not answer yet
/// (it is still bringing its torrents back).
const STARTING_GRACE: Duration = Duration::from_secs(15);
const RETRY: Duration = Duration::from_millis(100);

/// The running session if there is one, else the saved state.
pub(crate) async fn reach(ctx: &AppContext, cli: &Cli) -> anyhow::Result<Reach> {
    if let Some(client) = running(ctx, cli).await? {
        return Ok(Reach::Running(client));
    }
    match SavedSession::open(&ctx.data_dir) {
        Ok(saved) => Ok(Reach::Saved(saved)),
        Err(StoreError::Locked { .. }) => {
            // Another trove holds the data dir: its socket comes up once its session has
            // started, and the data dir is free once a stopping one has exited. Wait a
            // while for either rather than tell the user to stop it.
            let deadline = Instant::now() + STARTING_GRACE;
            loop {
                tokio::time::sleep(RETRY).await;
                if let Some(client) = local(ctx).await? {
                    return Ok(Reach::Running(client));
                }
                match SavedSession::open(&ctx.data_dir) {
                    Ok(saved) => return Ok(Reach::Saved(saved)),
                    Err(e @ StoreError::Locked { .. }) if Instant::now() >= deadline => {
                        return Err(anyhow::anyhow!("{e}"));
                    }
                    Err(StoreError::Locked { .. }) => {}
                    Err(e) => return Err(anyhow::anyhow!("{e}")),
                }
            }
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// The running session: the one `--connect` (or `TROVE_URL`) names, else the one serving
/// the data dir's socket. `None` when no trove serves the data dir.
pub(crate) async fn running(ctx: &AppContext, cli: &Cli) -> anyhow::Result<Option<Client>> {
    let Some(url) = &cli.connect else {
        return local(ctx).await;
    };
    let endpoint = Endpoint::parse(url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = match (&endpoint, &cli.token_file) {
        (Endpoint::Unix(_), _) => None,
        (Endpoint::Http(_), Some(file)) => Some(
            std::fs::read_to_string(file)
                .with_context(|| format!("reading the API token from {}", file.display()))?
                .trim()
                .to_string(),
        ),
        (Endpoint::Http(_), None) => match std::env::var("TROVE_TOKEN") {
            Ok(token) => Some(token.trim().to_string()),
            Err(_) => anyhow::bail!(
                "{url} needs the session's API token: set TROVE_TOKEN or pass --token-file FILE (`trove token` prints it on the machine that runs the session)"
            ),
        },
    };
    let (client, _link) = trove_api::connect(endpoint, token)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(client))
}

/// The token given for a `--connect` URL (`--token-file`, else `TROVE_TOKEN`), if any.
pub(crate) fn given_token(cli: &Cli) -> Option<String> {
    match &cli.token_file {
        Some(file) => std::fs::read_to_string(file).ok(),
        None => std::env::var("TROVE_TOKEN").ok(),
    }
    .map(|t| t.trim().to_string())
}

/// The session serving the data dir's socket, if one answers there. A socket left behind
/// by a trove that died answers nothing, and is no session.
async fn local(ctx: &AppContext) -> anyhow::Result<Option<Client>> {
    let socket = DataDir::new(&ctx.data_dir).socket();
    if !socket.exists() {
        return Ok(None);
    }
    match trove_api::connect(Endpoint::Unix(socket), None).await {
        Ok((client, _link)) => Ok(Some(client)),
        Err(ApiError::Unreachable { .. }) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}
