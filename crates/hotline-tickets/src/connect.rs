//! Opening the database: SQLite (WAL, our `synchronous` parameter, the directory created) or PostgreSQL.

use super::*;

/// Splits our own `synchronous=normal|full` query parameter off a SQLite URL (sqlx does not know it).
pub(crate) fn sqlite_synchronous(url: &str) -> Result<(String, SqliteSynchronous)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), SqliteSynchronous::Normal));
    };
    let mut sync = SqliteSynchronous::Normal;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("synchronous") => {
                sync = match v.to_ascii_lowercase().as_str() {
                    "normal" => SqliteSynchronous::Normal,
                    "full" => SqliteSynchronous::Full,
                    other => {
                        return Err(TicketError::UnsupportedUrl(format!(
                            "synchronous={other} (use normal or full)"
                        )))
                    }
                };
            }
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, sync))
}

pub(crate) async fn connect_sqlite(url: &str) -> Result<SqlitePool> {
    let (url, synchronous) = sqlite_synchronous(url)?;
    let url = url.as_str();
    let opts = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !in_memory {
        create_parent_dir(opts.get_filename())?;
    }
    let pool_opts = if in_memory {
        // An in-memory database lives only as long as a connection to it: keep one forever.
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(1)
    };
    Ok(pool_opts
        .acquire_timeout(Duration::from_secs(30))
        // Waiting for the single connection is the normal way writes queue under load; a warning per
        // wait would flood the operator's log. Only waits that approach the timeout are worth one.
        .acquire_slow_threshold(Duration::from_secs(10))
        .connect_with(opts)
        .await?)
}

fn create_parent_dir(file: &Path) -> Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| TicketError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

pub(crate) async fn connect_pg(url: &str) -> Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn synchronous_parameter_is_ours_and_stripped() {
        let (u, s) = super::sqlite_synchronous("sqlite://data/h.db").unwrap();
        assert_eq!(
            (u.as_str(), s),
            ("sqlite://data/h.db", super::SqliteSynchronous::Normal)
        );
        let (u, s) =
            super::sqlite_synchronous("sqlite://data/h.db?synchronous=FULL&mode=rwc").unwrap();
        assert_eq!(
            (u.as_str(), s),
            (
                "sqlite://data/h.db?mode=rwc",
                super::SqliteSynchronous::Full
            )
        );
        assert!(super::sqlite_synchronous("sqlite://h.db?synchronous=off").is_err());
    }
}
