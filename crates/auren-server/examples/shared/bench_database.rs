//! The bench's own PostgreSQL database (`auren_bench_<uuid>` beside `AUREN_DATABASE_URL`'s), shared by the
//! server bench's examples (`#[path]`-included: an example cannot depend on another).

use uuid::Uuid;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The run's own database, dropped when the run ends, however it ends (runs used to leave theirs behind).
pub struct BenchDatabase {
    pub admin: sqlx::PgPool,
    pub name: String,
    pub url: String,
}

impl BenchDatabase {
    pub async fn create() -> Res<Self> {
        let admin_url = std::env::var("AUREN_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let admin = sqlx::PgPool::connect(&admin_url).await?;
        let name = format!("auren_bench_{}", Uuid::new_v4().simple());
        // The name is made here from a UUID's hex digits: nothing to inject.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await?;
        let (base, _) = admin_url
            .rsplit_once('/')
            .ok_or("AUREN_DATABASE_URL has no database")?;
        let url = format!("{base}/{name}");
        Ok(Self { admin, name, url })
    }

    /// Drops the database; FORCE ends the connections a killed server may have left open.
    pub async fn drop_now(self) -> Res<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&self.admin)
        .await?;
        self.admin.close().await;
        Ok(())
    }
}
