//! Units (承办单位): the tree that handles tickets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

use super::{at_index, corrupt, identifier, MAX_CODE_CHARS, MAX_NAME_CHARS};
use crate::routing::audit::{audit_append, audit_commit, audit_lock, audit_store_head};
use crate::sos::{contains_pattern, invalid, is_unique_violation, optional, required};
use crate::{ts, Result, TicketError, TicketStore};

/// Deepest unit tree walked when checking for a cycle.
const MAX_UNIT_DEPTH: usize = 64;

text_enum! {
    /// What kind of organisation a unit is.
    pub enum UnitKind ("unit kind") {
        Centre = "centre",
        District = "district",
        Department = "department",
        Utility = "utility",
        Enterprise = "enterprise",
        Street = "street",
        Community = "community",
        Other = "other",
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
    pub kind: UnitKind,
    /// The area the unit governs (the dispatch fallback, 兜底), e.g. a district's area code.
    pub area: Option<String>,
    /// A partner enterprise (联动单位: water, power, gas, telecom…).
    pub partner: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// What create and update write. On update `code` cannot change (catalogue rules refer to it) and
/// `active: None` keeps the stored flag; on create `active` defaults to true.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<i64>,
    pub kind: UnitKind,
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub partner: bool,
    #[serde(default)]
    pub active: Option<bool>,
}

/// One unit of the configured tree (`config/routing.toml`), its parent named by code.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub parent_code: Option<String>,
    pub kind: UnitKind,
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub partner: bool,
}

/// Query of [`TicketStore::list_units`]; every field narrows.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct UnitFilter {
    /// Children of this unit id.
    pub parent: Option<i64>,
    /// Substring of the name or code.
    pub q: Option<String>,
    pub partner: Option<bool>,
    pub active: Option<bool>,
}

struct CleanUnit {
    code: String,
    name: String,
    kind: UnitKind,
    area: Option<String>,
    partner: bool,
}

fn clean_unit(code: &str, name: &str, kind: UnitKind, area: Option<&str>) -> Result<CleanUnit> {
    Ok(CleanUnit {
        code: identifier("code", code, MAX_CODE_CHARS)?,
        name: required("name", name, MAX_NAME_CHARS)?,
        kind,
        area: optional("area", area, MAX_CODE_CHARS)?,
        partner: false,
    })
}

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: i64,
    code: String,
    name: String,
    parent_id: Option<i64>,
    kind: String,
    area: Option<String>,
    partner: bool,
    active: bool,
    created_at: DateTime<Utc>,
}

impl TryFrom<UnitRow> for Unit {
    type Error = TicketError;
    fn try_from(r: UnitRow) -> Result<Unit> {
        let kind = r
            .kind
            .parse()
            .map_err(|_| corrupt(format!("unit {} kind {:?}", r.id, r.kind)))?;
        Ok(Unit {
            id: r.id,
            code: r.code,
            name: r.name,
            parent_id: r.parent_id,
            kind,
            area: r.area,
            partner: r.partner,
            active: r.active,
            created_at: r.created_at,
        })
    }
}

const UNIT_COLUMNS: &str = "id, code, name, parent_id, kind, area, partner, active, created_at";
const UNIT_INSERT: &str = "INSERT INTO units (code, name, parent_id, kind, area, partner, active, \
     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     RETURNING id, code, name, parent_id, kind, area, partner, active, created_at";

impl TicketStore {
    /// Creates a unit. [`TicketError::Invalid`] for a bad field or unknown parent,
    /// [`TicketError::Conflict`] if the code is taken.
    pub async fn create_unit(&self, new: &NewUnit) -> Result<Unit> {
        let mut u = clean_unit(&new.code, &new.name, new.kind, new.area.as_deref())?;
        u.partner = new.partner;
        if let Some(parent) = new.parent_id {
            if self.unit(parent).await?.is_none() {
                return Err(invalid("parent_id", format!("no unit {parent}")));
            }
        }
        let now = ts(Utc::now());
        let unit: Unit = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let res = sqlx::query_as::<_, UnitRow>(UNIT_INSERT)
                .bind(&u.code)
                .bind(&u.name)
                .bind(new.parent_id)
                .bind(u.kind.as_str())
                .bind(u.area.as_deref())
                .bind(u.partner)
                .bind(new.active.unwrap_or(true))
                .bind(now)
                .fetch_one(&mut *tx)
                .await;
            let unit: Unit = match res {
                Ok(row) => row.try_into()?,
                Err(e) if is_unique_violation(&e) => {
                    return Err(TicketError::Conflict(format!(
                        "code: unit code {:?} is already used",
                        u.code
                    )))
                }
                Err(e) => return Err(e.into()),
            };
            audit_commit!(self, tx, chain, format!("unit:{}", unit.code), "create", None::<Unit>, &unit);
            unit
        });
        Ok(unit)
    }

    pub async fn unit(&self, id: i64) -> Result<Option<Unit>> {
        let sql = format!("SELECT {UNIT_COLUMNS} FROM units WHERE id = $1");
        self.fetch_by::<UnitRow, _>(&sql, id).await
    }

    pub async fn unit_by_code(&self, code: &str) -> Result<Option<Unit>> {
        let sql = format!("SELECT {UNIT_COLUMNS} FROM units WHERE code = $1");
        self.fetch_by::<UnitRow, _>(&sql, code.trim().to_string())
            .await
    }

    /// Units matching `f`, by code. The tree is small (hundreds to a few thousand units): no paging.
    pub async fn list_units(&self, f: &UnitFilter) -> Result<Vec<Unit>> {
        let q =
            f.q.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|q| contains_pattern(&q.to_lowercase()));
        let sql = format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE ($1 IS NULL OR parent_id = $1) \
             AND ($2 IS NULL OR LOWER(name) LIKE $2 ESCAPE '\\' OR LOWER(code) LIKE $2 ESCAPE '\\') \
             AND ($3 IS NULL OR partner = $3) AND ($4 IS NULL OR active = $4) ORDER BY code"
        );
        let rows: Vec<UnitRow> = with_pool!(self, p => {
            sqlx::query_as::<_, UnitRow>(&sql)
                .bind(f.parent)
                .bind(q.as_deref())
                .bind(f.partner)
                .bind(f.active)
                .fetch_all(p)
                .await?
        });
        rows.into_iter().map(Unit::try_from).collect()
    }

    /// Replaces name, parent, kind, area, partner (and `active` if given); `None` if there is no
    /// such unit. The code cannot change; a parent that is the unit itself or one of its
    /// descendants is refused (`parent_id`: would make a cycle).
    pub async fn update_unit(&self, id: i64, upd: &NewUnit) -> Result<Option<Unit>> {
        let mut u = clean_unit(&upd.code, &upd.name, upd.kind, upd.area.as_deref())?;
        u.partner = upd.partner;
        let Some(old) = self.unit(id).await? else {
            return Ok(None);
        };
        if old.code != u.code {
            return Err(invalid(
                "code",
                "cannot be changed (catalogue rules and reports refer to it)",
            ));
        }
        if let Some(parent) = upd.parent_id {
            self.check_parent(id, parent).await?;
        }
        let sql = format!(
            "UPDATE units SET name = $2, parent_id = $3, kind = $4, area = $5, partner = $6, \
             active = COALESCE($7, active) WHERE id = $1 RETURNING {UNIT_COLUMNS}"
        );
        let unit: Option<Unit> = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let row: Option<UnitRow> = sqlx::query_as::<_, UnitRow>(&sql)
                .bind(id)
                .bind(&u.name)
                .bind(upd.parent_id)
                .bind(u.kind.as_str())
                .bind(u.area.as_deref())
                .bind(u.partner)
                .bind(upd.active)
                .fetch_optional(&mut *tx)
                .await?;
            let unit = row.map(Unit::try_from).transpose()?;
            if let Some(after) = &unit {
                audit_commit!(self, tx, chain, format!("unit:{}", after.code), "update", &old, after);
            }
            unit
        });
        Ok(unit)
    }

    /// `parent` exists and is neither `id` nor below it.
    async fn check_parent(&self, id: i64, parent: i64) -> Result<()> {
        let mut at = Some(parent);
        for _ in 0..MAX_UNIT_DEPTH {
            let Some(cur) = at else { return Ok(()) };
            if cur == id {
                return Err(invalid(
                    "parent_id",
                    format!("unit {parent} is this unit or below it: would make a cycle"),
                ));
            }
            match self.unit(cur).await? {
                Some(u) => at = u.parent_id,
                None if cur == parent => {
                    return Err(invalid("parent_id", format!("no unit {parent}")))
                }
                None => return Ok(()),
            }
        }
        Err(invalid(
            "parent_id",
            format!("the tree above unit {parent} is deeper than {MAX_UNIT_DEPTH} levels"),
        ))
    }

    /// Marks the unit inactive (tickets keep referring to it); `false` if there is no such unit.
    pub async fn deactivate_unit(&self, id: i64) -> Result<bool> {
        let Some(old) = self.unit(id).await? else {
            return Ok(false);
        };
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            sqlx::query("UPDATE units SET active = $2 WHERE id = $1")
                .bind(id)
                .bind(false)
                .execute(&mut *tx)
                .await?;
            let after = Unit { active: false, ..old.clone() };
            audit_commit!(self, tx, chain, format!("unit:{}", old.code), "deactivate", &old, &after);
        });
        Ok(true)
    }

    /// Inserts the units of `units` whose code is not in the table yet, parents before children,
    /// in one transaction; existing units are left as they are (edits made through the API win).
    /// Returns how many were inserted. A `parent_code` found neither in the table nor in `units`
    /// fails the whole call (`[i].parent_code`).
    pub async fn seed_units(&self, units: &[UnitInput]) -> Result<u64> {
        let mut pending = Vec::with_capacity(units.len());
        for (i, u) in units.iter().enumerate() {
            let mut c = clean_unit(&u.code, &u.name, u.kind, u.area.as_deref())
                .map_err(|e| at_index(i, e))?;
            c.partner = u.partner;
            let parent = optional("parent_code", u.parent_code.as_deref(), MAX_CODE_CHARS)
                .map_err(|e| at_index(i, e))?;
            pending.push((i, c, parent));
        }
        let now = ts(Utc::now());
        let inserted = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            // The audit head first, like every audited change: one lock order, no deadlock.
            let mut chain = audit_lock!(tx);
            let existing: Vec<(String, i64)> = sqlx::query_as("SELECT code, id FROM units")
                .fetch_all(&mut *tx)
                .await?;
            let mut ids: std::collections::HashMap<String, i64> = existing.into_iter().collect();
            pending.retain(|(_, c, _)| !ids.contains_key(&c.code));
            let mut inserted = 0u64;
            while !pending.is_empty() {
                let before = pending.len();
                let mut rest = Vec::new();
                for (i, c, parent) in pending {
                    let parent_id = match &parent {
                        None => None,
                        Some(code) => match ids.get(code) {
                            Some(id) => Some(*id),
                            None => {
                                rest.push((i, c, parent));
                                continue;
                            }
                        },
                    };
                    if ids.contains_key(&c.code) {
                        // Listed twice: the first one wins.
                        continue;
                    }
                    let row = sqlx::query_as::<_, UnitRow>(UNIT_INSERT)
                        .bind(&c.code)
                        .bind(&c.name)
                        .bind(parent_id)
                        .bind(c.kind.as_str())
                        .bind(c.area.as_deref())
                        .bind(c.partner)
                        .bind(true)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?;
                    ids.insert(row.code, row.id);
                    inserted += 1;
                }
                if rest.len() == before {
                    let (i, _, parent) = &rest[0];
                    return Err(invalid(
                        format!("[{i}].parent_code"),
                        format!(
                            "no unit {:?} (nor a cycle of parents)",
                            parent.as_deref().unwrap_or_default()
                        ),
                    ));
                }
                pending = rest;
            }
            if inserted > 0 {
                audit_commit!(self, tx, chain, "units".to_string(), "seed", None::<()>,
                    serde_json::json!({ "inserted": inserted }));
            } else {
                tx.commit().await?;
            }
            inserted
        });
        Ok(inserted)
    }
}
