//! Per-device SOS announcements, generated offline with espeak-ng.
//!
//! When an SOS handset's call escalates to 120, the ambulance operator hears a short announcement of who is
//! calling (name, age, address, medical notes, device number). The announcement is synthesized once per device
//! profile, at registration, so no network TTS is ever needed on the call path:
//!
//! 1. [`announcement_text`] composes the text from the profile (pure, tested);
//! 2. [`synthesize`] runs `espeak-ng`, reads its WAV ([`read_any_wav`]), resamples it to 8 kHz
//!    ([`resample_to_8k`]), normalises it and writes an 8 kHz prompt file atomically;
//! 3. [`announcement_file_name`] names the file after the device and a hash of the text, so a changed profile
//!    gets a new file and an old one is recognisably stale.
//!
//! Chinese uses the espeak-ng voice `cmn-latn-pinyin` (see `scripts/gen-sounds.sh`: the plain `cmn` voice reads
//! the pinyin it produces as English). A character missing from espeak-ng's Mandarin dictionary (a rare
//! character in a name) or Latin letters in Chinese text are read with the English voice — `espeak-ng -x` shows
//! them as `(en)…(cmn)`. Unlike gen-sounds.sh we do not refuse such text: a name is what it is, and a partly
//! odd reading beats no announcement. The English voice cannot read Han characters at all (it says "Chinese
//! letter"), so English announcements need romanised fields.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::wav;

/// The rate of every prompt (and of [`resample_to_8k`]'s output).
pub const OUTPUT_RATE: u32 = wav::SAMPLE_RATE;
/// The input rates [`resample_to_8k`] accepts (espeak-ng writes 22050 Hz).
pub const MIN_INPUT_RATE: u32 = 8000;
pub const MAX_INPUT_RATE: u32 = 192_000;
/// How long espeak-ng may take for one announcement before it is killed (it takes well under a second).
pub const ESPEAK_TIMEOUT: Duration = Duration::from_secs(20);
/// The espeak-ng voice for Chinese; see the module documentation for why not `cmn`.
pub const ZH_VOICE: &str = "cmn-latn-pinyin";
pub const EN_VOICE: &str = "en";
/// espeak-ng's speed in words per minute, the same as the shipped prompts.
const ESPEAK_SPEED: &str = "150";
/// Silence added either side of an announcement, in samples at 8 kHz (150 ms).
const PAD_SAMPLES: usize = 1200;
/// Peak level after normalisation: -3 dBFS.
const TARGET_PEAK: f64 = 32767.0 * 0.707_945_784_384_137_9;

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("espeak-ng is not installed (run scripts/install-deps.sh)")]
    NotInstalled,
    #[error("espeak-ng failed ({status}): {stderr}")]
    Failed { status: ExitStatus, stderr: String },
    #[error("espeak-ng did not finish within {0:?} and was killed")]
    Timeout(Duration),
    #[error("bad audio from espeak-ng: {0}")]
    BadOutput(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("unsupported announcement language {0:?} (expected zh or en)")]
    UnsupportedLanguage(String),
    #[error("the announcement text is empty")]
    EmptyText,
}

// ---------------------------------------------------------------------------------------------------------------
// Resampling
// ---------------------------------------------------------------------------------------------------------------

/// Low-pass design: flat to 3.4 kHz (the telephone band), at least 80 dB down from 4 kHz (the output Nyquist
/// frequency), so nothing above 4 kHz folds back into the band.
const PASS_HZ: f64 = 3400.0;
const STOP_HZ: f64 = 4000.0;
const STOPBAND_DB: f64 = 80.0;
/// Kernel table resolution (entries per input sample); linear interpolation between entries is ~-110 dB exact.
const OVERSAMPLE: usize = 256;

/// Resample 16-bit mono audio from `rate` Hz to 8 kHz with a Kaiser-windowed sinc low-pass (band-limited
/// interpolation at arbitrary ratios, e.g. espeak-ng's 22050 Hz). Returns an empty vector for empty input or a
/// rate outside [`MIN_INPUT_RATE`]..=[`MAX_INPUT_RATE`]; 8 kHz input is returned unchanged. The output has
/// `floor(len * 8000 / rate)` samples.
pub fn resample_to_8k(samples: &[i16], rate: u32) -> Vec<i16> {
    if samples.is_empty() || !(MIN_INPUT_RATE..=MAX_INPUT_RATE).contains(&rate) {
        return Vec::new();
    }
    if rate == OUTPUT_RATE {
        return samples.to_vec();
    }
    let r = f64::from(rate);
    // Frequencies in cycles per input sample.
    let cutoff = (PASS_HZ + STOP_HZ) / 2.0 / r;
    let transition = (STOP_HZ - PASS_HZ) / r;
    // Kaiser's estimates of the length and window shape for the wanted attenuation.
    let taps = (STOPBAND_DB - 7.95) / (14.36 * transition) + 1.0;
    let beta = 0.1102 * (STOPBAND_DB - 8.7);
    let half = (taps / 2.0).ceil().max(1.0); // kernel half-width in input samples
    let table = sinc_table(cutoff, half, beta);

    let out_len = (samples.len() as u64 * u64::from(OUTPUT_RATE) / u64::from(rate)) as usize;
    let step = r / f64::from(OUTPUT_RATE);
    let last = samples.len() - 1;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let t = n as f64 * step; // position of this output sample, in input samples
        let first = (t - half).ceil().max(0.0) as usize;
        let end = ((t + half).floor().max(0.0) as usize).min(last);
        let mut acc = 0.0f64;
        if let Some(window) = samples.get(first..=end) {
            for (k, &s) in (first..).zip(window) {
                acc += f64::from(s) * kernel(&table, (t - k as f64).abs());
            }
        }
        out.push(acc.round().clamp(-32768.0, 32767.0) as i16);
    }
    out
}

/// The windowed-sinc kernel sampled every 1/OVERSAMPLE input samples from 0 to `half` (it is symmetric), plus a
/// trailing zero so interpolation at the very edge needs no bounds check.
fn sinc_table(cutoff: f64, half: f64, beta: f64) -> Vec<f64> {
    let n = (half * OVERSAMPLE as f64) as usize;
    let i0_beta = bessel_i0(beta);
    let mut table: Vec<f64> = (0..=n)
        .map(|j| {
            let x = j as f64 / OVERSAMPLE as f64;
            let u = x / half;
            let window = bessel_i0(beta * (1.0 - u * u).max(0.0).sqrt()) / i0_beta;
            let arg = std::f64::consts::PI * 2.0 * cutoff * x;
            let sinc = if arg == 0.0 { 1.0 } else { arg.sin() / arg };
            2.0 * cutoff * sinc * window
        })
        .collect();
    table.push(0.0);
    table
}

fn kernel(table: &[f64], x: f64) -> f64 {
    let pos = x * OVERSAMPLE as f64;
    let i = pos as usize;
    match (table.get(i), table.get(i + 1)) {
        (Some(a), Some(b)) => {
            let frac = pos - i as f64;
            a + (b - a) * frac
        }
        _ => 0.0,
    }
}

/// Modified Bessel function of the first kind, order 0 (power series; converges fast for the β used here).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..200 {
        let f = half / k as f64;
        term *= f * f;
        sum += term;
        if term < sum * 1e-16 {
            break;
        }
    }
    sum
}

// ---------------------------------------------------------------------------------------------------------------
// Reading espeak-ng's WAV
// ---------------------------------------------------------------------------------------------------------------

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Decode 16-bit PCM WAV at any sample rate into (samples, rate). Written for espeak-ng's `--stdout`, whose
/// header cannot know the length (it says 0x7FFFF000 bytes): a data chunk claiming more than is there is read
/// to the end. Several channels are averaged into one.
pub fn read_any_wav(bytes: &[u8]) -> Result<(Vec<i16>, u32), TtsError> {
    let bad = |m: &str| TtsError::BadOutput(m.to_string());
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(bad("not a RIFF/WAVE stream"));
    }
    let mut pos = 12usize;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    while let (Some(id), Some(size)) = (bytes.get(pos..pos + 4), u32_at(bytes, pos + 4)) {
        let size = size as usize;
        let body_start = pos + 8;
        // Never past the end, whatever the header claims.
        let body_end = body_start.saturating_add(size).min(bytes.len());
        let body = bytes.get(body_start..body_end).unwrap_or(&[]);
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err(bad("truncated fmt chunk"));
                }
                let mut format = u16_at(body, 0).unwrap_or(0);
                // WAVE_FORMAT_EXTENSIBLE: the real tag is the start of the sub-format GUID.
                if format == 0xFFFE {
                    format = u16_at(body, 24).unwrap_or(format);
                }
                let channels = u16_at(body, 2).unwrap_or(0);
                let rate = u32_at(body, 4).unwrap_or(0);
                let bits = u16_at(body, 14).unwrap_or(0);
                fmt = Some((format, channels, rate, bits));
            }
            b"data" => {
                let (format, channels, rate, bits) =
                    fmt.ok_or_else(|| bad("data before fmt chunk"))?;
                if format != 1 || bits != 16 || channels == 0 || rate == 0 {
                    return Err(TtsError::BadOutput(format!(
                        "unsupported format: tag {format}, {channels} channel(s), {rate} Hz, {bits} bits; \
                         need 16-bit PCM"
                    )));
                }
                let frame = 2 * usize::from(channels);
                let samples = body
                    .chunks_exact(frame)
                    .map(|f| {
                        let sum: i32 = f
                            .chunks_exact(2)
                            .map(|c| i32::from(i16::from_le_bytes([c[0], c[1]])))
                            .sum();
                        (sum / i32::from(channels)) as i16
                    })
                    .collect();
                return Ok((samples, rate));
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        pos = body_start.saturating_add(size).saturating_add(size & 1);
    }
    Err(bad(if fmt.is_some() {
        "no data chunk"
    } else {
        "no fmt chunk"
    }))
}

// ---------------------------------------------------------------------------------------------------------------
// Announcement text
// ---------------------------------------------------------------------------------------------------------------

/// What the 120 operator is told about the elder; empty fields are left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnnouncementFields<'a> {
    pub name: &'a str,
    pub age: Option<u16>,
    pub address: &'a str,
    pub medical_notes: &'a str,
    pub device_number: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

/// "zh", "zh-CN", "cmn" → Chinese; "en", "en-GB" → English.
fn parse_lang(lang: &str) -> Option<Lang> {
    let primary = lang.split(['-', '_']).next().unwrap_or("");
    if primary.eq_ignore_ascii_case("zh") || primary.eq_ignore_ascii_case("cmn") {
        Some(Lang::Zh)
    } else if primary.eq_ignore_ascii_case("en") {
        Some(Lang::En)
    } else {
        None
    }
}

/// Field lengths (characters, after cleaning): the operator is busy, the announcement must stay short.
const MAX_NAME_CHARS: usize = 20;
const MAX_ADDRESS_CHARS: usize = 80;
const MAX_NOTES_CHARS: usize = 60;
const MAX_DEVICE_DIGITS: usize = 32;

/// The announcement played to the 120 operator. `lang` is "zh" or "en" (a region suffix is ignored); any other
/// value gives Chinese, the hotline's language. Example (zh): "一键呼叫紧急求助。老人姓名：张桂兰，八十二岁。
/// 住址：…。病史：冠心病，高血压。设备号码：幺三八，零零幺三，八零零零。"
pub fn announcement_text(lang: &str, d: &AnnouncementFields) -> String {
    let lang = parse_lang(lang).unwrap_or(Lang::Zh);
    let name = clean_field(d.name, MAX_NAME_CHARS);
    let address = clean_field(d.address, MAX_ADDRESS_CHARS);
    let notes = clean_field(d.medical_notes, MAX_NOTES_CHARS);
    let digits = device_digits(d.device_number);
    match lang {
        Lang::Zh => {
            let mut s = String::from("一键呼叫紧急求助。");
            let mut who = String::new();
            if !name.is_empty() {
                who = format!("老人姓名：{}", zh_numbers(&name));
            }
            if let Some(age) = d.age {
                who.push_str(if who.is_empty() { "老人" } else { "，" });
                who.push_str(&chinese_number(u32::from(age)));
                who.push('岁');
            }
            if !who.is_empty() {
                s.push_str(&who);
                s.push('。');
            }
            if !address.is_empty() {
                s.push_str(&format!("住址：{}。", zh_numbers(&address)));
            }
            if !notes.is_empty() {
                s.push_str(&format!("病史：{}。", zh_numbers(&notes)));
            }
            if !digits.is_empty() {
                let groups: Vec<String> = digit_groups(&digits)
                    .iter()
                    .map(|g| g.chars().map(zh_phone_digit).collect())
                    .collect();
                s.push_str(&format!("设备号码：{}。", groups.join("，")));
            }
            s
        }
        Lang::En => {
            let mut s = String::from("S O S emergency call from an elderly person.");
            match (name.is_empty(), d.age) {
                (false, Some(age)) => s.push_str(&format!(" Name: {name}, {age} years old.")),
                (false, None) => s.push_str(&format!(" Name: {name}.")),
                (true, Some(age)) => s.push_str(&format!(" Age: {age}.")),
                (true, None) => {}
            }
            if !address.is_empty() {
                s.push_str(&format!(" Address: {}.", en_numbers(&address)));
            }
            if !notes.is_empty() {
                s.push_str(&format!(" Medical history: {}.", en_numbers(&notes)));
            }
            if !digits.is_empty() {
                let groups: Vec<String> = digit_groups(&digits)
                    .iter()
                    .map(|g| spaced_digits(g))
                    .collect();
                s.push_str(&format!(" Device number: {}.", groups.join(", ")));
            }
            s
        }
    }
}

/// Full-width digits and letters (１, Ａ) as typed by Chinese input methods → ASCII, so they are recognised;
/// full-width punctuation stays (，is the natural pause in Chinese text).
fn halfwidth(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Punctuation espeak-ng pauses at and reads nothing for; everything else that is not a letter or digit
/// (brackets, quotes, symbols, emoji, control characters) becomes a space, since espeak-ng may name it aloud.
fn is_pause(c: char) -> bool {
    matches!(c, '，' | '、' | '。' | '；' | '：' | ',' | '.' | ';' | ':')
}

/// Clean one free-text field: keep letters, digits and pausing punctuation, collapse spaces, drop punctuation at
/// either end (the template adds its own), and cut to `max` characters, preferably at a pause.
fn clean_field(s: &str, max: usize) -> String {
    let mut chars: Vec<char> = Vec::new();
    let mut space = false;
    let src: Vec<char> = s.chars().map(halfwidth).collect();
    for (i, &c) in src.iter().enumerate() {
        // An apostrophe inside a word (O'Brien) is part of the name.
        let inner_apostrophe = c == '\''
            && i > 0
            && src[i - 1].is_alphabetic()
            && src.get(i + 1).is_some_and(|n| n.is_alphabetic());
        if c.is_alphabetic() || c.is_ascii_digit() || is_pause(c) || inner_apostrophe {
            if space && !chars.is_empty() {
                chars.push(' ');
            }
            space = false;
            chars.push(c);
        } else {
            space = true;
        }
    }
    let trim = |v: &mut Vec<char>| {
        while v.last().is_some_and(|&c| c == ' ' || is_pause(c)) {
            v.pop();
        }
        while v.first().is_some_and(|&c| c == ' ' || is_pause(c)) {
            v.remove(0);
        }
    };
    trim(&mut chars);
    if chars.len() > max {
        let mut cut = max;
        // Prefer ending at a pause in the second half; never split a number (1002 must not become 10).
        if let Some(p) = chars[max / 2..max]
            .iter()
            .rposition(|&c| is_pause(c) || c == ' ')
        {
            cut = max / 2 + p;
        }
        while cut > 0 && chars[cut - 1].is_ascii_digit() && chars[cut].is_ascii_digit() {
            cut -= 1;
        }
        chars.truncate(cut);
        trim(&mut chars);
    }
    chars.into_iter().collect()
}

/// The device number's digits (full-width digits included), at most [`MAX_DEVICE_DIGITS`].
fn device_digits(s: &str) -> String {
    s.chars()
        .map(halfwidth)
        .filter(char::is_ascii_digit)
        .take(MAX_DEVICE_DIGITS)
        .collect()
}

/// Split a number the way it is said on the phone: a mobile number 3-4-4, anything else in fours.
fn digit_groups(digits: &str) -> Vec<&str> {
    let mut sizes: Vec<usize> = if digits.len() == 11 && digits.starts_with('1') {
        vec![3, 4, 4]
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    let mut rest = digits;
    while !rest.is_empty() {
        let n = if sizes.is_empty() { 4 } else { sizes.remove(0) }.min(rest.len());
        let (g, r) = rest.split_at(n);
        out.push(g);
        rest = r;
    }
    out
}

/// A digit as read in a phone number: 1 is 幺 (yāo), so it is not confused with 七.
fn zh_phone_digit(c: char) -> char {
    match c {
        '0' => '零',
        '1' => '幺',
        '2' => '二',
        '3' => '三',
        '4' => '四',
        '5' => '五',
        '6' => '六',
        '7' => '七',
        '8' => '八',
        '9' => '九',
        other => other,
    }
}

/// ASCII digit runs in Chinese text, written out so espeak-ng reads them predictably: one or two digits as a
/// quantity (3栋 三栋, 12楼 十二楼), longer runs digit by digit as house and room numbers are said (1002号
/// 幺零零二号, 502室 五零二室). espeak-ng itself reads 1002 as 一千二, dropping the 零.
fn zh_numbers(s: &str) -> String {
    map_digit_runs(s, |run| {
        if run.len() <= 2 {
            chinese_number(run.parse().unwrap_or(0))
        } else {
            run.chars().map(zh_phone_digit).collect()
        }
    })
}

/// Long digit runs in English text are spelled digit by digit (espeak-ng would read 13800138000 as billions).
fn en_numbers(s: &str) -> String {
    map_digit_runs(s, |run| {
        if run.len() <= 4 {
            run.to_string()
        } else {
            spaced_digits(run)
        }
    })
}

fn spaced_digits(run: &str) -> String {
    let mut out = String::with_capacity(run.len() * 2);
    for (i, c) in run.chars().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn map_digit_runs(s: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            out.push_str(&f(&run));
            run.clear();
        }
        out.push(c);
    }
    if !run.is_empty() {
        out.push_str(&f(&run));
    }
    out
}

/// An integer in Chinese numerals as a quantity is read: 82 → 八十二, 105 → 一百零五, 10010 → 一万零一十,
/// 100000 → 十万.
pub fn chinese_number(n: u32) -> String {
    const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    const UNITS: [&str; 4] = ["", "十", "百", "千"];
    const GROUPS: [&str; 3] = ["", "万", "亿"];
    if n == 0 {
        return "零".to_string();
    }
    // Groups of four digits, most significant first.
    let groups = [n / 100_000_000, n / 10_000 % 10_000, n % 10_000];
    let mut out = String::new();
    let mut zero_pending = false;
    for (gi, &g) in groups.iter().enumerate() {
        let group_unit = GROUPS[2 - gi];
        if g == 0 {
            // A whole group of zeros: one 零 before whatever non-zero digit follows.
            zero_pending = !out.is_empty();
            continue;
        }
        // A group below 1000 after a higher group starts with a (spoken) zero: 一万零五百.
        if !out.is_empty() && g < 1000 {
            zero_pending = true;
        }
        for pos in (0..4).rev() {
            let d = (g / 10u32.pow(pos as u32) % 10) as usize;
            if d == 0 {
                if !out.is_empty() {
                    zero_pending = true;
                }
                continue;
            }
            if zero_pending {
                out.push('零');
                zero_pending = false;
            }
            out.push(DIGITS[d]);
            out.push_str(UNITS[pos]);
        }
        out.push_str(group_unit);
        zero_pending = false;
    }
    // 10–19 at the head of a number are said 十…, not 一十… (but 一百一十 keeps its 一).
    match out.strip_prefix("一十") {
        Some(rest) => format!("十{rest}"),
        None => out,
    }
}

/// `<digits>-<first 16 hex digits of sha256(text)>.wav`: one file per device and announcement text, so editing a
/// profile produces a new file and the previous one is visibly stale. A number without digits gives `unknown-…`.
pub fn announcement_file_name(device_number: &str, text: &str) -> String {
    let digits = device_digits(device_number);
    let digits = if digits.is_empty() {
        "unknown".to_string()
    } else {
        digits
    };
    let hash = Sha256::digest(text.as_bytes());
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{digits}-{hex}.wav")
}

// ---------------------------------------------------------------------------------------------------------------
// Synthesis
// ---------------------------------------------------------------------------------------------------------------

/// Speak `text` with espeak-ng in `lang` ("zh" or "en") and write an 8 kHz mono 16-bit WAV to `out`, peak
/// -3 dBFS, with 150 ms of silence either side. The file appears atomically (written beside `out`, then
/// renamed); missing parent directories are created. Blocking: call it from a blocking thread
/// (`tokio::task::spawn_blocking`), never on the async runtime.
pub fn synthesize(text: &str, lang: &str, out: &Path) -> Result<(), TtsError> {
    let voice = match parse_lang(lang) {
        Some(Lang::Zh) => ZH_VOICE,
        Some(Lang::En) => EN_VOICE,
        None => return Err(TtsError::UnsupportedLanguage(lang.to_string())),
    };
    // Control characters are no speech and a NUL cannot be passed as an argument.
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Err(TtsError::EmptyText);
    }
    let mut cmd = Command::new("espeak-ng");
    // `--` so that a text starting with '-' is not taken for an option; no shell is involved.
    cmd.args(["-v", voice, "-s", ESPEAK_SPEED, "--stdout", "--", text]);
    let bytes = run_with_timeout(cmd, ESPEAK_TIMEOUT)?;
    let (samples, rate) = read_any_wav(&bytes)?;
    if !(MIN_INPUT_RATE..=MAX_INPUT_RATE).contains(&rate) {
        return Err(TtsError::BadOutput(format!(
            "unexpected sample rate {rate} Hz"
        )));
    }
    let audio = normalise_and_pad(&resample_to_8k(&samples, rate))
        .ok_or_else(|| TtsError::BadOutput("no audio (silence)".to_string()))?;
    write_atomically(out, &wav::encode(&audio))
}

/// Scale to a -3 dBFS peak and add the padding; `None` for silence (nothing was spoken).
fn normalise_and_pad(samples: &[i16]) -> Option<Vec<i16>> {
    let peak = samples
        .iter()
        .map(|&s| i32::from(s).abs())
        .max()
        .unwrap_or(0);
    if peak == 0 {
        return None;
    }
    let gain = TARGET_PEAK / f64::from(peak);
    let mut out = Vec::with_capacity(samples.len() + 2 * PAD_SAMPLES);
    out.resize(PAD_SAMPLES, 0);
    out.extend(
        samples
            .iter()
            .map(|&s| (f64::from(s) * gain).round().clamp(-32768.0, 32767.0) as i16),
    );
    out.resize(out.len() + PAD_SAMPLES, 0);
    Some(out)
}

/// Run a command, collecting its stdout; kill it if it outlives `timeout`.
fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Vec<u8>, TtsError> {
    let program = PathBuf::from(cmd.get_program());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            TtsError::NotInstalled
        } else {
            TtsError::Io {
                path: program.clone(),
                source,
            }
        }
    })?;
    // Drain both pipes on threads so a chatty child never blocks on a full pipe while we wait for it.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                // The reader threads end when the pipes close; not joined, in case a grandchild holds them.
                return Err(TtsError::Timeout(timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(source) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TtsError::Io {
                    path: program,
                    source,
                });
            }
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if !status.success() {
        let first_line = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| l.chars().take(200).collect::<String>())
        };
        // espeak-ng prints some errors on stdout; use that when stderr is empty and stdout is no WAV.
        let msg = first_line(&err)
            .or_else(|| {
                (!out.starts_with(b"RIFF"))
                    .then(|| first_line(&out))
                    .flatten()
            })
            .unwrap_or_else(|| "no error message".to_string());
        return Err(TtsError::Failed {
            status,
            stderr: msg,
        });
    }
    Ok(out)
}

/// Write `bytes` to a temporary file beside `path`, sync it, then rename it over `path`: a reader (the switch
/// playing the announcement) sees the old file or the new one, never half of one. The temporary name is unique
/// per process and call so concurrent registrations cannot interleave.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TtsError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| TtsError::Io { path: p, source }
    };
    let name = path.file_name().ok_or_else(|| TtsError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(
        "{}.{}-{n}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io(path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests;
