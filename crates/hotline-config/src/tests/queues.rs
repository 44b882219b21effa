//! Issue 3 queue and agent keys: strategy, max wait, call-back key, tiers, skills.

use super::*;

#[test]
fn tiered_and_plain_membership() {
    let text = with(
        "",
        r#"[[queues]]
name = "elderly"
[[queues]]
name = "vip"
[[agents]]
id = "1002"
password = "p"
queues = ["general", { name = "elderly", tier = 3 }, { name = "vip" }]
"#,
    );
    let c = Config::parse(&text, "t.toml").unwrap();
    let a = c.agent("1002").unwrap();
    let got: Vec<(&str, u32)> = a.queues.iter().map(|m| (m.name.as_str(), m.tier)).collect();
    assert_eq!(got, [("general", 1), ("elderly", 3), ("vip", 1)]);
    assert_eq!(a.tier_in("elderly"), Some(3));
    assert_eq!(a.tier_in("nope"), None);

    let bad = |queues: &str| {
        let text = MINIMAL.replace("queues = [\"general\"]", &format!("queues = {queues}"));
        format!("{text}\n[[queues]]\nname = \"elderly\"\n")
    };
    let text = bad("[\"general\", { name = \"elderly\", tier = 0 }]");
    expect_msg(
        &text,
        "queues = [",
        "agents[0].queues[1].tier",
        &["1 or more"],
    );
    let text = bad("[\"general\", { name = \"elderly\", tier = -2 }]");
    expect_err(&text, "queues = [", "agents[0].queues[1].tier");
    let text = bad("[\"general\", { name = \"elderly\", tier = 99999999999 }]");
    expect_err(&text, "queues = [", "agents[0].queues[1].tier");
    let text = bad("[\"general\", { name = \"vip\", tier = 2 }]");
    expect_msg(
        &text,
        "queues = [",
        "agents[0].queues[1].name",
        &["no queue named `vip`", "general, elderly"],
    );
    let text = bad("[\"general\", { name = \"general\", tier = 2 }]");
    expect_msg(
        &text,
        "queues = [",
        "agents[0].queues[1].name",
        &["listed twice"],
    );
    let text = bad("[\"elderly\", \"elderly\"]");
    expect_err(&text, "queues = [", "agents[0].queues[1]");
    // Neither a name nor { name, tier }: the entry's own line is named.
    let text = bad("[\n  \"general\",\n  { name = \"elderly\", teir = 2 },\n]");
    expect_err(&text, "teir", "agents[0].queues[1]");
    for entry in ["{ name = \"elderly\", teir = 2 }", "{ tier = 2 }", "7"] {
        let text = bad(&format!("[\"general\", {entry}]"));
        expect_msg(
            &text,
            "queues = [",
            "agents[0].queues[1]",
            &["queue name or { name"],
        );
    }
}

#[test]
fn agent_skills() {
    let text = MINIMAL.replace(
        "queues = [\"general\"]",
        "queues = [\"general\"]\nskills = { mandarin = 1, \"粤语\" = 100 }",
    );
    let c = Config::parse(&text, "t.toml").unwrap();
    assert_eq!(c.agents[0].skills["粤语"], MAX_SKILL_LEVEL);
    assert!(c.agents[0].has_skills(&["mandarin", "粤语"]));
    assert!(!c.agents[0].has_skills(&["english"]));

    for (skills, key) in [
        ("{ mandarin = 0 }", "agents[0].skills.mandarin"),
        ("{ mandarin = 101 }", "agents[0].skills.mandarin"),
        ("{ mandarin = -1 }", "agents[0].skills.mandarin"),
    ] {
        let text = MINIMAL.replace(
            "queues = [\"general\"]",
            &format!("queues = [\"general\"]\nskills = {skills}"),
        );
        expect_msg(&text, "skills", key, &["1 to 100"]);
    }
    let text = MINIMAL.replace(
        "queues = [\"general\"]",
        "queues = [\"general\"]\nskills = { \"sign language\" = 5 }",
    );
    expect_msg(
        &text,
        "skills",
        "agents[0].skills.sign language",
        &["not a skill name"],
    );
    let text = MINIMAL.replace(
        "queues = [\"general\"]",
        "queues = [\"general\"]\nskills = { mandarin = \"high\" }",
    );
    expect_err(&text, "skills", "agents[0].skills.mandarin");
}

#[test]
fn queue_skills_must_be_reachable() {
    // A member holds every required skill: fine.
    let text = MINIMAL.replace(
        "queues = [\"general\"]",
        "queues = [\"general\"]\nskills = { mandarin = 5, cantonese = 3 }",
    );
    let ok = text.replace(
        "name = \"general\"\n",
        "name = \"general\"\nskills = [\"mandarin\", \"cantonese\"]\n",
    );
    assert_eq!(
        Config::parse(&ok, "t.toml").unwrap().queues[0].skills,
        ["mandarin", "cantonese"]
    );
    // Nobody holds english.
    let bad = text.replace(
        "name = \"general\"\n",
        "name = \"general\"\nskills = [\"mandarin\", \"english\"]\n",
    );
    expect_msg(
        &bad,
        "skills = [",
        "queues[0].skills",
        &["mandarin, english", "1001"],
    );
    // An agent holding the skill but not in the queue does not count.
    let text = with(
        "",
        "[[queues]]\nname = \"psy\"\nskills = [\"psychology\"]\n[[agents]]\nid = \"1002\"\npassword = \"p\"\nqueues = [\"general\"]\nskills = { psychology = 50 }",
    );
    expect_msg(
        &text,
        "skills = [\"psy",
        "queues[1].skills",
        &["no member agents"],
    );
    // Repeated or malformed skill names.
    let text = with("skills = [\"a\", \"b\", \"a\"]", "");
    expect_msg(&text, "skills", "queues[0].skills[2]", &["listed twice"]);
    let text = with("skills = [\"\"]", "");
    expect_err(&text, "skills", "queues[0].skills[0]");
}

#[test]
fn queue_value_errors() {
    let text = with("strategy = \"fifo\"", "");
    expect_msg(
        &text,
        "strategy",
        "queues[0].strategy",
        &[
            "`fifo`",
            "longest-idle",
            "round-robin",
            "ring-all",
            "fewest-calls",
            "least-talk-time",
            "random",
        ],
    );
    let text = with("strategy = \"longest_idle\"", "");
    expect_err(&text, "strategy", "queues[0].strategy");
    for k in [
        "max_no_answer",
        "announce_every_secs",
        "max_wait_secs",
        "tier_escalate_secs",
    ] {
        let text = with(&format!("{k} = -1"), "");
        expect_msg(&text, k, &format!("queues[0].{k}"), &["negative"]);
    }
    let text = with("max_no_answer = 99999999999", "");
    expect_err(&text, "max_no_answer", "queues[0].max_no_answer");
    for key in ["12", "a", " ", "１"] {
        let text = with(&format!("callback_key = \"{key}\""), "");
        expect_msg(
            &text,
            "callback_key",
            "queues[0].callback_key",
            &["DTMF", "\"\""],
        );
    }
}

#[test]
fn on_max_wait_errors() {
    for a in ["repeat", "play:sorry"] {
        let text = with(&format!("on_max_wait = \"{a}\""), "");
        expect_msg(
            &text,
            "on_max_wait",
            "queues[0].on_max_wait",
            &[
                "cannot end a wait",
                "callback, queue:NAME, menu:NAME or hangup",
            ],
        );
    }
    let text = with("on_max_wait = \"queue:vip\"", "");
    expect_msg(
        &text,
        "on_max_wait",
        "queues[0].on_max_wait",
        &["no queue named `vip`"],
    );
    let text = with("on_max_wait = \"queue:general\"", "");
    expect_msg(
        &text,
        "on_max_wait",
        "queues[0].on_max_wait",
        &["the queue itself"],
    );
    let text = with("on_max_wait = \"menu:main\"", "");
    expect_msg(
        &text,
        "on_max_wait",
        "queues[0].on_max_wait",
        &["no menu named `main`", "none is defined"],
    );
    let text = with("on_max_wait = \"transfer:1\"", "");
    expect_msg(
        &text,
        "on_max_wait",
        "queues[0].on_max_wait",
        &["transfer:1"],
    );
    // general -> b -> c -> b loops; reported at a queue of the loop.
    let text = with(
        "on_max_wait = \"queue:b\"",
        "[[queues]]\nname = \"b\"\non_max_wait = \"queue:c\"\n[[queues]]\nname = \"c\"\non_max_wait = \"queue:b\"",
    );
    expect_msg(
        &text,
        "on_max_wait = \"queue:c\"",
        "queues[1].on_max_wait",
        &["b -> c -> b"],
    );
    // With max_wait_secs = 0 on c the chain ends there.
    let ok = text.replace("name = \"c\"\n", "name = \"c\"\nmax_wait_secs = 0\n");
    let c = Config::parse(&ok, "t.toml").unwrap();
    assert_eq!(c.queues[2].on_max_wait, Action::Queue("b".into()));
}
