//! `hotline tickets generate` (synthetic finished tickets, [`hotline_tickets::generate`]) and
//! `hotline tickets report` (a KPI report as CSV, [`hotline_tickets::reports`]): argument parsing
//! and printing only.

use std::process::ExitCode;
use std::time::Instant;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use clap::Subcommand;
use hotline_tickets::generate::{generate, GenerateOptions};
use hotline_tickets::reports::{parse_dims, to_csv, ReportPeriod, ReportQuery};
use hotline_tickets::TicketStore;

#[derive(Subcommand)]
pub enum TicketsCommand {
    /// Insert N synthetic finished tickets (numbered G<day>-<seq>) spread over the last D days;
    /// prints rows and rows/s.
    Generate {
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Database URL (default: the configured [database] url).
        #[arg(long)]
        database: Option<String>,
    },
    /// Print a KPI report (CSV with a Chinese + English header) of the tickets received in
    /// [from, to) or in a month; the time taken goes to stderr.
    Report {
        /// RFC 3339, or YYYY-MM-DD (that day's midnight in China, UTC+8).
        #[arg(long)]
        from: Option<String>,
        /// RFC 3339 (exclusive), or YYYY-MM-DD (the whole day included).
        #[arg(long)]
        to: Option<String>,
        /// YYYY-MM instead of --from/--to.
        #[arg(long)]
        month: Option<String>,
        /// Comma-separated: day, week, month, unit, category, category_major, area, district,
        /// channel, type.
        #[arg(long, default_value = "")]
        group_by: String,
        #[arg(long)]
        database: Option<String>,
    },
    /// Register N tickets through the intake path the API uses (numbering, repeat-caller check, accept,
    /// audit event, one transaction each) from C concurrent tasks; prints tickets/s. Writes real tickets:
    /// point it at a scratch database.
    BenchCreate {
        count: u64,
        #[arg(long, default_value_t = 8)]
        concurrency: u32,
        #[arg(long)]
        database: Option<String>,
    },
}

impl TicketsCommand {
    pub fn database(&self) -> Option<&str> {
        match self {
            TicketsCommand::Generate { database, .. }
            | TicketsCommand::Report { database, .. }
            | TicketsCommand::BenchCreate { database, .. } => database.as_deref(),
        }
    }
}

/// An instant, or the start (`day_end`: the end) of a China day.
fn bound(name: &str, s: &str, day_end: bool) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("--{name}: expected RFC 3339 or YYYY-MM-DD, got {s:?}"))?;
    let (start, end) = ReportPeriod::Daily(d)
        .range()
        .map_err(|e| format!("--{name}: {e}"))?;
    Ok(if day_end { end } else { start })
}

fn interval(
    from: Option<&str>,
    to: Option<&str>,
    month: Option<&str>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    match (from, to, month) {
        (None, None, Some(m)) => {
            let d = NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d")
                .map_err(|_| format!("--month: expected YYYY-MM, got {m:?}"))?;
            ReportPeriod::Monthly(d.year(), d.month())
                .range()
                .map_err(|e| e.to_string())
        }
        (Some(f), Some(t), None) => Ok((bound("from", f, false)?, bound("to", t, true)?)),
        _ => Err("give --from and --to, or --month".into()),
    }
}

/// Runs `cmd` against the database at `url`.
pub fn run(cmd: &TicketsCommand, url: &str) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let result = match cmd {
            TicketsCommand::Generate {
                count, seed, days, ..
            } => run_generate(url, *count, *seed, *days).await,
            TicketsCommand::BenchCreate {
                count, concurrency, ..
            } => run_bench_create(url, *count, *concurrency).await,
            TicketsCommand::Report {
                from,
                to,
                month,
                group_by,
                ..
            } => {
                run_report(
                    url,
                    from.as_deref(),
                    to.as_deref(),
                    month.as_deref(),
                    group_by,
                )
                .await
            }
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("hotline tickets: {e}");
                ExitCode::from(1)
            }
        }
    })
}

async fn connect(url: &str) -> Result<TicketStore, String> {
    TicketStore::connect(url)
        .await
        .map_err(|e| format!("database: {e}"))
}

/// One day = 24 h is enough here: creation computes no deadline.
struct PlainClock;

impl hotline_workflow::Clock for PlainClock {
    fn due(&self, start: DateTime<Utc>, sla: hotline_workflow::Sla) -> DateTime<Utc> {
        use hotline_workflow::Sla;
        let d = match sla {
            Sla::Minutes(m) => chrono::Duration::minutes(i64::from(m)),
            Sla::Hours(h) => chrono::Duration::hours(i64::from(h)),
            Sla::WorkingDays(n) => chrono::Duration::days(i64::from(n)),
        };
        start + d
    }
}

async fn run_bench_create(url: &str, count: u64, concurrency: u32) -> Result<(), String> {
    use hotline_workflow::{Actor, Channel, Role, TicketType, Urgency};
    if count == 0 || concurrency == 0 {
        return Err("count and --concurrency must be positive".into());
    }
    let store = connect(url).await?;
    let started = std::time::Instant::now();
    let per_task = count.div_ceil(u64::from(concurrency));
    let mut tasks = Vec::new();
    for task in 0..u64::from(concurrency) {
        let store = store.clone();
        let n = per_task.min(count.saturating_sub(task * per_task));
        tasks.push(tokio::spawn(async move {
            let agent = Actor::new("bench", Role::Agent);
            for i in 0..n {
                let k = task * per_task + i;
                let new = hotline_tickets::routing::NewTicket {
                    channel: Channel::Sms,
                    // A few thousand distinct callers: the repeat-caller lookup finds matches.
                    caller: format!("139{:08}", k % 5_000),
                    caller_name: None,
                    anonymous: false,
                    confidential: false,
                    received_at: None,
                    ticket_type: TicketType::Consult,
                    urgency: Urgency::Normal,
                    category: Some("traffic.parking".into()),
                    category_major: Some("traffic".into()),
                    area: None,
                    district: None,
                    address: None,
                    content: "咨询路边停车收费时段".into(),
                    request: None,
                    tags: Vec::new(),
                    agent_id: None,
                    call_id: None,
                    line: None,
                    first_response: Some(chrono::Duration::minutes(3)),
                    repeat_window_days: 7,
                    accept: true,
                };
                store
                    .create_ticket(new, &agent, Utc::now(), &PlainClock)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<u64, String>(n)
        }));
    }
    let mut made = 0u64;
    for t in tasks {
        made += t.await.map_err(|e| e.to_string())??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "created {made} tickets in {secs:.2} s: {:.0} tickets/s ({} backend, {concurrency} tasks)",
        made as f64 / secs.max(1e-9),
        store.backend_name()
    );
    store.close().await;
    Ok(())
}

async fn run_generate(url: &str, count: u64, seed: u64, days: u32) -> Result<(), String> {
    let store = connect(url).await?;
    let o = GenerateOptions {
        count,
        seed,
        days,
        end: Utc::now(),
    };
    let stats = generate(&store, &o).await.map_err(|e| e.to_string());
    store.close().await;
    let stats = stats?;
    println!(
        "generated {} tickets in {:.2} s: {:.0} rows/s",
        stats.rows,
        stats.elapsed.as_secs_f64(),
        stats.rows_per_sec()
    );
    Ok(())
}

async fn run_report(
    url: &str,
    from: Option<&str>,
    to: Option<&str>,
    month: Option<&str>,
    group_by: &str,
) -> Result<(), String> {
    let (from, to) = interval(from, to, month)?;
    let group_by = parse_dims(group_by).map_err(|e| e.to_string())?;
    let store = connect(url).await?;
    let mut q = ReportQuery::new(from, to);
    q.group_by = group_by;
    let started = Instant::now();
    let report = store.kpi_report(&q).await.map_err(|e| e.to_string());
    let secs = started.elapsed().as_secs_f64();
    store.close().await;
    let report = report?;
    print!("{}", to_csv(&report));
    eprintln!(
        "report: {} tickets, {} rows in {secs:.3} s",
        report.total.tickets,
        report.rows.len()
    );
    Ok(())
}
