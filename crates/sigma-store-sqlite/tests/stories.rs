//! The backend-independent store stories, on a fresh SQLite database each.

use sigma_store_sqlite::SqliteStore;

async fn fresh() -> Box<SqliteStore> {
    let dir = std::env::temp_dir().join(format!("sigma-test-{}", uuid::Uuid::now_v7()));
    let url = format!("sqlite://{}/sigma.db", dir.display());
    Box::new(SqliteStore::connect(&url).await.expect("open SQLite"))
}

sigma_store::story_tests!(fresh);
