use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hotline_ivr::{
    Action, Input, Ivr, Menu, MenuError, Menus, Output, PathStep, MAX_STEPS_WITHOUT_DIGIT,
};

/// A fake clock: a fixed origin advanced by hand.
struct Clock {
    now: Instant,
}

impl Clock {
    fn new() -> Self {
        Self {
            now: Instant::now(),
        }
    }
    fn advance(&mut self, secs: u64) -> Instant {
        self.now += Duration::from_secs(secs);
        self.now
    }
}

fn a(s: &str) -> Action {
    s.parse().expect("test action")
}

fn menu(
    name: &str,
    prompt: &str,
    opts: &[(char, &str)],
    on_timeout: &str,
    on_invalid: &str,
) -> Menu {
    Menu {
        name: name.into(),
        prompt: prompt.into(),
        timeout: Duration::from_secs(5),
        retries: 2,
        options: opts.iter().map(|(d, s)| (*d, a(s))).collect(),
        on_timeout: a(on_timeout),
        on_invalid: a(on_invalid),
    }
}

/// The contract's `[menus.elderly]` plus a main menu that leads to it.
fn menus() -> Menus {
    let mut m = Menus::new();
    m.insert(menu(
        "elderly",
        "elderly-menu",
        &[
            ('1', "queue:elderly"),
            ('2', "queue:general"),
            ('9', "repeat"),
        ],
        "queue:elderly",
        "repeat",
    ));
    m.insert(menu(
        "main",
        "main-menu",
        &[
            ('1', "queue:general"),
            ('2', "menu:elderly"),
            ('3', "play:office-hours"),
            ('0', "hangup"),
            ('*', "callback"),
        ],
        "repeat",
        "repeat",
    ));
    m
}

fn drain(ivr: &mut Ivr) -> Vec<Output> {
    std::iter::from_fn(|| ivr.poll_output()).collect()
}

fn play(p: &str) -> Output {
    Output::Play {
        prompt: p.into(),
        barge_in: true,
    }
}

fn started(menus: &Menus, start: &str, clock: &Clock) -> Ivr {
    let mut ivr = Ivr::new(menus, start).expect("start menu exists");
    ivr.handle(clock.now, Input::Start);
    ivr
}

#[test]
fn action_parsing() {
    assert_eq!(a("queue:general"), Action::Queue("general".into()));
    assert_eq!(a("menu:elderly"), Action::Menu("elderly".into()));
    assert_eq!(a("play:office-hours"), Action::Play("office-hours".into()));
    assert_eq!(a(" repeat "), Action::Repeat);
    assert_eq!(a("hangup"), Action::Hangup);
    assert_eq!(a("callback"), Action::Callback);
    for bad in [
        "",
        "queue:",
        "dial:123",
        "Repeat",
        "menu: ",
        "queue:a b",
        "transfer",
    ] {
        let err = bad.parse::<Action>().expect_err(bad);
        assert_eq!(err.text, bad);
        assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
    }
    // Display round-trips.
    for s in [
        "queue:x", "menu:y", "play:z", "repeat", "hangup", "callback",
    ] {
        assert_eq!(a(s).to_string(), s);
    }
}

#[test]
fn validate_reports_every_problem() {
    assert_eq!(menus().validate(), Ok(()));
    let mut m = menus();
    let mut bad = menu(
        "bad",
        "",
        &[('1', "menu:nowhere"), ('x', "hangup")],
        "menu:gone",
        "repeat",
    );
    bad.retries = 99;
    bad.timeout = Duration::ZERO;
    m.insert(bad);
    let errs = m.validate().expect_err("invalid");
    assert!(errs.contains(&MenuError::EmptyPrompt { menu: "bad".into() }));
    assert!(errs.contains(&MenuError::BadTimeout { menu: "bad".into() }));
    assert!(errs.contains(&MenuError::TooManyRetries {
        menu: "bad".into(),
        retries: 99
    }));
    assert!(errs.contains(&MenuError::BadDigit {
        menu: "bad".into(),
        digit: 'x'
    }));
    assert!(errs
        .iter()
        .any(|e| matches!(e, MenuError::UnknownTarget { target, .. } if target == "nowhere")));
    assert!(errs
        .iter()
        .any(|e| matches!(e, MenuError::UnknownTarget { target, .. } if target == "gone")));
    assert_eq!(errs.len(), 6);
    assert!(matches!(
        Ivr::new(&m, "missing"),
        Err(MenuError::UnknownMenu(_))
    ));
}

#[test]
fn digit_after_prompt_routes_to_queue() {
    let mut clock = Clock::new();
    let mut ivr = started(&menus(), "main", &clock);
    assert_eq!(drain(&mut ivr), [play("main-menu")]);
    assert_eq!(ivr.poll_timeout(), None, "no timer while the prompt plays");
    ivr.handle(clock.advance(4), Input::PlaybackDone);
    assert_eq!(ivr.poll_timeout(), Some(clock.now + Duration::from_secs(5)));
    ivr.handle(clock.advance(2), Input::Digit('1'));
    assert_eq!(drain(&mut ivr), [Output::Route(a("queue:general"))]);
    assert!(ivr.is_done());
    assert_eq!(ivr.result(), Some(&a("queue:general")));
    assert_eq!(ivr.poll_timeout(), None);
    assert_eq!(
        ivr.path(),
        [
            PathStep::Entered {
                menu: "main".into()
            },
            PathStep::Digit {
                menu: "main".into(),
                digit: '1'
            },
            PathStep::Routed {
                action: a("queue:general")
            },
        ]
    );
    assert_eq!(
        ivr.path_summary(),
        "enter main > press 1 > -> queue:general"
    );
    // Everything after the route is ignored.
    ivr.handle(clock.advance(1), Input::Digit('0'));
    ivr.handle_timeout(clock.advance(100));
    assert!(drain(&mut ivr).is_empty());
}

#[test]
fn barge_in_stops_prompt() {
    let clock = Clock::new();
    let mut ivr = started(&menus(), "main", &clock);
    drain(&mut ivr);
    ivr.handle(clock.now, Input::Digit('*'));
    assert_eq!(
        drain(&mut ivr),
        [Output::StopPlayback, Output::Route(Action::Callback)]
    );
}

#[test]
fn timeouts_retry_then_on_timeout() {
    // elderly: on_timeout = queue:elderly is a leaving action, so the first timeout routes.
    let mut clock = Clock::new();
    let mut ivr = started(&menus(), "elderly", &clock);
    drain(&mut ivr);
    ivr.handle(clock.advance(3), Input::PlaybackDone);
    ivr.handle_timeout(clock.advance(4));
    assert!(drain(&mut ivr).is_empty(), "not yet due");
    ivr.handle_timeout(clock.advance(1));
    assert_eq!(drain(&mut ivr), [Output::Route(a("queue:elderly"))]);

    // A menu whose on_timeout is `repeat`: replayed `retries` times, then hang up.
    let mut m = menus();
    m.insert(menu("r", "r-menu", &[('1', "queue:q")], "repeat", "repeat"));
    let mut ivr = started(&m, "r", &clock);
    assert_eq!(drain(&mut ivr), [play("r-menu")]);
    for _ in 0..2 {
        ivr.handle(clock.advance(3), Input::PlaybackDone);
        let due = ivr.poll_timeout().expect("timer armed");
        clock.now = due;
        ivr.handle_timeout(due);
        assert_eq!(drain(&mut ivr), [play("r-menu")]);
    }
    ivr.handle(clock.advance(3), Input::PlaybackDone);
    ivr.handle_timeout(clock.advance(5));
    assert_eq!(drain(&mut ivr), [Output::Route(Action::Hangup)]);
    let path = ivr.path();
    assert_eq!(
        path.iter()
            .filter(|s| matches!(s, PathStep::Timeout { .. }))
            .count(),
        3
    );
    assert!(path.contains(&PathStep::Retry {
        menu: "r".into(),
        attempt: 2
    }));
    assert!(path.contains(&PathStep::Retry {
        menu: "r".into(),
        attempt: 3
    }));
    assert!(path.contains(&PathStep::RetriesExhausted { menu: "r".into() }));
}

#[test]
fn invalid_repeats_then_final_fallback() {
    let mut clock = Clock::new();
    let mut ivr = started(&menus(), "elderly", &clock);
    drain(&mut ivr);
    // Two wrong digits (retries = 2) replay the menu, barging into it each time.
    for _ in 0..2 {
        ivr.handle(clock.advance(1), Input::Digit('7'));
        assert_eq!(
            drain(&mut ivr),
            [Output::StopPlayback, play("elderly-menu")]
        );
    }
    // The third goes to the final fallback: on_timeout (queue:elderly).
    ivr.handle(clock.advance(10), Input::PlaybackDone);
    ivr.handle(clock.advance(1), Input::Digit('x'));
    assert_eq!(drain(&mut ivr), [Output::Route(a("queue:elderly"))]);
    let path = ivr.path();
    assert_eq!(
        path.last(),
        Some(&PathStep::Routed {
            action: a("queue:elderly")
        })
    );
    assert!(path.contains(&PathStep::Invalid {
        menu: "elderly".into(),
        digit: 'x'
    }));
    assert!(path.contains(&PathStep::RetriesExhausted {
        menu: "elderly".into()
    }));
}

#[test]
fn mixed_failures_share_the_counter() {
    let mut clock = Clock::new();
    let mut m = menus();
    m.insert(menu("r", "r-menu", &[('1', "queue:q")], "repeat", "repeat"));
    let mut ivr = started(&m, "r", &clock);
    drain(&mut ivr);
    ivr.handle(clock.advance(1), Input::Digit('5')); // invalid 1
    ivr.handle(clock.advance(3), Input::PlaybackDone);
    ivr.handle_timeout(clock.advance(5)); // timeout 2
    ivr.handle(clock.advance(1), Input::Digit('6')); // invalid 3 > retries
    let out = drain(&mut ivr);
    assert_eq!(out.last(), Some(&Output::Route(Action::Hangup)));
}

#[test]
fn valid_repeat_does_not_count_as_failure() {
    let mut clock = Clock::new();
    let mut ivr = started(&menus(), "elderly", &clock);
    drain(&mut ivr);
    for _ in 0..5 {
        ivr.handle(clock.advance(1), Input::Digit('9'));
        assert_eq!(
            drain(&mut ivr),
            [Output::StopPlayback, play("elderly-menu")]
        );
    }
    ivr.handle(clock.advance(1), Input::Digit('2'));
    assert_eq!(
        drain(&mut ivr),
        [Output::StopPlayback, Output::Route(a("queue:general"))]
    );
}

#[test]
fn play_then_back_to_menu() {
    let mut clock = Clock::new();
    let mut ivr = started(&menus(), "main", &clock);
    drain(&mut ivr);
    ivr.handle(clock.advance(3), Input::PlaybackDone);
    ivr.handle(clock.advance(1), Input::Digit('3'));
    assert_eq!(drain(&mut ivr), [play("office-hours")]);
    assert_eq!(ivr.poll_timeout(), None);
    ivr.handle(clock.advance(6), Input::PlaybackDone);
    assert_eq!(drain(&mut ivr), [play("main-menu")]);
    ivr.handle(clock.advance(3), Input::PlaybackDone);
    assert!(ivr.poll_timeout().is_some());
    ivr.handle(clock.advance(1), Input::Digit('1'));
    assert_eq!(drain(&mut ivr), [Output::Route(a("queue:general"))]);
    assert!(ivr.path().contains(&PathStep::Played {
        menu: "main".into(),
        prompt: "office-hours".into()
    }));
}

#[test]
fn barge_into_play_prompt_chooses_in_menu() {
    let clock = Clock::new();
    let mut ivr = started(&menus(), "main", &clock);
    drain(&mut ivr);
    ivr.handle(clock.now, Input::Digit('3'));
    assert_eq!(
        drain(&mut ivr),
        [Output::StopPlayback, play("office-hours")]
    );
    ivr.handle(clock.now, Input::Digit('0'));
    assert_eq!(
        drain(&mut ivr),
        [Output::StopPlayback, Output::Route(Action::Hangup)]
    );
}

#[test]
fn menu_to_menu() {
    let mut clock = Clock::new();
    let mut ivr = started(&menus(), "main", &clock);
    drain(&mut ivr);
    ivr.handle(clock.advance(3), Input::PlaybackDone);
    ivr.handle(clock.advance(1), Input::Digit('2'));
    assert_eq!(drain(&mut ivr), [play("elderly-menu")]);
    assert_eq!(ivr.current_menu(), "elderly");
    ivr.handle(clock.advance(1), Input::Digit('1'));
    assert_eq!(
        drain(&mut ivr),
        [Output::StopPlayback, Output::Route(a("queue:elderly"))]
    );
    assert_eq!(
        ivr.path_summary(),
        "enter main > press 2 > enter elderly > press 1 > -> queue:elderly"
    );
}

#[test]
fn silent_menu_loop_is_capped() {
    let mut clock = Clock::new();
    let mut m = Menus::new();
    m.insert(menu("a", "a-menu", &[], "menu:b", "menu:b"));
    m.insert(menu("b", "b-menu", &[], "menu:a", "menu:a"));
    assert_eq!(m.validate(), Ok(()));
    let mut ivr = started(&m, "a", &clock);
    let mut plays = 0;
    for _ in 0..1000 {
        for o in drain(&mut ivr) {
            if matches!(o, Output::Play { .. }) {
                plays += 1;
            }
        }
        if ivr.is_done() {
            break;
        }
        ivr.handle(clock.advance(2), Input::PlaybackDone);
        ivr.handle_timeout(clock.advance(5));
    }
    assert!(ivr.is_done());
    assert_eq!(plays, MAX_STEPS_WITHOUT_DIGIT);
    assert_eq!(ivr.result(), Some(&Action::Hangup));
    let path = ivr.path();
    assert_eq!(path.iter().rev().nth(1), Some(&PathStep::LoopCap));
}

#[test]
fn unknown_target_at_runtime_hangs_up() {
    let clock = Clock::new();
    let mut m = Menus::new();
    m.insert(menu(
        "a",
        "a-menu",
        &[('1', "menu:ghost")],
        "hangup",
        "hangup",
    ));
    let mut ivr = started(&m, "a", &clock);
    drain(&mut ivr);
    ivr.handle(clock.now, Input::Digit('1'));
    assert_eq!(
        drain(&mut ivr),
        [Output::StopPlayback, Output::Route(Action::Hangup)]
    );
    assert!(ivr.path().contains(&PathStep::UnknownMenu {
        menu: "ghost".into()
    }));
}

#[test]
fn inputs_before_start_and_stray_events_are_ignored() {
    let clock = Clock::new();
    let mut ivr = Ivr::new(&menus(), "main").expect("exists");
    ivr.handle(clock.now, Input::Digit('1'));
    ivr.handle(clock.now, Input::PlaybackDone);
    ivr.handle_timeout(clock.now);
    assert!(drain(&mut ivr).is_empty());
    assert!(ivr.path().is_empty());
    ivr.handle(clock.now, Input::Start);
    ivr.handle(clock.now, Input::Start);
    assert_eq!(drain(&mut ivr), [play("main-menu")]);
}

#[test]
fn huge_timeout_does_not_panic() {
    let clock = Clock::new();
    let mut m = Menus::new();
    let mut x = menu("x", "x-menu", &[], "hangup", "hangup");
    x.timeout = Duration::MAX;
    m.insert(x);
    let mut ivr = started(&m, "x", &clock);
    ivr.handle(clock.now, Input::PlaybackDone);
    assert!(ivr.poll_timeout().is_some());
}

#[test]
fn path_serializes() {
    let step = PathStep::Routed {
        action: a("queue:general"),
    };
    assert_eq!(format!("{step}"), "-> queue:general");
    let json = serde_json::to_string(&step).expect("serializes");
    assert_eq!(json, r#"{"step":"routed","action":"queue:general"}"#);
    let back: PathStep = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, step);
    assert!(serde_json::from_str::<Action>(r#""dial:1""#).is_err());
    let opts: BTreeMap<char, Action> =
        serde_json::from_str(r#"{"1":"queue:a","9":"repeat"}"#).expect("options");
    assert_eq!(opts.get(&'9'), Some(&Action::Repeat));
}
