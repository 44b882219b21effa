use std::time::{Duration, Instant};

use hotline_acd::{AcdConfig, AgentConfig, AgentStatus, QueueConfig};
use hotline_sim::{run, Checker, OfferRecord, Shift, SimConfig, Strategy, ViolationKind};

/// No tiers, skills, vanishing phones, lost BYEs or direct calls: the plain day of the first simulator.
fn plain(cfg: SimConfig) -> SimConfig {
    SimConfig {
        tier2_share: 0.0,
        skill_call_share: 0.0,
        vanish_p: 0.0,
        lost_bye_p: 0.0,
        direct_calls_per_shift: 0,
        ..cfg
    }
}

/// One queue "q" (15 s ring, 10 s wrap-up) and agent "a" in it.
fn one_agent(queue: QueueConfig) -> AcdConfig {
    AcdConfig {
        queues: vec![QueueConfig {
            wrap_up: Duration::from_secs(10),
            ..queue
        }],
        agents: vec![AgentConfig::new("a").member("q", 1)],
        seed: 0,
    }
}

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
    let cfg = plain(SimConfig {
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
    });
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
    let mut c = Checker::new(base, &one_agent(QueueConfig::new("q")));
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
    let mut c = Checker::new(base, &one_agent(QueueConfig::new("q")));
    c.set_status(0, AgentStatus::Available);
    c.set_registered(0, true);
    c.call_arrived(base, 1, "q", 0);
    c.call_arrived(base, 2, "q", 0);
    c.on_offer(base, 2, "a");
    c.finish(base, |_| false, &[], &[]);
    let kinds: Vec<_> = c.violations().iter().map(|v| v.kind).collect();
    assert!(kinds.contains(&ViolationKind::FifoBroken), "{kinds:?}");
    assert!(kinds.contains(&ViolationKind::CallLost), "{kinds:?}");
}

#[test]
fn every_strategy_is_clean_on_a_small_day() {
    for strategy in Strategy::ALL {
        let r = run(SimConfig {
            seed: 3,
            calls: 3_000,
            agents: 25,
            strategy,
            // Exercise the rare paths often on a small day.
            vanish_p: 0.02,
            lost_bye_p: 0.02,
            no_answer_p: 0.1,
            max_no_answer: 2,
            ..SimConfig::small_city()
        });
        println!("{r}\n");
        assert!(r.violations.is_empty(), "{r}");
        assert_eq!(r.answered + r.abandoned, r.offered, "{r}");
        assert!(
            r.no_answer_breaks > 0 && r.vanished > 0 && r.reconciled > 0 && r.direct_calls > 0,
            "{r}"
        );
    }
}

fn ready(c: &mut Checker, base: Instant) {
    c.set_status(0, AgentStatus::Available);
    c.set_registered(0, true);
    c.call_arrived(base, 1, "q", 0);
    c.call_arrived(base, 2, "q", 0);
}

#[test]
fn checker_accepts_ring_all_but_not_a_second_call() {
    let base = Instant::now();
    let mut cfg = one_agent(QueueConfig {
        strategy: Strategy::RingAll,
        ..QueueConfig::new("q")
    });
    cfg.agents.push(AgentConfig::new("b").member("q", 1));
    let mut c = Checker::new(base, &cfg);
    ready(&mut c, base);
    c.set_status(1, AgentStatus::Available);
    c.set_registered(1, true);
    c.on_offer(base, 1, "a");
    c.on_offer(base, 1, "b");
    assert!(c.violations().is_empty(), "{:?}", c.violations());
    c.on_offer(base, 2, "a");
    let kinds: Vec<_> = c.violations().iter().map(|v| v.kind).collect();
    assert_eq!(kinds, [ViolationKind::DoubleOffer]);
    // Outside ring-all, a ringing call offered again is caught.
    let mut c = Checker::new(base, &one_agent(QueueConfig::new("q")));
    ready(&mut c, base);
    c.on_offer(base, 1, "a");
    c.on_withdraw(base + Duration::from_secs(15), 1, "a");
    c.on_offer(base + Duration::from_secs(20), 1, "a");
    c.on_offer(base + Duration::from_secs(20), 1, "a");
    let kinds: Vec<_> = c.violations().iter().map(|v| v.kind).collect();
    assert!(
        kinds.contains(&ViolationKind::OfferForGoneCall),
        "{kinds:?}"
    );
}

#[test]
fn checker_catches_ineligible_offers() {
    let base = Instant::now();
    // Tier 2 opens after 30 s; the queue needs "english".
    let mut cfg = one_agent(QueueConfig {
        skills: vec!["english".into()],
        ..QueueConfig::new("q")
    });
    cfg.agents[0] = AgentConfig::new("a").member("q", 2).skill("english", 1);
    let mut c = Checker::new(base, &cfg);
    ready(&mut c, base);
    c.on_offer(base + Duration::from_secs(29), 1, "a");
    assert_eq!(c.violations()[0].kind, ViolationKind::OfferToIneligible);
    let mut c = Checker::new(base, &cfg);
    ready(&mut c, base);
    c.set_direct(0, true);
    c.on_offer(base + Duration::from_secs(30), 1, "a");
    assert_eq!(c.violations()[0].kind, ViolationKind::OfferToIneligible);
    cfg.agents[0].skills.clear();
    let mut c = Checker::new(base, &cfg);
    ready(&mut c, base);
    c.on_offer(base + Duration::from_secs(30), 1, "a");
    assert_eq!(c.violations()[0].kind, ViolationKind::OfferToIneligible);
}

#[test]
fn checker_catches_max_no_answer_and_stuck_agents() {
    let base = Instant::now();
    let s = Duration::from_secs;
    let mut c = Checker::new(
        base,
        &one_agent(QueueConfig {
            max_no_answer: 2,
            ..QueueConfig::new("q")
        }),
    );
    ready(&mut c, base);
    for k in 0..2 {
        c.on_offer(base + s(20 * k), 1, "a");
        c.on_withdraw(base + s(20 * k + 15), 1, "a");
    }
    assert!(c.violations().is_empty(), "{:?}", c.violations());
    c.on_offer(base + s(40), 1, "a");
    assert_eq!(c.violations()[0].kind, ViolationKind::MaxNoAnswer);

    // A lost BYE: in call in the ACD is fine until the reconciliation period has passed.
    let mut c = Checker::new(base, &one_agent(QueueConfig::new("q")));
    c.set_reconcile_every(Some(s(30)));
    ready(&mut c, base);
    c.on_offer(base, 1, "a");
    c.on_answered(base + s(2), 1, 0, true);
    c.on_call_ended(base + s(60), 0, true);
    let mut view = hotline_acd::Acd::new(one_agent(QueueConfig::new("q")))
        .agent("a")
        .unwrap();
    view.state = hotline_acd::AgentState::InCall;
    c.audit(base + s(90), std::slice::from_ref(&view));
    assert!(c.violations().is_empty(), "{:?}", c.violations());
    c.audit(base + s(92), std::slice::from_ref(&view));
    assert_eq!(c.violations()[0].kind, ViolationKind::AgentStuck);
}

#[test]
#[ignore = "a full Shenzhen day; run in release: cargo run --release -p hotline -- simulate"]
fn shenzhen_day_is_clean() {
    for strategy in Strategy::ALL {
        let r = run(SimConfig {
            strategy,
            ..SimConfig::shenzhen()
        });
        println!("{r}\n");
        assert!(r.violations.is_empty(), "{r}");
    }
}
