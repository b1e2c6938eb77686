//! `trove export` and `trove import`: the files and the messages. The export document and
//! the checks an import passes belong to the engine (`trove_engine::saved`).

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, bail};

use super::AppContext;
use super::args::ImportArgs;
use trove_engine::saved::{self, ImportPlan};
use trove_engine::source;
use trove_proto::Client;

/// Exit code of `trove export` when some records could not be read and were left out.
pub(super) const EXIT_PARTIAL_EXPORT: i32 = 2;

fn is_stdio(file: &Path) -> bool {
    file.as_os_str() == "-"
}

fn shown(file: &Path) -> String {
    if is_stdio(file) {
        "stdin".into()
    } else {
        file.display().to_string()
    }
}

/// Exports the saved session (no trove running).
pub(crate) fn export(ctx: &AppContext, file: &Path) -> anyhow::Result<i32> {
    let saved::ExportOutcome {
        json,
        count,
        problems,
    } = saved::export(&ctx.data_dir, &ctx.roots)?;
    write_export(file, &json, count, &problems)
}

/// Exports a running session: it writes its counters and answers with the same document.
pub(crate) async fn export_running(client: &Client, file: &Path) -> anyhow::Result<i32> {
    let out = client.export().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    write_export(file, &out.json, out.count, &out.problems)
}

/// Writes an export where `file` says and tells how it went; the exit code is
/// [`EXIT_PARTIAL_EXPORT`] when records were left out.
fn write_export(file: &Path, text: &str, count: usize, problems: &[String]) -> anyhow::Result<i32> {
    if is_stdio(file) {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .context("writing the export to stdout")?;
    } else {
        write_atomically(file, text.as_bytes())?;
    }
    let summary = format!(
        "exported {count} torrent{} to {}",
        if count == 1 { "" } else { "s" },
        if is_stdio(file) {
            "stdout".into()
        } else {
            file.display().to_string()
        }
    );
    if is_stdio(file) {
        eprintln!("trove: {summary}");
    } else {
        println!("{summary}");
    }
    if problems.is_empty() {
        return Ok(0);
    }
    for p in problems {
        eprintln!("trove: warning: {p}");
    }
    eprintln!(
        "trove: the store is damaged: {} problem{} above; everything else was exported",
        problems.len(),
        if problems.len() == 1 { " is" } else { "s are" }
    );
    Ok(EXIT_PARTIAL_EXPORT)
}

/// Writes `file` through a temporary file beside it, so an older export is never left
/// half-overwritten.
fn write_atomically(file: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = file
        .file_name()
        .with_context(|| format!("{} is not a file name", file.display()))?;
    let tmp = file.with_file_name(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        bail!("cannot write {}: {e}", file.display());
    }
    Ok(())
}

pub(crate) fn import(ctx: &AppContext, args: &ImportArgs) -> anyhow::Result<i32> {
    let text = read_input(&args.file)?;
    let what = shown(&args.file);
    // Everything is checked before the store is even opened: a bad export writes nothing.
    let plan = ImportPlan::check(&ctx.roots, &what, &text, args.root.as_deref())?;
    let outcome = saved::import(&ctx.data_dir, &plan, &what, args.replace)?;
    if outcome.kept_own_limits {
        eprintln!(
            "trove: kept this session's own limits set from the dashboard (pass --replace to take the exported ones)"
        );
    }
    for t in &outcome.torrents {
        println!(
            "{}  {}  {}",
            t.info_hash,
            if t.replaced { "replaced" } else { "imported" },
            source::sanitize_display(&t.name)
        );
    }
    for label in &outcome.roots_created {
        println!("storage root '{}' created", source::sanitize_display(label));
    }
    if outcome.settings_imported {
        println!("session limits imported");
    }
    Ok(0)
}

fn read_input(file: &Path) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    if is_stdio(file) {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading the export from stdin")?;
    } else {
        bytes = std::fs::read(file).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                anyhow::anyhow!(
                    "{} does not exist: give the file `trove export` wrote",
                    file.display()
                )
            }
            _ => anyhow::anyhow!("cannot read {}: {e}", file.display()),
        })?;
    }
    String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!(
            "{} is not a trove export: it is not UTF-8 text",
            shown(file)
        )
    })
}
