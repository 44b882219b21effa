use super::*;

mod issue3;
mod issue4;
mod issue5;
mod queues;
mod shipped;

const MINIMAL: &str = r#"
[[lines]]
number = "12345"
queue = "general"

[[queues]]
name = "general"

[[agents]]
id = "1001"
password = "secret1001"
queues = ["general"]
"#;

/// 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    1 + text[..at].matches('\n').count()
}

/// Parses `text` as bad.toml, expecting an error at the line of `needle` for `key`.
#[track_caller]
fn expect_err(text: &str, needle: &str, key: &str) -> ConfigError {
    let err = Config::parse(text, "bad.toml").expect_err("should fail");
    assert_eq!(
        (err.file.as_str(), err.line, err.key.as_str()),
        ("bad.toml", line_of(text, needle), key),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!("bad.toml:{}: {key}: {}", err.line, err.message)
    );
    err
}

/// The issue's contract, as written, plus the `elderly` queue it refers to.
const CONTRACT: &str = r#"
[[lines]]
number = "12349"
greeting = "welcome-elderly"
menu = "elderly"                 # optional
queue = "elderly"
priority = 10

[menus.elderly]
prompt = "elderly-menu"
timeout_secs = 5
retries = 2
options = { "1" = "queue:elderly", "2" = "queue:general", "9" = "repeat" }
on_timeout = "queue:elderly"
on_invalid = "repeat"

[[queues]]
name = "general"
strategy = "longest-idle"
ring_timeout_secs = 15
max_no_answer = 3
wrap_up_secs = 10
announce_every_secs = 30
max_wait_secs = 600
on_max_wait = "callback"
callback_key = "1"
tier_escalate_secs = 30
skills = []                      # e.g. ["mandarin"]

[[queues]]
name = "elderly"

[[agents]]
id = "1001"
password = "secret1001"
queues = [{ name = "general", tier = 1 }, "elderly"]   # a plain name means tier 1
skills = { mandarin = 5, cantonese = 3 }

[trunks.outbound]
uri = "sip:127.0.0.1:5092"      # where the switch sends outbound calls (callbacks), e.g. a carrier gateway
"#;

/// `MINIMAL` with `extra` appended (more tables) and `queue_keys` added to the general queue.
fn with(queue_keys: &str, extra: &str) -> String {
    let text = MINIMAL.replace(
        "name = \"general\"\n",
        &format!("name = \"general\"\n{queue_keys}\n"),
    );
    format!("{text}\n{extra}\n")
}

/// `CONTRACT` with `from` replaced by `to` (which must occur once).
fn contract(from: &str, to: &str) -> String {
    assert_eq!(CONTRACT.matches(from).count(), 1, "{from}");
    CONTRACT.replace(from, to)
}

#[track_caller]
fn expect_msg(text: &str, needle: &str, key: &str, parts: &[&str]) {
    let err = expect_err(text, needle, key);
    for p in parts {
        assert!(err.message.contains(p), "`{p}` not in: {err}");
    }
}

#[test]
fn minimal_file_gets_defaults() {
    let c = Config::parse(MINIMAL, "min.toml").unwrap();
    assert_eq!(c.sip, SipConfig::default());
    assert_eq!(c.media, MediaConfig::default());
    assert_eq!(c.http, HttpConfig::default());
    assert_eq!(c.database, DatabaseConfig::default());
    assert_eq!(c.sounds, SoundsConfig::default());
    assert_eq!(c.shutdown_grace(), Duration::from_secs(30));
    let l = &c.lines[0];
    assert_eq!(
        (l.name.as_str(), l.greeting.as_str(), l.priority),
        ("12345", "welcome", 0)
    );
    let q = &c.queues[0];
    assert_eq!((q.ring_timeout_secs, q.wrap_up_secs), (15, 5));
    let a = &c.agents[0];
    assert_eq!(a.name, "1001");
    assert_eq!(a.initial_status, InitialStatus::Available);
    assert_eq!(c.sip.options_keepalive(), None);
    assert_eq!(c.sip.listen[0].to_string(), "udp:127.0.0.1:5060");
}

#[test]
fn typed_values() {
    let text = format!(
        r#"
shutdown_grace_secs = 0
[sip]
listen = ["tcp:[::1]:5070", "udp:0.0.0.0:5060"]
trunks = ["10.1.2.3/8", "192.168.1.7", "2001:db8::/32"]
digest_algorithms = ["sha-256"]
options_keepalive_secs = 25
[media]
ip = "::1"
rtp_ports = [10000, 10001]
[database]
url = "postgresql://u:p@db/hotline"
[sounds]
language = "en"
dir = "/opt/sounds"
{MINIMAL}
[[agents]]
id = "1002"
password = "x"
initial_status = "logged_out"
"#
    );
    let c = Config::parse(&text, "t.toml").unwrap();
    assert_eq!(c.sip.listen[0].transport, Transport::Tcp);
    assert_eq!(c.sip.listen[0].addr, "[::1]:5070".parse().unwrap());
    assert_eq!(c.sip.trunks[0].to_string(), "10.0.0.0/8");
    assert!(c.sip.trunks[1].contains(&"192.168.1.7".parse::<IpAddr>().unwrap()));
    assert!(!c.sip.trunks[1].contains(&"192.168.1.8".parse::<IpAddr>().unwrap()));
    assert_eq!(c.sip.digest_algorithms, vec![DigestAlgorithm::Sha256]);
    assert_eq!(c.sip.options_keepalive(), Some(Duration::from_secs(25)));
    assert_eq!(c.media.ip, "::1".parse::<IpAddr>().unwrap());
    assert_eq!(c.media.rtp_ports, [10000, 10001]);
    assert_eq!(c.sounds.language, "en");
    assert_eq!(c.agents[1].initial_status, InitialStatus::LoggedOut);
    assert_eq!(c.agents[1].queues, Vec::<QueueMembership>::new());
    assert_eq!(c.shutdown_grace_secs, 0);
}

#[test]
fn the_documented_example() {
    let text = MINIMAL.replace(
        "name = \"general\"",
        "name = \"general\"\nring_timeout_secs = 0",
    );
    let err = expect_err(&text, "ring_timeout_secs", "queues[0].ring_timeout_secs");
    assert_eq!(
        err.to_string(),
        format!(
            "bad.toml:{}: queues[0].ring_timeout_secs: must be a positive integer",
            line_of(&text, "ring_timeout_secs")
        )
    );
    let text = MINIMAL.replace(
        "name = \"general\"",
        "name = \"general\"\nwrap_up_secs = -1",
    );
    expect_err(&text, "wrap_up_secs", "queues[0].wrap_up_secs");
}

#[test]
fn syntax_errors() {
    let text = format!("[sip]\ndomain = \"x\"\nlisten = [\"udp:1.2.3.4:5060\",,]\n{MINIMAL}");
    let err = expect_err(&text, "listen", "sip.listen");
    assert!(!err.message.is_empty());
    let text = format!("{MINIMAL}\n[[agents]]\nid = \"1002\"\npassword = \"unterminated\n");
    expect_err(&text, "unterminated", "agents[1].password");
    let text = format!("{MINIMAL}\n[sip\n");
    expect_err(&text, "[sip\n", "sip");
    // Duplicate keys are a TOML error too.
    let text = format!("[http]\nlisten = \"127.0.0.1:1\"\nlisten = \"127.0.0.1:2\"\n{MINIMAL}");
    let err = Config::parse(&text, "bad.toml").unwrap_err();
    assert!(err.line >= 2 && err.line <= 3, "{err}");
}

#[test]
fn unknown_keys_are_named() {
    let text = format!("[sip]\ndomain = \"x\"\nlisen = []\n{MINIMAL}");
    let err = expect_err(&text, "lisen", "sip.lisen");
    assert!(err.message.contains("unknown field `lisen`"), "{err}");
    let text = format!("{MINIMAL}\n[[agents]]\nid = \"1002\"\npassword = \"p\"\nskill = 3\n");
    expect_err(&text, "skill", "agents[1].skill");
    let text = format!("verbose = true\n{MINIMAL}");
    expect_err(&text, "verbose", "verbose");
    let text = format!("{MINIMAL}\n[extra]\nx = 1\n");
    expect_err(&text, "[extra]", "extra");
}

#[test]
fn wrong_types() {
    let text = MINIMAL.replace(
        "name = \"general\"",
        "name = \"general\"\nring_timeout_secs = \"15\"",
    );
    let err = expect_err(&text, "ring_timeout_secs", "queues[0].ring_timeout_secs");
    assert!(err.message.contains("invalid type"), "{err}");
    let text = format!("[sip]\nlisten = [\n  \"udp:127.0.0.1:5060\",\n  5060,\n]\n{MINIMAL}");
    expect_err(&text, "5060,", "sip.listen[1]");
    let text = format!("[sip]\nlisten = \"udp:127.0.0.1:5060\"\n{MINIMAL}");
    expect_err(&text, "listen", "sip.listen");
}

#[test]
fn missing_required_fields() {
    let text = MINIMAL.replace("password = \"secret1001\"\n", "");
    expect_err(&text, "[[agents]]", "agents[0].password");
    let text = MINIMAL.replace("queue = \"general\"\n", "");
    expect_err(&text, "[[lines]]", "lines[0].queue");
    let text = MINIMAL.replace("[[lines]]\nnumber = \"12345\"\nqueue = \"general\"\n", "");
    let err = Config::parse(&text, "bad.toml").unwrap_err();
    assert_eq!((err.line, err.key.as_str()), (1, "lines"));
}

#[test]
fn sip_values() {
    let bad = |section: &str, needle: &str, key: &str| {
        let text = format!("{section}\n{MINIMAL}");
        expect_err(&text, needle, key)
    };
    bad(
        "[sip]\nlisten = [\"udp:127.0.0.1:5060\", \"sctp:1.2.3.4:5\"]",
        "listen",
        "sip.listen[1]",
    );
    bad(
        "[sip]\nlisten = [\"udp:127.0.0.1\"]",
        "listen",
        "sip.listen[0]",
    );
    bad("[sip]\nlisten = []", "listen", "sip.listen");
    bad("[sip]\ndomain = \"\"", "domain", "sip.domain");
    bad(
        "[sip]\ntrunks = [\"10.0.0.0/33\"]",
        "trunks",
        "sip.trunks[0]",
    );
    bad("[sip]\ntrunks = [\"gateway\"]", "trunks", "sip.trunks[0]");
    bad("[sip]\nt1_ms = 0", "t1_ms", "sip.t1_ms");
    bad("[sip]\nt1_ms = 5000\nt2_ms = 4000", "t2_ms", "sip.t2_ms");
    bad(
        "[sip]\ndigest_algorithms = [\"SHA-512\"]",
        "digest",
        "sip.digest_algorithms[0]",
    );
    bad(
        "[sip]\nregister_min_expires = 600\nregister_max_expires = 60",
        "register_max",
        "sip.register_max_expires",
    );
    bad(
        "[sip]\nregister_max_expires = 99999999999",
        "register_max",
        "sip.register_max_expires",
    );
}

#[test]
fn media_http_database_sounds_values() {
    let bad = |section: &str, needle: &str, key: &str| {
        let text = format!("{section}\n{MINIMAL}");
        expect_err(&text, needle, key)
    };
    bad("[media]\nip = \"localhost\"", "ip", "media.ip");
    bad("[media]\nip = \"0.0.0.0\"", "ip", "media.ip");
    bad(
        "[media]\nrtp_ports = [30000, 30000]",
        "rtp_ports",
        "media.rtp_ports",
    );
    bad(
        "[media]\nrtp_ports = [30000]",
        "rtp_ports",
        "media.rtp_ports",
    );
    bad(
        "[media]\nrtp_ports = [0, 70000]",
        "rtp_ports",
        "media.rtp_ports[0]",
    );
    bad(
        "[media]\nrtp_ports = [1000, 70000]",
        "rtp_ports",
        "media.rtp_ports[1]",
    );
    bad("[http]\nlisten = \"8080\"", "listen", "http.listen");
    bad(
        "[http]\nadmin_token = \"  \"",
        "admin_token",
        "http.admin_token",
    );
    bad("[database]\nurl = \"mysql://db\"", "url", "database.url");
    bad("[database]\nurl = \"sqlite://\"", "url", "database.url");
    bad("[sounds]\nlanguage = \"fr\"", "language", "sounds.language");
    bad("[sounds]\ndir = \"\"", "dir", "sounds.dir");
    for ok in [
        "sqlite::memory:",
        "sqlite:///var/lib/h.db",
        "postgres://h/db",
    ] {
        let text = format!("[database]\nurl = \"{ok}\"\n{MINIMAL}");
        assert_eq!(Config::parse(&text, "ok.toml").unwrap().database.url, ok);
    }
}

#[test]
fn cross_references() {
    let text = MINIMAL.replace("queue = \"general\"", "queue = \"elderly\"");
    let err = expect_err(&text, "elderly", "lines[0].queue");
    assert!(err.message.contains("elderly"));

    let text = format!("{MINIMAL}\n[[lines]]\nnumber = \"12345\"\nqueue = \"general\"\n");
    let second = text.rfind("number = \"12345\"").unwrap();
    let err = Config::parse(&text, "bad.toml").unwrap_err();
    assert_eq!(err.key, "lines[1].number");
    assert_eq!(err.line, 1 + text[..second].matches('\n').count());

    let text = MINIMAL.replace("queues = [\"general\"]", "queues = [\"general\", \"vip\"]");
    expect_err(&text, "\"vip\"", "agents[0].queues[1]");

    let text = format!("{MINIMAL}\n[[agents]]\nid = \"1001\"\npassword = \"p\"\n");
    let second = text.rfind("id = \"1001\"").unwrap();
    let err = Config::parse(&text, "bad.toml").unwrap_err();
    assert_eq!(
        (err.key.as_str(), err.line),
        ("agents[1].id", 1 + text[..second].matches('\n').count())
    );

    let text = MINIMAL.replace("id = \"1001\"", "id = \"\"");
    expect_err(&text, "id = ", "agents[0].id");
    let text = MINIMAL.replace("id = \"1001\"", "id = \"10 01\"");
    expect_err(&text, "id = ", "agents[0].id");
    let text = MINIMAL.replace("id = \"1001\"", "id = \"12345\"");
    expect_err(&text, "id = ", "agents[0].id");
    let text = MINIMAL.replace("password = \"secret1001\"", "password = \"\"");
    expect_err(&text, "password", "agents[0].password");
    let text = MINIMAL.replace(
        "password = \"secret1001\"",
        "password = \"p\"\ninitial_status = \"away\"",
    );
    expect_err(&text, "initial_status", "agents[0].initial_status");

    let text = format!("{MINIMAL}\n[[queues]]\nname = \"general\"\n");
    let second = text.rfind("name = \"general\"").unwrap();
    let err = Config::parse(&text, "bad.toml").unwrap_err();
    assert_eq!(
        (err.key.as_str(), err.line),
        ("queues[1].name", 1 + text[..second].matches('\n').count())
    );
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hotline.toml");
    std::fs::write(&path, MINIMAL.replace("\"12345\"", "\"\"")).unwrap();
    let err = Config::load(&path).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:3: lines[0].number:", path.display())),
        "{err}"
    );
    let missing = dir.path().join("nope.toml");
    let err = Config::load(&missing).unwrap_err();
    assert_eq!((err.line, err.key.as_str()), (0, "(file)"));
    std::fs::write(&path, MINIMAL).unwrap();
    assert_eq!(Config::load(&path).unwrap().agents[0].id, "1001");
}

#[test]
fn garbage_never_panics() {
    // Cut the shipped file at every char boundary: each prefix either parses or yields a located error.
    let text = EMBEDDED_DEFAULT;
    for (i, _) in text.char_indices().step_by(7) {
        if let Err(e) = Config::parse(&text[..i], "cut.toml") {
            assert!(
                e.line >= 1 && e.line <= 1 + text[..i].matches('\n').count(),
                "{e}"
            );
            assert!(!e.key.is_empty());
        }
    }
}
