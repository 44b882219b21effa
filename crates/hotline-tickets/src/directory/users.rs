//! Users, their passwords (PBKDF2) and bearer tokens.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use hotline_workflow::Role;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::str::FromStr;

use super::{
    corrupt, identifier, present, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MAX_USER_ID_CHARS,
    MIN_PASSWORD_CHARS,
};
use crate::routing::audit::{audit_append, audit_commit, audit_lock, audit_store_head};
use crate::sos::{at_most, invalid, is_unique_violation, required};
use crate::{ts, Result, TicketError, TicketStore};

/// PBKDF2 iterations of new hashes (stored in the hash, so it can be raised later).
pub const PBKDF2_ITERATIONS: u32 = 100_000;
/// A stored hash with more iterations than this is refused rather than computed (a corrupt or
/// hostile row must not stall logins).
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

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

impl TicketStore {
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
        let user: User = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let res = sqlx::query_as::<_, UserRow>(&sql)
                .bind(&id)
                .bind(&name)
                .bind(new.role.as_str())
                .bind(new.unit_id)
                .bind(&hash)
                .bind(true)
                .bind(now)
                .fetch_one(&mut *tx)
                .await;
            let user: User = match res {
                Ok(row) => row.try_into()?,
                Err(e) if is_unique_violation(&e) => {
                    return Err(TicketError::Conflict(format!("id: user {id:?} already exists")))
                }
                Err(e) => return Err(e.into()),
            };
            // The password hash never goes into the audit log.
            audit_commit!(self, tx, chain, format!("user:{id}"), "create", None::<User>, &user);
            user
        });
        Ok(user)
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        self.fetch_by::<UserRow, _>(&sql, id.to_string()).await
    }

    /// Every user, by id.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        self.fetch_all::<UserRow, _>(&sql).await
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
        let user: Option<User> = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
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
            let user = row.map(User::try_from).transpose()?;
            if let Some(after) = &user {
                let action = if !active && old.active { "deactivate" } else { "update" };
                let after = serde_json::json!({ "user": after, "password_changed": hash.is_some() });
                audit_commit!(self, tx, chain, format!("user:{id}"), action, &old, after);
            }
            user
        });
        Ok(user)
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
        self.affects(
            "DELETE FROM api_tokens WHERE token_hash = $1",
            token_hash(token),
        )
        .await
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
}
