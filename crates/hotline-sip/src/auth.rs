//! Digest authentication (RFC 2617, RFC 7616, RFC 8760): MD5 and SHA-256, qop=auth.
//!
//! Server side nonces are stateless: `<unix-secs hex>.<HMAC-SHA256(secret, secs|realm) hex>`, so any
//! worker can check them and expiry needs no table. Replays within the nonce lifetime are not
//! detected (no nc tracking) — an accepted trade-off for a stateless registrar.

use hmac::{Hmac, Mac};
use md5::Md5;
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    fn parse(s: &str) -> Option<Algorithm> {
        if s.eq_ignore_ascii_case("MD5") {
            Some(Algorithm::Md5)
        } else if s.eq_ignore_ascii_case("SHA-256") {
            Some(Algorithm::Sha256)
        } else {
            None
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Credentials valid for this user.
    Ok(String),
    /// Valid credentials on an expired nonce: challenge again with `stale=true`.
    Stale,
    /// Missing, malformed or wrong credentials (unknown user looks the same).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("not a Digest challenge")]
    NotDigest,
    #[error("challenge lacks {0}")]
    Missing(&'static str),
    #[error("unsupported algorithm {0}")]
    Algorithm(String),
    #[error("unsupported qop {0}")]
    Qop(String),
}

/// Server-side digest authenticator.
#[derive(Clone)]
pub struct DigestAuth {
    realm: String,
    secret: [u8; 32],
    algorithms: Vec<Algorithm>,
    nonce_ttl: u64,
}

impl std::fmt::Debug for DigestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestAuth")
            .field("realm", &self.realm)
            .field("algorithms", &self.algorithms)
            .field("nonce_ttl", &self.nonce_ttl)
            .finish_non_exhaustive()
    }
}

impl DigestAuth {
    /// MD5 offered first, then SHA-256 (many phones and SIPp read only the first challenge);
    /// nonces live `nonce_ttl_secs` (300 is a good default); the HMAC secret is random per process.
    pub fn new(realm: impl Into<String>, nonce_ttl_secs: u64) -> DigestAuth {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let mut a = DigestAuth::with_secret(realm, secret);
        a.nonce_ttl = nonce_ttl_secs;
        a
    }

    /// Fixed secret (several processes sharing nonces, tests); nonces live 300 s.
    pub fn with_secret(realm: impl Into<String>, secret: [u8; 32]) -> DigestAuth {
        DigestAuth {
            realm: realm.into(),
            secret,
            algorithms: vec![Algorithm::Md5, Algorithm::Sha256],
            nonce_ttl: 300,
        }
    }

    /// Order of the challenges (and the accepted algorithms). Empty keeps the current list.
    pub fn set_algorithms(&mut self, algorithms: Vec<Algorithm>) {
        if !algorithms.is_empty() {
            self.algorithms = algorithms;
        }
    }

    pub fn set_nonce_ttl(&mut self, secs: u64) {
        self.nonce_ttl = secs;
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    fn mac(&self, ts: u64) -> String {
        // new_from_slice never fails for HMAC (any key length is valid)
        let Ok(mut m) = HmacSha256::new_from_slice(&self.secret) else {
            return String::new();
        };
        m.update(format!("{ts:x}|{}", self.realm).as_bytes());
        let out = m.finalize().into_bytes();
        hex(out.get(..16).unwrap_or(&[]))
    }

    pub fn make_nonce(&self, now_unix_secs: u64) -> String {
        format!("{now_unix_secs:x}.{}", self.mac(now_unix_secs))
    }

    /// `Some(issued_at)` when the nonce is one of ours (expiry not checked).
    fn nonce_time(&self, nonce: &str) -> Option<u64> {
        let (ts, mac) = nonce.split_once('.')?;
        let ts = u64::from_str_radix(ts, 16).ok()?;
        let expected = self.mac(ts);
        if constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            Some(ts)
        } else {
            None
        }
    }

    /// WWW-Authenticate (or Proxy-Authenticate) values, one per algorithm, in preference order.
    pub fn challenge(&self, now_unix_secs: u64, stale: bool) -> Vec<String> {
        let nonce = self.make_nonce(now_unix_secs);
        self.algorithms
            .iter()
            .map(|a| {
                let mut s = format!(
                    "Digest realm=\"{}\", nonce=\"{}\", algorithm={}, qop=\"auth\"",
                    self.realm,
                    nonce,
                    a.as_str()
                );
                if stale {
                    s.push_str(", stale=true");
                }
                s
            })
            .collect()
    }

    /// Checks an Authorization value. `password_of` returns the user's password; an unknown user is
    /// checked against a dummy secret so timing and answer match a wrong password.
    /// The digest `uri` is not compared with the Request-URI (proxies may rewrite it).
    pub fn verify(
        &self,
        now_unix_secs: u64,
        method: &str,
        authorization: Option<&str>,
        password_of: impl Fn(&str) -> Option<String>,
    ) -> AuthOutcome {
        let Some(auth) = authorization else {
            return AuthOutcome::Failed;
        };
        let Some(p) = parse_digest(auth) else {
            return AuthOutcome::Failed;
        };
        let (Some(user), Some(realm), Some(nonce), Some(uri), Some(response)) = (
            p.get("username"),
            p.get("realm"),
            p.get("nonce"),
            p.get("uri"),
            p.get("response"),
        ) else {
            return AuthOutcome::Failed;
        };
        let algorithm = match p.get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => match Algorithm::parse(a) {
                Some(a) if self.algorithms.contains(&a) => a,
                _ => return AuthOutcome::Failed,
            },
        };
        if realm != self.realm {
            return AuthOutcome::Failed;
        }
        let qop = p.get("qop");
        let (nc, cnonce) = (p.get("nc"), p.get("cnonce"));
        if qop.is_some_and(|q| q != "auth") || (qop.is_some() && (nc.is_none() || cnonce.is_none()))
        {
            return AuthOutcome::Failed;
        }
        let known = password_of(user);
        let password = known.clone().unwrap_or_else(|| "\u{1}dummy-secret".into());
        let expected = digest_response(
            algorithm,
            user,
            &self.realm,
            &password,
            method,
            uri,
            nonce,
            qop.map(|q| (q, nc.unwrap_or(""), cnonce.unwrap_or(""))),
        );
        let matches = constant_time_eq(
            expected.as_bytes(),
            response.to_ascii_lowercase().as_bytes(),
        );
        let Some(issued) = self.nonce_time(nonce) else {
            return AuthOutcome::Failed;
        };
        if !matches || known.is_none() {
            return AuthOutcome::Failed;
        }
        if now_unix_secs.saturating_sub(issued) > self.nonce_ttl || issued > now_unix_secs + 60 {
            return AuthOutcome::Stale;
        }
        AuthOutcome::Ok(user.to_string())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[allow(clippy::too_many_arguments)]
fn digest_response(
    alg: Algorithm,
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, &str, &str)>,
) -> String {
    let ha1 = alg.hash(&format!("{user}:{realm}:{password}"));
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    match qop {
        Some((q, nc, cnonce)) => alg.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{q}:{ha2}")),
        None => alg.hash(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// Digest parameters, keys lower-cased, quotes removed (escapes resolved).
struct DigestParams(Vec<(String, String)>);

impl DigestParams {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

fn parse_digest(s: &str) -> Option<DigestParams> {
    let s = s.trim();
    let (scheme, rest) = s.split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let mut out = Vec::new();
    let mut chars = rest.char_indices().peekable();
    let bytes = rest;
    loop {
        // skip separators
        while chars
            .peek()
            .is_some_and(|(_, c)| *c == ',' || c.is_whitespace())
        {
            chars.next();
        }
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut eq = None;
        while let Some(&(i, c)) = chars.peek() {
            if c == '=' {
                eq = Some(i);
                chars.next();
                break;
            }
            if c == ',' {
                break;
            }
            chars.next();
        }
        let eq = eq?;
        let name = bytes.get(start..eq)?.trim().to_ascii_lowercase();
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek().is_some_and(|(_, c)| *c == '"') {
            chars.next();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        out.push((name, value));
    }
    Some(DigestParams(out))
}

/// Client side: an Authorization value answering `challenge` (a WWW-/Proxy-Authenticate value) with a
/// random cnonce and nc=00000001.
pub fn authorize(
    challenge: &str,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
) -> Result<String, AuthError> {
    let mut c = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut c);
    authorize_with(challenge, method, uri, user, password, &hex(&c), 1)
}

/// [`authorize`] with a given cnonce and nonce count (deterministic, for tests).
pub fn authorize_with(
    challenge: &str,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Result<String, AuthError> {
    let p = parse_digest(challenge).ok_or(AuthError::NotDigest)?;
    let realm = p.get("realm").ok_or(AuthError::Missing("realm"))?;
    let nonce = p.get("nonce").ok_or(AuthError::Missing("nonce"))?;
    let alg_str = p.get("algorithm").unwrap_or("MD5");
    let alg = Algorithm::parse(alg_str).ok_or_else(|| AuthError::Algorithm(alg_str.into()))?;
    let qop = match p.get("qop") {
        None => None,
        Some(q) => {
            if q.split(',').any(|x| x.trim() == "auth") {
                Some("auth")
            } else {
                return Err(AuthError::Qop(q.into()));
            }
        }
    };
    let nc_s = format!("{nc:08x}");
    let response = digest_response(
        alg,
        user,
        realm,
        password,
        method,
        uri,
        nonce,
        qop.map(|q| (q, nc_s.as_str(), cnonce)),
    );
    let mut out = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", uri=\"{uri}\", algorithm={}, nonce=\"{nonce}\"",
        alg.as_str()
    );
    if let Some(q) = qop {
        out.push_str(&format!(", nc={nc_s}, cnonce=\"{cnonce}\", qop={q}"));
    }
    out.push_str(&format!(", response=\"{response}\""));
    if let Some(o) = p.get("opaque") {
        out.push_str(&format!(", opaque=\"{o}\""));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CH_MD5: &str = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    #[test]
    fn rfc7616_md5_vector() {
        let a = authorize_with(
            CH_MD5,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle of Life",
            CNONCE,
            1,
        )
        .unwrap();
        assert!(
            a.contains("response=\"8ca523f5e9506fed4657c9700eebdbec\""),
            "{a}"
        );
        assert!(a.contains("opaque=\"FQhe"));
    }

    #[test]
    fn rfc7616_sha256_vector() {
        let ch = CH_MD5.replace("algorithm=MD5", "algorithm=SHA-256");
        let a = authorize_with(
            &ch,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle of Life",
            CNONCE,
            1,
        )
        .unwrap();
        assert!(
            a.contains(
                "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
            ),
            "{a}"
        );
    }

    fn pw(u: &str) -> Option<String> {
        (u == "1001").then(|| "secret".to_string())
    }

    #[test]
    fn server_round_trip_both_algorithms() {
        let auth = DigestAuth::with_secret("hotline", [7; 32]);
        let ch = auth.challenge(1000, false);
        assert_eq!(ch.len(), 2);
        assert!(ch[0].contains("algorithm=MD5"), "MD5 first by default");
        assert!(ch[1].contains("algorithm=SHA-256"));
        for c in &ch {
            let a = authorize(c, "REGISTER", "sip:hotline", "1001", "secret").unwrap();
            assert_eq!(
                auth.verify(1010, "REGISTER", Some(&a), pw),
                AuthOutcome::Ok("1001".into())
            );
            // expired nonce with good credentials → stale
            assert_eq!(
                auth.verify(1000 + 301, "REGISTER", Some(&a), pw),
                AuthOutcome::Stale
            );
        }
    }

    #[test]
    fn wrong_password_and_unknown_user_look_alike() {
        let auth = DigestAuth::with_secret("hotline", [7; 32]);
        let ch = &auth.challenge(1000, false)[0];
        let wrong = authorize(ch, "REGISTER", "sip:hotline", "1001", "nope").unwrap();
        let unknown = authorize(ch, "REGISTER", "sip:hotline", "9999", "secret").unwrap();
        assert_eq!(
            auth.verify(1001, "REGISTER", Some(&wrong), pw),
            AuthOutcome::Failed
        );
        assert_eq!(
            auth.verify(1001, "REGISTER", Some(&unknown), pw),
            AuthOutcome::Failed
        );
        // expired + wrong stays Failed (no stale hint to guessers)
        assert_eq!(
            auth.verify(5000, "REGISTER", Some(&wrong), pw),
            AuthOutcome::Failed
        );
    }

    #[test]
    fn forged_nonce_and_garbage_fail() {
        let auth = DigestAuth::with_secret("hotline", [7; 32]);
        let other = DigestAuth::with_secret("hotline", [8; 32]);
        let ch = &other.challenge(1000, false)[0];
        let a = authorize(ch, "REGISTER", "sip:hotline", "1001", "secret").unwrap();
        assert_eq!(
            auth.verify(1001, "REGISTER", Some(&a), pw),
            AuthOutcome::Failed
        );
        for junk in [
            "",
            "Digest",
            "Basic abc",
            "Digest username=\"x",
            "Digest ,,,=,",
        ] {
            assert_eq!(
                auth.verify(1, "REGISTER", Some(junk), pw),
                AuthOutcome::Failed
            );
        }
        assert_eq!(auth.verify(1, "REGISTER", None, pw), AuthOutcome::Failed);
        assert!(auth.challenge(1, true)[0].ends_with("stale=true"));
    }

    #[test]
    fn algorithm_order_configurable() {
        let mut auth = DigestAuth::with_secret("r", [1; 32]);
        auth.set_algorithms(vec![Algorithm::Sha256, Algorithm::Md5]);
        assert!(auth.challenge(0, false)[0].contains("SHA-256"));
    }
}
