//! Issue 4 keys: `[emergency]`, `[sos]`, line `kind`, `[media] record`, agent `role`.

use super::*;

/// The issue's contract as written, around the minimal configuration.
const CONTRACT: &str = r#"
[emergency]
"120" = "sip:120@127.0.0.1:5090"
"110" = "sip:110@127.0.0.1:5091"

[sos]
queue = "sos"
ring_agents = 5
escalate_after_secs = 20
escalate_to = "120"

[[lines]]
number = "12345"
queue = "general"

[[lines]]
number = "96120"
kind = "sos"
queue = "sos"

[media]
record = true

[[queues]]
name = "general"

[[queues]]
name = "sos"

[[agents]]
id = "1001"
password = "secret1001"
queues = ["general", "sos"]

[[agents]]
id = "9001"
password = "secret9001"
role = "supervisor"
"#;

#[test]
fn contract_parses() {
    let c = Config::parse(CONTRACT, "c.toml").unwrap();
    assert_eq!(
        c.emergency.get("120").map(String::as_str),
        Some("sip:120@127.0.0.1:5090")
    );
    assert_eq!(
        c.dial_target("110").as_deref(),
        Some("sip:110@127.0.0.1:5091")
    );
    assert_eq!(
        c.dial_target("13800000000"),
        None,
        "no trunk: nowhere to dial"
    );
    let sos = c.sos.as_ref().unwrap();
    assert_eq!(
        (
            sos.queue.as_str(),
            sos.ring_agents,
            sos.escalate_after_secs,
            sos.escalate_to.as_deref()
        ),
        ("sos", 5, 20, Some("120"))
    );
    assert_eq!(sos.contact_ring_secs, 30);
    assert_eq!(c.lines[1].kind, LineKind::Sos);
    assert!(c.is_sos_line(&c.lines[1]) && !c.is_sos_line(&c.lines[0]));
    assert!(c.media.record);
    assert_eq!(c.media.recordings_dir, PathBuf::from("data/recordings"));
    assert_eq!(c.agents[1].role, AgentRole::Supervisor);
    assert_eq!(c.agents[0].role, AgentRole::Agent);
    assert_eq!(Config::partner_of("119"), "119");
    assert_eq!(Config::partner_of("13800000000"), "other");
}

#[test]
fn defaults_without_the_new_sections() {
    let c = Config::parse(MINIMAL, "m.toml").unwrap();
    assert!(c.emergency.is_empty() && c.sos.is_none() && !c.media.record);
    assert_eq!(c.lines[0].kind, LineKind::Normal);
    // An SOS line alone brings [sos] with its defaults and the line's queue.
    let t = MINIMAL.replace(
        "queue = \"general\"\n\n[[queues]]",
        "queue = \"general\"\nkind = \"sos\"\n\n[[queues]]",
    );
    let c = Config::parse(&t, "m.toml").unwrap();
    let sos = c.sos.unwrap();
    assert_eq!(
        (sos.queue.as_str(), sos.ring_agents, sos.escalate_to),
        ("general", 5, None)
    );
}

#[test]
fn trunk_numbers_are_dialled_at_the_gateway() {
    let t = format!("{MINIMAL}\n[trunks.outbound]\nuri = \"sip:127.0.0.1:5092\"\n");
    let c = Config::parse(&t, "t.toml").unwrap();
    assert_eq!(
        c.dial_target("13800000001").as_deref(),
        Some("sip:13800000001@127.0.0.1:5092")
    );
}

#[test]
fn bad_values_name_the_key() {
    let e = expect_err(
        &CONTRACT.replace("sip:110@127.0.0.1:5091", "sip:110@police.local"),
        "\"110\" =",
        "emergency.110",
    );
    assert!(e.message.contains("IP address"), "{e}");
    let e = expect_err(
        &CONTRACT.replace("sip:110@127.0.0.1:5091", "110"),
        "\"110\" =",
        "emergency.110",
    );
    assert!(e.message.contains("not a sip: URI"), "{e}");
    let e = expect_err(
        &CONTRACT.replace("queue = \"sos\"\nring", "queue = \"nope\"\nring"),
        "queue = \"nope\"",
        "sos.queue",
    );
    assert!(e.message.contains("nope"), "{e}");
    expect_err(
        &CONTRACT.replace("ring_agents = 5", "ring_agents = 0"),
        "ring_agents",
        "sos.ring_agents",
    );
    expect_err(
        &CONTRACT.replace("escalate_after_secs = 20", "escalate_after_secs = -1"),
        "escalate_after_secs",
        "sos.escalate_after_secs",
    );
    let e = expect_err(
        &CONTRACT.replace("escalate_to = \"120\"", "escalate_to = \"999\""),
        "escalate_to",
        "sos.escalate_to",
    );
    assert!(e.message.contains("[emergency]"), "{e}");
    let e = expect_err(
        &CONTRACT.replace("kind = \"sos\"", "kind = \"panic\""),
        "kind = ",
        "lines[1].kind",
    );
    assert!(e.message.contains("normal or sos"), "{e}");
    let e = expect_err(
        &CONTRACT.replace("role = \"supervisor\"", "role = \"boss\""),
        "role = ",
        "agents[1].role",
    );
    assert!(e.message.contains("agent or supervisor"), "{e}");
    expect_err(
        &CONTRACT.replace("record = true", "record = true\nrecordings_dir = \" \""),
        "recordings_dir",
        "media.recordings_dir",
    );
    let e = Config::parse(
        &CONTRACT.replace("record = true", "record = \"yes\""),
        "c.toml",
    )
    .unwrap_err();
    assert!(e.to_string().contains("record"), "{e}");
}
