use clap::Parser;
use tracing_subscriber::EnvFilter;

use devcenter::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    return_large_allocations();
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
        Some(Command::Migrate(args)) => args.run(),
        Some(Command::CopyDatabase(args)) => args.run(),
        Some(Command::RotateSigningKey(args)) => args.run(),
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

/// Large allocations (argon2's 7 MiB for each password check) are mapped on their own and
/// handed back to the system when freed. Left to itself, glibc raises its mmap threshold
/// after the first such free and keeps every later one in its heaps: ten sign-ins grew the
/// server from 31 to 110 MiB, and it never shrank.
fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator; nothing else runs yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}
