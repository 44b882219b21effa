//! `hotline audit verify` on a real SQLite database: OK on an intact chain, exit 1 naming the event after
//! someone edits the table behind the engine's back.

use std::process::Command;

use chrono::{Duration, Utc};
use hotline_workflow::{Actor, Channel, Clock, Role, Sla, TicketType, Urgency};

struct Hours;
impl Clock for Hours {
    fn due(&self, start: chrono::DateTime<Utc>, sla: Sla) -> chrono::DateTime<Utc> {
        match sla {
            Sla::Minutes(m) => start + Duration::minutes(i64::from(m)),
            Sla::Hours(h) => start + Duration::hours(i64::from(h)),
            Sla::WorkingDays(d) => start + Duration::days(i64::from(d)),
        }
    }
}

fn config(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("hotline.toml");
    std::fs::write(
        &path,
        format!(
            "[database]\nurl = \"{url}\"\n\n[[lines]]\nnumber = \"12345\"\nqueue = \"general\"\n\n\
             [[queues]]\nname = \"general\"\n\n[[agents]]\nid = \"1001\"\npassword = \"pw\"\nqueues = [\"general\"]\n"
        ),
    )
    .unwrap();
    path
}

fn verify(cfg: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("--config")
        .arg(cfg)
        .args(["audit", "verify"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_ok_then_broken() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/h.db", dir.path().display());
    let store = hotline_tickets::TicketStore::connect(&url).await.unwrap();
    let agent = Actor::new("1001", Role::Agent);
    for i in 0..3 {
        let new = hotline_tickets::routing::NewTicket {
            channel: Channel::Web,
            caller: format!("1380000000{i}"),
            caller_name: None,
            anonymous: false,
            confidential: false,
            received_at: None,
            ticket_type: TicketType::Consult,
            urgency: Urgency::Normal,
            category: None,
            category_major: None,
            area: None,
            district: None,
            address: None,
            content: "咨询社保卡补办".into(),
            request: None,
            tags: vec![],
            agent_id: None,
            call_id: None,
            line: None,
            first_response: None,
            repeat_window_days: 0,
            accept: true,
        };
        store
            .create_ticket(new, &agent, Utc::now(), &Hours)
            .await
            .unwrap();
    }
    store.close().await;
    let cfg = config(dir.path(), &url);
    let (code, out) = verify(&cfg, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit chain OK: 3 events"), "{out}");
    // The printed hash works as an anchor.
    let hash = out.split("hash ").nth(1).unwrap().trim().to_string();
    let (code, out) = verify(&cfg, &["--anchor", &format!("3:{hash}")]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify(&cfg, &["--anchor", "3:nothex"]);
    assert_eq!(code, 2, "{out}");

    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit_events SET after = '{}' WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (code, out) = verify(&cfg, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at event 2"), "{out}");
}
