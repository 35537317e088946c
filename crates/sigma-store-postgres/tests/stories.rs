//! The backend-independent store stories, on a fresh PostgreSQL database each.

use sigma_store_postgres::PostgresStore;
use sigma_store_postgres::testing::scratch_database;

async fn fresh() -> Box<PostgresStore> {
    let url = scratch_database().await;
    Box::new(PostgresStore::connect(&url).await.expect("open the scratch database"))
}

sigma_store::story_tests!(fresh);
