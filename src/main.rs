//! The `trove` binary: parses the command line and hands over to `trove::cli`.

use clap::Parser;
use trove::cli::args::CommandArgs;

/// Threads the runtime may add for blocking work. librqbit reads and writes pieces with
/// `block_in_place`, at most 8 at a time, and each call hands the worker's role to a
/// thread of this pool. With tokio's default cap of 512 the pool grew to dozens of threads
/// while seeding, each hand-over waking yet another thread, for a measurable cost in CPU
/// (bench/README.md); rqbit caps it at 8, and so does trove.
const MAX_BLOCKING_THREADS: usize = 8;

fn main() {
    let cli = trove::cli::args::Cli::parse();
    let runtime = if matches!(cli.command, Some(CommandArgs::Download(_))) {
        // A one-shot download runs on one thread. librqbit then does its disk I/O and
        // hashing in place instead of handing the worker's role to another thread for
        // every 16 KiB block, which perf showed as thread switches and wake-ups (the
        // figures are in bench/README.md). The dashboard and the daemon keep the
        // multi-threaded runtime: on one thread, checking a large torrent or a slow disk
        // would freeze every other torrent and the dashboard's commands for as long as it
        // takes.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .max_blocking_threads(MAX_BLOCKING_THREADS)
            .build()
    };
    let code = match runtime {
        Ok(rt) => match rt.block_on(trove::cli::run(cli)) {
            Ok(code) => code,
            Err(e) => {
                // One line: the outermost context, then its causes.
                eprintln!("trove: {e:#}");
                1
            }
        },
        Err(e) => {
            eprintln!("trove: cannot start the async runtime: {e}");
            1
        }
    };
    std::process::exit(code);
}
