//! `pullgate`: the image-signature enforcer's one binary. Subcommands arrive
//! with their issues; see README.md and ../shared/design/interfaces.md.

#![forbid(unsafe_code)]

use pullgate::{EXIT_USAGE, discover, serve, verify_cmd};

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pullgate",
    version,
    about = "Image-signature enforcement on the node (CRI) and at admission (Gatekeeper)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the CRI image-service proxy (and, in later builds, the Gatekeeper
    /// provider) with the admin endpoint, until SIGTERM/SIGINT.
    Serve(serve::ServeArgs),
    /// Verify each image exactly as the daemon would and print one verdict per image.
    Verify(verify_cmd::VerifyArgs),
    /// Load and validate the configuration and every document it names.
    CheckConfig(verify_cmd::CheckArgs),
    /// Resolve images and list the signatures pullgate finds for them
    /// (referrers, the referrers tag schema, Cosign .sig tags), with artifact
    /// types. Verifies nothing.
    Discover(discover::Args),
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pullgate: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve::serve(args)),
        Command::Verify(args) => runtime.block_on(verify_cmd::verify(args)),
        Command::CheckConfig(args) => verify_cmd::check_config(args),
        Command::Discover(args) => runtime.block_on(discover::run(args)),
    }
}

/// Logs go to stderr, filtered by `PULLGATE_LOG` (default `warn`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PULLGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
