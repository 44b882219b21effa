//! Feature codes an agent keys on the softphone during a call (RFC 4733 or SIP INFO):
//! `*3` + number + `#` brings the number into a three-way call, `*4` + number + `#` transfers the call to it
//! (one-key transfer), `*0` leaves a three-way call (the citizen and the third party stay connected).

/// A complete in-call command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum InCall {
    Conference(String),
    Transfer(String),
    Leave,
}

/// Longest number accepted after `*3` / `*4`.
const MAX_DIGITS: usize = 32;

/// Collects an agent's digits; anything that is not a command is forgotten at the next `*`.
#[derive(Debug, Default)]
pub(super) struct InCallKeys {
    buf: String,
    active: bool,
}

impl InCallKeys {
    fn reset(&mut self) {
        self.buf.clear();
        self.active = false;
    }

    /// Feed one digit; returns the command it completes.
    pub(super) fn feed(&mut self, d: char) -> Option<InCall> {
        if d == '*' {
            self.buf.clear();
            self.active = true;
            return None;
        }
        if !self.active {
            return None;
        }
        let Some(kind) = self.buf.chars().next() else {
            match d {
                '0' => {
                    self.reset();
                    return Some(InCall::Leave);
                }
                '3' | '4' => self.buf.push(d),
                _ => self.reset(),
            }
            return None;
        };
        if d == '#' {
            let number = self.buf[1..].to_string();
            self.reset();
            if number.is_empty() {
                return None;
            }
            return Some(if kind == '3' {
                InCall::Conference(number)
            } else {
                InCall::Transfer(number)
            });
        }
        if !d.is_ascii_digit() || self.buf.len() > MAX_DIGITS {
            self.reset();
            return None;
        }
        self.buf.push(d);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(keys: &mut InCallKeys, s: &str) -> Vec<InCall> {
        s.chars().filter_map(|c| keys.feed(c)).collect()
    }

    #[test]
    fn commands() {
        let mut k = InCallKeys::default();
        assert_eq!(feed(&mut k, "*3120#"), [InCall::Conference("120".into())]);
        assert_eq!(feed(&mut k, "*4110#"), [InCall::Transfer("110".into())]);
        assert_eq!(feed(&mut k, "*0"), [InCall::Leave]);
        assert_eq!(
            feed(&mut k, "*313800000000#"),
            [InCall::Conference("13800000000".into())]
        );
    }

    #[test]
    fn noise_is_ignored() {
        let mut k = InCallKeys::default();
        assert!(feed(&mut k, "3120#").is_empty(), "no star");
        assert!(feed(&mut k, "*3#").is_empty(), "no number");
        assert!(feed(&mut k, "*5123#").is_empty(), "unknown code");
        assert!(
            feed(&mut k, "*31*0").eq(&[InCall::Leave]),
            "a star restarts"
        );
        assert!(feed(&mut k, "*3").is_empty());
        assert!(feed(&mut k, &"1".repeat(40)).is_empty());
        assert!(feed(&mut k, "#").is_empty(), "too long: forgotten");
        assert_eq!(feed(&mut k, "0"), [], "inactive after a command or a reset");
    }
}
