//! Issue 3 keys: the contract, defaults, menus, `[trunks.outbound]`, `[caller_priority]`.

use super::*;

#[test]
fn contract_parses_to_typed_values() {
    let c = Config::parse(CONTRACT, "contract.toml").unwrap();
    let l = &c.lines[0];
    assert_eq!(
        (
            l.number.as_str(),
            l.greeting.as_str(),
            l.menu.as_deref(),
            l.queue.as_str(),
            l.priority
        ),
        ("12349", "welcome-elderly", Some("elderly"), "elderly", 10)
    );

    let m = c.menu("elderly").unwrap();
    assert_eq!(
        *m,
        Menu {
            name: "elderly".into(),
            prompt: "elderly-menu".into(),
            timeout: Duration::from_secs(5),
            retries: 2,
            options: BTreeMap::from([
                ('1', Action::Queue("elderly".into())),
                ('2', Action::Queue("general".into())),
                ('9', Action::Repeat),
            ]),
            on_timeout: Action::Queue("elderly".into()),
            on_invalid: Action::Repeat,
        }
    );
    assert_eq!(c.menus.len(), 1);

    let q = c.queue("general").unwrap();
    assert_eq!(
        *q,
        QueueConfig {
            name: "general".into(),
            ring_timeout_secs: 15,
            wrap_up_secs: 10,
            strategy: Strategy::LongestIdle,
            max_no_answer: 3,
            announce_every_secs: 30,
            max_wait_secs: 600,
            on_max_wait: Action::Callback,
            callback_key: Some('1'),
            tier_escalate_secs: 30,
            skills: vec![],
        }
    );
    assert_eq!(q.announce_every(), Some(Duration::from_secs(30)));
    assert_eq!(q.max_wait(), Some(Duration::from_secs(600)));
    assert_eq!(q.tier_escalate(), Duration::from_secs(30));

    let a = &c.agents[0];
    assert_eq!(
        a.queues,
        vec![
            QueueMembership {
                name: "general".into(),
                tier: 1
            },
            QueueMembership {
                name: "elderly".into(),
                tier: 1
            },
        ]
    );
    assert_eq!(
        a.skills,
        BTreeMap::from([("mandarin".into(), 5), ("cantonese".into(), 3)])
    );

    // caller_id defaults to the first line's number.
    assert_eq!(
        c.trunks.outbound,
        Some(OutboundTrunk {
            uri: "sip:127.0.0.1:5092".into(),
            caller_id: Some("12349".into()),
        })
    );
    assert!(c.caller_priority.is_empty());
    assert_eq!(
        c.configured_prompts().into_iter().collect::<Vec<_>>(),
        ["elderly-menu", "welcome-elderly"]
    );
}

#[test]
fn new_keys_default() {
    let c = Config::parse(MINIMAL, "min.toml").unwrap();
    assert_eq!(c.lines[0].menu, None);
    let q = &c.queues[0];
    assert_eq!(q.strategy, Strategy::LongestIdle);
    assert_eq!(q.max_no_answer, 3);
    assert_eq!(q.announce_every_secs, 30);
    assert_eq!(q.max_wait_secs, 600);
    assert_eq!(q.on_max_wait, Action::Callback);
    assert_eq!(q.callback_key, Some('1'));
    assert_eq!(q.tier_escalate_secs, 30);
    assert!(q.skills.is_empty());
    let a = &c.agents[0];
    assert_eq!(
        a.queues,
        vec![QueueMembership {
            name: "general".into(),
            tier: 1
        }]
    );
    assert!(a.skills.is_empty());
    assert!(c.menus.is_empty());
    assert_eq!(c.trunks, TrunksConfig::default());
    assert_eq!(c.trunks.outbound, None);
    assert!(c.caller_priority.is_empty());

    // Menu defaults: 5 s, 2 retries, invalid key repeats.
    let text = with(
        "",
        "[menus.m]\nprompt = \"p\"\noptions = { \"1\" = \"queue:general\" }\non_timeout = \"hangup\"",
    );
    let c = Config::parse(&text, "t.toml").unwrap();
    let m = c.menu("m").unwrap();
    assert_eq!(
        (m.timeout, m.retries, &m.on_invalid),
        (Duration::from_secs(5), 2, &Action::Repeat)
    );

    // Zero turns things off.
    let text = with(
        "max_no_answer = 0\nannounce_every_secs = 0\nmax_wait_secs = 0\ntier_escalate_secs = 0\ncallback_key = \"\"",
        "",
    );
    let q = Config::parse(&text, "t.toml").unwrap().queues.remove(0);
    assert_eq!(
        (
            q.max_no_answer,
            q.announce_every(),
            q.max_wait(),
            q.callback_key
        ),
        (0, None, None, None)
    );
    assert_eq!(q.tier_escalate(), Duration::ZERO);
}

#[test]
fn strategies_and_actions() {
    for s in Strategy::ALL {
        let text = with(&format!("strategy = \"{s}\""), "");
        assert_eq!(
            Config::parse(&text, "t.toml").unwrap().queues[0].strategy,
            s
        );
    }
    let menu = "[menus.m]\nprompt = \"p\"\noptions = { \"1\" = \"queue:general\" }\non_timeout = \"hangup\"";
    for (text, want) in [
        ("callback", Action::Callback),
        ("hangup", Action::Hangup),
        ("menu:m", Action::Menu("m".into())),
        ("queue:vip", Action::Queue("vip".into())),
    ] {
        let t = with(
            &format!("on_max_wait = \"{text}\""),
            &format!("{menu}\n[[queues]]\nname = \"vip\""),
        );
        assert_eq!(
            Config::parse(&t, "t.toml").unwrap().queues[0].on_max_wait,
            want
        );
    }
    // Every action kind in a menu, and every DTMF key.
    let text = with(
        "",
        r##"[menus.m]
prompt = "p"
options = { "0" = "queue:general", "1" = "menu:n", "2" = "play:info", "3" = "repeat", "4" = "hangup", "5" = "callback", "*" = "repeat", "#" = "hangup" }
on_timeout = "queue:general"
[menus.n]
prompt = "q"
options = { "9" = "menu:m" }
on_timeout = "menu:m"
on_invalid = "play:sorry"
"##,
    );
    let c = Config::parse(&text, "t.toml").unwrap();
    let m = c.menu("m").unwrap();
    assert_eq!(m.options[&'1'], Action::Menu("n".into()));
    assert_eq!(m.options[&'2'], Action::Play("info".into()));
    assert_eq!(m.options[&'5'], Action::Callback);
    assert_eq!(m.options[&'#'], Action::Hangup);
    assert_eq!(m.options.len(), 8);
    assert_eq!(
        c.configured_prompts().into_iter().collect::<Vec<_>>(),
        ["info", "p", "q", "sorry", "welcome"]
    );
    for key in ["0", "5", "9", "*", "#"] {
        let text = with(&format!("callback_key = \"{key}\""), "");
        let q = &Config::parse(&text, "t.toml").unwrap().queues[0];
        assert_eq!(q.callback_key, key.chars().next());
    }
}

#[test]
fn line_menu_errors() {
    let text = format!(
        "{CONTRACT}\n[[lines]]\nnumber = \"12345\"\nmenu = \"main\"\nqueue = \"general\"\n"
    );
    expect_msg(
        &text,
        "menu = \"main\"",
        "lines[1].menu",
        &["no menu named `main`", "(defined: elderly)"],
    );
    let text = contract("queue = \"elderly\"\npriority", "queue = \"vip\"\npriority");
    expect_msg(&text, "queue = \"vip\"", "lines[0].queue", &["`vip`"]);
    let text = contract("greeting = \"welcome-elderly\"", "greeting = \"../etc/x\"");
    expect_err(&text, "greeting", "lines[0].greeting");
}

#[test]
fn menu_errors() {
    let bad = |from: &str, to: &str, needle: &str, key: &str, parts: &[&str]| {
        expect_msg(&contract(from, to), needle, key, parts)
    };
    // Option keys: one DTMF key each.
    bad(
        "\"9\" = \"repeat\"",
        "\"12\" = \"repeat\"",
        "options",
        "menus.elderly.options.12",
        &["single DTMF key"],
    );
    bad(
        "\"9\" = \"repeat\"",
        "a = \"repeat\"",
        "options",
        "menus.elderly.options.a",
        &["`a`"],
    );
    // Actions: syntax, queues (checked here) and menus (Menus::validate).
    bad(
        "\"1\" = \"queue:elderly\"",
        "\"1\" = \"dial:110\"",
        "options",
        "menus.elderly.options.1",
        &["dial:110", "unknown action kind"],
    );
    bad(
        "\"1\" = \"queue:elderly\"",
        "\"7\" = \"queue:vip\"",
        "options",
        "menus.elderly.options.7",
        &["no queue named `vip`", "general, elderly"],
    );
    bad(
        "\"2\" = \"queue:general\"",
        "\"2\" = \"menu:main\"",
        "options",
        "menus.elderly.options.2",
        &["no menu named `main`", "(defined: elderly)"],
    );
    bad(
        "\"9\" = \"repeat\"",
        "\"9\" = \"play:../x\"",
        "options",
        "menus.elderly.options.9",
        &["prompt name"],
    );
    bad(
        "on_timeout = \"queue:elderly\"",
        "on_timeout = \"menu:main\"",
        "on_timeout",
        "menus.elderly.on_timeout",
        &["no menu named `main`"],
    );
    bad(
        "on_invalid = \"repeat\"",
        "on_invalid = \"queue:\"",
        "on_invalid",
        "menus.elderly.on_invalid",
        &["missing name"],
    );
    bad(
        "on_timeout = \"queue:elderly\"\n",
        "",
        "[menus.elderly]",
        "menus.elderly.on_timeout",
        &["missing field"],
    );
    // Numbers, through Menus::validate where it has the limit.
    bad(
        "retries = 2",
        "retries = 11",
        "retries",
        "menus.elderly.retries",
        &["at most 10"],
    );
    bad(
        "retries = 2",
        "retries = -1",
        "retries",
        "menus.elderly.retries",
        &["negative"],
    );
    bad(
        "timeout_secs = 5",
        "timeout_secs = 121",
        "timeout_secs",
        "menus.elderly.timeout_secs",
        &["1 to 120 seconds"],
    );
    bad(
        "timeout_secs = 5",
        "timeout_secs = 0",
        "timeout_secs",
        "menus.elderly.timeout_secs",
        &["positive"],
    );
    bad(
        "prompt = \"elderly-menu\"",
        "prompt = \"\"",
        "prompt",
        "menus.elderly.prompt",
        &["empty"],
    );
    bad(
        "options = { \"1\" = \"queue:elderly\", \"2\" = \"queue:general\", \"9\" = \"repeat\" }",
        "options = {}",
        "options",
        "menus.elderly.options",
        &["at least one option"],
    );
    bad(
        "on_invalid = \"repeat\"",
        "on_invalid = \"repeat\"\nmusic = \"x\"",
        "music",
        "menus.elderly.music",
        &["unknown field"],
    );
    // Menu names appear after `menu:` and in key paths.
    let text = format!(
        "{CONTRACT}\n[menus.\"main menu\"]\nprompt = \"p\"\noptions = {{ \"1\" = \"hangup\" }}\non_timeout = \"hangup\"\n"
    );
    expect_msg(
        &text,
        "[menus.\"main menu\"]",
        "menus.main menu",
        &["not a menu name"],
    );
}

#[test]
fn menu_errors_in_a_multi_line_table() {
    // Options written as a sub-table, one per line: the error points at the option's own line.
    let text = with(
        "",
        "[menus.m]\nprompt = \"p\"\non_timeout = \"hangup\"\n[menus.m.options]\n1 = \"queue:general\"\n2 = \"menu:nowhere\"\n3 = \"hangup\"",
    );
    expect_msg(
        &text,
        "2 = \"menu:nowhere\"",
        "menus.m.options.2",
        &["no menu named `nowhere`", "(defined: m)"],
    );
}

#[test]
fn outbound_trunk() {
    for uri in [
        "sip:127.0.0.1:5092",
        "sips:gw.example.net",
        "sip:gw@[2001:db8::1]:5060;transport=tcp",
    ] {
        let text = contract("sip:127.0.0.1:5092", uri);
        let c = Config::parse(&text, "t.toml").unwrap();
        assert_eq!(c.trunks.outbound.unwrap().uri, uri);
    }
    for uri in [
        "http://gw.example.net",
        "127.0.0.1:5092",
        "sip:",
        "sip:gw:99999",
        " sip:gw",
        "tel:+8612345",
        "",
    ] {
        let text = contract("\"sip:127.0.0.1:5092\"", &format!("\"{uri}\""));
        expect_msg(
            &text,
            "uri =",
            "trunks.outbound.uri",
            &["not a sip: or sips: URI"],
        );
    }
    let text = contract(
        "uri = \"sip:127.0.0.1:5092\"",
        "uri = \"sip:127.0.0.1:5092\"\ncaller_id = \"12345\"",
    );
    let c = Config::parse(&text, "t.toml").unwrap();
    assert_eq!(
        c.trunks.outbound.unwrap().caller_id.as_deref(),
        Some("12345")
    );
    let text = contract(
        "uri = \"sip:127.0.0.1:5092\"",
        "uri = \"sip:127.0.0.1:5092\"\ncaller_id = \"123 45\"",
    );
    expect_err(&text, "caller_id", "trunks.outbound.caller_id");
    let text = contract(
        "uri = \"sip:127.0.0.1:5092\"",
        "url = \"sip:127.0.0.1:5092\"",
    );
    expect_err(&text, "url", "trunks.outbound.url");
    let text = contract("[trunks.outbound]", "[trunks.inbound]");
    expect_err(&text, "[trunks.inbound]", "trunks.inbound");
    // sip.trunks is still the inbound CIDR list, next to [trunks].
    let text = format!("[sip]\ntrunks = [\"10.0.0.0/8\"]\n{CONTRACT}");
    let c = Config::parse(&text, "t.toml").unwrap();
    assert_eq!(c.sip.trunks[0].to_string(), "10.0.0.0/8");
    assert!(c.trunks.outbound.is_some());
}

#[test]
fn caller_priority() {
    let text = format!(
        "{MINIMAL}\n[[lines]]\nnumber = \"12349\"\nqueue = \"general\"\npriority = 10\n\n[caller_priority]\n\"13800138000\" = 20\n\"+8613900000000\" = 5\n\"02088886666\" = -3\n"
    );
    let c = Config::parse(&text, "t.toml").unwrap();
    let (main, elderly) = (c.line("12345").unwrap(), c.line("12349").unwrap());
    assert_eq!(c.caller_priority.len(), 3);
    assert_eq!(c.caller_priority_for(main, "13800138000"), 20);
    assert_eq!(c.caller_priority_for(elderly, "13800138000"), 20);
    assert_eq!(c.caller_priority_for(main, "+8613900000000"), 5);
    assert_eq!(c.caller_priority_for(elderly, "+8613900000000"), 10);
    // The higher of the two: a lower caller entry never lowers a line.
    assert_eq!(c.caller_priority_for(main, "02088886666"), 0);
    assert_eq!(c.caller_priority_for(elderly, "02088886666"), 10);
    // Unknown callers get the line's priority; matching is exact.
    assert_eq!(c.caller_priority_for(main, "13800000001"), 0);
    assert_eq!(c.caller_priority_for(elderly, "8613800138000"), 10);

    let text = format!("{MINIMAL}\n[caller_priority]\n\"138 0013 8000\" = 20\n");
    expect_msg(
        &text,
        "\"138 0013",
        "caller_priority.138 0013 8000",
        &["not a caller number"],
    );
    let text = format!("{MINIMAL}\n[caller_priority]\n\"13800138000\" = 3000000000\n");
    expect_msg(
        &text,
        "\"13800138000\"",
        "caller_priority.13800138000",
        &["out of range"],
    );
    let text = format!("{MINIMAL}\n[caller_priority]\n\"13800138000\" = \"high\"\n");
    expect_err(&text, "\"13800138000\"", "caller_priority.13800138000");
}

#[test]
fn earlier_files_still_parse() {
    // A file in the pre-issue-3 shape (the old shipped config's keys) parses and gets the new defaults.
    let text = r#"
[[lines]]
number = "12345"
name = "12345 政务服务便民热线"
greeting = "welcome"
queue = "general"
priority = 0

[[lines]]
number = "12349"
name = "12349 养老服务热线"
greeting = "welcome"
queue = "general"
priority = 0

[[queues]]
name = "general"
ring_timeout_secs = 15
wrap_up_secs = 5

[[agents]]
id = "1001"
password = "secret1001"
name = "坐席1001"
queues = ["general"]
initial_status = "available"
"#;
    let c = Config::parse(text, "old.toml").unwrap();
    assert!(c.lines.iter().all(|l| l.menu.is_none()));
    assert_eq!(c.agents[0].tier_in("general"), Some(1));
    assert_eq!(c.queues[0].strategy, Strategy::LongestIdle);
}
