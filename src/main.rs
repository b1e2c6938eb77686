//! The `trove` binary: parses the command line and hands over to `trove::cli`.

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = trove::cli::args::Cli::parse();
    let code = match trove::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            // One line: the outermost context, then its causes.
            eprintln!("trove: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
