use anyhow::Context;
use clap::Parser;
use secrecy::ExposeSecret;
use sigma_api::config::{Cli, Command, Config, LogFormat, UserCommand};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.clone().unwrap_or(Command::Serve);
    let config = match Config::load(cli.settings, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sigma-api: {e:#}");
            return ExitCode::from(2);
        }
    };
    if command == Command::CheckConfig {
        println!("{}", config.describe());
        if let Err(e) = config.check_serving() {
            eprintln!("sigma-api: {e:#}");
            return ExitCode::from(2);
        }
        println!("configuration is valid");
        return ExitCode::SUCCESS;
    }
    if command == Command::Serve
        && let Err(e) = config.check_serving()
    {
        eprintln!("sigma-api: {e:#}");
        return ExitCode::from(2);
    }
    init_logging(&config);
    for name in sigma_api::config::unknown_env_vars(std::env::vars().map(|(k, _)| k)) {
        tracing::warn!(variable = %name, "unknown SIGMA_* environment variable ignored (a typo?)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("Tokio runtime");
    match runtime.block_on(run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("sigma-api: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|e| {
        eprintln!("sigma-api: invalid log filter {:?} ({e}); using info", config.log);
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    // Listen for signals before anything else, so none is missed.
    let shutdown = shutdown_signal()?;
    let url = config.database_url.expose_secret().to_owned();
    let redacted = sigma_api::config::redact_url(&url);
    let store = sigma_api::open_store(&url).await.with_context(|| format!("cannot open the database {redacted}"))?;
    match &command {
        Command::Migrate => {
            tracing::info!(database = %redacted, "migrations applied");
            store.close().await;
            return Ok(());
        }
        Command::User(UserCommand::Create { email, role }) => {
            let result = create_user(&store, email, *role).await;
            store.close().await;
            return result;
        }
        Command::Serve | Command::CheckConfig => {}
    }
    let state = sigma_api::state(store.clone(), &config);
    sigma_api::bootstrap_admin(&state, &config).await.context("cannot create the first admin")?;
    if let Err(e) = state.limiter.connect().await {
        tracing::warn!(error = %e, "Redis for rate limits is unreachable: requests pass unlimited until it answers");
    }
    sigma_api::warn_about(&config, state.auth.is_open(&state.store).await?);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, version = env!("CARGO_PKG_VERSION"), "Sigma is listening");
    let app = sigma_api::router(state, &config);
    let grace = config.shutdown_timeout;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(sigma_api::serve(listener, app, async move {
        let _ = rx.await;
    }));
    shutdown.await;
    tracing::info!("shutting down: finishing requests in flight");
    let _ = tx.send(());
    match tokio::time::timeout(grace, server).await {
        Ok(joined) => joined.context("server task")?.context("server")?,
        Err(_) => tracing::warn!(seconds = grace.as_secs(), "requests still running at the end of the grace period"),
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// `sigma-api user create`: the password comes from the terminal (asked
/// twice, not echoed) or from the first line of standard input.
async fn create_user(store: &sigma_store::DynStore, email: &str, role: sigma_types::Role) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {email}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    let draft = sigma_types::UserCreate { email: Some(email.to_owned()), password: Some(password), role: Some(role) }
        .validate()
        .map_err(|e| {
            let problems: Vec<String> = e.0.iter().map(|(field, problem)| format!("{field} {problem}")).collect();
            anyhow::anyhow!("{}", problems.join("; "))
        })?;
    let password_hash = sigma_api::auth::password::hash(draft.password).await?;
    let new = sigma_store::NewUser { email: draft.email, password_hash, role: draft.role };
    let user = store.create_user(&new, &sigma_store::AuditContext::system()).await.map_err(|e| match e {
        sigma_store::StoreError::Conflict(c) => anyhow::anyhow!("{}", c.message),
        other => anyhow::Error::from(other),
    })?;
    println!("created {} user {} ({})", user.role, user.email, user.id);
    Ok(())
}

/// Completes on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}
