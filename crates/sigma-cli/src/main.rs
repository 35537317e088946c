//! `sigma`: the Sigma fleet from the terminal. Talks to a Sigma server over
//! HTTP through `sigma-client`; see `sigma --help`.

mod cli;
mod commands;
mod config;
mod error;
mod output;
mod progress;
mod prompt;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command};
use error::{CliError, CliResult};
use output::Output;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            for line in &e.detail {
                eprintln!("  {line}");
            }
            ExitCode::from(e.code)
        }
    }
}

fn run(cli: Cli) -> CliResult<()> {
    let out = Output::new(cli.output, cli.no_color);
    match cli.command {
        Command::Completions { shell } => {
            let shell = match shell {
                cli::Shell::Bash => clap_complete::Shell::Bash,
                cli::Shell::Zsh => clap_complete::Shell::Zsh,
                cli::Shell::Fish => clap_complete::Shell::Fish,
            };
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "sigma", &mut text);
            output::emit_bytes(&text)
        }
        Command::Man { dir: Some(dir) } => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(Cli::command(), &dir)?;
            eprintln!("wrote the man pages to {}", dir.display());
            Ok(())
        }
        Command::Man { dir: None } => {
            let mut text = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut text)?;
            output::emit_bytes(&text)
        }
        Command::Config(command) => commands::config::run(command, cli.profile.as_deref(), &out),
        command => {
            let file = config::ConfigFile::load(&config::path()?)?;
            let api_key = std::env::var("SIGMA_API_KEY").ok();
            let target = config::resolve(&file, cli.profile.as_deref(), cli.url.as_deref(), api_key.as_deref())?;
            let client = sigma_client::Client::new(target.url.clone(), target.api_key.clone());
            let ctx = commands::Ctx { client, out, target };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::failure(format!("cannot start: {e}")))?;
            runtime.block_on(commands::run(command, &ctx))
        }
    }
}
