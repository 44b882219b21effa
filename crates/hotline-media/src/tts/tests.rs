use super::*;

fn tone(freq: f64, rate: u32, secs: f64, amp: f64) -> Vec<i16> {
    let n = (f64::from(rate) * secs) as usize;
    (0..n)
        .map(|i| {
            (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()) as i16
        })
        .collect()
}

fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

/// Goertzel power of `freq` in `s` (8 kHz), normalised to an RMS amplitude.
fn level_at(s: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in s {
        let s0 = f64::from(x) + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    (2.0 * power.max(0.0)).sqrt() / s.len() as f64
}

/// The middle of a signal, away from the filter's edge effects.
fn middle(s: &[i16]) -> &[i16] {
    &s[s.len() / 8..s.len() * 7 / 8]
}

#[test]
fn one_khz_keeps_frequency_and_level() {
    for rate in [11_025, 16_000, 22_050, 44_100, 48_000] {
        let input = tone(1000.0, rate, 1.0, 10_000.0);
        let out = resample_to_8k(&input, rate);
        let m = middle(&out);
        let level = rms(m);
        let expected = 10_000.0 / std::f64::consts::SQRT_2;
        assert!(
            (level / expected - 1.0).abs() < 0.01,
            "{rate} Hz: rms {level}, expected {expected}"
        );
        // The energy is at 1 kHz, not elsewhere.
        assert!(level_at(m, 1000.0) / level > 0.99, "{rate} Hz");
        // Zero crossings: 2 per cycle → 1000 Hz.
        let crossings = m.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        let freq = crossings as f64 / 2.0 / (m.len() as f64 / 8000.0);
        assert!((freq - 1000.0).abs() < 5.0, "{rate} Hz: {freq}");
    }
}

#[test]
fn telephone_band_is_flat() {
    for f in [300.0, 2000.0, 3300.0] {
        let out = resample_to_8k(&tone(f, 22_050, 0.5, 10_000.0), 22_050);
        let ratio = rms(middle(&out)) / (10_000.0 / std::f64::consts::SQRT_2);
        assert!((ratio - 1.0).abs() < 0.01, "{f} Hz: {ratio}");
    }
}

#[test]
fn six_khz_is_suppressed() {
    for rate in [16_000, 22_050, 44_100, 48_000] {
        // Unfiltered decimation would fold 6 kHz onto 2 kHz at full level.
        let out = resample_to_8k(&tone(6000.0, rate, 1.0, 20_000.0), rate);
        let level = rms(middle(&out));
        let db = 20.0 * (level / (20_000.0 / std::f64::consts::SQRT_2)).log10();
        assert!(db < -70.0, "{rate} Hz: 6 kHz only {db:.1} dB down");
    }
    // Just above the output Nyquist frequency, too.
    let out = resample_to_8k(&tone(4200.0, 22_050, 1.0, 20_000.0), 22_050);
    assert!(rms(middle(&out)) < 20_000.0 * 1e-3);
}

#[test]
fn length_ratio() {
    assert_eq!(resample_to_8k(&vec![0; 22_050], 22_050).len(), 8000);
    assert_eq!(resample_to_8k(&vec![0; 48_000], 48_000).len(), 8000);
    assert_eq!(resample_to_8k(&vec![0; 44_100 * 3], 44_100).len(), 24_000);
    assert_eq!(resample_to_8k(&vec![0; 1000], 16_000).len(), 500);
    assert_eq!(resample_to_8k(&vec![7; 1000], 8000), vec![7; 1000]);
}

#[test]
fn resample_degenerate_inputs() {
    assert!(resample_to_8k(&[], 22_050).is_empty());
    assert!(resample_to_8k(&[1, 2, 3], 0).is_empty());
    assert!(resample_to_8k(&[1, 2, 3], 7999).is_empty());
    assert!(resample_to_8k(&[1, 2, 3], u32::MAX).is_empty());
    assert!(resample_to_8k(&[1, 2], 22_050).is_empty()); // shorter than one output sample
    assert_eq!(resample_to_8k(&[i16::MAX; 3], 22_050).len(), 1);
    // Full-scale square waves overshoot (Gibbs) but must clamp, not wrap.
    let square: Vec<i16> = (0..4410)
        .map(|i| if i / 10 % 2 == 0 { i16::MAX } else { i16::MIN })
        .collect();
    let out = resample_to_8k(&square, 44_100);
    assert_eq!(out.len(), 800);
    assert!(resample_to_8k(&square, 192_000).len() == 183);
}

fn wav_header(rate: u32, channels: u16, riff_size: u32, data_size: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&riff_size.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes());
    h.extend_from_slice(&(2 * channels).to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_size.to_le_bytes());
    h
}

fn with_samples(mut h: Vec<u8>, s: &[i16]) -> Vec<u8> {
    for x in s {
        h.extend_from_slice(&x.to_le_bytes());
    }
    h
}

#[test]
fn reads_espeak_stream_header() {
    // Exactly what espeak-ng --stdout writes: sizes 0x7FFFF024 / 0x7FFFF000, 22050 Hz.
    let b = with_samples(wav_header(22_050, 1, 0x7FFF_F024, 0x7FFF_F000), &[1, -2, 3]);
    assert_eq!(read_any_wav(&b).unwrap(), (vec![1, -2, 3], 22_050));
    // Other "unknown" sizes, and an odd trailing byte.
    for size in [0x7FFF_FFFF, u32::MAX] {
        let mut b = with_samples(wav_header(16_000, 1, size, size), &[5, 6]);
        b.push(0xAB);
        assert_eq!(read_any_wav(&b).unwrap(), (vec![5, 6], 16_000));
    }
    // A correct size stops at the chunk end (trailing chunk ignored).
    let mut b = with_samples(wav_header(8000, 1, 0, 4), &[9, 10]);
    b.extend_from_slice(b"LIST\x02\0\0\0ab");
    assert_eq!(read_any_wav(&b).unwrap(), (vec![9, 10], 8000));
    // No samples at all.
    assert_eq!(
        read_any_wav(&wav_header(22_050, 1, u32::MAX, u32::MAX)).unwrap(),
        (vec![], 22_050)
    );
}

#[test]
fn downmixes_stereo() {
    let b = with_samples(
        wav_header(44_100, 2, u32::MAX, u32::MAX),
        &[100, 300, -10, -30],
    );
    assert_eq!(read_any_wav(&b).unwrap(), (vec![200, -20], 44_100));
}

#[test]
fn rejects_non_pcm16() {
    let mut b = with_samples(wav_header(22_050, 1, 100, 4), &[1, 2]);
    b[34..36].copy_from_slice(&8u16.to_le_bytes());
    assert!(matches!(read_any_wav(&b), Err(TtsError::BadOutput(m)) if m.contains("8 bits")));
    let mut b = with_samples(wav_header(22_050, 1, 100, 4), &[1, 2]);
    b[20..22].copy_from_slice(&3u16.to_le_bytes()); // IEEE float
    assert!(read_any_wav(&b).is_err());
    let mut b = with_samples(wav_header(22_050, 1, 100, 4), &[1, 2]);
    b[22..24].copy_from_slice(&0u16.to_le_bytes());
    assert!(read_any_wav(&b).is_err());
    assert!(read_any_wav(b"").is_err());
    assert!(read_any_wav(b"RIFF\0\0\0\0WAVE").is_err());
    assert!(read_any_wav(b"Error: voice does not exist").is_err());
}

#[test]
fn wav_reader_never_panics_on_truncation() {
    let b = with_samples(wav_header(22_050, 1, u32::MAX, u32::MAX), &[1, 2, 3, 4]);
    for n in 0..b.len() {
        let _ = read_any_wav(&b[..n]);
    }
    // Garbage chunk sizes.
    let mut b = b"RIFF\xff\xff\xff\xffWAVEabcd\xff\xff\xff\xff".to_vec();
    b.extend_from_slice(&[0; 20]);
    assert!(read_any_wav(&b).is_err());
}

#[test]
fn chinese_numerals() {
    let cases = [
        (0, "零"),
        (1, "一"),
        (7, "七"),
        (10, "十"),
        (11, "十一"),
        (19, "十九"),
        (20, "二十"),
        (82, "八十二"),
        (100, "一百"),
        (101, "一百零一"),
        (105, "一百零五"),
        (110, "一百一十"),
        (115, "一百一十五"),
        (120, "一百二十"),
        (1000, "一千"),
        (1001, "一千零一"),
        (1010, "一千零一十"),
        (1100, "一千一百"),
        (2024, "二千零二十四"),
        (10_000, "一万"),
        (10_001, "一万零一"),
        (10_010, "一万零一十"),
        (10_500, "一万零五百"),
        (15_000, "一万五千"),
        (100_000, "十万"),
        (105_000, "十万五千"),
        (110_000, "十一万"),
        (1_000_000, "一百万"),
        (65_535, "六万五千五百三十五"),
        (100_000_000, "一亿"),
        (100_000_001, "一亿零一"),
        (100_010_000, "一亿零一万"),
        (1_000_000_000, "十亿"),
        (u32::MAX, "四十二亿九千四百九十六万七千二百九十五"),
    ];
    for (n, want) in cases {
        assert_eq!(chinese_number(n), want, "{n}");
    }
}

fn elder() -> AnnouncementFields<'static> {
    AnnouncementFields {
        name: "张桂兰",
        age: Some(82),
        address: "深圳市福田区华强北街道华强北路1002号3栋502室",
        medical_notes: "冠心病，高血压",
        device_number: "13800138000",
    }
}

#[test]
fn chinese_announcement() {
    assert_eq!(
        announcement_text("zh", &elder()),
        "一键呼叫紧急求助。老人姓名：张桂兰，八十二岁。\
         住址：深圳市福田区华强北街道华强北路幺零零二号三栋五零二室。\
         病史：冠心病，高血压。设备号码：幺三八，零零幺三，八零零零。"
    );
    assert_eq!(
        announcement_text("zh-CN", &elder()),
        announcement_text("zh", &elder())
    );
}

#[test]
fn english_announcement() {
    let d = AnnouncementFields {
        name: "Zhang Guilan",
        address: "Room 502, Building 3, 1002 Huaqiangbei Road, Futian, Shenzhen",
        medical_notes: "heart disease; high blood pressure (on aspirin)",
        ..elder()
    };
    assert_eq!(
        announcement_text("en", &d),
        "S O S emergency call from an elderly person. Name: Zhang Guilan, 82 years old. \
         Address: Room 502, Building 3, 1002 Huaqiangbei Road, Futian, Shenzhen. \
         Medical history: heart disease; high blood pressure on aspirin. \
         Device number: 1 3 8, 0 0 1 3, 8 0 0 0."
    );
}

#[test]
fn empty_fields_are_left_out() {
    let d = AnnouncementFields {
        name: "",
        age: None,
        address: "",
        medical_notes: "  ",
        device_number: "",
    };
    assert_eq!(announcement_text("zh", &d), "一键呼叫紧急求助。");
    assert_eq!(
        announcement_text("en", &d),
        "S O S emergency call from an elderly person."
    );
    let d = AnnouncementFields {
        age: Some(90),
        device_number: "075583456789",
        ..d
    };
    assert_eq!(
        announcement_text("zh", &d),
        "一键呼叫紧急求助。老人九十岁。设备号码：零七五五，八三四五，六七八九。"
    );
    assert_eq!(
        announcement_text("en", &d),
        "S O S emergency call from an elderly person. Age: 90. Device number: 0 7 5 5, 8 3 4 5, 6 7 8 9."
    );
    // Unknown languages fall back to Chinese.
    assert_eq!(announcement_text("fr", &d), announcement_text("zh", &d));
}

#[test]
fn odd_characters_are_stripped() {
    let d = AnnouncementFields {
        name: "（王）秀英\u{7}😀",
        age: Some(75),
        address: "【朝阳区】 \"光华路\" ＃８号\t\n<b>",
        medical_notes: "糖尿病*** [胰岛素]",
        device_number: "+86 １３８-0013-8000",
    };
    assert_eq!(
        announcement_text("zh", &d),
        "一键呼叫紧急求助。老人姓名：王 秀英，七十五岁。住址：朝阳区 光华路 八号 b。\
         病史：糖尿病 胰岛素。设备号码：八六幺三，八零零幺，三八零零，零。"
    );
    let d = AnnouncementFields {
        name: "O'Brien (Pat)",
        ..d
    };
    assert!(announcement_text("en", &d).contains("Name: O'Brien Pat, 75 years old."));
}

#[test]
fn medical_notes_are_truncated() {
    let notes = "冠心病，高血压，糖尿病，".repeat(10);
    let d = AnnouncementFields {
        medical_notes: &notes,
        ..elder()
    };
    let text = announcement_text("zh", &d);
    let spoken = text
        .split("病史：")
        .nth(1)
        .and_then(|s| s.split('。').next())
        .unwrap();
    assert!(spoken.chars().count() <= 60, "{spoken}");
    assert!(spoken.chars().count() >= 30, "{spoken}");
    assert!(spoken.ends_with("病"), "cut at a pause: {spoken}");
    // A cut never splits a number.
    let long = format!("{}12345678", "a".repeat(55));
    assert_eq!(clean_field(&long, 60), "a".repeat(55));
    let s = clean_field(&"很长".repeat(100), 60);
    assert_eq!(s.chars().count(), 60);
}

#[test]
fn digit_runs_in_chinese() {
    assert_eq!(zh_numbers("3栋12楼"), "三栋十二楼");
    assert_eq!(zh_numbers("1002号502室"), "幺零零二号五零二室");
    assert_eq!(zh_numbers("无数字"), "无数字");
    assert_eq!(zh_numbers("07"), "七");
    assert_eq!(en_numbers("No. 12, 1380013"), "No. 12, 1 3 8 0 0 1 3");
}

#[test]
fn random_input_never_panics() {
    // Seeded, so a failure reproduces.
    let mut rng = crate::test_rng::XorShift(0x5eed_7715);
    let alphabet: Vec<char> = "张桂兰1２３0' ，。,.:;()（）【】\u{0}\n\t-#😀𠀀aZ٣"
        .chars()
        .collect();
    for _ in 0..2000 {
        let mut field = || -> String {
            (0..rng.below(90))
                .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                .collect()
        };
        let (name, address, notes, number) = (field(), field(), field(), field());
        let d = AnnouncementFields {
            name: &name,
            age: Some(u16::MAX),
            address: &address,
            medical_notes: &notes,
            device_number: &number,
        };
        for lang in ["zh", "en"] {
            let text = announcement_text(lang, &d);
            assert!(
                !text
                    .chars()
                    .any(|c| c.is_control() || "()（）【】#😀".contains(c)),
                "{text}"
            );
            let _ = announcement_file_name(&number, &text);
        }
    }
    let wav = wav_header(22_050, 2, u32::MAX, u32::MAX);
    for _ in 0..2000 {
        let mut b = wav.clone();
        for _ in 0..=rng.below(4) {
            let i = rng.below(b.len() as u64) as usize;
            b[i] = rng.next() as u8;
        }
        b.truncate(rng.below(b.len() as u64 + 8) as usize);
        b.extend((0..rng.below(9)).map(|_| rng.next() as u8));
        if let Ok((s, rate)) = read_any_wav(&b) {
            let _ = resample_to_8k(&s, rate);
        }
    }
}

#[test]
fn file_names() {
    let a = announcement_file_name("138-0013-8000", "一");
    assert!(a.starts_with("13800138000-"), "{a}");
    assert!(a.ends_with(".wav"));
    assert_eq!(a.len(), "13800138000-".len() + 16 + 4);
    // sha256("一") = b1ad…; the name uses its first 8 bytes.
    let hex = &a["13800138000-".len()..a.len() - 4];
    assert!(hex
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_uppercase()));
    assert_ne!(a, announcement_file_name("13800138000", "二"));
    assert_eq!(a, announcement_file_name("13800138000", "一"));
    assert!(announcement_file_name("", "x").starts_with("unknown-"));
    assert!(announcement_file_name("../../etc", "x").starts_with("unknown-"));
    assert_eq!(
        announcement_file_name("1", ""),
        "1-e3b0c44298fc1c14.wav",
        "sha256 of the empty string"
    );
}

#[test]
fn normalises_and_pads() {
    let out = normalise_and_pad(&[0, 1000, -2000, 500]).unwrap();
    assert_eq!(out.len(), 4 + 2 * PAD_SAMPLES);
    assert!(out[..PAD_SAMPLES].iter().all(|&s| s == 0));
    assert!(out[PAD_SAMPLES + 4..].iter().all(|&s| s == 0));
    assert_eq!(out[PAD_SAMPLES + 2], -23_197);
    assert_eq!(out[PAD_SAMPLES + 1], 11_599);
    assert_eq!(normalise_and_pad(&[0, 0]), None);
    assert_eq!(normalise_and_pad(&[]), None);
    assert_eq!(
        normalise_and_pad(&[i16::MIN]).unwrap()[PAD_SAMPLES],
        -23_197
    );
}

#[test]
fn atomic_write_creates_dirs_and_leaves_no_temp() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a/b/x.wav");
    write_atomically(&p, b"one").unwrap();
    write_atomically(&p, b"two").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"two");
    let names: Vec<_> = std::fs::read_dir(d.path().join("a/b"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("x.wav")]);
    // A directory in the way: an I/O error naming the path.
    let e = write_atomically(d.path(), b"x").unwrap_err();
    assert!(matches!(e, TtsError::Io { .. }), "{e}");
}

#[test]
fn rejects_bad_requests_before_running_anything() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("x.wav");
    assert!(matches!(
        synthesize("hello", "fr", &p),
        Err(TtsError::UnsupportedLanguage(l)) if l == "fr"
    ));
    assert!(matches!(
        synthesize(" \n\u{0} ", "en", &p),
        Err(TtsError::EmptyText)
    ));
    assert!(!p.exists());
}

#[test]
fn missing_program_is_not_installed() {
    let e = run_with_timeout(
        Command::new("hotline-no-such-program-xyz"),
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(matches!(e, TtsError::NotInstalled));
    assert!(e.to_string().contains("install-deps.sh"));
}

#[cfg(unix)]
#[test]
fn hanging_program_is_killed() {
    let mut cmd = Command::new("sleep");
    cmd.arg("30");
    let start = Instant::now();
    let e = run_with_timeout(cmd, Duration::from_millis(200)).unwrap_err();
    assert!(matches!(e, TtsError::Timeout(_)), "{e}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[cfg(unix)]
#[test]
fn failure_reports_status_and_first_stderr_line() {
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "echo; echo 'Error: no such voice' >&2; echo more >&2; exit 3",
    ]);
    let e = run_with_timeout(cmd, Duration::from_secs(5)).unwrap_err();
    match &e {
        TtsError::Failed { status, stderr } => {
            assert_eq!(status.code(), Some(3));
            assert_eq!(stderr, "Error: no such voice");
        }
        other => panic!("{other}"),
    }
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "printf 'RIFF'; exit 1"]);
    let e = run_with_timeout(cmd, Duration::from_secs(5)).unwrap_err();
    assert!(e.to_string().contains("no error message"), "{e}");
}

#[cfg(unix)]
#[test]
fn large_output_does_not_deadlock() {
    // More than a pipe buffer on both streams while we wait.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2",
    ]);
    let out = run_with_timeout(cmd, Duration::from_secs(10)).unwrap();
    assert_eq!(out.len(), 1_000_000);
}
