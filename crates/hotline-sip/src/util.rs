//! Random identifiers: tags, Call-IDs and branches.

use rand::Rng;

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| {
            let i = rng.gen_range(0..ALPHABET.len());
            char::from(ALPHABET.get(i).copied().unwrap_or(b'x'))
        })
        .collect()
}

/// A From/To tag (RFC 3261 §19.3: at least 32 bits of randomness).
pub fn new_tag() -> String {
    random_token(12)
}

/// A Call-ID, `random@host` when a host is given.
pub fn new_call_id(host: Option<&str>) -> String {
    match host {
        Some(h) => format!("{}@{}", random_token(20), h),
        None => random_token(24),
    }
}

/// A Via branch with the RFC 3261 magic cookie.
pub fn new_branch() -> String {
    format!("{}{}", crate::msg::MAGIC_COOKIE, random_token(16))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_distinct() {
        assert_ne!(super::new_tag(), super::new_tag());
        assert!(super::new_branch().starts_with("z9hG4bK"));
        assert!(super::new_call_id(Some("h")).ends_with("@h"));
    }
}
