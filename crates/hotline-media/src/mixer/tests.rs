use super::*;

const W: usize = FRAME_SAMPLES_16K;

fn p(n: u64) -> ParticipantId {
    ParticipantId(n)
}

fn room_with(n: u64) -> Room {
    let mut room = Room::new(MAX_PARTICIPANTS).unwrap();
    for i in 1..=n {
        room.add(p(i)).unwrap();
    }
    room
}

fn put_const(room: &mut Room, id: u64, v: i16) {
    room.put_frame(p(id), &[v; W]).unwrap();
}

fn heard(room: &mut Room, id: u64) -> [i16; W] {
    let mut out = [0i16; W];
    room.mix_into(p(id), &mut out).unwrap();
    out
}

/// Every sample of what `id` hears equals `v`.
fn assert_hears(room: &mut Room, id: u64, v: i16) {
    let out = heard(room, id);
    assert!(
        out.iter().all(|&s| s == v),
        "{id} hears {:?}, want {v}",
        &out[..4]
    );
}

#[test]
fn three_participants_hear_the_other_two() {
    let mut room = room_with(3);
    put_const(&mut room, 1, 100);
    put_const(&mut room, 2, 20);
    put_const(&mut room, 3, 3);
    assert_hears(&mut room, 1, 23);
    assert_hears(&mut room, 2, 103);
    assert_hears(&mut room, 3, 120);
}

#[test]
fn self_is_never_heard() {
    let mut room = room_with(1);
    put_const(&mut room, 1, 1000);
    assert_hears(&mut room, 1, 0);
    room.set_role(p(1), Role::Listen).unwrap();
    assert_hears(&mut room, 1, 0);
}

#[test]
fn muted_participant_is_heard_by_nobody_but_still_hears() {
    let mut room = room_with(3);
    put_const(&mut room, 1, 100);
    put_const(&mut room, 2, 20);
    put_const(&mut room, 3, 3);
    room.set_muted(p(1), true).unwrap();
    assert!(room.is_muted(p(1)).unwrap());
    assert_hears(&mut room, 1, 23);
    assert_hears(&mut room, 2, 3);
    assert_hears(&mut room, 3, 20);
    room.set_muted(p(1), false).unwrap();
    assert_hears(&mut room, 2, 103);
}

#[test]
fn listen_only_supervisor_hears_both_and_is_heard_by_none() {
    // 1 = customer, 2 = agent, 3 = supervisor.
    let mut room = room_with(3);
    room.set_role(p(3), Role::Listen).unwrap();
    put_const(&mut room, 1, 100);
    put_const(&mut room, 2, 20);
    put_const(&mut room, 3, 3);
    assert_hears(&mut room, 3, 120);
    assert_hears(&mut room, 1, 20);
    assert_hears(&mut room, 2, 100);
}

#[test]
fn whisper_is_heard_by_exactly_the_agent() {
    let mut room = room_with(4);
    room.set_role(p(3), Role::Whisper(p(2))).unwrap();
    put_const(&mut room, 1, 100);
    put_const(&mut room, 2, 20);
    put_const(&mut room, 3, 3);
    put_const(&mut room, 4, 1000);
    assert_hears(&mut room, 2, 1103);
    assert_hears(&mut room, 1, 1020);
    assert_hears(&mut room, 4, 120);
    assert_hears(&mut room, 3, 1120);
    // A muted whisperer is silent even for the agent.
    room.set_muted(p(3), true).unwrap();
    assert_hears(&mut room, 2, 1100);
}

#[test]
fn barge_is_heard_by_everyone() {
    let mut room = room_with(3);
    room.set_role(p(3), Role::Listen).unwrap();
    room.set_role(p(3), Role::Normal).unwrap();
    assert_eq!(room.role(p(3)).unwrap(), Role::Normal);
    put_const(&mut room, 1, 100);
    put_const(&mut room, 2, 20);
    put_const(&mut room, 3, 3);
    assert_hears(&mut room, 1, 23);
    assert_hears(&mut room, 2, 103);
}

#[test]
fn whisper_to_self_is_rejected() {
    let mut room = room_with(1);
    assert_eq!(
        room.set_role(p(1), Role::Whisper(p(1))),
        Err(MixerError::WhisperToSelf(p(1)))
    );
}

#[test]
fn sum_saturates_at_i16_limits() {
    let mut room = room_with(4);
    for id in 1..=3 {
        put_const(&mut room, id, 20_000);
    }
    assert_hears(&mut room, 4, i16::MAX);
    for id in 1..=3 {
        put_const(&mut room, id, i16::MIN);
    }
    assert_hears(&mut room, 4, i16::MIN);
    // Saturation happens after the subtraction of one's own voice, not before.
    assert_hears(&mut room, 1, i16::MIN);
    put_const(&mut room, 1, i16::MAX);
    put_const(&mut room, 2, i16::MIN);
    put_const(&mut room, 3, 0);
    assert_hears(&mut room, 4, -1);
}

#[test]
fn participant_without_frame_contributes_silence() {
    let mut room = room_with(3);
    put_const(&mut room, 1, 100);
    put_const(&mut room, 2, 20);
    put_const(&mut room, 3, 3);
    room.end_tick();
    put_const(&mut room, 1, 100);
    put_const(&mut room, 2, 20);
    assert_hears(&mut room, 1, 20);
    assert_hears(&mut room, 3, 120);
    room.end_tick();
    assert_hears(&mut room, 3, 0);
}

#[test]
fn capacity_is_enforced() {
    assert!(matches!(Room::new(0), Err(MixerError::BadCapacity { .. })));
    assert!(matches!(
        Room::new(MAX_PARTICIPANTS + 1),
        Err(MixerError::BadCapacity { .. })
    ));
    let mut room = Room::new(2).unwrap();
    room.add(p(1)).unwrap();
    assert_eq!(room.add(p(1)), Err(MixerError::Duplicate(p(1))));
    room.add(p(2)).unwrap();
    assert_eq!(room.add(p(3)), Err(MixerError::RoomFull { capacity: 2 }));
    assert_eq!(room.len(), 2);
}

#[test]
fn unknown_participant_and_bad_lengths_are_errors() {
    let mut room = room_with(1);
    let mut out = [0i16; W];
    assert_eq!(
        room.mix_into(p(9), &mut out),
        Err(MixerError::Unknown(p(9)))
    );
    assert_eq!(
        room.put_frame(p(9), &[0; W]),
        Err(MixerError::Unknown(p(9)))
    );
    assert_eq!(room.set_muted(p(9), true), Err(MixerError::Unknown(p(9))));
    assert_eq!(room.remove(p(9)), Err(MixerError::Unknown(p(9))));
    assert_eq!(
        room.put_frame(p(1), &[0; 100]),
        Err(MixerError::BadFrameLength(100))
    );
    assert_eq!(
        room.put_frame(p(1), &[]),
        Err(MixerError::BadFrameLength(0))
    );
    assert_eq!(
        room.mix_into(p(1), &mut out[..7]),
        Err(MixerError::BadFrameLength(7))
    );
}

#[test]
fn remove_then_re_add() {
    let mut room = Room::new(2).unwrap();
    room.add(p(1)).unwrap();
    room.add(p(2)).unwrap();
    room.set_muted(p(2), true).unwrap();
    room.set_role(p(2), Role::Listen).unwrap();
    put_const(&mut room, 2, 50);
    room.remove(p(2)).unwrap();
    assert!(!room.contains(p(2)));
    assert_hears(&mut room, 1, 0);
    room.add(p(3)).unwrap();
    room.add(p(2)).unwrap_err();
    room.remove(p(3)).unwrap();
    room.add(p(2)).unwrap();
    // Re-added with fresh state: unmuted, normal, no stale frame.
    assert!(!room.is_muted(p(2)).unwrap());
    assert_eq!(room.role(p(2)).unwrap(), Role::Normal);
    assert_hears(&mut room, 1, 0);
    put_const(&mut room, 2, 50);
    assert_hears(&mut room, 1, 50);
    assert_eq!(room.participants().count(), 2);
}

#[test]
fn ten_participants() {
    let mut room = room_with(10);
    for id in 1..=10u64 {
        put_const(&mut room, id, id as i16 * 10);
    }
    let total: i16 = (1..=10).map(|i| i * 10).sum();
    for id in 1..=10u64 {
        assert_hears(&mut room, id, total - id as i16 * 10);
    }
}

#[test]
fn narrowband_legs_mix_with_wideband_legs() {
    let mut room = room_with(3);
    for _ in 0..2 {
        room.put_frame(p(1), &[100; FRAME_SAMPLES_8K]).unwrap();
        put_const(&mut room, 2, 20);
        room.put_frame(p(3), &[3; FRAME_SAMPLES_8K]).unwrap();
        let mut narrow = [0i16; FRAME_SAMPLES_8K];
        room.mix_into(p(1), &mut narrow).unwrap();
        let wide = heard(&mut room, 2);
        // After the first (ramp-in) tick the resamplers are in steady state: exact DC.
        assert!(narrow[1..].iter().all(|&s| s == 23), "{:?}", &narrow[..4]);
        assert!(wide[1..].iter().all(|&s| s == 103), "{:?}", &wide[..4]);
        room.end_tick();
    }
}

#[test]
fn resamplers_preserve_dc() {
    let mut up = Upsampler::new();
    let mut down = Downsampler::new();
    for v in [0i16, 1, -1, 1234, -4321, i16::MAX, i16::MIN] {
        let mut wide = [0i16; W];
        let mut narrow = [0i16; FRAME_SAMPLES_8K];
        // Two frames to flush the history from the previous value.
        for _ in 0..2 {
            up.process(&[v; FRAME_SAMPLES_8K], &mut wide);
            down.process(&wide, &mut narrow);
        }
        assert!(wide.iter().all(|&s| s == v), "up {v}");
        assert!(narrow.iter().all(|&s| s == v), "down {v}");
    }
}

#[test]
fn sine_survives_round_trip() {
    // 1 kHz at 8 kHz: period of 8 samples. The round trip delays by one 8 kHz sample and attenuates
    // by (6 + 2 cos(pi/4)) / 8 ≈ 0.927, so allow 10 % of the amplitude.
    let amp = 10_000.0f64;
    let x: Vec<i16> = (0..FRAME_SAMPLES_8K * 4)
        .map(|n| (amp * (2.0 * std::f64::consts::PI * n as f64 / 8.0).sin()).round() as i16)
        .collect();
    let mut up = Upsampler::new();
    let mut down = Downsampler::new();
    let mut y = Vec::new();
    for chunk in x.chunks_exact(FRAME_SAMPLES_8K) {
        let mut wide = [0i16; W];
        let mut narrow = [0i16; FRAME_SAMPLES_8K];
        up.process(chunk.try_into().unwrap(), &mut wide);
        down.process(&wide, &mut narrow);
        y.extend_from_slice(&narrow);
    }
    let mut err2 = 0.0;
    let mut sig2 = 0.0;
    for n in FRAME_SAMPLES_8K..x.len() {
        let e = f64::from(y[n]) - f64::from(x[n - 1]);
        assert!(e.abs() < 0.1 * amp, "sample {n}: {} vs {}", y[n], x[n - 1]);
        err2 += e * e;
        sig2 += f64::from(x[n - 1]).powi(2);
    }
    assert!((err2 / sig2).sqrt() < 0.1);
}

use crate::test_rng::XorShift;

#[test]
fn matches_naive_reference_on_random_rooms() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _round in 0..40 {
        let n = 1 + rng.below(MAX_PARTICIPANTS as u64) as usize;
        let mut room = Room::new(MAX_PARTICIPANTS).unwrap();
        let ids: Vec<ParticipantId> = (0..n).map(|i| p(1000 + i as u64)).collect();
        for &id in &ids {
            room.add(id).unwrap();
        }
        for _tick in 0..3 {
            // Random roles, mutes and missing frames.
            let mut frames: Vec<Option<[i16; W]>> = Vec::new();
            for &id in &ids {
                let role = match rng.below(6) {
                    0 => Role::Listen,
                    1 => {
                        let t = ids[rng.below(n as u64) as usize];
                        if t == id {
                            Role::Normal
                        } else {
                            Role::Whisper(t)
                        }
                    }
                    _ => Role::Normal,
                };
                room.set_role(id, role).unwrap();
                room.set_muted(id, rng.below(5) == 0).unwrap();
                let frame = if rng.below(6) == 0 {
                    None
                } else {
                    let mut f = [0i16; W];
                    // Loud enough that saturation happens sometimes.
                    f.iter_mut().for_each(|s| *s = rng.next() as i16 / 4);
                    room.put_frame(id, &f).unwrap();
                    Some(f)
                };
                frames.push(frame);
            }
            for (li, &listener) in ids.iter().enumerate() {
                let mut want = [0i32; W];
                for (si, &speaker) in ids.iter().enumerate() {
                    let Some(f) = &frames[si] else { continue };
                    let audible = si != li
                        && !room.is_muted(speaker).unwrap()
                        && match room.role(speaker).unwrap() {
                            Role::Normal => true,
                            Role::Listen => false,
                            Role::Whisper(t) => t == listener,
                        };
                    if audible {
                        want.iter_mut()
                            .zip(f)
                            .for_each(|(a, &s)| *a += i32::from(s));
                    }
                }
                let got = {
                    let mut out = [0i16; W];
                    room.mix_into(listener, &mut out).unwrap();
                    out
                };
                for k in 0..W {
                    let w = want[k].clamp(i16::MIN.into(), i16::MAX.into()) as i16;
                    assert_eq!(got[k], w, "listener {li} sample {k}");
                }
            }
            room.end_tick();
        }
    }
}
