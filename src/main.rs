use clap::Parser;
use tracing_subscriber::EnvFilter;

use devcenter::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::CreateUser(args)) => args.run(),
        Some(Command::Serve(args)) => {
            actix_web::rt::System::new().block_on(devcenter::startup::serve(*args))
        }
        None => actix_web::rt::System::new().block_on(devcenter::startup::serve(cli.serve)),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("devcenter: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
