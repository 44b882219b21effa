//! The dispatch catalogue (派单目录).

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::{at_index, corrupt, MAX_CODE_CHARS, MAX_CO_UNITS, MAX_NAME_CHARS, MAX_NOTE_CHARS};
use crate::routing::audit::{audit_append, audit_commit, audit_lock, audit_store_head};
use crate::sos::{at_most, invalid, optional, required};
use crate::{ts, Result, TicketError, TicketStore};

/// One rule of the dispatch catalogue (派单目录). A rule applies when every field it sets matches;
/// rules are tried in `position` order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CatalogueRuleRow {
    pub id: i64,
    pub position: i32,
    pub category: Option<String>,
    pub area: Option<String>,
    /// `HH:MM`, local time; with `window_to` (which may be earlier: the window spans midnight).
    pub window_from: Option<String>,
    pub window_to: Option<String>,
    /// `mon`..`sun`, `working` (a working day of the calendar) or `rest` (a day off).
    pub days: Option<Vec<String>>,
    /// Unit code.
    pub lead_unit: String,
    /// Unit codes.
    pub co_units: Vec<String>,
    pub note: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewCatalogueRule {
    /// Default on create: after the last rule.
    #[serde(default)]
    pub position: Option<i32>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub window_from: Option<String>,
    #[serde(default)]
    pub window_to: Option<String>,
    #[serde(default)]
    pub days: Option<Vec<String>>,
    #[serde(default)]
    pub lead_unit: String,
    #[serde(default)]
    pub co_units: Vec<String>,
    #[serde(default)]
    pub note: String,
}

pub const CATALOGUE_DAYS: &[&str] = &[
    "mon", "tue", "wed", "thu", "fri", "sat", "sun", "working", "rest",
];

fn hhmm(field: &str, s: Option<&str>, allow_24: bool) -> Result<Option<String>> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let ok = s.len() == 5
        && s.as_bytes()[2] == b':'
        && (NaiveTime::parse_from_str(s, "%H:%M").is_ok() || (allow_24 && s == "24:00"));
    if !ok {
        return Err(invalid(
            field,
            format!("{s:?} is not a time HH:MM (00:00 to 23:59)"),
        ));
    }
    Ok(Some(s.to_string()))
}

#[derive(sqlx::FromRow)]
struct CatalogueDbRow {
    id: i64,
    position: i32,
    category: Option<String>,
    area: Option<String>,
    window_from: Option<String>,
    window_to: Option<String>,
    days: Option<String>,
    lead_unit: String,
    co_units: String,
    note: String,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CatalogueDbRow> for CatalogueRuleRow {
    type Error = TicketError;
    fn try_from(r: CatalogueDbRow) -> Result<CatalogueRuleRow> {
        let days = r
            .days
            .as_deref()
            .map(serde_json::from_str::<Vec<String>>)
            .transpose()
            .map_err(|_| corrupt(format!("catalogue rule {} days {:?}", r.id, r.days)))?;
        let co_units = serde_json::from_str::<Vec<String>>(&r.co_units)
            .map_err(|_| corrupt(format!("catalogue rule {} co_units {:?}", r.id, r.co_units)))?;
        Ok(CatalogueRuleRow {
            id: r.id,
            position: r.position,
            category: r.category,
            area: r.area,
            window_from: r.window_from,
            window_to: r.window_to,
            days,
            lead_unit: r.lead_unit,
            co_units,
            note: r.note,
            updated_at: r.updated_at,
        })
    }
}

const CATALOGUE_COLUMNS: &str = "id, position, category, area, window_from, window_to, days, \
     lead_unit, co_units, note, updated_at";

/// Binds a [`CleanRule`] and `updated_at` in column order (`position` … `updated_at`).
macro_rules! bind_rule {
    ($q:expr, $c:expr, $now:expr) => {
        $q.bind($c.position)
            .bind($c.category.as_deref())
            .bind($c.area.as_deref())
            .bind($c.window_from.as_deref())
            .bind($c.window_to.as_deref())
            .bind($c.days.as_deref())
            .bind(&$c.lead_unit)
            .bind(&$c.co_units)
            .bind(&$c.note)
            .bind($now)
    };
}

/// A validated rule, its lists as the JSON text stored.
struct CleanRule {
    position: Option<i32>,
    category: Option<String>,
    area: Option<String>,
    window_from: Option<String>,
    window_to: Option<String>,
    days: Option<String>,
    lead_unit: String,
    co_units: String,
    note: String,
}

impl TicketStore {
    async fn clean_rule(&self, r: &NewCatalogueRule) -> Result<CleanRule> {
        let category = optional("category", r.category.as_deref(), MAX_NAME_CHARS)?;
        let area = optional("area", r.area.as_deref(), MAX_CODE_CHARS)?;
        let window_from = hhmm("window_from", r.window_from.as_deref(), false)?;
        let window_to = hhmm("window_to", r.window_to.as_deref(), true)?;
        match (&window_from, &window_to) {
            (Some(_), None) => return Err(invalid("window_to", "required with window_from")),
            (None, Some(_)) => return Err(invalid("window_from", "required with window_to")),
            (Some(a), Some(b)) if a == b => {
                return Err(invalid("window_to", "must differ from window_from"))
            }
            _ => {}
        }
        let days = match &r.days {
            None => None,
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                for (i, d) in list.iter().enumerate() {
                    let d = d.trim().to_ascii_lowercase();
                    if !CATALOGUE_DAYS.contains(&d.as_str()) {
                        return Err(invalid(
                            format!("days[{i}]"),
                            format!("{d:?} is not one of {}", CATALOGUE_DAYS.join(", ")),
                        ));
                    }
                    if !out.contains(&d) {
                        out.push(d);
                    }
                }
                if out.is_empty() {
                    return Err(invalid("days", "empty: leave it out to match every day"));
                }
                Some(serde_json::to_string(&out).map_err(|e| corrupt(e.to_string()))?)
            }
        };
        let lead_unit = required("lead_unit", &r.lead_unit, MAX_CODE_CHARS)?;
        self.check_rule_unit("lead_unit", &lead_unit).await?;
        if r.co_units.len() > MAX_CO_UNITS {
            return Err(invalid("co_units", format!("at most {MAX_CO_UNITS}")));
        }
        let mut co = Vec::new();
        for (i, c) in r.co_units.iter().enumerate() {
            let field = format!("co_units[{i}]");
            let c = required(&field, c, MAX_CODE_CHARS)?;
            if c == lead_unit || co.contains(&c) {
                return Err(invalid(field, format!("{c:?} is listed twice")));
            }
            self.check_rule_unit(&field, &c).await?;
            co.push(c);
        }
        let note = r.note.trim().to_string();
        at_most("note", &note, MAX_NOTE_CHARS)?;
        Ok(CleanRule {
            position: r.position,
            category,
            area,
            window_from,
            window_to,
            days,
            lead_unit,
            co_units: serde_json::to_string(&co).map_err(|e| corrupt(e.to_string()))?,
            note,
        })
    }

    async fn check_rule_unit(&self, field: &str, code: &str) -> Result<()> {
        match self.unit_by_code(code).await? {
            Some(u) if u.active => Ok(()),
            Some(_) => Err(invalid(field, format!("unit {code:?} is deactivated"))),
            None => Err(invalid(field, format!("no unit with code {code:?}"))),
        }
    }

    /// Adds a rule (at the end unless `position` is given).
    pub async fn create_catalogue_rule(&self, r: &NewCatalogueRule) -> Result<CatalogueRuleRow> {
        let c = self.clean_rule(r).await?;
        let now = ts(Utc::now());
        let sql = format!(
            "INSERT INTO catalogue_rules (position, category, area, window_from, window_to, days, \
             lead_unit, co_units, note, updated_at) \
             VALUES (COALESCE($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM catalogue_rules)), \
             $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {CATALOGUE_COLUMNS}"
        );
        let rule: CatalogueRuleRow = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let row: CatalogueDbRow = bind_rule!(sqlx::query_as::<_, CatalogueDbRow>(&sql), c, now)
                .fetch_one(&mut *tx)
                .await?;
            let rule = CatalogueRuleRow::try_from(row)?;
            audit_commit!(self, tx, chain, format!("catalogue:{}", rule.id), "create",
                None::<CatalogueRuleRow>, &rule);
            rule
        });
        Ok(rule)
    }

    pub async fn catalogue_rule(&self, id: i64) -> Result<Option<CatalogueRuleRow>> {
        let sql = format!("SELECT {CATALOGUE_COLUMNS} FROM catalogue_rules WHERE id = $1");
        self.fetch_by::<CatalogueDbRow, _>(&sql, id).await
    }

    /// Every rule, in the order they are tried (position, then id).
    pub async fn list_catalogue_rules(&self) -> Result<Vec<CatalogueRuleRow>> {
        let sql = format!("SELECT {CATALOGUE_COLUMNS} FROM catalogue_rules ORDER BY position, id");
        self.fetch_all::<CatalogueDbRow, _>(&sql).await
    }

    /// Replaces the rule (keeping its position unless one is given); `None` if there is none.
    pub async fn update_catalogue_rule(
        &self,
        id: i64,
        r: &NewCatalogueRule,
    ) -> Result<Option<CatalogueRuleRow>> {
        let c = self.clean_rule(r).await?;
        let now = ts(Utc::now());
        let sql = format!(
            "UPDATE catalogue_rules SET position = COALESCE($2, position), category = $3, \
             area = $4, window_from = $5, window_to = $6, days = $7, lead_unit = $8, \
             co_units = $9, note = $10, updated_at = $11 WHERE id = $1 RETURNING {CATALOGUE_COLUMNS}"
        );
        let Some(old) = self.catalogue_rule(id).await? else {
            return Ok(None);
        };
        let rule: Option<CatalogueRuleRow> = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let row: Option<CatalogueDbRow> =
                bind_rule!(sqlx::query_as::<_, CatalogueDbRow>(&sql).bind(id), c, now)
                    .fetch_optional(&mut *tx)
                    .await?;
            let rule = row.map(CatalogueRuleRow::try_from).transpose()?;
            if let Some(after) = &rule {
                audit_commit!(self, tx, chain, format!("catalogue:{id}"), "update", &old, after);
            }
            rule
        });
        Ok(rule)
    }

    pub async fn delete_catalogue_rule(&self, id: i64) -> Result<bool> {
        let Some(old) = self.catalogue_rule(id).await? else {
            return Ok(false);
        };
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            sqlx::query("DELETE FROM catalogue_rules WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit_commit!(self, tx, chain, format!("catalogue:{id}"), "delete", &old, None::<()>);
        });
        Ok(true)
    }

    /// Replaces the whole catalogue in one transaction (positions default to the list order).
    /// Every rule is validated first; a bad one fails the call with its field prefixed `[i].`.
    pub async fn replace_catalogue(&self, rules: &[NewCatalogueRule]) -> Result<u64> {
        let mut clean = Vec::with_capacity(rules.len());
        for (i, r) in rules.iter().enumerate() {
            let mut c = self.clean_rule(r).await.map_err(|e| at_index(i, e))?;
            if c.position.is_none() {
                c.position = Some(i32::try_from(i).unwrap_or(i32::MAX));
            }
            clean.push(c);
        }
        let now = ts(Utc::now());
        let n = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            sqlx::query("DELETE FROM catalogue_rules").execute(&mut *tx).await?;
            for c in &clean {
                bind_rule!(sqlx::query(
                    "INSERT INTO catalogue_rules (position, category, area, window_from, \
                     window_to, days, lead_unit, co_units, note, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                ), c, now)
                .execute(&mut *tx)
                .await?;
            }
            audit_commit!(self, tx, chain, "catalogue".to_string(), "replace", None::<()>,
                serde_json::json!({ "rules": rules }));
            clean.len() as u64
        });
        Ok(n)
    }

    /// Seeds the catalogue from the configuration when it has no rule yet; `Ok(false)` (nothing
    /// written) when the table already has rules (edits made through the API win).
    pub async fn seed_catalogue(&self, rules: &[NewCatalogueRule]) -> Result<bool> {
        let n: i64 = with_pool!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM catalogue_rules").fetch_one(p).await?
        });
        if n > 0 {
            return Ok(false);
        }
        self.replace_catalogue(rules).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::identifier;
    use super::*;

    #[test]
    fn times_and_identifiers() {
        assert_eq!(
            hhmm("w", Some("08:30"), false).unwrap().as_deref(),
            Some("08:30")
        );
        assert!(hhmm("w", Some("8:30"), false).is_err());
        assert!(hhmm("w", Some("24:00"), false).is_err());
        assert!(hhmm("w", Some("24:00"), true).is_ok());
        assert!(hhmm("w", Some("12:60"), true).is_err());
        assert!(identifier("code", "gov.futian-01", 64).is_ok());
        assert!(identifier("code", "福田", 64).is_err());
        assert!(identifier("code", "a b", 64).is_err());
    }
}
