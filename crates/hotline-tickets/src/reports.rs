//! KPI reports over tickets (考核指标报表): one `GROUP BY` over `tickets`, no event replay.
//!
//! The routing core keeps, on every ticket, the facts the KPIs count (migration 0005: `state`,
//! `dispatched_at`, `replied_at`, `closed_at`, `closed_at_intake`, `returns_approved`,
//! `extensions_approved`, `sign_overdue`, `resolve_overdue`, `callback_at`, `callback_reached`,
//! `caller_resolved`, `satisfied`, `satisfied_strict`, `reopen_count`, `repeat_of`). A report selects
//! the tickets whose `received_at` falls in `[from, to)` (tickets without `received_at` are never
//! counted), narrowed by the filters, groups them by the requested dimensions and counts, for each
//! KPI, a numerator and a denominator; the rate is `numerator / denominator`, `None` when the
//! denominator is 0. Counts are additive, so the total row is the sum of the group rows.
//!
//! Definitions (a boolean fact that is NULL, "not applicable yet", is neither true nor false):
//!
//! | KPI | 中文 | numerator | denominator |
//! |---|---|---|---|
//! | `direct_close` | 直接办结率 | accepted tickets with `closed_at_intake` | accepted tickets: `state` not `draft` nor `rejected` (不予受理) |
//! | `dispatch_accuracy` | 派单准确率 | dispatched tickets with `returns_approved = 0` | dispatched tickets: `dispatched_at` set |
//! | `sign_timely` | 签收及时率 | `sign_overdue` false | lead assignment signed or overdue: `sign_overdue` not NULL |
//! | `on_time` | 按时办结率 | of the denominator, `resolve_overdue` false | resolve clock stopped: `replied_at` set and `resolve_overdue` not NULL |
//! | `overdue` | 超期率 | dispatched tickets with `resolve_overdue` true (replied late, or still open past due) | dispatched tickets |
//! | `extension` | 延期率 | dispatched tickets with `extensions_approved > 0` | dispatched tickets |
//! | `callback` | 回访率 | of the denominator, `callback_at` set | replies approved for callback: `replied_at` set and (`callback_at` set or `state` in `pending_callback`, `closed`, `archived`) |
//! | `resolution` | 解决率 | reached callbacks with `caller_resolved` true | callbacks that reached the caller: `callback_reached` true |
//! | `satisfaction` | 满意率 | `satisfied` true | graded: `satisfied` not NULL |
//! | `satisfaction_strict` | 满意率(严格) | `satisfied_strict` true | graded: `satisfied_strict` not NULL |
//! | `reopen` | 重办率 | of the denominator, `reopen_count > 0` | closed after dispatch: `closed_at` and `dispatched_at` set |
//! | `first_time` | 一次办结率 | closed tickets with `reopen_count = 0` and `returns_approved = 0` | closed tickets: `closed_at` set (at intake or after dispatch) |
//! | `repeat` | 重复来电率 | tickets with `repeat_of` set | all tickets of the row |
//!
//! Dimensions ([`Dim`]): `day`, `week` (the Monday, `YYYY-MM-DD`, of the ISO week) and `month`
//! (`YYYY-MM`) of `received_at` in China time (UTC+8, computed in SQL: SQLite `strftime` with
//! `'+8 hours'`, PostgreSQL `to_char` / `date_trunc` on the UTC time plus 8 hours, so neither
//! depends on the server's time zone); `unit` (`lead_unit`), `category` (the full `major.minor`),
//! `category_major`, `area`, `district`, `channel` and `type` (`ticket_type`). A NULL key is `""`.
//! Filters: `unit` (`lead_unit`), `category` (the full category or its major), `area`, `channel`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{local_midnight, ts, Backend, Result, TicketError, TicketStore};

/// A grouping dimension of a report.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    Day,
    Week,
    Month,
    Unit,
    Category,
    CategoryMajor,
    Area,
    District,
    Channel,
    Type,
}

impl Dim {
    pub const ALL: &'static [Dim] = &[
        Dim::Day,
        Dim::Week,
        Dim::Month,
        Dim::Unit,
        Dim::Category,
        Dim::CategoryMajor,
        Dim::Area,
        Dim::District,
        Dim::Channel,
        Dim::Type,
    ];

    /// The key name in [`ReportRow::keys`], in query strings and CSV headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Day => "day",
            Dim::Week => "week",
            Dim::Month => "month",
            Dim::Unit => "unit",
            Dim::Category => "category",
            Dim::CategoryMajor => "category_major",
            Dim::Area => "area",
            Dim::District => "district",
            Dim::Channel => "channel",
            Dim::Type => "type",
        }
    }

    /// Chinese column name of the CSV header.
    pub fn label_zh(self) -> &'static str {
        match self {
            Dim::Day => "日期",
            Dim::Week => "周",
            Dim::Month => "月份",
            Dim::Unit => "承办单位",
            Dim::Category => "诉求分类",
            Dim::CategoryMajor => "诉求大类",
            Dim::Area => "区域",
            Dim::District => "行政区",
            Dim::Channel => "渠道",
            Dim::Type => "工单类型",
        }
    }

    /// SQL expression of the key (text or NULL). Only the period buckets differ per backend.
    fn sql(self, pg: bool) -> &'static str {
        // PostgreSQL: `received_at AT TIME ZONE 'UTC'` is the UTC wall time whatever the session's
        // TimeZone; + 8 hours makes it China's. SQLite parses the stored RFC 3339 text (offset included).
        match (self, pg) {
            (Dim::Day, false) => "strftime('%Y-%m-%d', received_at, '+8 hours')",
            (Dim::Day, true) => {
                "to_char((received_at AT TIME ZONE 'UTC') + INTERVAL '8 hours', 'YYYY-MM-DD')"
            }
            // 'weekday 0' moves forward to Sunday (or stays), -6 days is that week's Monday.
            (Dim::Week, false) => "date(received_at, '+8 hours', 'weekday 0', '-6 days')",
            (Dim::Week, true) => {
                "to_char(date_trunc('week', (received_at AT TIME ZONE 'UTC') + INTERVAL '8 hours'), \
                 'YYYY-MM-DD')"
            }
            (Dim::Month, false) => "strftime('%Y-%m', received_at, '+8 hours')",
            (Dim::Month, true) => {
                "to_char((received_at AT TIME ZONE 'UTC') + INTERVAL '8 hours', 'YYYY-MM')"
            }
            (Dim::Unit, _) => "CAST(lead_unit AS TEXT)",
            (Dim::Category, _) => "category",
            (Dim::CategoryMajor, _) => "category_major",
            (Dim::Area, _) => "area",
            (Dim::District, _) => "district",
            (Dim::Channel, _) => "channel",
            (Dim::Type, _) => "ticket_type",
        }
    }
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dim {
    type Err = TicketError;
    fn from_str(s: &str) -> Result<Dim> {
        Dim::ALL
            .iter()
            .copied()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Dim::ALL.iter().map(|d| d.as_str()).collect();
                TicketError::InvalidFilter(format!(
                    "unknown group_by dimension {s:?} (expected {})",
                    names.join(", ")
                ))
            })
    }
}

/// Parses `day,unit` (empty items ignored; a repeated dimension is an error).
pub fn parse_dims(s: &str) -> Result<Vec<Dim>> {
    let mut dims = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let d: Dim = item.parse()?;
        if dims.contains(&d) {
            return Err(TicketError::InvalidFilter(format!(
                "group_by: {item} given twice"
            )));
        }
        dims.push(d);
    }
    Ok(dims)
}

/// What to report on: tickets received in `[from, to)`, grouped by `group_by` (in that order).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReportQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[serde(default)]
    pub group_by: Vec<Dim>,
    /// Lead unit id.
    #[serde(default)]
    pub unit: Option<i64>,
    /// A full category (`major.minor`) or a major category.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
}

impl ReportQuery {
    /// All tickets received in `[from, to)`, no grouping, no filter.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> ReportQuery {
        ReportQuery {
            from,
            to,
            group_by: Vec::new(),
            unit: None,
            category: None,
            area: None,
            channel: None,
        }
    }
}

/// A report period in China time, turned into a UTC `[from, to)` by [`ReportPeriod::range`].
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportPeriod {
    /// One local day.
    Daily(NaiveDate),
    /// The ISO week (Monday to Sunday) containing the date (normally its Monday).
    Weekly(NaiveDate),
    /// A calendar month: (year, month 1..=12).
    Monthly(i32, u32),
}

impl ReportPeriod {
    /// `[from, to)` in UTC: local midnights (UTC+8) at the start and after the end of the period.
    /// [`TicketError::InvalidFilter`] for a month outside 1..=12 or a date out of range.
    pub fn range(&self) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
        let out_of_range = || TicketError::InvalidFilter(format!("period {self:?} out of range"));
        let (first, next) = match *self {
            ReportPeriod::Daily(d) => (d, d.succ_opt().ok_or_else(out_of_range)?),
            ReportPeriod::Weekly(d) => {
                let monday = d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
                let next = monday
                    .checked_add_signed(Duration::days(7))
                    .ok_or_else(out_of_range)?;
                (monday, next)
            }
            ReportPeriod::Monthly(y, m) => {
                let first = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(|| {
                    TicketError::InvalidFilter(format!("month {y:04}-{m:02} is not a month"))
                })?;
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(y + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(y, m + 1, 1)
                }
                .ok_or_else(out_of_range)?;
                (first, next)
            }
        };
        Ok((local_midnight(first)?, local_midnight(next)?))
    }
}

/// One KPI of a row: `rate = numerator / denominator`, `None` when the denominator is 0.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Default)]
pub struct Kpi {
    pub numerator: u64,
    pub denominator: u64,
    pub rate: Option<f64>,
}

impl Kpi {
    fn new(numerator: u64, denominator: u64) -> Kpi {
        Kpi {
            numerator,
            denominator,
            rate: (denominator > 0).then(|| numerator as f64 / denominator as f64),
        }
    }

    fn add(self, other: Kpi) -> Kpi {
        Kpi::new(
            self.numerator + other.numerator,
            self.denominator + other.denominator,
        )
    }
}

/// The KPIs in report order: (field name, Chinese name).
pub const KPI_NAMES: &[(&str, &str)] = &[
    ("direct_close", "直接办结率"),
    ("dispatch_accuracy", "派单准确率"),
    ("sign_timely", "签收及时率"),
    ("on_time", "按时办结率"),
    ("overdue", "超期率"),
    ("extension", "延期率"),
    ("callback", "回访率"),
    ("resolution", "解决率"),
    ("satisfaction", "满意率"),
    ("satisfaction_strict", "满意率(严格)"),
    ("reopen", "重办率"),
    ("first_time", "一次办结率"),
    ("repeat", "重复来电率"),
];

/// One group of a report (or the total, with empty `keys`). See the module doc for the definitions.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ReportRow {
    /// Dimension name → value (`""` for NULL).
    pub keys: BTreeMap<String, String>,
    pub tickets: u64,
    pub direct_close: Kpi,
    pub dispatch_accuracy: Kpi,
    pub sign_timely: Kpi,
    pub on_time: Kpi,
    pub overdue: Kpi,
    pub extension: Kpi,
    pub callback: Kpi,
    pub resolution: Kpi,
    pub satisfaction: Kpi,
    pub satisfaction_strict: Kpi,
    pub reopen: Kpi,
    pub first_time: Kpi,
    pub repeat: Kpi,
}

impl ReportRow {
    /// The KPIs in [`KPI_NAMES`] order.
    pub fn kpis(&self) -> [Kpi; 13] {
        [
            self.direct_close,
            self.dispatch_accuracy,
            self.sign_timely,
            self.on_time,
            self.overdue,
            self.extension,
            self.callback,
            self.resolution,
            self.satisfaction,
            self.satisfaction_strict,
            self.reopen,
            self.first_time,
            self.repeat,
        ]
    }

    fn from_kpis(keys: BTreeMap<String, String>, tickets: u64, k: [Kpi; 13]) -> ReportRow {
        let [direct_close, dispatch_accuracy, sign_timely, on_time, overdue, extension, callback, resolution, satisfaction, satisfaction_strict, reopen, first_time, repeat] =
            k;
        ReportRow {
            keys,
            tickets,
            direct_close,
            dispatch_accuracy,
            sign_timely,
            on_time,
            overdue,
            extension,
            callback,
            resolution,
            satisfaction,
            satisfaction_strict,
            reopen,
            first_time,
            repeat,
        }
    }
}

/// The result of [`TicketStore::kpi_report`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Report {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: Vec<Dim>,
    /// One row per group, ordered by the keys (in `group_by` order, units by number, `""` first); groups without tickets are absent.
    /// Without `group_by`, the single row of all tickets (none if there are none).
    pub rows: Vec<ReportRow>,
    /// Sum of `rows`, `keys` empty.
    pub total: ReportRow,
}

/// Numerator and denominator conditions, in [`KPI_NAMES`] order. Booleans are compared with
/// `= TRUE` / `= FALSE`, which SQLite (INTEGER 0/1) and PostgreSQL (BOOLEAN) both read; NULL matches neither.
const KPI_SQL: [(&str, &str); 13] = [
    (
        "state NOT IN ('draft', 'rejected') AND closed_at_intake = TRUE",
        "state NOT IN ('draft', 'rejected')",
    ),
    (
        "dispatched_at IS NOT NULL AND returns_approved = 0",
        "dispatched_at IS NOT NULL",
    ),
    ("sign_overdue = FALSE", "sign_overdue IS NOT NULL"),
    (
        "replied_at IS NOT NULL AND resolve_overdue = FALSE",
        "replied_at IS NOT NULL AND resolve_overdue IS NOT NULL",
    ),
    (
        "dispatched_at IS NOT NULL AND resolve_overdue = TRUE",
        "dispatched_at IS NOT NULL",
    ),
    (
        "dispatched_at IS NOT NULL AND extensions_approved > 0",
        "dispatched_at IS NOT NULL",
    ),
    (
        "replied_at IS NOT NULL AND callback_at IS NOT NULL",
        "replied_at IS NOT NULL AND (callback_at IS NOT NULL \
         OR state IN ('pending_callback', 'closed', 'archived'))",
    ),
    (
        "callback_reached = TRUE AND caller_resolved = TRUE",
        "callback_reached = TRUE",
    ),
    ("satisfied = TRUE", "satisfied IS NOT NULL"),
    ("satisfied_strict = TRUE", "satisfied_strict IS NOT NULL"),
    (
        "closed_at IS NOT NULL AND dispatched_at IS NOT NULL AND reopen_count > 0",
        "closed_at IS NOT NULL AND dispatched_at IS NOT NULL",
    ),
    (
        "closed_at IS NOT NULL AND reopen_count = 0 AND returns_approved = 0",
        "closed_at IS NOT NULL",
    ),
    ("repeat_of IS NOT NULL", "1 = 1"),
];

/// The report's SQL: keys `k0..`, `tickets`, then `n0, d0, n1, d1, ...`.
fn report_sql(group_by: &[Dim], pg: bool) -> String {
    let mut select = String::new();
    for (i, d) in group_by.iter().enumerate() {
        let _ = write!(select, "{} AS k{i}, ", d.sql(pg));
    }
    select.push_str("COUNT(*) AS tickets");
    for (i, (num, den)) in KPI_SQL.iter().enumerate() {
        let _ = write!(
            select,
            ", COUNT(CASE WHEN {num} THEN 1 END) AS n{i}, COUNT(CASE WHEN {den} THEN 1 END) AS d{i}"
        );
    }
    // "$n IS NULL OR ..." keeps one statement for every combination of filters.
    let mut sql = format!(
        "SELECT {select} FROM tickets \
         WHERE received_at >= $1 AND received_at < $2 \
         AND ($3 IS NULL OR lead_unit = $3) \
         AND ($4 IS NULL OR category = $4 OR category_major = $4) \
         AND ($5 IS NULL OR area = $5) \
         AND ($6 IS NULL OR channel = $6)"
    );
    if !group_by.is_empty() {
        let keys: Vec<String> = (0..group_by.len()).map(|i| format!("k{i}")).collect();
        let keys = keys.join(", ");
        let _ = write!(sql, " GROUP BY {keys}");
    }
    sql
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Rows of a report as `(keys, tickets, [(numerator, denominator); 13])`.
type RawRow = (Vec<Option<String>>, i64, [(i64, i64); 13]);

macro_rules! decode_rows {
    ($rows:expr, $nkeys:expr) => {{
        let mut out: Vec<RawRow> = Vec::with_capacity($rows.len());
        for r in &$rows {
            let mut keys = Vec::with_capacity($nkeys);
            for i in 0..$nkeys {
                keys.push(r.try_get::<Option<String>, _>(i)?);
            }
            let tickets: i64 = r.try_get($nkeys)?;
            let mut kpis = [(0i64, 0i64); 13];
            for (j, k) in kpis.iter_mut().enumerate() {
                *k = (
                    r.try_get($nkeys + 1 + 2 * j)?,
                    r.try_get($nkeys + 2 + 2 * j)?,
                );
            }
            out.push((keys, tickets, kpis));
        }
        out
    }};
}

impl TicketStore {
    /// The KPI report of `q` (definitions in the module doc). [`TicketError::InvalidFilter`] if `to`
    /// is before `from`.
    pub async fn kpi_report(&self, q: &ReportQuery) -> Result<Report> {
        if q.to < q.from {
            return Err(TicketError::InvalidFilter(format!(
                "to ({}) is before from ({})",
                q.to.to_rfc3339(),
                q.from.to_rfc3339()
            )));
        }
        let (from, to) = (ts(q.from), ts(q.to));
        let pg = matches!(self.backend, Backend::Postgres(_));
        let sql = report_sql(&q.group_by, pg);
        let nkeys = q.group_by.len();
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        let (category, area, channel) = (
            nonempty(&q.category),
            nonempty(&q.area),
            nonempty(&q.channel),
        );
        let raw: Vec<RawRow> = with_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(from)
                .bind(to)
                .bind(q.unit)
                .bind(category.as_deref())
                .bind(area.as_deref())
                .bind(channel.as_deref())
                .fetch_all(p)
                .await?;
            decode_rows!(rows, nkeys)
        });
        let mut rows = Vec::with_capacity(raw.len());
        let mut total = ReportRow::default();
        for (keys, tickets, kpis) in raw {
            if tickets == 0 {
                continue; // the aggregate row of an empty, ungrouped selection
            }
            let keys = q
                .group_by
                .iter()
                .zip(keys)
                .map(|(d, k)| (d.as_str().to_string(), k.unwrap_or_default()))
                .collect();
            let kpis = kpis.map(|(n, d)| Kpi::new(count(n), count(d)));
            let row = ReportRow::from_kpis(keys, count(tickets), kpis);
            let (a, b) = (total.kpis(), row.kpis());
            let sum: [Kpi; 13] = std::array::from_fn(|i| a[i].add(b[i]));
            total = ReportRow::from_kpis(BTreeMap::new(), total.tickets + row.tickets, sum);
            rows.push(row);
        }
        // Sorted here, not by ORDER BY: the backends disagree on where NULL goes and collations vary.
        rows.sort_by(|a, b| {
            for d in &q.group_by {
                let key = |r: &ReportRow| r.keys.get(d.as_str()).cloned().unwrap_or_default();
                let (x, y) = (key(a), key(b));
                let ord = match d {
                    Dim::Unit => (x.parse::<i64>().ok(), &x).cmp(&(y.parse::<i64>().ok(), &y)),
                    _ => x.cmp(&y),
                };
                if ord.is_ne() {
                    return ord;
                }
            }
            std::cmp::Ordering::Equal
        });
        Ok(Report {
            from,
            to,
            group_by: q.group_by.clone(),
            rows,
            total,
        })
    }
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// The report as CSV (UTF-8, no BOM, `\r\n` line ends): a header row of "中文 english" names — the
/// dimensions, 工单量 tickets, then numerator, denominator and rate of each KPI — one line per row,
/// then the total (its first key column reads `合计 total`). Rates have 4 decimals, empty when undefined.
pub fn to_csv(report: &Report) -> String {
    let mut out = String::new();
    let mut header: Vec<String> = report
        .group_by
        .iter()
        .map(|d| format!("{} {}", d.label_zh(), d.as_str()))
        .collect();
    header.push("工单量 tickets".into());
    for (name, zh) in KPI_NAMES {
        let base = zh.trim_end_matches('率');
        header.push(format!("{base}分子 {name}_numerator"));
        header.push(format!("{base}分母 {name}_denominator"));
        header.push(format!("{zh} {name}_rate"));
    }
    write_line(&mut out, header.iter().map(String::as_str));
    let line = |out: &mut String, keys: Vec<String>, row: &ReportRow| {
        let mut fields = keys;
        fields.push(row.tickets.to_string());
        for k in row.kpis() {
            fields.push(k.numerator.to_string());
            fields.push(k.denominator.to_string());
            fields.push(k.rate.map(|r| format!("{r:.4}")).unwrap_or_default());
        }
        write_line(out, fields.iter().map(String::as_str));
    };
    for row in &report.rows {
        let keys = report
            .group_by
            .iter()
            .map(|d| row.keys.get(d.as_str()).cloned().unwrap_or_default())
            .collect();
        line(&mut out, keys, row);
    }
    let mut keys = vec![String::new(); report.group_by.len()];
    if let Some(first) = keys.first_mut() {
        *first = "合计 total".into();
    }
    line(&mut out, keys, &report.total);
    out
}

fn write_line<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, f);
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_china_days() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (f, t) = ReportPeriod::Daily(d("2026-03-02")).range().unwrap();
        assert_eq!(f.to_rfc3339(), "2026-03-01T16:00:00+00:00");
        assert_eq!(t.to_rfc3339(), "2026-03-02T16:00:00+00:00");
        // 2026-03-04 is a Wednesday: its ISO week runs Monday 2 to Sunday 8 March.
        let (f, t) = ReportPeriod::Weekly(d("2026-03-04")).range().unwrap();
        assert_eq!(f.to_rfc3339(), "2026-03-01T16:00:00+00:00");
        assert_eq!(t.to_rfc3339(), "2026-03-08T16:00:00+00:00");
        let (f, t) = ReportPeriod::Monthly(2026, 12).range().unwrap();
        assert_eq!(f.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        assert_eq!(t.to_rfc3339(), "2026-12-31T16:00:00+00:00");
        assert!(ReportPeriod::Monthly(2026, 13).range().is_err());
    }

    #[test]
    fn dims_parse() {
        assert_eq!(parse_dims("day, unit,").unwrap(), vec![Dim::Day, Dim::Unit]);
        assert!(parse_dims("day,day").is_err());
        assert!(parse_dims("hour").is_err());
        for d in Dim::ALL {
            assert_eq!(d.as_str().parse::<Dim>().unwrap(), *d);
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
    }

    #[test]
    fn csv_quotes_and_header() {
        let report = Report {
            from: Utc::now(),
            to: Utc::now(),
            group_by: vec![Dim::Area],
            rows: vec![ReportRow {
                keys: [("area".to_string(), "a,\"b\"".to_string())].into(),
                tickets: 2,
                repeat: Kpi::new(1, 2),
                ..Default::default()
            }],
            total: ReportRow::default(),
        };
        let csv = to_csv(&report);
        let mut lines = csv.split("\r\n");
        let header = lines.next().unwrap();
        assert!(header.starts_with("区域 area,工单量 tickets,直接办结分子 direct_close_numerator,"));
        assert!(header.ends_with(",重复来电率 repeat_rate"));
        assert_eq!(header.split(',').count(), 2 + 13 * 3);
        let row = lines.next().unwrap();
        assert!(row.starts_with("\"a,\"\"b\"\"\",2,0,0,,"), "{row}");
        assert!(row.ends_with(",1,2,0.5000"), "{row}");
        assert!(lines.next().unwrap().starts_with("合计 total,0,"));
    }
}
