//! The per-device SOS announcement played to 120: the elder's name, age, address and medical notes, spoken by
//! espeak-ng on this machine (no network TTS) into `[sos] announcements_dir`, once per version of the profile
//! (the file name carries a hash of the text). Generated when a device is registered or changed and, if that
//! did not happen, when an SOS call from it starts — well before the escalation timer runs out.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hotline_media::prompts::Prompt;
use hotline_media::tts::{self, AnnouncementFields};
use hotline_media::wav;
use hotline_tickets::SosDevice;
use tracing::{info, warn};

/// The announcement text and the file it lives in.
fn text_and_path(dir: &Path, lang: &str, device: &SosDevice) -> (String, PathBuf) {
    let fields = AnnouncementFields {
        name: &device.name,
        age: device.age,
        address: &device.address,
        medical_notes: &device.medical_notes,
        device_number: &device.number,
    };
    let text = tts::announcement_text(lang, &fields);
    let path = dir.join(tts::announcement_file_name(&device.number, &text));
    (text, path)
}

/// Makes sure the device's announcement file exists (blocking: call from `spawn_blocking`).
pub(crate) fn generate(dir: &Path, lang: &str, device: &SosDevice) -> Option<PathBuf> {
    let (text, path) = text_and_path(dir, lang, device);
    if path.is_file() {
        return Some(path);
    }
    match tts::synthesize(&text, lang, &path) {
        Ok(()) => {
            info!(device = %device.number, path = %path.display(), "SOS announcement generated");
            Some(path)
        }
        Err(e) => {
            warn!(device = %device.number, "SOS announcement not generated: {e}");
            None
        }
    }
}

/// For the API: a device registered or changed gets its announcement generated in the background, so it is
/// ready before the device's first SOS call.
pub(crate) fn hook(config: &hotline_config::Config) -> Arc<dyn Fn(SosDevice) + Send + Sync> {
    let target = config
        .sos
        .as_ref()
        .map(|s| (s.announcements_dir.clone(), config.sounds.language.clone()));
    Arc::new(move |device: SosDevice| {
        let Some((dir, lang)) = target.clone() else {
            return;
        };
        tokio::task::spawn_blocking(move || {
            generate(&dir, &lang, &device);
        });
    })
}

/// The device's announcement as a prompt, generating it if needed (blocking).
pub(crate) fn announcement(dir: &Path, lang: &str, device: &SosDevice) -> Option<Arc<Prompt>> {
    let path = generate(dir, lang, device)?;
    match wav::read(&path) {
        Ok(samples) => Some(Arc::new(Prompt::from_samples(
            format!("sos-{}", device.number),
            &samples,
        ))),
        Err(e) => {
            warn!(path = %path.display(), "SOS announcement unreadable: {e}");
            None
        }
    }
}
