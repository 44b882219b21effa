//! Synthetic finished tickets for load tests and report benchmarks (`hotline tickets generate`).
//!
//! [`generate`] bulk-inserts `count` tickets received over the `days` days before `end`, every one in
//! a final state (closed, archived, merged, handed off, rejected) with KPI facts consistent with it:
//! a ticket closed at intake was never dispatched; a dispatched one has sign / resolve deadlines and
//! their overdue flags from its signing and reply times; a called-back one has a grade only when the
//! caller was reached; and so on. The same `seed`, `count`, `days` and `end` give the same tickets.
//!
//! Numbers are `G<YYYYMMDD>-<seq>` (local day of `received_at`, `seq` 9 digits, continuing after the
//! generated tickets already present), which never collide with real `YYYYMMDD-NNNNNN` numbers.
//!
//! Speed: multi-row `INSERT ... VALUES` of [`ROWS_PER_STATEMENT`] rows, the values written as SQL
//! literals (all of them come from fixed tables and numbers here, never from input), sent unprepared
//! (`raw_sql`: no statement cache filled with one-off texts), [`ROWS_PER_TRANSACTION`] rows per
//! transaction. `TRUE`/`FALSE`/`NULL` and RFC 3339 text are read by SQLite (INTEGER 0/1, TEXT, in the
//! exact format sqlx writes) and PostgreSQL (BOOLEAN, TIMESTAMPTZ) alike.

use std::fmt::Write as _;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::{local_day, Result, TicketError, TicketStore};

pub const ROWS_PER_STATEMENT: usize = 2_000;
pub const ROWS_PER_TRANSACTION: usize = 50_000;

#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub count: u64,
    pub seed: u64,
    /// Tickets are received in `[end - days, end)`; at least 1.
    pub days: u32,
    pub end: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct GenerateStats {
    pub rows: u64,
    pub elapsed: StdDuration,
}

impl GenerateStats {
    pub fn rows_per_sec(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.rows as f64 / s
        } else {
            0.0
        }
    }
}

/// SplitMix64: small, fast, deterministic across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// Picks by integer weight.
    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (v, w) in items {
            if x < u64::from(*w) {
                return *v;
            }
            x -= u64::from(*w);
        }
        items[items.len() - 1].0
    }
    /// Exponential-ish duration with the given mean (seconds), capped at 10 × mean.
    fn exp_secs(&mut self, mean: f64) -> Duration {
        let u = ((self.next() >> 11) as f64 + 1.0) / ((1u64 << 53) as f64 + 1.0);
        let s = (-u.ln() * mean).min(mean * 10.0);
        Duration::seconds(s as i64)
    }
}

const CHANNELS: &[(&str, u32)] = &[
    ("voice", 700),
    ("wechat", 80),
    ("web", 60),
    ("app", 60),
    ("sms", 30),
    ("mailbox", 20),
    ("transfer_110", 30),
    ("other", 20),
];

const TYPES: &[(&str, u32)] = &[
    ("consult", 45),
    ("help", 20),
    ("complaint", 20),
    ("report", 5),
    ("suggestion", 6),
    ("praise", 2),
    ("other", 2),
];

const URGENCIES: &[(&str, u32)] = &[("normal", 93), ("urgent", 6), ("critical", 1)];

const CATEGORIES: &[(&str, &[&str])] = &[
    (
        "urban_management",
        &["noise", "street_vendors", "illegal_building", "sanitation"],
    ),
    (
        "housing",
        &["property_management", "rent", "maintenance", "elevator"],
    ),
    ("transport", &["bus", "taxi", "parking", "road_damage"]),
    ("environment", &["air", "water_pollution", "waste"]),
    ("labour", &["wage_arrears", "social_insurance", "contract"]),
    ("health", &["hospital", "medical_insurance", "food_safety"]),
    ("education", &["enrolment", "fees", "training"]),
    ("market", &["consumer_rights", "prices", "fraud"]),
    ("utilities", &["water", "power", "gas"]),
    (
        "public_security",
        &["household_registration", "traffic_police"],
    ),
];

const DISTRICTS: &[&str] = &[
    "futian",
    "luohu",
    "nanshan",
    "yantian",
    "baoan",
    "longgang",
    "longhua",
    "pingshan",
    "guangming",
    "dapeng",
];

/// Local hour of day (UTC+8) by weight: calls peak in office hours.
const HOURS: &[(i64, u32)] = &[
    (0, 5),
    (1, 3),
    (2, 2),
    (3, 2),
    (4, 2),
    (5, 3),
    (6, 8),
    (7, 20),
    (8, 60),
    (9, 90),
    (10, 95),
    (11, 85),
    (12, 50),
    (13, 60),
    (14, 85),
    (15, 90),
    (16, 80),
    (17, 60),
    (18, 40),
    (19, 35),
    (20, 30),
    (21, 20),
    (22, 12),
    (23, 8),
];

fn hour_of(rng: &mut Rng) -> i64 {
    rng.weighted(HOURS)
}

fn lit_ts(t: DateTime<Utc>) -> String {
    format!("'{}'", t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
}

fn lit_opt_ts(t: Option<DateTime<Utc>>) -> String {
    t.map(lit_ts).unwrap_or_else(|| "NULL".into())
}

fn lit_opt_bool(b: Option<bool>) -> &'static str {
    match b {
        None => "NULL",
        Some(true) => "TRUE",
        Some(false) => "FALSE",
    }
}

const COLUMNS: &str = "number, channel, caller, line, call_id, created_at, state, ticket_type, \
     urgency, category, category_major, area, district, received_at, updated_at, lead_unit, \
     repeat_of, dispatched_at, replied_at, closed_at, closed_at_intake, returns_approved, \
     extensions_approved, sign_due, signed_at, sign_overdue, resolve_due, resolve_overdue, \
     callback_at, callback_reached, caller_resolved, satisfied, satisfied_strict, reopen_count, \
     first_response_due, first_response_at";

/// Appends the `(…)` values of the `run_index`-th ticket (0-based) of this run, numbered `seq`, to
/// `out`; `max_id` is the largest ticket id before the run.
fn ticket_values(
    out: &mut String,
    rng: &mut Rng,
    o: &GenerateOptions,
    seq: u64,
    run_index: u64,
    max_id: i64,
) {
    let days = i64::from(o.days.max(1));
    // One of the `days` local days up to the one holding `end`, an hour by weight, a second in it.
    let last_day = (o.end - Duration::seconds(1) + Duration::hours(8)).date_naive();
    let day = last_day - Duration::days(rng.below(days as u64) as i64);
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default()
        + Duration::hours(hour_of(rng))
        + Duration::seconds(rng.below(3600) as i64);
    let mut received = local.and_utc() - Duration::hours(8);
    if received >= o.end {
        // Later than `end` on its own day: the same time `days` days earlier is inside the window.
        received -= Duration::days(days);
    }

    let channel = rng.weighted(CHANNELS);
    let ttype = rng.weighted(TYPES);
    let urgency = rng.weighted(URGENCIES);
    let (major, minors) = CATEGORIES[rng.below(CATEGORIES.len() as u64) as usize];
    let minor = minors[rng.below(minors.len() as u64) as usize];
    let district = DISTRICTS[rng.below(DISTRICTS.len() as u64) as usize];
    let street = rng.below(8) + 1;
    let caller = format!("13{:09}", rng.below(400_000));
    let number = format!("G{}-{seq:09}", local_day(received));

    // The outcome: 2 % rejected, 2 % handed off (110/120), 3 % merged, the rest closed (some archived).
    let fate = rng.weighted(&[
        ("rejected", 2),
        ("handed_off", 2),
        ("merged", 3),
        ("done", 93),
    ]);
    let intake_p = match ttype {
        "consult" => 0.8,
        "praise" | "suggestion" => 0.5,
        _ => 0.12,
    };
    let at_intake = fate == "done" && rng.chance(intake_p);
    let dispatched = fate == "merged" && rng.chance(0.5) || fate == "done" && !at_intake;

    let mut v = Facts::default();
    let accept_delay = rng.exp_secs(300.0) + Duration::seconds(60);
    if at_intake {
        v.closed_at_intake = true;
        v.closed_at = Some(received + accept_delay);
    }
    let mut updated = received + accept_delay;
    if dispatched {
        let unit = rng.below(40) as i64 + 1;
        v.lead_unit = Some(unit);
        let dispatched_at = received + accept_delay + rng.exp_secs(1800.0);
        v.dispatched_at = Some(dispatched_at);
        let (sign_h, resolve_h) = match urgency {
            "critical" => (1, 24),
            "urgent" => (2, 72),
            _ => (4, 5 * 24),
        };
        // Units differ: unit n signs late and replies slowly somewhat more often the larger n is.
        let slowness = 1.0 + unit as f64 / 40.0;
        let sign_due = dispatched_at + Duration::hours(sign_h);
        let signed_at = dispatched_at + rng.exp_secs(3600.0 * slowness * sign_h as f64 / 4.0);
        v.sign_due = Some(sign_due);
        v.signed_at = Some(signed_at);
        v.sign_overdue = Some(signed_at > sign_due);
        v.first_response_due = Some(dispatched_at + Duration::hours(24));
        v.first_response_at = Some(signed_at + rng.exp_secs(6.0 * 3600.0));
        v.returns_approved = rng.weighted(&[(0, 900), (1, 85), (2, 15)]);
        v.extensions_approved = rng.weighted(&[(0, 94), (1, 6)]);
        let mut resolve_due = dispatched_at + Duration::hours(resolve_h);
        if v.extensions_approved > 0 {
            resolve_due += Duration::hours(resolve_h);
        }
        v.resolve_due = Some(resolve_due);
        if fate == "merged" {
            updated = signed_at;
        } else {
            let replied = signed_at + rng.exp_secs(resolve_h as f64 * 3600.0 * 0.35 * slowness);
            v.replied_at = Some(replied);
            v.resolve_overdue = Some(replied > resolve_due);
            // 92 % are called back (the rest closed without: unreachable numbers, anonymous callers).
            let mut closed = replied + rng.exp_secs(12.0 * 3600.0);
            if rng.chance(0.92) {
                let cb = replied + rng.exp_secs(10.0 * 3600.0);
                v.callback_at = Some(cb);
                let reached = rng.chance(0.85);
                v.callback_reached = Some(reached);
                if reached {
                    v.caller_resolved = Some(rng.chance(0.75));
                    let satisfied = rng.chance(0.88);
                    v.satisfied = Some(satisfied);
                    v.satisfied_strict = Some(satisfied && rng.chance(0.7));
                    if !satisfied && rng.chance(0.3) {
                        v.reopen_count = 1;
                    }
                }
                closed = cb + Duration::minutes(5);
                if v.reopen_count > 0 {
                    closed += rng.exp_secs(3.0 * 24.0 * 3600.0);
                }
            }
            v.closed_at = Some(closed);
            updated = closed;
        }
    } else if let Some(c) = v.closed_at {
        updated = c;
    }
    let state = match fate {
        "done"
            if v.closed_at.is_some_and(|c| c < o.end - Duration::days(30)) && rng.chance(0.5) =>
        {
            "archived"
        }
        "done" => "closed",
        other => other,
    };
    // ~7 % repeat an earlier ticket (of this run: ids are assigned in insertion order).
    let repeat_of =
        (run_index > 0 && rng.chance(0.07)).then(|| max_id + 1 + rng.below(run_index) as i64);

    let s = |t: &str| format!("'{t}'");
    let _ = write!(
        out,
        "({number}, {channel}, {caller}, '12345', 'gen-{seed}-{seq}', {created}, {state}, {ttype}, \
         {urgency}, '{major}.{minor}', {major_lit}, '{district}.s{street}', {district_lit}, {received}, \
         {updated}, {lead_unit}, {repeat_of}, {dispatched_at}, {replied_at}, {closed_at}, {intake}, \
         {returns}, {extensions}, {sign_due}, {signed_at}, {sign_overdue}, {resolve_due}, \
         {resolve_overdue}, {callback_at}, {reached}, {resolved}, {satisfied}, {strict}, {reopen}, \
         {fr_due}, {fr_at})",
        number = s(&number),
        channel = s(channel),
        caller = s(&caller),
        seed = o.seed,
        created = lit_ts(received),
        state = s(state),
        ttype = s(ttype),
        urgency = s(urgency),
        major_lit = s(major),
        district_lit = s(district),
        received = lit_ts(received),
        updated = lit_ts(updated),
        lead_unit = v.lead_unit.map_or("NULL".into(), |u| u.to_string()),
        repeat_of = repeat_of.map_or("NULL".into(), |u| u.to_string()),
        dispatched_at = lit_opt_ts(v.dispatched_at),
        replied_at = lit_opt_ts(v.replied_at),
        closed_at = lit_opt_ts(v.closed_at),
        intake = lit_opt_bool(Some(v.closed_at_intake)),
        returns = v.returns_approved,
        extensions = v.extensions_approved,
        sign_due = lit_opt_ts(v.sign_due),
        signed_at = lit_opt_ts(v.signed_at),
        sign_overdue = lit_opt_bool(v.sign_overdue),
        resolve_due = lit_opt_ts(v.resolve_due),
        resolve_overdue = lit_opt_bool(v.resolve_overdue),
        callback_at = lit_opt_ts(v.callback_at),
        reached = lit_opt_bool(v.callback_reached),
        resolved = lit_opt_bool(v.caller_resolved),
        satisfied = lit_opt_bool(v.satisfied),
        strict = lit_opt_bool(v.satisfied_strict),
        reopen = v.reopen_count,
        fr_due = lit_opt_ts(v.first_response_due),
        fr_at = lit_opt_ts(v.first_response_at),
    );
}

#[derive(Default)]
struct Facts {
    lead_unit: Option<i64>,
    dispatched_at: Option<DateTime<Utc>>,
    replied_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    closed_at_intake: bool,
    returns_approved: i32,
    extensions_approved: i32,
    sign_due: Option<DateTime<Utc>>,
    signed_at: Option<DateTime<Utc>>,
    sign_overdue: Option<bool>,
    resolve_due: Option<DateTime<Utc>>,
    resolve_overdue: Option<bool>,
    callback_at: Option<DateTime<Utc>>,
    callback_reached: Option<bool>,
    caller_resolved: Option<bool>,
    satisfied: Option<bool>,
    satisfied_strict: Option<bool>,
    reopen_count: i32,
    first_response_due: Option<DateTime<Utc>>,
    first_response_at: Option<DateTime<Utc>>,
}

/// Inserts the tickets of `o` (see the module doc); returns how many and how long it took.
/// [`TicketError::InvalidFilter`] if `days` is 0.
pub async fn generate(store: &TicketStore, o: &GenerateOptions) -> Result<GenerateStats> {
    if o.days == 0 {
        return Err(TicketError::InvalidFilter("days: must be >= 1".into()));
    }
    let started = Instant::now();
    // Generated tickets already there: numbering continues after them (a second run never collides).
    let (existing, max_id): (i64, i64) = with_pool!(store, p => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM tickets WHERE number LIKE 'G%'), \
             (SELECT COALESCE(MAX(id), 0) FROM tickets)",
        )
        .fetch_one(p)
        .await?
    });
    let first_seq = u64::try_from(existing).unwrap_or(0) + 1;
    let mut rng = Rng(o.seed);
    let mut done: u64 = 0;
    while done < o.count {
        let in_tx = (o.count - done).min(ROWS_PER_TRANSACTION as u64);
        let mut statements = Vec::new();
        let mut left = in_tx;
        while left > 0 {
            let n = left.min(ROWS_PER_STATEMENT as u64);
            let mut sql = String::with_capacity(n as usize * 700);
            let _ = write!(sql, "INSERT INTO tickets ({COLUMNS}) VALUES ");
            for i in 0..n {
                if i > 0 {
                    sql.push_str(", ");
                }
                let run_index = done + (in_tx - left) + i;
                // Ids follow insertion order in one writer's run; repeat_of points at earlier ones.
                ticket_values(
                    &mut sql,
                    &mut rng,
                    o,
                    first_seq + run_index,
                    run_index,
                    max_id,
                );
            }
            statements.push(sql);
            left -= n;
        }
        with_pool!(store, p => {
            let mut tx = p.begin().await?;
            for sql in &statements {
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        done += in_tx;
    }
    Ok(GenerateStats {
        rows: done,
        elapsed: started.elapsed(),
    })
}
