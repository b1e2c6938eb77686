//! The dashboard (work in progress: the real module lands shortly).

use std::path::PathBuf;
use std::time::Duration;

use crate::engine::api::EngineHandle;

pub struct UiOptions {
    pub refresh: Duration,
    pub theme: String,
    pub keymap: Option<PathBuf>,
    pub no_color: bool,
}

pub struct Theme;

pub fn load_theme(_name_or_path: &str, _no_color: bool) -> anyhow::Result<Theme> {
    Ok(Theme)
}

pub async fn run(_engine: EngineHandle, _opts: UiOptions) -> anyhow::Result<()> {
    anyhow::bail!("the dashboard is not built yet")
}
