use std::time::{Duration, Instant};

use hotline_acd::AgentStatus;
use hotline_sim::{run, Checker, OfferRecord, Shift, SimConfig, ViolationKind};

#[test]
fn small_city_day_is_clean_and_plausible() {
    let r = run(SimConfig {
        seed: 7,
        ..SimConfig::small_city()
    });
    assert!(r.violations.is_empty(), "{r}");
    assert!(r.offered > 9_000 && r.offered < 11_000, "{r}");
    assert_eq!(r.answered + r.abandoned, r.offered, "{r}");
    assert!(r.answer_rate() > 80.0, "{r}");
    assert!(
        r.no_answers > 0 && r.rejects > 0 && r.late_answers > 0 && r.breaks > 0,
        "{r}"
    );
}

#[test]
fn two_agents_three_calls_exact_offers() {
    let s = Duration::from_secs;
    let cfg = SimConfig {
        calls: 3,
        agents: 2,
        arrivals: Some(vec![s(0), s(1), s(2)]),
        talk_sigma: 0.0,
        talk_mean: s(100),
        patience_mean: None,
        ring_delay_min: s(5),
        ring_delay_max: s(5),
        no_answer_p: 0.0,
        reject_p: 0.0,
        late_answer_p: 0.0,
        early_wrap_end_p: 0.0,
        breaks_per_shift: 0,
        shifts: vec![Shift {
            start: s(0),
            end: s(3600),
            share: 1.0,
        }],
        priority_share: 0.0,
        record_offers: true,
        ..SimConfig::small_city()
    };
    let r = run(cfg);
    assert!(r.violations.is_empty(), "{r}");
    // c1 → a0 at 0 s; c2 → a1 at 1 s; c3 waits until a0 ends talk (5 + 100) and wrap-up (10): 115 s.
    let o = |at, call, agent| OfferRecord {
        at: s(at),
        call,
        agent,
    };
    assert_eq!(r.offers, vec![o(0, 1, 0), o(1, 2, 1), o(115, 3, 0)]);
    assert_eq!((r.offered, r.answered, r.abandoned), (3, 3, 0));
    assert_eq!(r.max_wait, s(118));
}

#[test]
fn checker_catches_a_double_offer() {
    let base = Instant::now();
    let ids = vec!["a".to_string()];
    let mut c = Checker::new(base, &ids, Duration::from_secs(15), Duration::from_secs(10));
    c.set_status(0, AgentStatus::Available);
    c.set_registered(0, true);
    c.call_arrived(base, 1, "q", 0);
    c.call_arrived(base, 2, "q", 0);
    c.on_offer(base, 1, "a");
    assert!(c.violations().is_empty());
    c.on_offer(base + Duration::from_secs(1), 2, "a");
    assert_eq!(c.violations().len(), 1);
    assert_eq!(c.violations()[0].kind, ViolationKind::DoubleOffer);
}

#[test]
fn checker_catches_fifo_and_lost_calls() {
    let base = Instant::now();
    let ids = vec!["a".to_string()];
    let mut c = Checker::new(base, &ids, Duration::from_secs(15), Duration::from_secs(10));
    c.set_status(0, AgentStatus::Available);
    c.set_registered(0, true);
    c.call_arrived(base, 1, "q", 0);
    c.call_arrived(base, 2, "q", 0);
    c.on_offer(base, 2, "a");
    c.finish(base, |_| false, &[]);
    let kinds: Vec<_> = c.violations().iter().map(|v| v.kind).collect();
    assert!(kinds.contains(&ViolationKind::FifoBroken), "{kinds:?}");
    assert!(kinds.contains(&ViolationKind::CallLost), "{kinds:?}");
}

#[test]
#[ignore = "a full Shenzhen day; run in release: cargo run --release -p hotline -- simulate"]
fn shenzhen_day_is_clean() {
    let r = run(SimConfig::shenzhen());
    assert!(r.violations.is_empty(), "{r}");
}
