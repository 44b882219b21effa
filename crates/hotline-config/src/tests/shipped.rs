//! The shipped `config/hotline.toml` and the prompts it needs.

use std::path::{Path, PathBuf};

use super::*;

/// Prompts the switch plays on its own (not named in the config), which must ship too.
const SWITCH_PROMPTS: &[&str] = &[
    "moh",
    "goodbye",
    "callback-offer",
    "callback-registered",
    "callback-whisper",
    "max-wait",
    "transfer-other-queue",
    "queue-position-before",
    "queue-position-after",
    "wait-before",
    "wait-minutes",
    "wait-minute",
    "wait-less-than-minute",
];

fn sounds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sounds")
}

/// Checks the RIFF header: PCM, mono, 8 kHz, 16-bit, with some audio.
fn check_wav(path: &Path) -> Result<(), String> {
    let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bad = |why: &str| Err(format!("{}: {why}", path.display()));
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return bad("not a RIFF/WAVE file");
    }
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let (mut at, mut fmt_ok, mut data_len) = (12, false, 0);
    while at + 8 <= b.len() {
        let (id, len) = (&b[at..at + 4], u32_at(at + 4) as usize);
        let body = at + 8;
        if id == b"fmt " {
            if len < 16 || body + 16 > b.len() {
                return bad("short fmt chunk");
            }
            let (format, channels) = (u16_at(body), u16_at(body + 2));
            let (rate, bits) = (u32_at(body + 4), u16_at(body + 14));
            // 1 = PCM; 0xFFFE = WAVE_FORMAT_EXTENSIBLE (PCM sub-format) as some sox builds write.
            if !matches!(format, 1 | 0xFFFE) || channels != 1 || rate != 8000 || bits != 16 {
                return bad(&format!(
                    "format {format:#x}, {channels} channel(s), {rate} Hz, {bits} bit: want PCM mono 8000 Hz 16 bit"
                ));
            }
            fmt_ok = true;
        } else if id == b"data" {
            data_len = len;
        }
        at = body + len + (len & 1);
    }
    if !fmt_ok {
        return bad("no fmt chunk");
    }
    // At least 0.1 s of audio.
    if data_len < 1600 {
        return bad(&format!("only {data_len} bytes of audio"));
    }
    Ok(())
}

#[test]
fn embedded_default_parses() {
    let c = Config::embedded_default().unwrap();
    let numbers: Vec<&str> = c.lines.iter().map(|l| l.number.as_str()).collect();
    assert_eq!(
        numbers,
        ["12345", "12349", "12343", "12398", "12355", "96120"]
    );
    let sos = c.sos.as_ref().expect("[sos] shipped");
    assert_eq!(c.line("96120").map(|l| l.kind), Some(LineKind::Sos));
    assert!(c.queue(&sos.queue).is_some());
    assert_eq!(sos.escalate_to.as_deref(), Some("120"));
    assert!(c.emergency.contains_key("120") && c.emergency.contains_key("110"));
    assert!(c.agents.iter().any(|a| a.role == AgentRole::Supervisor));
    assert!(c.media.record);
    // GB/T 33358, agent first: the main line has no menu and goes straight to the general queue.
    let main = c.line("12345").unwrap();
    assert_eq!(
        (
            main.greeting.as_str(),
            main.menu.as_deref(),
            main.queue.as_str()
        ),
        ("welcome", None, "general")
    );
    let elderly = c.line("12349").unwrap();
    assert_eq!(
        (
            elderly.greeting.as_str(),
            elderly.menu.as_deref(),
            elderly.queue.as_str(),
            elderly.priority
        ),
        ("welcome-elderly", Some("elderly"), "elderly", 10)
    );
    // Each line has its own greeting.
    let greetings: BTreeSet<&str> = c.lines.iter().map(|l| l.greeting.as_str()).collect();
    assert_eq!(greetings.len(), c.lines.len());
    for l in &c.lines {
        assert!(c.queue(&l.queue).is_some(), "line {}", l.number);
        if let Some(m) = &l.menu {
            assert!(c.menu(m).is_some(), "line {}", l.number);
        }
    }
    // Every menu ends somewhere an agent answers when the caller does nothing.
    for m in c.menus.iter() {
        assert!(
            matches!(m.on_timeout, Action::Queue(_)),
            "menu {}: {}",
            m.name,
            m.on_timeout
        );
    }

    let general = c.queue("general").unwrap();
    assert_eq!(general.ring_timeout(), Duration::from_secs(15));
    assert_eq!(general.wrap_up(), Duration::from_secs(5));
    assert_eq!(general.strategy, Strategy::LongestIdle);
    assert_eq!(general.on_max_wait, Action::Callback);
    assert_eq!(general.callback_key, Some('1'));
    assert!(general.skills.is_empty());

    // The end-to-end tests rely on 1001-1010 answering the general queue at once.
    assert_eq!(c.agents.len(), 11, "1001-1010 and supervisor 9001");
    for n in 1001..=1010 {
        let a = c.agent(&n.to_string()).unwrap();
        assert_eq!(a.password, format!("secret{n}"));
        assert_eq!(a.name, format!("坐席{n}"));
        assert_eq!(a.tier_in("general"), Some(1), "agent {n}");
        assert_eq!(a.initial_status, InitialStatus::Available);
    }
    // Some agents show the tier and skill syntax.
    assert!(c.agents.iter().any(|a| a.queues.iter().any(|m| m.tier > 1)));
    assert!(c.agents.iter().any(|a| !a.skills.is_empty()));

    let out = c.trunks.outbound.as_ref().unwrap();
    assert_eq!(out.uri, "sip:127.0.0.1:5092");
    assert_eq!(out.caller_id.as_deref(), Some("12345"));
    assert!(c.caller_priority.is_empty());

    // The shipped file spells out the defaults.
    assert_eq!(c.sip, SipConfig::default());
    // …except recording, off by default and on in the shipped file (12345 centres record every call).
    assert_eq!(
        c.media,
        MediaConfig {
            record: true,
            ..MediaConfig::default()
        }
    );
    assert_eq!(c.http, HttpConfig::default());
    assert_eq!(c.database, DatabaseConfig::default());
    assert_eq!(c.sounds, SoundsConfig::default());
    assert_eq!(c.shutdown_grace_secs, 30);
}

#[test]
fn embedded_default_is_the_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.toml");
    let c = Config::load(&path).unwrap();
    assert_eq!(c, Config::embedded_default().unwrap());
}

#[test]
fn commented_caller_priority_example_works() {
    // The commented example at the end of the shipped file, uncommented, parses.
    let at = EMBEDDED_DEFAULT
        .find("# [caller_priority]")
        .expect("example present");
    let example: String = EMBEDDED_DEFAULT[at..]
        .lines()
        .map(|l| l.trim_start_matches("# "))
        .collect::<Vec<_>>()
        .join("\n");
    let text = format!("{}\n{example}\n", &EMBEDDED_DEFAULT[..at]);
    let c = Config::parse(&text, "example.toml").unwrap();
    assert_eq!(c.caller_priority.get("13800138000"), Some(&20));
    let main = c.line("12345").unwrap();
    assert_eq!(c.caller_priority_for(main, "13800138000"), 20);
}

#[test]
fn every_prompt_ships_in_both_languages() {
    let c = Config::embedded_default().unwrap();
    let mut prompts = c.configured_prompts();
    for required in ["welcome", "welcome-elderly", "elderly-menu"] {
        assert!(prompts.contains(required), "{required}");
    }
    prompts.extend(SWITCH_PROMPTS.iter().map(|s| s.to_string()));
    let dir = sounds_dir();
    let mut problems = Vec::new();
    for lang in ["zh", "en"] {
        for p in &prompts {
            if let Err(e) = check_wav(&dir.join(lang).join(format!("{p}.wav"))) {
                problems.push(e);
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
