use super::*;

const FS: u32 = 160;

fn jb(min: u32, max: u32, cap: usize) -> JitterBuffer {
    JitterBuffer::new(JitterConfig {
        min_delay_frames: min,
        max_delay_frames: max,
        capacity_frames: cap,
        frame_samples: FS,
    })
    .unwrap()
}

/// A 160-byte payload carrying the frame number in its first 4 bytes.
fn payload(id: u32) -> [u8; 160] {
    let mut p = [0u8; 160];
    p[..4].copy_from_slice(&id.to_le_bytes());
    p
}

/// Push frame `id` of a stream starting at (seq0, ts0).
fn push_id(b: &mut JitterBuffer, seq0: u16, ts0: u32, id: u32) -> PushOutcome {
    b.push(
        seq0.wrapping_add(id as u16),
        ts0.wrapping_add(id.wrapping_mul(FS)),
        false,
        &payload(id),
    )
}

#[derive(Debug, PartialEq, Eq)]
enum Out {
    F(u32),
    M,
    B,
}

fn pop(b: &mut JitterBuffer) -> Out {
    match b.pop() {
        Playout::Frame(p) => Out::F(u32::from_le_bytes([p[0], p[1], p[2], p[3]])),
        Playout::Missing => Out::M,
        Playout::Buffering => Out::B,
    }
}

use crate::test_rng::XorShift;

#[test]
fn config_is_validated() {
    let ok = JitterConfig {
        min_delay_frames: 2,
        max_delay_frames: 10,
        capacity_frames: 32,
        frame_samples: 160,
    };
    assert!(JitterBuffer::new(ok).is_ok());
    let bad = [
        JitterConfig {
            min_delay_frames: 0,
            ..ok
        },
        JitterConfig {
            min_delay_frames: 11,
            ..ok
        },
        JitterConfig {
            capacity_frames: 10,
            ..ok
        },
        JitterConfig {
            capacity_frames: MAX_CAPACITY_FRAMES + 1,
            ..ok
        },
        JitterConfig {
            frame_samples: 0,
            ..ok
        },
    ];
    for c in bad {
        assert!(JitterBuffer::new(c).is_err(), "{c:?}");
    }
}

#[test]
fn in_order_stream_plays_in_order_after_initial_delay() {
    let mut b = jb(3, 10, 32);
    assert_eq!(pop(&mut b), Out::B);
    let mut out = Vec::new();
    for id in 0..50 {
        assert_eq!(push_id(&mut b, 100, 1000, id), PushOutcome::Stored);
        out.push(pop(&mut b));
    }
    assert_eq!(out[..2], [Out::B, Out::B]);
    let frames: Vec<Out> = (0..48).map(Out::F).collect();
    assert_eq!(out[2..], frames[..]);
    let s = b.stats();
    assert_eq!(
        (
            s.played,
            s.missing,
            s.current_delay_frames,
            s.buffered_frames
        ),
        (48, 0, 3, 2)
    );
}

#[test]
fn reordered_packets_come_out_in_order() {
    let mut b = jb(3, 10, 32);
    // Each pair is swapped on the wire.
    let order: Vec<u32> = (0..40)
        .map(|i| if i % 2 == 0 { i + 1 } else { i - 1 })
        .collect();
    let mut played = Vec::new();
    for id in order {
        assert_eq!(push_id(&mut b, 0, 0, id), PushOutcome::Stored);
        if let Out::F(f) = pop(&mut b) {
            played.push(f);
        }
    }
    assert_eq!(played, (0..played.len() as u32).collect::<Vec<_>>());
    assert!(played.len() >= 36);
    assert_eq!(b.stats().reorders, 20);
    assert_eq!(b.stats().missing, 0);
}

#[test]
fn duplicates_are_dropped() {
    let mut b = jb(2, 10, 32);
    assert_eq!(push_id(&mut b, 7, 7, 0), PushOutcome::Stored);
    assert_eq!(push_id(&mut b, 7, 7, 0), PushOutcome::Duplicate);
    assert_eq!(push_id(&mut b, 7, 7, 1), PushOutcome::Stored);
    assert_eq!(pop(&mut b), Out::F(0));
    // A copy of a frame already played is still a duplicate, not a late packet.
    assert_eq!(push_id(&mut b, 7, 7, 0), PushOutcome::Duplicate);
    assert_eq!(push_id(&mut b, 7, 7, 1), PushOutcome::Duplicate);
    assert_eq!(pop(&mut b), Out::F(1));
    let s = b.stats();
    assert_eq!((s.duplicates, s.late, s.played), (3, 0, 2));
}

#[test]
fn lost_packet_yields_exactly_one_missing_at_its_slot() {
    let mut b = jb(3, 10, 32);
    let mut out = Vec::new();
    for id in 0..30 {
        if id != 10 {
            push_id(&mut b, 0, 0, id);
        }
        out.push(pop(&mut b));
    }
    let want: Vec<Out> = [Out::B, Out::B]
        .into_iter()
        .chain((0..28).map(|i| if i == 10 { Out::M } else { Out::F(i) }))
        .collect();
    assert_eq!(out, want);
    assert_eq!(b.stats().missing, 1);
}

fn plays_seamlessly(seq0: u16, ts0: u32) {
    let mut b = jb(2, 10, 32);
    let mut played = Vec::new();
    for id in 0..100 {
        assert_eq!(push_id(&mut b, seq0, ts0, id), PushOutcome::Stored);
        match pop(&mut b) {
            Out::F(f) => played.push(f),
            Out::M => panic!("missing at {id}"),
            Out::B => assert_eq!(id, 0),
        }
    }
    assert_eq!(played, (0..99).collect::<Vec<_>>());
    let s = b.stats();
    assert_eq!((s.reorders, s.resets, s.late, s.out_of_range), (0, 0, 0, 0));
}

#[test]
fn sequence_wrap_is_seamless() {
    plays_seamlessly(65_500, 0);
}

#[test]
fn timestamp_wrap_is_seamless() {
    plays_seamlessly(0, u32::MAX - 50 * FS + 7);
    plays_seamlessly(65_500, u32::MAX - 50 * FS);
}

#[test]
fn too_late_packet_is_counted_not_played() {
    let mut b = jb(2, 10, 32);
    let mut out = Vec::new();
    for id in 0..10 {
        if id != 5 {
            push_id(&mut b, 0, 0, id);
        }
        out.push(pop(&mut b));
    }
    // Frame 5 was due at tick 6 and played as Missing; it shows up now.
    assert_eq!(out[6], Out::M);
    assert_eq!(push_id(&mut b, 0, 0, 5), PushOutcome::TooLate);
    let mut rest = Vec::new();
    for id in 10..30 {
        push_id(&mut b, 0, 0, id);
        rest.push(pop(&mut b));
    }
    assert!(!rest.contains(&Out::F(5)));
    let s = b.stats();
    assert_eq!(s.late, 1);
    // It arrived 4 frames behind the cursor: the target grew by that much, within bounds.
    assert_eq!(s.current_delay_frames, 6);
    // Every frame except 5 played exactly once and in order.
    let played: Vec<u32> = out
        .iter()
        .chain(&rest)
        .filter_map(|o| if let Out::F(f) = o { Some(*f) } else { None })
        .collect();
    let want: Vec<u32> = (0..played.len() as u32 + 1).filter(|&i| i != 5).collect();
    assert_eq!(played, want);
}

#[test]
fn burst_larger_than_capacity_resyncs_without_panic() {
    let mut b = jb(2, 6, 8);
    for id in 0..5 {
        push_id(&mut b, 0, 0, id);
        pop(&mut b);
    }
    let mut outcomes = Vec::new();
    for id in 5..60 {
        outcomes.push(push_id(&mut b, 0, 0, id));
    }
    assert!(outcomes.contains(&PushOutcome::Reset));
    let mut played = Vec::new();
    for _ in 0..100 {
        if let Out::F(f) = pop(&mut b) {
            played.push(f);
        }
    }
    assert!(!played.is_empty());
    assert!(played.windows(2).all(|w| w[0] < w[1]));
    // After the resync it keeps playing a fresh stream normally.
    let before = b.stats().played;
    for id in 60..100 {
        push_id(&mut b, 0, 0, id);
        pop(&mut b);
    }
    assert!(b.stats().played >= before + 30);
    assert!(b.stats().resets >= 1);
}

#[test]
fn long_silence_then_marked_spurt_resyncs() {
    let mut b = jb(3, 10, 32);
    for id in 0..50 {
        push_id(&mut b, 0, 0, id);
        pop(&mut b);
    }
    // Ten seconds of silence: nothing arrives, the buffer drains and reports Buffering.
    let mut out = Vec::new();
    for _ in 0..500 {
        out.push(pop(&mut b));
    }
    assert_eq!(out[..2], [Out::F(48), Out::F(49)]);
    assert!(out[2..].iter().all(|o| *o == Out::B));
    // New spurt: sequence continues, timestamp jumped by the silence (plus some unaligned offset).
    let ts0 = 50 * FS + 500 * FS + 37;
    let mut out = Vec::new();
    for i in 0..20u32 {
        let r = b.push(50 + i as u16, ts0 + i * FS, i == 0, &payload(1000 + i));
        assert_eq!(r, PushOutcome::Stored);
        out.push(pop(&mut b));
    }
    assert_eq!(out[..2], [Out::B, Out::B]);
    assert_eq!(out[2..], (1000..1018).map(Out::F).collect::<Vec<_>>()[..]);
    assert_eq!(b.stats().missing, 0);

    // A marked jump far outside the window while playing resyncs at once.
    let mut b = jb(2, 10, 32);
    for id in 0..10 {
        push_id(&mut b, 0, 0, id);
        pop(&mut b);
    }
    assert_eq!(
        b.push(9999, 0x8000_0000, true, &payload(777)),
        PushOutcome::Reset
    );
    assert_eq!(
        b.push(10_000, 0x8000_0000 + FS, false, &payload(778)),
        PushOutcome::Stored
    );
    assert_eq!(pop(&mut b), Out::F(777));
    assert_eq!(pop(&mut b), Out::F(778));
    // Without a marker, one stray far packet is ignored and the stream goes on.
    assert_eq!(
        b.push(1, 12345, false, &payload(5)),
        PushOutcome::OutOfRange
    );
    assert_eq!(
        b.push(10_001, 0x8000_0000 + 2 * FS, false, &payload(779)),
        PushOutcome::Stored
    );
    assert_eq!(pop(&mut b), Out::F(779));
}

#[test]
fn target_delay_grows_under_jitter_and_stays_within_bounds() {
    // Every fourth packet is 4 ticks late.
    let mut b = jb(2, 8, 32);
    let mut net = XorShift(0x1234_5678);
    let mut pending: Vec<(u64, u32)> = Vec::new();
    for tick in 0..3000u64 {
        let id = tick as u32;
        let delay = if id % 4 == 3 { 4 } else { 0 };
        pending.push((tick + delay, id));
        pending.retain(|&(at, id)| {
            if at == tick {
                push_id(&mut b, 0, 0, id);
                false
            } else {
                true
            }
        });
        pop(&mut b);
        let d = b.stats().current_delay_frames;
        assert!((2..=8).contains(&d));
    }
    let s = b.stats();
    assert!(s.current_delay_frames > 2, "{s:?}");
    assert!(s.late > 0);
    // Once grown, nothing is late anymore.
    let late = s.late;
    for tick in 3000..4000u64 {
        let id = tick as u32;
        let delay = if id % 4 == 3 { 4 } else { 0 };
        pending.push((tick + delay, id));
        pending.retain(|&(at, id)| {
            if at == tick {
                push_id(&mut b, 0, 0, id);
                false
            } else {
                true
            }
        });
        pop(&mut b);
    }
    assert_eq!(b.stats().late, late);

    // Wild jitter (up to 30 ticks) never pushes the target past max.
    let mut b = jb(2, 8, 64);
    let mut pending: Vec<(u64, u32)> = Vec::new();
    for tick in 0..5000u64 {
        pending.push((tick + net.below(30), tick as u32));
        pending.retain(|&(at, id)| {
            if at == tick {
                push_id(&mut b, 0, 0, id);
                false
            } else {
                true
            }
        });
        pop(&mut b);
        assert!((2..=8).contains(&b.stats().current_delay_frames));
    }
    assert_eq!(b.stats().current_delay_frames, 8);
}

#[test]
fn target_delay_shrinks_slowly_over_gaps_once_steady() {
    let mut b = jb(2, 10, 32);
    let mut id = 0u32;
    // A steady start, then four frames arrive late: the target grows.
    for _ in 0..5 {
        push_id(&mut b, 0, 0, id);
        id += 1;
        pop(&mut b);
    }
    // Frames 5..=8 arrive 4 ticks late (out of order with the rest).
    for _ in 0..4 {
        pop(&mut b);
    }
    for i in 5..9 {
        push_id(&mut b, 0, 0, i);
    }
    id = 9;
    let grown = b.stats().current_delay_frames;
    assert!(grown > 2);
    // Then a steady stream with an occasional loss (a gap to give the delay back over).
    let mut played = Vec::new();
    for _ in 0..20_000 {
        if id % 50 != 49 {
            push_id(&mut b, 0, 0, id);
        }
        id += 1;
        if let Out::F(f) = pop(&mut b) {
            played.push(f);
        }
    }
    assert_eq!(b.stats().current_delay_frames, 2);
    assert!(played.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn random_network_plays_every_timely_frame_once_in_order() {
    for seed in [1u64, 0xDEAD_BEEF, 0x5EED_0003] {
        let mut net = XorShift(seed);
        let mut b = jb(2, 12, 64);
        let seq0 = net.next() as u16;
        let ts0 = net.next() as u32;
        const N: u64 = 10_000;
        // arrivals[tick] = frames arriving during that tick.
        let mut arrivals: Vec<Vec<u32>> = vec![Vec::new(); (N + 100) as usize];
        for id in 0..N {
            if net.below(100) < 3 {
                continue; // lost
            }
            let copies = if net.below(100) < 2 { 2 } else { 1 };
            for _ in 0..copies {
                let jitter = if net.below(10) == 0 {
                    net.below(15)
                } else {
                    net.below(3)
                };
                arrivals[(id + jitter) as usize].push(id as u32);
            }
        }
        let mut stored = vec![0u32; N as usize];
        let mut played = vec![0u32; N as usize];
        let mut last: Option<u32> = None;
        for arriving in &mut arrivals {
            let mut batch = std::mem::take(arriving);
            // Shuffle within the tick.
            for i in (1..batch.len()).rev() {
                batch.swap(i, net.below(i as u64 + 1) as usize);
            }
            for id in batch {
                match push_id(&mut b, seq0, ts0, id) {
                    PushOutcome::Stored => stored[id as usize] += 1,
                    PushOutcome::Duplicate | PushOutcome::TooLate => {}
                    other => panic!("seed {seed}: unexpected {other:?} for {id}"),
                }
            }
            if let Out::F(f) = pop(&mut b) {
                played[f as usize] += 1;
                assert!(
                    last.is_none_or(|l| f > l),
                    "seed {seed}: {f} after {last:?}"
                );
                last = Some(f);
            }
            let d = b.stats().current_delay_frames;
            assert!((2..=12).contains(&d));
        }
        for id in 0..N as usize {
            assert!(stored[id] <= 1, "seed {seed}: {id} stored twice");
            assert_eq!(played[id], stored[id], "seed {seed}: frame {id}");
        }
        let s = b.stats();
        assert_eq!(s.played, stored.iter().map(|&x| x as u64).sum::<u64>());
        assert!(s.played > 9_000, "{s:?}");
        assert!(s.late > 0 && s.duplicates > 0 && s.reorders > 0, "{s:?}");
        assert_eq!(s.buffered_frames, 0);
    }
}

#[test]
fn hostile_input_never_panics() {
    let mut net = XorShift(42);
    let mut b = jb(1, 3, 4);
    let big = [0xAAu8; MAX_PAYLOAD + 10];
    for _ in 0..200_000 {
        let len = net.below(MAX_PAYLOAD as u64 + 5) as usize;
        let seq = net.next() as u16;
        let ts = if net.below(2) == 0 {
            net.next() as u32
        } else {
            (net.below(8) as u32) * 80
        };
        b.push(seq, ts, net.below(7) == 0, &big[..len]);
        if net.below(2) == 0 {
            if let Playout::Frame(p) = b.pop() {
                assert!(p.len() <= MAX_PAYLOAD);
            }
        }
        if net.below(10_000) == 0 {
            b.reset();
        }
    }
    assert!(b.stats().too_large > 0);
}

#[test]
fn one_hour_steady_stream_does_not_drift() {
    let mut b = jb(3, 10, 32);
    const N: u32 = 180_000;
    let mut next_play = 0u32;
    for id in 0..N {
        assert_eq!(push_id(&mut b, 4242, 0xFFFF_0000, id), PushOutcome::Stored);
        match pop(&mut b) {
            Out::F(f) => {
                assert_eq!(f, next_play);
                next_play += 1;
            }
            other => assert!(id < 2, "{other:?} at {id}"),
        }
        if id >= 2 {
            let s = b.stats();
            assert_eq!(
                (s.current_delay_frames, s.buffered_frames),
                (3, 2),
                "at {id}"
            );
        }
    }
    let s = b.stats();
    assert_eq!(s.played, u64::from(N) - 2);
    assert_eq!(
        (s.missing, s.late, s.underruns, s.resets, s.reorders),
        (0, 0, 0, 0, 0)
    );
}
