//! SOS announcements through the real espeak-ng. espeak-ng is a test dependency (scripts/install-deps.sh installs
//! it, CI runs that script): without it these tests fail rather than pass vacuously.

use std::path::Path;
use std::process::Command;

use hotline_media::tts::{
    announcement_file_name, announcement_text, synthesize, AnnouncementFields, TtsError, ZH_VOICE,
};
use hotline_media::wav;

fn require_espeak() {
    let ok = Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "espeak-ng is not installed (or does not run): run scripts/install-deps.sh to install the test dependencies"
    );
}

fn elder() -> AnnouncementFields<'static> {
    AnnouncementFields {
        name: "张桂兰",
        age: Some(82),
        address: "深圳市福田区华强北街道华强北路1002号3栋502室",
        medical_notes: "冠心病，高血压，青霉素过敏",
        device_number: "13800138000",
    }
}

/// An 8 kHz WAV the prompt reader accepts, with at least 2 s of audio that is not silence, padded with silence.
fn check_announcement(path: &Path) {
    let samples = wav::read(path).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        samples.len() >= 2 * 8000,
        "{}: only {} samples",
        path.display(),
        samples.len()
    );
    let peak = samples.iter().map(|&s| i32::from(s).abs()).max().unwrap();
    // Normalised to -3 dBFS (23197).
    assert!(
        (22_000..=23_500).contains(&peak),
        "{}: peak {peak}",
        path.display()
    );
    let loud = samples.iter().filter(|&&s| s.abs() > 1000).count();
    assert!(
        loud > 8000 / 2,
        "{}: mostly silence ({loud} loud samples)",
        path.display()
    );
    assert!(samples[..1200].iter().all(|&s| s == 0), "leading silence");
    assert!(
        samples[samples.len() - 1200..].iter().all(|&s| s == 0),
        "trailing silence"
    );
}

#[test]
fn chinese_announcement_is_synthesized() {
    require_espeak();
    let dir = tempfile::tempdir().unwrap();
    let d = elder();
    let text = announcement_text("zh", &d);
    // Everything in the generated text is in espeak-ng's Mandarin dictionary: no stretch read as English.
    let phonemes = Command::new("espeak-ng")
        .args(["-v", ZH_VOICE, "-x", "-q", "--", &text])
        .output()
        .unwrap();
    let phonemes = String::from_utf8_lossy(&phonemes.stdout);
    assert!(
        !phonemes.contains("(en)"),
        "part of {text:?} is read as English: {phonemes}"
    );
    let out = dir
        .path()
        .join("sos/announcements")
        .join(announcement_file_name(d.device_number, &text));
    synthesize(&text, "zh", &out).unwrap();
    check_announcement(&out);
    let names: Vec<String> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "no temporary files left: {names:?}");
    assert!(names[0].starts_with("13800138000-") && names[0].ends_with(".wav"));
}

#[test]
fn english_announcement_is_synthesized() {
    require_espeak();
    let dir = tempfile::tempdir().unwrap();
    let d = AnnouncementFields {
        name: "Zhang Guilan",
        address: "Room 502, Building 3, 1002 Huaqiangbei Road, Futian, Shenzhen",
        medical_notes: "heart disease, high blood pressure",
        ..elder()
    };
    let text = announcement_text("en", &d);
    let out = dir
        .path()
        .join(announcement_file_name(d.device_number, &text));
    synthesize(&text, "en", &out).unwrap();
    check_announcement(&out);
}

#[test]
fn rare_characters_and_odd_text_still_synthesize() {
    require_espeak();
    let dir = tempfile::tempdir().unwrap();
    // 𠀀 is outside espeak-ng's dictionary (read via the English fallback); a leading '-' is not an option.
    let d = AnnouncementFields {
        name: "𠀀桂兰",
        ..elder()
    };
    let out = dir.path().join("a.wav");
    synthesize(&announcement_text("zh", &d), "zh", &out).unwrap();
    check_announcement(&out);
    let out = dir.path().join("b.wav");
    synthesize(
        "-v xx this text starts with a dash, and is long enough for two seconds of speech",
        "en",
        &out,
    )
    .unwrap();
    check_announcement(&out);
}

#[test]
fn unwritable_output_is_an_io_error_naming_the_path() {
    require_espeak();
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    // A parent "directory" that is a file.
    let out = blocker.join("x.wav");
    let e = synthesize("hello", "en", &out).unwrap_err();
    assert!(matches!(e, TtsError::Io { .. }), "{e}");
    assert!(e.to_string().contains("file"), "{e}");
}
