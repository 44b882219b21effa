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

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use hotline_workflow::Role;
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use std::str::FromStr;

use crate::sos::{at_most, contains_pattern, invalid, is_unique_violation, optional, required};
use crate::{ts, Result, TicketError, TicketStore};

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
/// PBKDF2 iterations of new hashes (stored in the hash, so it can be raised later).
pub const PBKDF2_ITERATIONS: u32 = 100_000;
/// A stored hash with more iterations than this is refused rather than computed (a corrupt or
/// hostile row must not stall logins).
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
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

text_enum! {
    /// A user's role as stored; `liaison` users belong to a unit (see [`Role::UnitLiaison`]).
    pub enum UserRole ("role") {
        Admin = "admin",
        Agent = "agent",
        Supervisor = "supervisor",
        Liaison = "liaison",
    }
}

impl UserRole {
    /// The stored name of a workflow role.
    pub fn of(role: &Role) -> UserRole {
        match role {
            Role::Admin => UserRole::Admin,
            Role::Agent => UserRole::Agent,
            Role::Supervisor => UserRole::Supervisor,
            Role::UnitLiaison { .. } => UserRole::Liaison,
        }
    }
}

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

// ---------------------------------------------------------------------------------------------
// Units

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

// ---------------------------------------------------------------------------------------------
// Users and tokens

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: UserRole,
    /// The unit of a liaison; `None` for every other role.
    pub unit_id: Option<i64>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub id: String,
    pub name: String,
    pub role: UserRole,
    #[serde(default)]
    pub unit_id: Option<i64>,
    pub password: String,
}

/// A partial update: absent fields keep their value. `unit_id: null` clears the unit; a role other
/// than liaison clears it too. Changing role, unit or password, or deactivating, ends the user's
/// sessions.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<UserRole>,
    #[serde(default, deserialize_with = "present")]
    pub unit_id: Option<Option<i64>>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// Who is calling the API.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    pub name: String,
}

impl Principal {
    /// The unit of a liaison.
    pub fn unit(&self) -> Option<u64> {
        match self.role {
            Role::UnitLiaison { unit } => Some(unit),
            _ => None,
        }
    }

    pub fn actor(&self) -> hotline_workflow::Actor {
        hotline_workflow::Actor::new(self.user.clone(), self.role)
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    name: String,
    role: String,
    unit_id: Option<i64>,
    active: bool,
    created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = TicketError;
    fn try_from(r: UserRow) -> Result<User> {
        let role = r
            .role
            .parse()
            .map_err(|_| corrupt(format!("user {} role {:?}", r.id, r.role)))?;
        Ok(User {
            id: r.id,
            name: r.name,
            role,
            unit_id: r.unit_id,
            active: r.active,
            created_at: r.created_at,
        })
    }
}

const USER_COLUMNS: &str = "id, name, role, unit_id, active, created_at";

fn role_of(user: &str, role: UserRole, unit_id: Option<i64>) -> Result<Role> {
    Ok(match role {
        UserRole::Admin => Role::Admin,
        UserRole::Agent => Role::Agent,
        UserRole::Supervisor => Role::Supervisor,
        UserRole::Liaison => {
            let unit = unit_id
                .and_then(|u| u64::try_from(u).ok())
                .ok_or_else(|| corrupt(format!("liaison {user} without a unit")))?;
            Role::UnitLiaison { unit }
        }
    })
}

fn password(field: &str, p: &str) -> Result<()> {
    let n = p.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(invalid(
            field,
            format!("at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    at_most(field, p, MAX_PASSWORD_CHARS)
}

/// PBKDF2-HMAC-SHA256 with one 32-byte output block (RFC 8018 §5.2).
///
/// The first round is the `hmac` crate's HMAC; the other rounds reuse the SHA-256 states after the
/// padded key (ipad / opad), as every fast PBKDF2 does, and feed single blocks straight to
/// `sha2::compress256`: two compressions a round instead of four, and no generic code to run
/// unoptimised in debug builds (tests log in often).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    use sha2::digest::generic_array::GenericArray;
    const H0: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    // HMAC accepts keys of any length: new_from_slice cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(password) else {
        return [0; 32];
    };
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = mac.finalize().into_bytes().into();
    let mut out = u;
    if iterations <= 1 {
        return out;
    }
    let mut key = [0u8; 64];
    if password.len() > 64 {
        key[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let padded = |pad: u8| {
        let mut block = [0u8; 64];
        for (b, k) in block.iter_mut().zip(key.iter()) {
            *b = k ^ pad;
        }
        let mut state = H0;
        sha2::compress256(&mut state, &[GenericArray::from(block)]);
        state
    };
    let (inner0, outer0) = (padded(0x36), padded(0x5c));
    // One block: a 32-byte message after the 64-byte key block, SHA-256 padded (96 bytes = 768 bits).
    let mut block = [0u8; 64];
    block[32] = 0x80;
    block[56..].copy_from_slice(&768u64.to_be_bytes());
    let to_bytes = |state: [u32; 8], dst: &mut [u8]| {
        for (chunk, word) in dst.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
    };
    for _ in 1..iterations {
        block[..32].copy_from_slice(&u);
        let mut inner = inner0;
        sha2::compress256(&mut inner, &[GenericArray::from(block)]);
        to_bytes(inner, &mut block[..32]);
        let mut outer = outer0;
        sha2::compress256(&mut outer, &[GenericArray::from(block)]);
        to_bytes(outer, &mut u);
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

/// Equal length and content, in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>` (standard alphabet, no padding) with a
/// fresh 16-byte salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let hash = pbkdf2_sha256(password.as_bytes(), &salt, PBKDF2_ITERATIONS);
    format!(
        "pbkdf2-sha256${PBKDF2_ITERATIONS}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(hash)
    )
}

/// True if `password` matches a hash made by [`hash_password`]; false for a malformed hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2-sha256"), Some(iter), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Ok(iter) = iter.parse::<u32>() else {
        return false;
    };
    if iter == 0 || iter > MAX_PBKDF2_ITERATIONS {
        return false;
    }
    let (Ok(salt), Ok(hash)) = (STANDARD_NO_PAD.decode(salt), STANDARD_NO_PAD.decode(hash)) else {
        return false;
    };
    constant_time_eq(&pbkdf2_sha256(password.as_bytes(), &salt, iter), &hash)
}

/// A valid hash of no known password: verifying against it costs what a real check costs, so an
/// unknown user id takes as long to refuse as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no user has this password"))
}

/// Lower-case hex SHA-256 of a token: what `api_tokens` stores.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    user_id: String,
    role: String,
    unit_id: Option<i64>,
    name: String,
}

// ---------------------------------------------------------------------------------------------
// Catalogue

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

// ---------------------------------------------------------------------------------------------
// Knowledge base

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct KbItemRow {
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub category: Option<String>,
    pub keywords: Vec<String>,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewKbItem {
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Default true.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(sqlx::FromRow)]
struct KbDbRow {
    id: i64,
    question: String,
    answer: String,
    category: Option<String>,
    keywords: String,
    active: bool,
    updated_at: DateTime<Utc>,
}

impl From<KbDbRow> for KbItemRow {
    fn from(r: KbDbRow) -> KbItemRow {
        KbItemRow {
            id: r.id,
            question: r.question,
            answer: r.answer,
            category: r.category,
            keywords: split_keywords(&r.keywords),
            active: r.active,
            updated_at: r.updated_at,
        }
    }
}

/// Keywords are stored one per line.
fn split_keywords(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect()
}

const KB_COLUMNS: &str = "id, question, answer, category, keywords, active, updated_at";

// ---------------------------------------------------------------------------------------------
// Calendar edits

/// A calendar edit: `day` is a working day (调休 make-up day) or a day off, whatever the files say.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub working: bool,
    pub note: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CalendarDbRow {
    day: String,
    working: bool,
    note: String,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CalendarDbRow> for CalendarDay {
    type Error = TicketError;
    fn try_from(r: CalendarDbRow) -> Result<CalendarDay> {
        let day = NaiveDate::parse_from_str(&r.day, "%Y-%m-%d")
            .map_err(|_| corrupt(format!("calendar day {:?}", r.day)))?;
        Ok(CalendarDay {
            day,
            working: r.working,
            note: r.note,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        })
    }
}

// ---------------------------------------------------------------------------------------------

impl TicketStore {
    // ----- units -----

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
        let res: Result<UnitRow, sqlx::Error> = with_pool!(self, p => {
            sqlx::query_as::<_, UnitRow>(UNIT_INSERT)
                .bind(&u.code)
                .bind(&u.name)
                .bind(new.parent_id)
                .bind(u.kind.as_str())
                .bind(u.area.as_deref())
                .bind(u.partner)
                .bind(new.active.unwrap_or(true))
                .bind(now)
                .fetch_one(p)
                .await
        });
        match res {
            Ok(row) => row.try_into(),
            Err(e) if is_unique_violation(&e) => Err(TicketError::Conflict(format!(
                "code: unit code {:?} is already used",
                u.code
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn unit(&self, id: i64) -> Result<Option<Unit>> {
        let sql = format!("SELECT {UNIT_COLUMNS} FROM units WHERE id = $1");
        let row: Option<UnitRow> = with_pool!(self, p => {
            sqlx::query_as::<_, UnitRow>(&sql).bind(id).fetch_optional(p).await?
        });
        row.map(Unit::try_from).transpose()
    }

    pub async fn unit_by_code(&self, code: &str) -> Result<Option<Unit>> {
        let sql = format!("SELECT {UNIT_COLUMNS} FROM units WHERE code = $1");
        let row: Option<UnitRow> = with_pool!(self, p => {
            sqlx::query_as::<_, UnitRow>(&sql).bind(code.trim()).fetch_optional(p).await?
        });
        row.map(Unit::try_from).transpose()
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
        let row: Option<UnitRow> = with_pool!(self, p => {
            sqlx::query_as::<_, UnitRow>(&sql)
                .bind(id)
                .bind(&u.name)
                .bind(upd.parent_id)
                .bind(u.kind.as_str())
                .bind(u.area.as_deref())
                .bind(u.partner)
                .bind(upd.active)
                .fetch_optional(p)
                .await?
        });
        row.map(Unit::try_from).transpose()
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
        let n = with_pool!(self, p => {
            sqlx::query("UPDATE units SET active = $2 WHERE id = $1")
                .bind(id)
                .bind(false)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Inserts the units of `units` whose code is not in the table yet, parents before children,
    /// in one transaction; existing units are left as they are (edits made through the API win).
    /// Returns how many were inserted. A `parent_code` found neither in the table nor in `units`
    /// fails the whole call (`[i].parent_code`).
    pub async fn seed_units(&self, units: &[UnitInput]) -> Result<u64> {
        let prefixed = |i: usize, e: TicketError| match e {
            TicketError::Invalid { field, reason } => TicketError::Invalid {
                field: format!("[{i}].{field}"),
                reason,
            },
            other => other,
        };
        let mut pending = Vec::with_capacity(units.len());
        for (i, u) in units.iter().enumerate() {
            let mut c = clean_unit(&u.code, &u.name, u.kind, u.area.as_deref())
                .map_err(|e| prefixed(i, e))?;
            c.partner = u.partner;
            let parent = optional("parent_code", u.parent_code.as_deref(), MAX_CODE_CHARS)
                .map_err(|e| prefixed(i, e))?;
            pending.push((i, c, parent));
        }
        let now = ts(Utc::now());
        let inserted = with_pool!(self, p => {
            let mut tx = p.begin().await?;
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
            tx.commit().await?;
            inserted
        });
        Ok(inserted)
    }

    // ----- users -----

    async fn check_user_unit(&self, role: UserRole, unit_id: Option<i64>) -> Result<()> {
        match (role, unit_id) {
            (UserRole::Liaison, None) => Err(invalid("unit_id", "required for a liaison")),
            (UserRole::Liaison, Some(u)) => match self.unit(u).await? {
                Some(unit) if unit.active => Ok(()),
                Some(_) => Err(invalid("unit_id", format!("unit {u} is deactivated"))),
                None => Err(invalid("unit_id", format!("no unit {u}"))),
            },
            (_, Some(_)) => Err(invalid("unit_id", "only a liaison belongs to a unit")),
            (_, None) => Ok(()),
        }
    }

    /// Creates a user. [`TicketError::Invalid`] for a bad field (a liaison needs `unit_id`, other
    /// roles must not have one; passwords have 8 to 1024 characters), [`TicketError::Conflict`] if
    /// the id is taken.
    pub async fn create_user(&self, new: &NewUser) -> Result<User> {
        let id = identifier("id", &new.id, MAX_USER_ID_CHARS)?;
        let name = required("name", &new.name, MAX_NAME_CHARS)?;
        password("password", &new.password)?;
        self.check_user_unit(new.role, new.unit_id).await?;
        let hash = hash_password(&new.password);
        let now = ts(Utc::now());
        let sql = format!(
            "INSERT INTO users (id, name, role, unit_id, password_hash, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
        );
        let res: Result<UserRow, sqlx::Error> = with_pool!(self, p => {
            sqlx::query_as::<_, UserRow>(&sql)
                .bind(&id)
                .bind(&name)
                .bind(new.role.as_str())
                .bind(new.unit_id)
                .bind(&hash)
                .bind(true)
                .bind(now)
                .fetch_one(p)
                .await
        });
        match res {
            Ok(row) => row.try_into(),
            Err(e) if is_unique_violation(&e) => Err(TicketError::Conflict(format!(
                "id: user {id:?} already exists"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = with_pool!(self, p => {
            sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(p).await?
        });
        row.map(User::try_from).transpose()
    }

    /// Every user, by id.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        let rows: Vec<UserRow> = with_pool!(self, p => {
            sqlx::query_as::<_, UserRow>(&sql).fetch_all(p).await?
        });
        rows.into_iter().map(User::try_from).collect()
    }

    /// Applies `upd` (see [`UserUpdate`]); `None` if there is no such user.
    pub async fn update_user(&self, id: &str, upd: &UserUpdate) -> Result<Option<User>> {
        let Some(old) = self.user(id).await? else {
            return Ok(None);
        };
        let name = match &upd.name {
            Some(n) => required("name", n, MAX_NAME_CHARS)?,
            None => old.name.clone(),
        };
        let role = upd.role.unwrap_or(old.role);
        let unit_id = match upd.unit_id {
            Some(u) => u,
            None if role == UserRole::Liaison => old.unit_id,
            None => None,
        };
        if role != old.role || unit_id != old.unit_id {
            self.check_user_unit(role, unit_id).await?;
        }
        let hash = match &upd.password {
            Some(pw) => {
                password("password", pw)?;
                Some(hash_password(pw))
            }
            None => None,
        };
        let active = upd.active.unwrap_or(old.active);
        let end_sessions = role != old.role || unit_id != old.unit_id || hash.is_some() || !active;
        let sql = format!(
            "UPDATE users SET name = $2, role = $3, unit_id = $4, \
             password_hash = COALESCE($5, password_hash), active = $6 \
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let row: Option<UserRow> = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let row = sqlx::query_as::<_, UserRow>(&sql)
                .bind(id)
                .bind(&name)
                .bind(role.as_str())
                .bind(unit_id)
                .bind(hash.as_deref())
                .bind(active)
                .fetch_optional(&mut *tx)
                .await?;
            if end_sessions {
                sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            row
        });
        row.map(User::try_from).transpose()
    }

    /// Deactivates the user and ends their sessions; `false` if there is no such user.
    pub async fn deactivate_user(&self, id: &str) -> Result<bool> {
        let upd = UserUpdate {
            active: Some(false),
            ..Default::default()
        };
        Ok(self.update_user(id, &upd).await?.is_some())
    }

    /// Checks an active user's password and issues a token valid for `ttl` from `now`; `None` for an
    /// unknown or inactive user or a wrong password (all three take the same time).
    pub async fn login(
        &self,
        user_id: &str,
        password: &str,
        now: DateTime<Utc>,
        ttl: TimeDelta,
    ) -> Result<Option<(String, Principal)>> {
        let row: Option<(String, String, Option<i64>, String, bool)> = with_pool!(self, p => {
            sqlx::query_as(
                "SELECT name, role, unit_id, password_hash, active FROM users WHERE id = $1",
            )
            .bind(user_id)
            .fetch_optional(p)
            .await?
        });
        let Some((name, role, unit_id, hash, active)) = row else {
            verify_password(password, dummy_hash());
            return Ok(None);
        };
        if !verify_password(password, &hash) || !active {
            return Ok(None);
        }
        let role: UserRole = role
            .parse()
            .map_err(|_| corrupt(format!("user {user_id} role {role:?}")))?;
        let principal = Principal {
            user: user_id.to_string(),
            role: role_of(user_id, role, unit_id)?,
            name,
        };
        let token = self.issue_token(&principal, now, ttl).await?;
        Ok(Some((token, principal)))
    }

    /// Issues a token for `principal`, valid for `ttl` from `now` (the API also calls this for agents
    /// defined in the config file, who have no row in `users`). 32 random bytes, base64url.
    pub async fn issue_token(
        &self,
        principal: &Principal,
        now: DateTime<Utc>,
        ttl: TimeDelta,
    ) -> Result<String> {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        let now = ts(now);
        let expires = now.checked_add_signed(ttl).unwrap_or(now);
        let unit = principal
            .unit()
            .map(|u| {
                i64::try_from(u).map_err(|_| invalid("unit", format!("unit {u} out of range")))
            })
            .transpose()?;
        with_pool!(self, p => {
            sqlx::query(
                "INSERT INTO api_tokens (token_hash, user_id, role, unit_id, created_at, expires_at, name) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(token_hash(&token))
            .bind(&principal.user)
            .bind(UserRole::of(&principal.role).as_str())
            .bind(unit)
            .bind(now)
            .bind(expires)
            .bind(&principal.name)
            .execute(p)
            .await?;
        });
        Ok(token)
    }

    /// Whose token this is, or `None` if it is unknown or expired at `now`.
    pub async fn principal_for_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>> {
        let row: Option<TokenRow> = with_pool!(self, p => {
            sqlx::query_as::<_, TokenRow>(
                "SELECT user_id, role, unit_id, name FROM api_tokens \
                 WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(token_hash(token))
            .bind(ts(now))
            .fetch_optional(p)
            .await?
        });
        let Some(r) = row else { return Ok(None) };
        let role: UserRole = r
            .role
            .parse()
            .map_err(|_| corrupt(format!("token of {} role {:?}", r.user_id, r.role)))?;
        Ok(Some(Principal {
            role: role_of(&r.user_id, role, r.unit_id)?,
            name: if r.name.is_empty() {
                r.user_id.clone()
            } else {
                r.name
            },
            user: r.user_id,
        }))
    }

    /// Ends the session of `token`; `false` if there was none.
    pub async fn logout(&self, token: &str) -> Result<bool> {
        let n = with_pool!(self, p => {
            sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1")
                .bind(token_hash(token))
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Deletes tokens expired at `now`; returns how many.
    pub async fn purge_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(with_pool!(self, p => {
            sqlx::query("DELETE FROM api_tokens WHERE expires_at <= $1")
                .bind(ts(now))
                .execute(p)
                .await?
                .rows_affected()
        }))
    }

    // ----- catalogue -----

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
        let row: CatalogueDbRow = with_pool!(self, p => {
            sqlx::query_as::<_, CatalogueDbRow>(&sql)
                .bind(c.position)
                .bind(c.category.as_deref())
                .bind(c.area.as_deref())
                .bind(c.window_from.as_deref())
                .bind(c.window_to.as_deref())
                .bind(c.days.as_deref())
                .bind(&c.lead_unit)
                .bind(&c.co_units)
                .bind(&c.note)
                .bind(now)
                .fetch_one(p)
                .await?
        });
        row.try_into()
    }

    pub async fn catalogue_rule(&self, id: i64) -> Result<Option<CatalogueRuleRow>> {
        let sql = format!("SELECT {CATALOGUE_COLUMNS} FROM catalogue_rules WHERE id = $1");
        let row: Option<CatalogueDbRow> = with_pool!(self, p => {
            sqlx::query_as::<_, CatalogueDbRow>(&sql).bind(id).fetch_optional(p).await?
        });
        row.map(CatalogueRuleRow::try_from).transpose()
    }

    /// Every rule, in the order they are tried (position, then id).
    pub async fn list_catalogue_rules(&self) -> Result<Vec<CatalogueRuleRow>> {
        let sql = format!("SELECT {CATALOGUE_COLUMNS} FROM catalogue_rules ORDER BY position, id");
        let rows: Vec<CatalogueDbRow> = with_pool!(self, p => {
            sqlx::query_as::<_, CatalogueDbRow>(&sql).fetch_all(p).await?
        });
        rows.into_iter().map(CatalogueRuleRow::try_from).collect()
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
        let row: Option<CatalogueDbRow> = with_pool!(self, p => {
            sqlx::query_as::<_, CatalogueDbRow>(&sql)
                .bind(id)
                .bind(c.position)
                .bind(c.category.as_deref())
                .bind(c.area.as_deref())
                .bind(c.window_from.as_deref())
                .bind(c.window_to.as_deref())
                .bind(c.days.as_deref())
                .bind(&c.lead_unit)
                .bind(&c.co_units)
                .bind(&c.note)
                .bind(now)
                .fetch_optional(p)
                .await?
        });
        row.map(CatalogueRuleRow::try_from).transpose()
    }

    pub async fn delete_catalogue_rule(&self, id: i64) -> Result<bool> {
        let n = with_pool!(self, p => {
            sqlx::query("DELETE FROM catalogue_rules WHERE id = $1")
                .bind(id)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Replaces the whole catalogue in one transaction (positions default to the list order).
    /// Every rule is validated first; a bad one fails the call with its field prefixed `[i].`.
    pub async fn replace_catalogue(&self, rules: &[NewCatalogueRule]) -> Result<u64> {
        let mut clean = Vec::with_capacity(rules.len());
        for (i, r) in rules.iter().enumerate() {
            let mut c = self.clean_rule(r).await.map_err(|e| match e {
                TicketError::Invalid { field, reason } => TicketError::Invalid {
                    field: format!("[{i}].{field}"),
                    reason,
                },
                other => other,
            })?;
            if c.position.is_none() {
                c.position = Some(i32::try_from(i).unwrap_or(i32::MAX));
            }
            clean.push(c);
        }
        let now = ts(Utc::now());
        let n = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM catalogue_rules").execute(&mut *tx).await?;
            for c in &clean {
                sqlx::query(
                    "INSERT INTO catalogue_rules (position, category, area, window_from, \
                     window_to, days, lead_unit, co_units, note, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(c.position)
                .bind(c.category.as_deref())
                .bind(c.area.as_deref())
                .bind(c.window_from.as_deref())
                .bind(c.window_to.as_deref())
                .bind(c.days.as_deref())
                .bind(&c.lead_unit)
                .bind(&c.co_units)
                .bind(&c.note)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
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

    // ----- knowledge base -----

    fn clean_kb(k: &NewKbItem) -> Result<NewKbItem> {
        let question = required("question", &k.question, MAX_QUESTION_CHARS)?;
        let answer = required("answer", &k.answer, MAX_ANSWER_CHARS)?;
        let category = optional("category", k.category.as_deref(), MAX_NAME_CHARS)?;
        if k.keywords.len() > MAX_KEYWORDS {
            return Err(invalid("keywords", format!("at most {MAX_KEYWORDS}")));
        }
        let mut keywords: Vec<String> = Vec::new();
        for (i, w) in k.keywords.iter().enumerate() {
            let field = format!("keywords[{i}]");
            let w = required(&field, w, MAX_KEYWORD_CHARS)?;
            if w.contains(['\n', '\r']) {
                return Err(invalid(field, "must be on one line"));
            }
            if !keywords.contains(&w) {
                keywords.push(w);
            }
        }
        Ok(NewKbItem {
            question,
            answer,
            category,
            keywords,
            active: k.active,
        })
    }

    pub async fn create_kb_item(&self, k: &NewKbItem) -> Result<KbItemRow> {
        let k = Self::clean_kb(k)?;
        let now = ts(Utc::now());
        let sql = format!(
            "INSERT INTO kb_items (question, answer, category, keywords, active, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {KB_COLUMNS}"
        );
        let row: KbDbRow = with_pool!(self, p => {
            sqlx::query_as::<_, KbDbRow>(&sql)
                .bind(&k.question)
                .bind(&k.answer)
                .bind(k.category.as_deref())
                .bind(k.keywords.join("\n"))
                .bind(k.active.unwrap_or(true))
                .bind(now)
                .fetch_one(p)
                .await?
        });
        Ok(row.into())
    }

    pub async fn kb_item(&self, id: i64) -> Result<Option<KbItemRow>> {
        let sql = format!("SELECT {KB_COLUMNS} FROM kb_items WHERE id = $1");
        let row: Option<KbDbRow> = with_pool!(self, p => {
            sqlx::query_as::<_, KbDbRow>(&sql).bind(id).fetch_optional(p).await?
        });
        Ok(row.map(Into::into))
    }

    /// Items by id: only active ones unless `include_inactive` (the in-memory index is built from
    /// the active ones).
    pub async fn list_kb_items(&self, include_inactive: bool) -> Result<Vec<KbItemRow>> {
        let sql =
            format!("SELECT {KB_COLUMNS} FROM kb_items WHERE ($1 OR active = $2) ORDER BY id");
        let rows: Vec<KbDbRow> = with_pool!(self, p => {
            sqlx::query_as::<_, KbDbRow>(&sql)
                .bind(include_inactive)
                .bind(true)
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Replaces the item (`active: None` keeps the flag); `None` if there is none.
    pub async fn update_kb_item(&self, id: i64, k: &NewKbItem) -> Result<Option<KbItemRow>> {
        let k = Self::clean_kb(k)?;
        let now = ts(Utc::now());
        let sql = format!(
            "UPDATE kb_items SET question = $2, answer = $3, category = $4, keywords = $5, \
             active = COALESCE($6, active), updated_at = $7 WHERE id = $1 RETURNING {KB_COLUMNS}"
        );
        let row: Option<KbDbRow> = with_pool!(self, p => {
            sqlx::query_as::<_, KbDbRow>(&sql)
                .bind(id)
                .bind(&k.question)
                .bind(&k.answer)
                .bind(k.category.as_deref())
                .bind(k.keywords.join("\n"))
                .bind(k.active)
                .bind(now)
                .fetch_optional(p)
                .await?
        });
        Ok(row.map(Into::into))
    }

    pub async fn delete_kb_item(&self, id: i64) -> Result<bool> {
        let n = with_pool!(self, p => {
            sqlx::query("DELETE FROM kb_items WHERE id = $1")
                .bind(id)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    // ----- calendar edits -----

    /// Records that `day` is a working day or a day off (replacing an earlier edit of that day).
    pub async fn upsert_calendar_day(
        &self,
        day: NaiveDate,
        working: bool,
        note: &str,
        updated_by: &str,
        now: DateTime<Utc>,
    ) -> Result<CalendarDay> {
        let note = note.trim();
        at_most("note", note, MAX_NOTE_CHARS)?;
        let updated_by = required("updated_by", updated_by, MAX_USER_ID_CHARS)?;
        let row: CalendarDbRow = with_pool!(self, p => {
            sqlx::query_as::<_, CalendarDbRow>(
                "INSERT INTO calendar_days (day, working, note, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (day) DO UPDATE SET \
                 working = EXCLUDED.working, note = EXCLUDED.note, \
                 updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at \
                 RETURNING day, working, note, updated_by, updated_at",
            )
            .bind(day.format("%Y-%m-%d").to_string())
            .bind(working)
            .bind(note)
            .bind(&updated_by)
            .bind(ts(now))
            .fetch_one(p)
            .await?
        });
        row.try_into()
    }

    pub async fn calendar_day(&self, day: NaiveDate) -> Result<Option<CalendarDay>> {
        let row: Option<CalendarDbRow> = with_pool!(self, p => {
            sqlx::query_as::<_, CalendarDbRow>(
                "SELECT day, working, note, updated_by, updated_at FROM calendar_days WHERE day = $1",
            )
            .bind(day.format("%Y-%m-%d").to_string())
            .fetch_optional(p)
            .await?
        });
        row.map(CalendarDay::try_from).transpose()
    }

    /// Removes the edit of `day` (it follows the calendar files again); `false` if there was none.
    pub async fn delete_calendar_day(&self, day: NaiveDate) -> Result<bool> {
        let n = with_pool!(self, p => {
            sqlx::query("DELETE FROM calendar_days WHERE day = $1")
                .bind(day.format("%Y-%m-%d").to_string())
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Every edit, by day.
    pub async fn list_calendar_days(&self) -> Result<Vec<CalendarDay>> {
        let rows: Vec<CalendarDbRow> = with_pool!(self, p => {
            sqlx::query_as::<_, CalendarDbRow>(
                "SELECT day, working, note, updated_by, updated_at FROM calendar_days ORDER BY day",
            )
            .fetch_all(p)
            .await?
        });
        rows.into_iter().map(CalendarDay::try_from).collect()
    }
}

/// Lays the edits over a calendar loaded from the files.
pub fn apply_calendar_days(cal: &mut hotline_calendar::Calendar, days: &[CalendarDay]) {
    for d in days {
        let kind = if d.working {
            hotline_calendar::Kind::Workday
        } else {
            hotline_calendar::Kind::DayOff
        };
        cal.set_day(d.day, kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_matches_rfc_7914_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", c = 1), first 32 bytes.
        let out = pbkdf2_sha256(b"passwd", b"salt", 1);
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        // RFC 7914 §11, c = 80000.
        let out = pbkdf2_sha256(b"Password", b"NaCl", 80_000);
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        );
    }

    /// PBKDF2 by the book, every round through the `hmac` crate.
    fn pbkdf2_reference(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
        let mac = Hmac::<Sha256>::new_from_slice(password).unwrap();
        let mut m = mac.clone();
        m.update(salt);
        m.update(&1u32.to_be_bytes());
        let mut u: [u8; 32] = m.finalize().into_bytes().into();
        let mut out = u;
        for _ in 1..iterations {
            let mut m = mac.clone();
            m.update(&u);
            u = m.finalize().into_bytes().into();
            for (o, x) in out.iter_mut().zip(u.iter()) {
                *o ^= x;
            }
        }
        out
    }

    #[test]
    fn pbkdf2_fast_rounds_match_hmac() {
        for pw in [&b""[..], b"pw", &[7u8; 64], &[9u8; 65], &[1u8; 200]] {
            for n in [1, 2, 3, 17] {
                assert_eq!(
                    pbkdf2_sha256(pw, b"salt", n),
                    pbkdf2_reference(pw, b"salt", n)
                );
            }
        }
    }

    #[test]
    fn hash_and_verify() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("pbkdf2-sha256$100000$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct hors", &h));
        assert_ne!(h, hash_password("correct horse"), "salted");
        assert!(!verify_password("x", "pbkdf2-sha256$0$AA$AA"));
        assert!(!verify_password("x", "md5$1$2$3"));
        assert!(!verify_password("x", ""));
    }

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
