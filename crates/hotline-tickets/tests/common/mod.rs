//! Shared by the test binaries: a fresh database per test on SQLite (a temp dir) and PostgreSQL
//! (`HOTLINE_TEST_PG_URL`, each test in a database of its own; start one with
//! `scripts/pg-test-server.sh`), and `suite!`, which runs each listed test on both.
#![allow(dead_code)] // each test binary uses its own subset

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use hotline_tickets::*;

pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

/// Replaces the database name (the path) of a postgres URL, keeping any `?query`.
pub fn with_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_start..]
        .find('/')
        .map(|i| i + authority_start)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        // A nested directory that does not exist yet: connect must create it.
        let url = format!("sqlite://{}/data/hotline.db", dir.path().display());
        TestDb::Sqlite { _dir: dir, url }
    }

    pub async fn postgres() -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("HOTLINE_TEST_PG_URL") else {
            eprintln!("skipping: HOTLINE_TEST_PG_URL unset");
            return None;
        };
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "hotline_t_{}_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            Utc::now().timestamp_micros()
        );
        let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let url = with_db_name(&admin_url, &name);
        Some(TestDb::Postgres {
            admin_url,
            name,
            url,
        })
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub async fn store(&self) -> TicketStore {
        TicketStore::connect(self.url()).await.unwrap()
    }

    pub async fn cleanup(self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        }
    }
}

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn new_ticket(caller: &str, at: DateTime<Utc>) -> NewVoiceTicket {
    NewVoiceTicket {
        caller: caller.into(),
        line: "12345".into(),
        call_id: format!("call-{caller}-{}", at.timestamp_micros()),
        created_at: at,
    }
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::sqlite();
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}
