use std::time::Duration;

use hotline_ivr::{
    estimated_wait, number_prompts, position_prompts, wait_minutes, wait_prompts, Lang,
};

/// Writes prompt names compactly: `num-` is dropped, so `["1","hundred","0","5"]`.
fn short(lang: Lang, n: u32) -> String {
    number_prompts(lang, n)
        .iter()
        .map(|p| p.strip_prefix("num-").unwrap_or(p).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn chinese_numbers() {
    let table: &[(u32, &str)] = &[
        (0, "0"),
        (7, "7"),
        (10, "10"),
        (12, "10 2"),
        (20, "2 10"),
        (21, "2 10 1"),
        (99, "9 10 9"),
        (100, "1 hundred"),
        (101, "1 hundred 0 1"),
        (110, "1 hundred 1 10"),
        (999, "9 hundred 9 10 9"),
        (1000, "1 thousand"),
        (1005, "1 thousand 0 5"),
        (1010, "1 thousand 0 1 10"),
        (10000, "1 ten-thousand"),
        (10005, "1 ten-thousand 0 5"),
        (12345, "1 ten-thousand 2 thousand 3 hundred 4 10 5"),
        (100000, "10 ten-thousand"),
        (100500, "10 ten-thousand 0 5 hundred"),
        (120000, "10 2 ten-thousand"),
        (100000005, "1 hundred-million 0 5"),
    ];
    for (n, want) in table {
        assert_eq!(short(Lang::Zh, *n), *want, "zh {n}");
    }
}

#[test]
fn english_numbers() {
    let table: &[(u32, &str)] = &[
        (0, "0"),
        (7, "7"),
        (10, "10"),
        (12, "12"),
        (20, "20"),
        (21, "20 1"),
        (99, "90 9"),
        (100, "1 hundred"),
        (101, "1 hundred 1"),
        (110, "1 hundred 10"),
        (999, "9 hundred 90 9"),
        (1000, "1 thousand"),
        (1005, "1 thousand 5"),
        (10000, "10 thousand"),
        (12345, "12 thousand 3 hundred 40 5"),
        (1_000_001, "1 million 1"),
    ];
    for (n, want) in table {
        assert_eq!(short(Lang::En, *n), *want, "en {n}");
    }
}

#[test]
fn huge_numbers_do_not_panic() {
    for lang in [Lang::Zh, Lang::En] {
        assert!(!number_prompts(lang, u32::MAX).is_empty());
    }
    assert_eq!(
        short(Lang::Zh, u32::MAX),
        "4 10 2 hundred-million 9 thousand 4 hundred 9 10 6 ten-thousand 7 thousand 2 hundred 9 10 5"
    );
}

#[test]
fn position_and_wait_sentences() {
    assert_eq!(
        position_prompts(Lang::Zh, 12),
        [
            "queue-position-before",
            "num-10",
            "num-2",
            "queue-position-after"
        ]
    );
    assert_eq!(
        position_prompts(Lang::En, 3),
        ["queue-position-before", "num-3", "queue-position-after"]
    );
    assert_eq!(wait_prompts(Lang::Zh, 0), ["wait-less-than-minute"]);
    assert_eq!(
        wait_prompts(Lang::En, 1),
        ["wait-before", "num-1", "wait-minute"]
    );
    assert_eq!(
        wait_prompts(Lang::En, 21),
        ["wait-before", "num-20", "num-1", "wait-minutes"]
    );
}

#[test]
fn estimated_wait_formula() {
    // 3 callers × 120 s / 2 agents = 180 s = 3 min.
    assert_eq!(
        estimated_wait(3, &[100.0, 140.0], 2),
        Duration::from_secs(180)
    );
    // 1 × 100 / 1 = 100 s → rounded up to 2 min.
    assert_eq!(estimated_wait(1, &[100.0], 1), Duration::from_secs(120));
    // Zero agents counts as one; bad samples are ignored.
    assert_eq!(
        estimated_wait(2, &[60.0, f64::NAN, -5.0, f64::INFINITY], 0),
        Duration::from_secs(120)
    );
    // No samples: default handle time (180 s).
    assert_eq!(estimated_wait(1, &[], 3), Duration::from_secs(60));
    assert_eq!(estimated_wait(0, &[300.0], 1), Duration::ZERO);
    // Capped.
    assert_eq!(
        estimated_wait(u32::MAX, &[1e12], 1),
        Duration::from_secs(24 * 3600)
    );
    assert_eq!(wait_minutes(Duration::from_secs(180)), 3);
    assert_eq!(wait_minutes(Duration::from_secs(181)), 4);
    assert_eq!(wait_minutes(Duration::ZERO), 0);
}

#[test]
fn lang_parse() {
    assert_eq!("zh".parse::<Lang>(), Ok(Lang::Zh));
    assert_eq!("EN".parse::<Lang>(), Ok(Lang::En));
    assert!("fr".parse::<Lang>().unwrap_err().contains("fr"));
}
