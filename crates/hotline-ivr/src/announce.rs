//! Spoken numbers, queue position and estimated wait, composed from recorded prompts
//! (`sounds/{zh,en}/NAME.wav`); no network TTS.
//!
//! # Prompt names
//!
//! | name | zh | en |
//! |---|---|---|
//! | `num-0` … `num-9` | 零 … 九 | zero … nine |
//! | `num-10` | 十 | ten |
//! | `num-11` … `num-19` | — | eleven … nineteen |
//! | `num-20`, `num-30` … `num-90` | — | twenty … ninety |
//! | `num-hundred` | 百 | hundred |
//! | `num-thousand` | 千 | thousand |
//! | `num-ten-thousand` | 万 | — |
//! | `num-hundred-million` | 亿 | — |
//! | `num-million`, `num-billion` | — | million, billion |
//! | `queue-position-before` | 您当前排在第 | You are number |
//! | `queue-position-after` | 位 | in the queue |
//! | `wait-before` | 预计等待 | Your estimated wait is |
//! | `wait-minutes` / `wait-minute` | 分钟 | minutes / minute |
//! | `wait-less-than-minute` | 预计等待时间不到一分钟 | Your estimated wait is less than one minute |
//!
//! # Chinese rules
//!
//! Groups of four digits with 万 and 亿; inside a group 千/百/十; one 零 for any run of zeros
//! between non-zero digits (105 一百零五, 1005 一千零五, 10005 一万零五, 100500 十万零五百);
//! trailing zeros are silent (110 一百一十, 10000 一万); a leading 一十 is said 十 (10 十,
//! 12 十二, 100000 十万) but kept inside a number (110 一百一十).
//! **二 vs 两**: always 二 (二百, 二千, 二万). It is understood everywhere, keeps the prompt set to one
//! recording per digit, and avoids the regional disagreement over 两 in 两百/二百.
//!
//! Position is spoken as an ordinal place, 1-based ("您当前排在第三位" / "You are number 3 in
//! the queue"), so both languages say the same thing; "您前面还有N位" would be position − 1.
//!
//! # English rules
//!
//! American style without "and": 101 one hundred one, 12345 twelve thousand three hundred
//! forty five.
//!
//! # Estimated wait
//!
//! `EWT = ceil_to_minutes(position × AHT / max(1, agents))` where
//! * `position` is the caller's 1-based place in the queue (the caller waits for the
//!   `position` calls to be answered, counting their own answer);
//! * `AHT` (average handle time, talk + wrap-up) is the mean of a sliding window of recently
//!   completed calls on this queue — we recommend the last 20 calls or the last 30 minutes,
//!   whichever is fewer, so the estimate follows the time of day; non-finite or negative
//!   samples are dropped, and with no sample at all [`DEFAULT_HANDLE_SECS`] is used;
//! * `agents` is the number of agents staffed on the queue (available or busy, not on break).
//!
//! Rounding *up* to whole minutes means we never promise less than we can deliver; the result
//! is capped at [`MAX_ESTIMATE`] to keep silly inputs (huge queues, zero agents) speakable.

use std::str::FromStr;
use std::time::Duration;

/// Handle time assumed when no recent call is known (3 minutes, a typical 12345 call).
pub const DEFAULT_HANDLE_SECS: f64 = 180.0;
/// Largest estimate returned by [`estimated_wait`].
pub const MAX_ESTIMATE: Duration = Duration::from_secs(24 * 3600);

/// Prompt language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The `sounds/` sub-directory.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "cmn" | "zh-cn" => Ok(Lang::Zh),
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            other => Err(format!(
                "unknown prompt language `{other}` (expected zh or en)"
            )),
        }
    }
}

fn num(n: u32) -> String {
    format!("num-{n}")
}

/// Prompt names speaking `n`.
pub fn number_prompts(lang: Lang, n: u32) -> Vec<String> {
    let mut out = Vec::new();
    match lang {
        Lang::Zh => zh_number(n, &mut out),
        Lang::En => en_number(n, &mut out),
    }
    out
}

fn zh_number(n: u32, out: &mut Vec<String>) {
    if n == 0 {
        out.push(num(0));
        return;
    }
    let groups = [
        (n / 100_000_000, Some("num-hundred-million")),
        ((n / 10_000) % 10_000, Some("num-ten-thousand")),
        (n % 10_000, None),
    ];
    let mut zero_pending = false;
    for (g, unit) in groups {
        if g == 0 {
            // A skipped group between spoken ones is a zero (一亿零五).
            zero_pending |= !out.is_empty();
            continue;
        }
        // A group without its thousands digit after a spoken group starts with 零 (一万零五百).
        if !out.is_empty() && g < 1000 {
            zero_pending = true;
        }
        if zero_pending {
            out.push(num(0));
            zero_pending = false;
        }
        let leading = out.is_empty();
        zh_group(g, leading, out);
        if let Some(u) = unit {
            out.push(u.to_string());
        }
    }
}

/// One group of up to four digits (1..=9999).
fn zh_group(g: u32, leading: bool, out: &mut Vec<String>) {
    let digits = [g / 1000 % 10, g / 100 % 10, g / 10 % 10, g % 10];
    let units = [
        Some("num-thousand"),
        Some("num-hundred"),
        Some("num-10"),
        None,
    ];
    let mut started = false;
    let mut zero = false;
    for (i, (d, unit)) in digits.into_iter().zip(units).enumerate() {
        if d == 0 {
            zero |= started;
            continue;
        }
        if zero {
            out.push(num(0));
            zero = false;
        }
        if i == 2 && d == 1 && leading && !started {
            // 十二, not 一十二, at the very start of a number.
            out.push(num(10));
        } else {
            out.push(num(d));
            if let Some(u) = unit {
                out.push(u.to_string());
            }
        }
        started = true;
    }
}

fn en_number(n: u32, out: &mut Vec<String>) {
    if n == 0 {
        out.push(num(0));
        return;
    }
    let scales = [
        (1_000_000_000, "num-billion"),
        (1_000_000, "num-million"),
        (1_000, "num-thousand"),
    ];
    for (scale, unit) in scales {
        let g = (n / scale) % 1000;
        if g > 0 {
            en_below_thousand(g, out);
            out.push(unit.to_string());
        }
    }
    en_below_thousand(n % 1000, out);
}

fn en_below_thousand(n: u32, out: &mut Vec<String>) {
    let h = n / 100;
    let r = n % 100;
    if h > 0 {
        out.push(num(h));
        out.push("num-hundred".to_string());
    }
    if r == 0 {
        return;
    }
    if r < 20 {
        out.push(num(r));
    } else {
        let ones = r % 10;
        out.push(num(r - ones));
        if ones > 0 {
            out.push(num(ones));
        }
    }
}

/// "您当前排在第 N 位" / "You are number N in the queue"; `position` is 1-based.
pub fn position_prompts(lang: Lang, position: u32) -> Vec<String> {
    let mut out = vec!["queue-position-before".to_string()];
    out.extend(number_prompts(lang, position));
    out.push("queue-position-after".to_string());
    out
}

/// "预计等待 N 分钟" / "Your estimated wait is N minutes"; 0 means under a minute.
pub fn wait_prompts(lang: Lang, minutes: u32) -> Vec<String> {
    if minutes == 0 {
        return vec!["wait-less-than-minute".to_string()];
    }
    let mut out = vec!["wait-before".to_string()];
    out.extend(number_prompts(lang, minutes));
    // Chinese has no plural; `wait-minute` exists in both languages so the set is uniform.
    out.push(
        if minutes == 1 {
            "wait-minute"
        } else {
            "wait-minutes"
        }
        .to_string(),
    );
    out
}

/// Whole minutes of a wait estimate, for [`wait_prompts`] (rounded up).
pub fn wait_minutes(wait: Duration) -> u32 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    u32::try_from(secs.div_ceil(60)).unwrap_or(u32::MAX)
}

/// Estimated wait (see the module docs for the formula), rounded up to whole minutes.
pub fn estimated_wait(position: u32, recent_handle_secs: &[f64], agents: u32) -> Duration {
    if position == 0 {
        return Duration::ZERO;
    }
    let (sum, count) = recent_handle_secs
        .iter()
        .filter(|s| s.is_finite() && **s >= 0.0)
        .fold((0.0_f64, 0_u32), |(s, c), x| (s + x, c.saturating_add(1)));
    let aht = if count == 0 {
        DEFAULT_HANDLE_SECS
    } else {
        sum / f64::from(count)
    };
    let secs = f64::from(position) * aht / f64::from(agents.max(1));
    let minutes = (secs / 60.0).ceil();
    let cap = MAX_ESTIMATE.as_secs_f64();
    let total = (minutes * 60.0).clamp(0.0, cap);
    // `total` is a finite whole number of seconds within the cap, so the cast is exact.
    Duration::from_secs(total as u64)
}
