//! Issue 5 keys: `[routing]`.

use super::*;

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

#[test]
fn routing_defaults() {
    let c = Config::parse(MINIMAL, "c.toml").unwrap();
    let r = &c.routing;
    assert_eq!(r.file, None);
    assert_eq!(r.calendar_dir, None);
    assert_eq!(
        (r.sla.as_str(), r.grade_scale.as_str()),
        ("guangdong", "three_level")
    );
    assert_eq!(
        (r.repeat_window_days, r.first_response_mins, r.sweep_secs),
        (7, 3, 30)
    );
}

#[test]
fn routing_keys_are_read() {
    let text = format!(
        "[routing]\nfile = \"r.toml\"\ncalendar_dir = \"cal\"\nsla = \"laishan\"\ngrade_scale = \"abc\"\n\
         repeat_window_days = 0\nfirst_response_mins = 5\nsweep_secs = 10\n{MINIMAL}"
    );
    let c = Config::parse(&text, "c.toml").unwrap();
    let r = &c.routing;
    assert_eq!(r.file.as_deref(), Some("r.toml"));
    assert_eq!(r.calendar_dir.as_deref(), Some("cal"));
    assert_eq!((r.sla.as_str(), r.grade_scale.as_str()), ("laishan", "abc"));
    assert_eq!(
        (r.repeat_window_days, r.first_response_mins, r.sweep_secs),
        (0, 5, 10)
    );
}

#[test]
fn routing_errors_name_key_and_line() {
    for (snippet, key, why) in [
        ("sla = \"beijing\"", "routing.sla", "not one of laishan"),
        (
            "grade_scale = \"stars\"",
            "routing.grade_scale",
            "not one of abc",
        ),
        ("sweep_secs = 0", "routing.sweep_secs", ""),
        ("repeat_window_days = -1", "routing.repeat_window_days", ""),
        ("file = \"\"", "routing.file", "must not be empty"),
        ("colour = 1", "routing", "unknown field"),
    ] {
        let text = format!("[routing]\n{snippet}\n{MINIMAL}");
        let e = Config::parse(&text, "c.toml").unwrap_err();
        assert!(e.key.starts_with(key), "{snippet}: {e}");
        assert_eq!(e.line, 2, "{snippet}: {e}");
        assert!(e.to_string().contains(why), "{snippet}: {e}");
    }
}
