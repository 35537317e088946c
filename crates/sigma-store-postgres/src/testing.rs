//! Scratch databases for tests, copied from a migrated template so that
//! each test gets an empty, current schema in a few milliseconds.
//!
//! The server comes from `SIGMA_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); its user must be allowed
//! to create databases.

use crate::{MIGRATOR, PostgresStore};
use sigma_store::Store;
use sqlx::{Connection, Executor, PgConnection};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;
use uuid::Uuid;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Scratch databases are named `sigma_t_<unix seconds>_<random>`.
const SCRATCH_PREFIX: &str = "sigma_t_";
/// Serialises template building across test processes ("sigmatpl").
const TEMPLATE_LOCK: i64 = 0x7369_676d_6174_706c;

/// The template's name, once this process has made sure it exists.
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Creates an empty, migrated database and returns its URL. Panics with
/// advice when PostgreSQL cannot be reached.
pub async fn scratch_database() -> String {
    let server = std::env::var("SIGMA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let template = TEMPLATE.get_or_init(|| prepare_template(&server)).await;
    let mut admin = connect(&server).await;
    let name = format!("{SCRATCH_PREFIX}{}_{}", unix_now().as_secs(), Uuid::new_v4().simple());
    execute_when_free(&mut admin, &format!(r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#))
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name} from {template}: {e}"));
    let _ = admin.close().await;
    with_database(&server, &name)
}

/// Makes sure the template for the current migrations exists, holding an
/// advisory lock meanwhile so that concurrent test processes build it once.
async fn prepare_template(server: &str) -> String {
    let mut admin = connect(server).await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot lock the test template: {e}"));
    let template = format!("sigma_tpl_{:016x}", migrations_hash());
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&template)
        .fetch_one(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot list databases: {e}"));
    if !exists {
        build_template(&mut admin, server, &template)
            .await
            .unwrap_or_else(|e| panic!("cannot build the test template {template}: {e}"));
    }
    // Closing the session would release the lock too; be explicit.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(TEMPLATE_LOCK).execute(&mut admin).await;
    let _ = admin.close().await;
    template
}

/// Migrates a database under a temporary name and renames it when done, so
/// that a half-built template (a crash midway) is never used.
async fn build_template(
    admin: &mut PgConnection,
    server: &str,
    template: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let building = format!("{template}_new");
    admin.execute(&*format!(r#"DROP DATABASE IF EXISTS "{building}" WITH (FORCE)"#)).await?;
    admin.execute(&*format!(r#"CREATE DATABASE "{building}""#)).await?;
    let store = PostgresStore::connect(&with_database(server, &building)).await?;
    store.close().await;
    // Nobody else knows this database, but one session left behind (by a
    // killed run, say) would keep it from being renamed: end any.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&building)
    .execute(&mut *admin)
    .await?;
    execute_when_free(admin, &format!(r#"ALTER DATABASE "{building}" RENAME TO "{template}""#)).await?;
    // Nobody connects to the template, so copying it never finds it busy.
    admin.execute(&*format!(r#"ALTER DATABASE "{template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"#)).await?;
    Ok(())
}

/// A short, stable name for the migrations' contents (FNV-1a over their
/// versions and SHA-384 checksums): a schema change makes a new template.
fn migrations_hash() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for m in MIGRATOR.iter() {
        for byte in m.version.to_le_bytes().iter().chain(m.checksum.iter()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// Runs a statement that needs a database nobody is connected to (copying
/// or renaming it). The server itself waits 5 s for sessions to end; try a
/// few times more before giving up.
async fn execute_when_free(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    let mut attempts = 0;
    loop {
        match conn.execute(sql).await {
            // 55006 object_in_use: "database ... is being accessed by other users".
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55006") && attempts < 3 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other.map(|_| ()),
        }
    }
}

async fn connect(url: &str) -> PgConnection {
    let advice = "Start PostgreSQL (e.g. `pg_ctlcluster <version> main start`) or set SIGMA_TEST_POSTGRES_URL \
                  to a server where this user may create databases";
    match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(url)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!("cannot connect to PostgreSQL at {}: {e}. {advice}.", redact(url)),
        Err(_) => panic!("PostgreSQL at {} did not answer within 10 s. {advice}.", redact(url)),
    }
}

/// `url` with its path replaced by `/<database>`; the query string is kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[host_start..].find('/').map_or(base.len(), |i| host_start + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    let host_start = url.find("://").map_or(0, |i| i + 3);
    let Some(at) = url[host_start..].find('@').map(|i| host_start + i) else { return url.to_owned() };
    match url[host_start..at].find(':') {
        Some(colon) => format!("{}:***{}", &url[..host_start + colon], &url[at..]),
        None => url.to_owned(),
    }
}

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
