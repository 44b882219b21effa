//! The SOS handset registry (一键通): elders who have a one-key SOS phone, with what an agent needs
//! the moment such a phone calls — who and where the elder is, medical notes, the emergency contacts
//! to call in order, the community and the preferred hospital.
//!
//! The device's phone number is the natural key. Every number (device and contacts) is stored in the
//! form of [`normalize_number`], and lookups normalise too, so `+86 138-0000-0001` finds the device
//! registered as `13800000001`.
//!
//! Contacts are stored as a JSON array column (order = call order): they are always read and written
//! with their device, never queried alone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use crate::{paging, ts, Backend, Page, Paging, Result, TicketError, TicketStore};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_ADDRESS_CHARS: usize = 500;
pub const MAX_MEDICAL_NOTES_CHARS: usize = 2000;
pub const MAX_AGE: u16 = 150;
pub const MAX_CONTACTS: usize = 10;
/// Gender, contact relation: short free text ("男", "女儿", "neighbour").
pub const MAX_SHORT_CHARS: usize = 50;
/// Community, preferred hospital.
pub const MAX_PLACE_CHARS: usize = 200;

/// One emergency contact of an elder.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EmergencyContact {
    pub name: String,
    /// e.g. "儿子" (son), "邻居" (neighbour).
    #[serde(default)]
    pub relation: Option<String>,
    /// Normalised on write (see [`normalize_number`]).
    pub number: String,
}

/// A registered SOS handset and its elder.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SosDevice {
    /// The device's own phone number, normalised: the key.
    pub number: String,
    pub name: String,
    pub age: Option<u16>,
    pub gender: Option<String>,
    pub address: String,
    pub medical_notes: String,
    /// In the order they are to be called.
    pub contacts: Vec<EmergencyContact>,
    pub community: Option<String>,
    pub preferred_hospital: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What is written by create / replace / upsert: everything but the timestamps.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct NewSosDevice {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub age: Option<u16>,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub medical_notes: String,
    #[serde(default)]
    pub contacts: Vec<EmergencyContact>,
    #[serde(default)]
    pub community: Option<String>,
    #[serde(default)]
    pub preferred_hospital: Option<String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
}

/// Query of [`TicketStore::list_sos_devices`]. Deserializable so an HTTP query string maps onto it.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct SosDeviceFilter {
    /// Exact community name.
    pub community: Option<String>,
    /// Substring of the name, address or number (case-insensitive for Latin letters).
    pub q: Option<String>,
    /// 1-based; default 1.
    pub page: Option<u32>,
    /// Default 50, capped at 500.
    pub per_page: Option<u32>,
}

/// The canonical form of a phone number, or `None` if `s` is not one.
///
/// Spaces, dashes, dots and parentheses are dropped (full-width forms too: Excel sheets typed with a
/// Chinese IME carry them); a `+` is allowed only first. The China country code is dropped — `+86`,
/// `0086`, and a bare `86` only before an 11-digit mobile number (`861…`, 13 digits), since `86…`
/// also begins local numbers. After `+86`/`0086` a landline gets its trunk `0` back (`+86 755 …` →
/// `0755…`), which is how it is dialled, and registered, at home. Other country codes keep their
/// digits (`+852…` → `852…`). The result is 3 to 20 ASCII digits.
pub fn normalize_number(s: &str) -> Option<String> {
    let mut digits = String::with_capacity(s.len());
    let mut plus = false;
    for c in s.trim().chars() {
        // Full-width ASCII (U+FF01..U+FF5E) maps onto ASCII by a fixed offset.
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        };
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '\t' | '-' | '.' | '(' | ')' => {}
            '+' if digits.is_empty() && !plus => plus = true,
            _ => return None,
        }
    }
    let national = if plus {
        digits.strip_prefix("86")
    } else if let Some(rest) = digits.strip_prefix("0086") {
        Some(rest)
    } else if digits.len() == 13 && digits.starts_with("861") {
        Some(&digits[2..])
    } else {
        None
    };
    let out = match national {
        Some(n) if n.starts_with('1') || n.starts_with('0') => n.to_string(),
        Some(n) => format!("0{n}"),
        None => digits,
    };
    (3..=20).contains(&out.len()).then_some(out)
}

pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> TicketError {
    TicketError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Trimmed, non-empty, at most `max` characters.
pub(crate) fn required(field: &str, s: &str, max: usize) -> Result<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(invalid(field, "required"));
    }
    at_most(field, s, max)?;
    Ok(s.to_string())
}

/// Trimmed; blank means absent.
pub(crate) fn optional(field: &str, s: Option<&str>, max: usize) -> Result<Option<String>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => {
            at_most(field, s, max)?;
            Ok(Some(s.to_string()))
        }
    }
}

pub(crate) fn at_most(field: &str, s: &str, max: usize) -> Result<()> {
    let n = s.chars().count();
    if n > max {
        return Err(invalid(
            field,
            format!("at most {max} characters (got {n})"),
        ));
    }
    Ok(())
}

fn phone(field: &str, s: &str) -> Result<String> {
    if s.trim().is_empty() {
        return Err(invalid(field, "required"));
    }
    normalize_number(s).ok_or_else(|| {
        invalid(
            field,
            format!("{s:?} is not a phone number (3 to 20 digits, optionally +86)"),
        )
    })
}

fn coordinate(field: &str, v: Option<f64>, limit: f64) -> Result<Option<f64>> {
    match v {
        Some(x) if !x.is_finite() || x.abs() > limit => Err(invalid(
            field,
            format!("must be between -{limit} and {limit}"),
        )),
        _ => Ok(v),
    }
}

impl NewSosDevice {
    /// The device as it will be stored: strings trimmed (blank optional ones dropped), numbers
    /// normalised; or [`TicketError::Invalid`] naming the first bad field (`name`,
    /// `contacts[1].number`, …). Every write runs this; callers may run it first to report errors
    /// before writing anything (the CSV import does).
    pub fn validate(&self) -> Result<NewSosDevice> {
        let number = phone("number", &self.number)?;
        let name = required("name", &self.name, MAX_NAME_CHARS)?;
        if let Some(age) = self.age.filter(|&a| a > MAX_AGE) {
            return Err(invalid(
                "age",
                format!("must be 0 to {MAX_AGE} (got {age})"),
            ));
        }
        let gender = optional("gender", self.gender.as_deref(), MAX_SHORT_CHARS)?;
        let address = required("address", &self.address, MAX_ADDRESS_CHARS)?;
        let medical_notes = self.medical_notes.trim().to_string();
        at_most("medical_notes", &medical_notes, MAX_MEDICAL_NOTES_CHARS)?;
        if self.contacts.len() > MAX_CONTACTS {
            return Err(invalid(
                "contacts",
                format!("at most {MAX_CONTACTS} (got {})", self.contacts.len()),
            ));
        }
        let contacts = self
            .contacts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(EmergencyContact {
                    name: required(&format!("contacts[{i}].name"), &c.name, MAX_NAME_CHARS)?,
                    relation: optional(
                        &format!("contacts[{i}].relation"),
                        c.relation.as_deref(),
                        MAX_SHORT_CHARS,
                    )?,
                    number: phone(&format!("contacts[{i}].number"), &c.number)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let community = optional("community", self.community.as_deref(), MAX_PLACE_CHARS)?;
        let preferred_hospital = optional(
            "preferred_hospital",
            self.preferred_hospital.as_deref(),
            MAX_PLACE_CHARS,
        )?;
        let latitude = coordinate("latitude", self.latitude, 90.0)?;
        let longitude = coordinate("longitude", self.longitude, 180.0)?;
        // Half a position cannot be shown on a map.
        match (latitude, longitude) {
            (Some(_), None) => return Err(invalid("longitude", "required with latitude")),
            (None, Some(_)) => return Err(invalid("latitude", "required with longitude")),
            _ => {}
        }
        Ok(NewSosDevice {
            number,
            name,
            age: self.age,
            gender,
            address,
            medical_notes,
            contacts,
            community,
            preferred_hospital,
            latitude,
            longitude,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SosDeviceRow {
    number: String,
    name: String,
    age: Option<i32>,
    gender: Option<String>,
    address: String,
    medical_notes: String,
    contacts: Json<Vec<EmergencyContact>>,
    community: Option<String>,
    preferred_hospital: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<SosDeviceRow> for SosDevice {
    type Error = TicketError;
    fn try_from(r: SosDeviceRow) -> Result<SosDevice> {
        let age = r.age.map(u16::try_from).transpose().map_err(|_| {
            TicketError::Corrupt(format!("sos device {} age {:?}", r.number, r.age))
        })?;
        Ok(SosDevice {
            number: r.number,
            name: r.name,
            age,
            gender: r.gender,
            address: r.address,
            medical_notes: r.medical_notes,
            contacts: r.contacts.0,
            community: r.community,
            preferred_hospital: r.preferred_hospital,
            latitude: r.latitude,
            longitude: r.longitude,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const SOS_COLUMNS: &str = "number, name, age, gender, address, medical_notes, contacts, \
     community, preferred_hospital, latitude, longitude, created_at, updated_at";

/// `$1` = number, `$2..$11` = the other fields, in [`bind_fields!`] order.
const SOS_SET: &str = "name = $2, age = $3, gender = $4, address = $5, medical_notes = $6, \
     contacts = $7, community = $8, preferred_hospital = $9, latitude = $10, longitude = $11";

/// Binds `$1..$11` of a validated device to a query.
macro_rules! bind_fields {
    ($q:expr, $d:expr) => {
        $q.bind(&$d.number)
            .bind(&$d.name)
            .bind($d.age.map(i32::from))
            .bind($d.gender.as_deref())
            .bind(&$d.address)
            .bind(&$d.medical_notes)
            .bind(Json(&$d.contacts))
            .bind($d.community.as_deref())
            .bind($d.preferred_hospital.as_deref())
            .bind($d.latitude)
            .bind($d.longitude)
    };
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// A LIKE pattern matching `s` anywhere, with LIKE's wildcards in `s` escaped (by `\`).
pub(crate) fn contains_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl TicketStore {
    /// Registers a device. [`TicketError::Invalid`] if a field is bad,
    /// [`TicketError::SosDeviceExists`] if its (normalised) number is already registered.
    pub async fn create_sos_device(&self, new: &NewSosDevice) -> Result<SosDevice> {
        let d = new.validate()?;
        let now = ts(Utc::now());
        let sql = format!(
            "INSERT INTO sos_devices ({SOS_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
             RETURNING {SOS_COLUMNS}"
        );
        let res: Result<SosDeviceRow, sqlx::Error> = with_pool!(self, p => {
            bind_fields!(sqlx::query_as::<_, SosDeviceRow>(&sql), d)
                .bind(now)
                .fetch_one(p)
                .await
        });
        match res {
            Ok(row) => row.try_into(),
            Err(e) if is_unique_violation(&e) => Err(TicketError::SosDeviceExists(d.number)),
            Err(e) => Err(e.into()),
        }
    }

    /// The device registered under `number` (normalised first: `+86 138-0000-0001` finds
    /// `13800000001`); `None` if there is none or `number` is not a phone number. This is the
    /// switch's lookup of an incoming caller.
    pub async fn sos_device(&self, number: &str) -> Result<Option<SosDevice>> {
        let Some(number) = normalize_number(number) else {
            return Ok(None);
        };
        let sql = format!("SELECT {SOS_COLUMNS} FROM sos_devices WHERE number = $1");
        let row: Option<SosDeviceRow> = with_pool!(self, p => {
            sqlx::query_as::<_, SosDeviceRow>(&sql).bind(&number).fetch_optional(p).await?
        });
        row.map(SosDevice::try_from).transpose()
    }

    /// Devices matching `f`, by number, paged like [`TicketStore::list`].
    pub async fn list_sos_devices(&self, f: &SosDeviceFilter) -> Result<Page<SosDevice>> {
        let Paging {
            page,
            per_page,
            offset,
        } = paging(f.page, f.per_page)?;
        let community = f
            .community
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let q = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let text = q.map(|q| contains_pattern(&q.to_lowercase()));
        // A number-like query ("138-0000") is matched against the stored digits.
        let digits = q
            .filter(|q| q.chars().all(|c| c.is_ascii_digit() || " -+()".contains(c)))
            .map(|q| q.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|d| !d.is_empty())
            .map(|d| contains_pattern(&d));
        let cond = "($1 IS NULL OR community = $1) \
             AND ($2 IS NULL OR LOWER(name) LIKE $2 ESCAPE '\\' \
                  OR LOWER(address) LIKE $2 ESCAPE '\\' \
                  OR number LIKE $2 ESCAPE '\\' \
                  OR number LIKE $3 ESCAPE '\\')";
        let count_sql = format!("SELECT COUNT(*) FROM sos_devices WHERE {cond}");
        let list_sql = format!(
            "SELECT {SOS_COLUMNS} FROM sos_devices WHERE {cond} \
             ORDER BY number LIMIT $4 OFFSET $5"
        );
        let (total, rows): (i64, Vec<SosDeviceRow>) = with_pool!(self, p => {
            let total: i64 = sqlx::query_scalar(&count_sql)
                .bind(community)
                .bind(text.as_deref())
                .bind(digits.as_deref())
                .fetch_one(p)
                .await?;
            let rows = sqlx::query_as::<_, SosDeviceRow>(&list_sql)
                .bind(community)
                .bind(text.as_deref())
                .bind(digits.as_deref())
                .bind(i64::from(per_page))
                .bind(offset)
                .fetch_all(p)
                .await?;
            (total, rows)
        });
        Ok(Page {
            items: rows
                .into_iter()
                .map(SosDevice::try_from)
                .collect::<Result<_>>()?,
            page,
            per_page,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// Replaces every field of the device registered under `number` with `new` (keeping
    /// `created_at`); `None` if there is no such device. `new.number` may differ (the elder got a new
    /// handset), unless another device already has it: [`TicketError::SosDeviceExists`].
    pub async fn replace_sos_device(
        &self,
        number: &str,
        new: &NewSosDevice,
    ) -> Result<Option<SosDevice>> {
        let d = new.validate()?;
        let Some(old) = normalize_number(number) else {
            return Ok(None);
        };
        let now = ts(Utc::now());
        let sql = format!(
            "UPDATE sos_devices SET number = $1, {SOS_SET}, updated_at = $12 \
             WHERE number = $13 RETURNING {SOS_COLUMNS}"
        );
        let res: Result<Option<SosDeviceRow>, sqlx::Error> = with_pool!(self, p => {
            bind_fields!(sqlx::query_as::<_, SosDeviceRow>(&sql), d)
                .bind(now)
                .bind(&old)
                .fetch_optional(p)
                .await
        });
        match res {
            Ok(row) => row.map(SosDevice::try_from).transpose(),
            Err(e) if is_unique_violation(&e) => Err(TicketError::SosDeviceExists(d.number)),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the device; `false` if there was none.
    pub async fn delete_sos_device(&self, number: &str) -> Result<bool> {
        let Some(number) = normalize_number(number) else {
            return Ok(false);
        };
        let n = with_pool!(self, p => {
            sqlx::query("DELETE FROM sos_devices WHERE number = $1")
                .bind(&number)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Creates or replaces every device, all in one transaction (a bulk import either lands whole or
    /// not at all); returns `(inserted, updated)`. Every device is validated before anything is
    /// written; the first bad one fails the whole call with [`TicketError::Invalid`] (its field is
    /// prefixed `[i].`). A number given twice is inserted then updated (the last one wins).
    pub async fn upsert_sos_devices(&self, devices: &[NewSosDevice]) -> Result<(u64, u64)> {
        let devices = devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                d.validate().map_err(|e| match e {
                    TicketError::Invalid { field, reason } => TicketError::Invalid {
                        field: format!("[{i}].{field}"),
                        reason,
                    },
                    other => other,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let now = ts(Utc::now());
        // Try the insert first and update only on conflict: the outcome of each statement tells
        // new from updated without a racy read beforehand.
        let insert = format!(
            "INSERT INTO sos_devices ({SOS_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
             ON CONFLICT (number) DO NOTHING"
        );
        let update =
            format!("UPDATE sos_devices SET {SOS_SET}, updated_at = $12 WHERE number = $1");
        let is_pg = matches!(self.backend, Backend::Postgres(_));
        let counts = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            if is_pg {
                // Two concurrent imports could otherwise both miss a number on insert and then both
                // update nothing for it; imports are rare, so serialising them costs nothing.
                sqlx::query("SELECT pg_advisory_xact_lock(4242, 3)")
                    .execute(&mut *tx)
                    .await?;
            }
            let (mut inserted, mut updated) = (0u64, 0u64);
            for d in &devices {
                let n = bind_fields!(sqlx::query(&insert), d)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n > 0 {
                    inserted += 1;
                } else {
                    bind_fields!(sqlx::query(&update), d)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    updated += 1;
                }
            }
            tx.commit().await?;
            (inserted, updated)
        });
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_numbers() {
        let n = |s: &str| normalize_number(s);
        assert_eq!(n("13800000001").as_deref(), Some("13800000001"));
        assert_eq!(n(" +86 138 0000 0001 ").as_deref(), Some("13800000001"));
        assert_eq!(n("138-0000-0001").as_deref(), Some("13800000001"));
        assert_eq!(n("0086 13800000001").as_deref(), Some("13800000001"));
        assert_eq!(n("8613800000001").as_deref(), Some("13800000001"));
        assert_eq!(n("+8613800000001").as_deref(), Some("13800000001"));
        // Full-width digits and punctuation, as typed with a Chinese IME.
        assert_eq!(
            n("＋８６　１３８００００００01").as_deref(),
            Some("13800000001")
        );
        // A landline after the country code regains its trunk 0.
        assert_eq!(n("+86 (755) 8888-8888").as_deref(), Some("075588888888"));
        assert_eq!(n("(0755) 8888-8888").as_deref(), Some("075588888888"));
        // A bare 86 is a country code only before a mobile number.
        assert_eq!(n("86123456").as_deref(), Some("86123456"));
        assert_eq!(n("+852 1234 5678").as_deref(), Some("85212345678"));
        assert_eq!(n("120").as_deref(), Some("120"));
        for bad in [
            "",
            "  ",
            "12",
            "+86",
            "abc",
            "138x0000",
            "1+38",
            "++8613800000001",
            "123456789012345678901",
            "sip:13800000001",
        ] {
            assert_eq!(n(bad), None, "{bad:?}");
        }
    }

    fn elder() -> NewSosDevice {
        NewSosDevice {
            number: "+86 138-0000-0001".into(),
            name: " 王秀兰 ".into(),
            age: Some(82),
            gender: Some(" ".into()),
            address: "深圳市福田区莲花街道".into(),
            medical_notes: "高血压\n".into(),
            contacts: vec![EmergencyContact {
                name: "王强".into(),
                relation: Some("儿子".into()),
                number: "139 0000 0002".into(),
            }],
            community: Some("莲花北社区".into()),
            ..Default::default()
        }
    }

    fn field_of(e: TicketError) -> String {
        match e {
            TicketError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn validate_cleans_up() {
        let d = elder().validate().unwrap();
        assert_eq!(d.number, "13800000001");
        assert_eq!(d.name, "王秀兰");
        assert_eq!(d.gender, None);
        assert_eq!(d.medical_notes, "高血压");
        assert_eq!(d.contacts[0].number, "13900000002");
    }

    #[test]
    fn validate_names_the_field() {
        let bad = |f: fn(&mut NewSosDevice)| {
            let mut d = elder();
            f(&mut d);
            field_of(d.validate().unwrap_err())
        };
        assert_eq!(bad(|d| d.number = "no".into()), "number");
        assert_eq!(bad(|d| d.number = String::new()), "number");
        assert_eq!(bad(|d| d.name = "  ".into()), "name");
        assert_eq!(bad(|d| d.name = "名".repeat(101)), "name");
        assert_eq!(bad(|d| d.address = String::new()), "address");
        assert_eq!(bad(|d| d.address = "a".repeat(501)), "address");
        assert_eq!(bad(|d| d.age = Some(151)), "age");
        assert_eq!(bad(|d| d.medical_notes = "x".repeat(2001)), "medical_notes");
        assert_eq!(
            bad(|d| d.contacts = vec![d.contacts[0].clone(); 11]),
            "contacts"
        );
        assert_eq!(
            bad(|d| d.contacts.push(EmergencyContact {
                name: "李".into(),
                relation: None,
                number: "12".into()
            })),
            "contacts[1].number"
        );
        assert_eq!(bad(|d| d.contacts[0].name.clear()), "contacts[0].name");
        assert_eq!(bad(|d| d.latitude = Some(22.5)), "longitude");
        assert_eq!(
            bad(|d| {
                d.latitude = Some(91.0);
                d.longitude = Some(114.0)
            }),
            "latitude"
        );
        assert_eq!(bad(|d| d.longitude = Some(f64::NAN)), "longitude");
        let mut ok = elder();
        ok.age = Some(150);
        ok.contacts = vec![ok.contacts[0].clone(); 10];
        ok.latitude = Some(22.54);
        ok.longitude = Some(114.05);
        assert!(ok.validate().is_ok());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
