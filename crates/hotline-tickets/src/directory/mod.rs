//! The directory of the routing core: who handles tickets and who may log in.
//!
//! * Units (承办单位), a tree: centre → districts, departments, utilities, partner enterprises →
//!   streets → communities. Never deleted (tickets refer to them), only deactivated; a parent cycle
//!   is refused. [`TicketStore::seed_units`] loads the configured tree at start-up.
//! * Users with a role (admin, agent, supervisor, unit liaison) and a PBKDF2-HMAC-SHA256 password
//!   hash; bearer tokens (only their SHA-256 is stored) from [`TicketStore::login`].
//! * The dispatch catalogue (派单目录): ordered rules (category, area, time window, days) → lead unit
//!   and co-units, by unit code.
//! * Knowledge-base items (知识库), indexed in memory by the API (hotline-kb).
//! * Calendar edits (调休, extra days off) laid over the calendar files.
//!
//! Every write validates first and fails with [`TicketError::Invalid`] naming the field.

use serde::{Deserialize, Deserializer};

use crate::sos::{invalid, required};
use crate::{Result, TicketError, TicketStore};

mod calendar;
mod catalogue;
mod kb;
mod units;
mod users;

pub use calendar::*;
pub use catalogue::*;
pub use kb::*;
pub use units::*;
pub use users::*;

pub const MAX_CODE_CHARS: usize = 64;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_USER_ID_CHARS: usize = 64;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;
pub const MAX_NOTE_CHARS: usize = 500;
pub const MAX_QUESTION_CHARS: usize = 500;
pub const MAX_ANSWER_CHARS: usize = 20_000;
pub const MAX_KEYWORDS: usize = 50;
pub const MAX_KEYWORD_CHARS: usize = 50;
pub const MAX_CO_UNITS: usize = 20;
/// `Some(value)` for a present field, so `Option<Option<T>>` tells absent (`None`) from `null`
/// (`Some(None)`). Use with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn corrupt(what: impl Into<String>) -> TicketError {
    TicketError::Corrupt(what.into())
}

/// Letters, digits, `-`, `_`, `.`, `@`: codes and user ids travel in URLs and config files.
fn identifier(field: &str, s: &str, max: usize) -> Result<String> {
    let s = required(field, s, max)?;
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')))
    {
        return Err(invalid(
            field,
            format!("{c:?} not allowed (letters, digits, - _ . @ only)"),
        ));
    }
    Ok(s)
}

/// Prefixes the field of an error of the `i`-th item of a batch: `[i].field`.
fn at_index(i: usize, e: TicketError) -> TicketError {
    match e {
        TicketError::Invalid { field, reason } => TicketError::Invalid {
            field: format!("[{i}].{field}"),
            reason,
        },
        other => other,
    }
}

/// A row type read by `query_as` on either backend.
trait DbRow:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
}

impl<R> DbRow for R where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

/// A value bound as the one parameter (`$1`) of a query, on either backend.
trait Key:
    for<'q> sqlx::Encode<'q, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
    + for<'q> sqlx::Encode<'q, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
    + Send
    + 'static
{
}

impl<K> Key for K where
    K: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send
        + 'static
{
}

impl TicketStore {
    /// The row `sql` selects by its one parameter `key`, as `T`.
    async fn fetch_by<R: DbRow, T: TryFrom<R, Error = TicketError>>(
        &self,
        sql: &str,
        key: impl Key,
    ) -> Result<Option<T>> {
        let row: Option<R> = with_pool!(self, p => {
            sqlx::query_as::<_, R>(sql).bind(key).fetch_optional(p).await?
        });
        row.map(T::try_from).transpose()
    }

    /// Every row `sql` (no parameter) selects, as `T`.
    async fn fetch_all<R: DbRow, T: TryFrom<R, Error = TicketError>>(
        &self,
        sql: &str,
    ) -> Result<Vec<T>> {
        let rows: Vec<R> = with_pool!(self, p => {
            sqlx::query_as::<_, R>(sql).fetch_all(p).await?
        });
        rows.into_iter().map(T::try_from).collect()
    }

    /// Runs `sql` (a delete or update) with its one parameter `key`; `true` if it touched a row.
    async fn affects(&self, sql: &str, key: impl Key) -> Result<bool> {
        let n = with_pool!(self, p => {
            sqlx::query(sql).bind(key).execute(p).await?.rows_affected()
        });
        Ok(n > 0)
    }
}
