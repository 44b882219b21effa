//! Prompts: WAV files decoded once at start-up and pre-encoded into ready-to-send 20 ms frames per codec,
//! so playing one is a copy of 160 bytes per tick.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::g711::{self, Law};
use crate::g722::G722Encoder;
use crate::mixer::{Upsampler, FRAME_SAMPLES_16K, FRAME_SAMPLES_8K};
use crate::wav::{self, WavError};
use crate::Codec;

/// Bytes (= samples) in one 20 ms G.711 frame.
pub const FRAME_BYTES: usize = 160;

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("prompt directory {path} cannot be read: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Wav(#[from] WavError),
}

/// One decoded prompt with its frames in each codec.
#[derive(Debug)]
pub struct Prompt {
    name: String,
    pcmu: Vec<[u8; FRAME_BYTES]>,
    pcma: Vec<[u8; FRAME_BYTES]>,
    /// G.722 frames (also 160 bytes per 20 ms), encoded as one continuous stream from the 8 kHz samples
    /// upsampled to 16 kHz: the audio is narrowband, the codec state is consistent from frame to frame.
    g722: Vec<[u8; FRAME_BYTES]>,
}

impl Prompt {
    /// Build a prompt from 8 kHz linear samples; the last frame is padded with silence.
    pub fn from_samples(name: impl Into<String>, samples: &[i16]) -> Prompt {
        let encode = |law| {
            samples
                .chunks(FRAME_BYTES)
                .map(|chunk| {
                    let mut f = [g711::silence(law); FRAME_BYTES];
                    g711::encode(law, chunk, &mut f);
                    f
                })
                .collect()
        };
        let mut encoder = G722Encoder::new();
        let mut up = Upsampler::new();
        let g722 = samples
            .chunks(FRAME_BYTES)
            .map(|chunk| {
                let mut narrow = [0i16; FRAME_SAMPLES_8K];
                narrow[..chunk.len()].copy_from_slice(chunk);
                let mut wide = [0i16; FRAME_SAMPLES_16K];
                up.process(&narrow, &mut wide);
                let mut f = [0u8; FRAME_BYTES];
                encoder.encode(&wide, &mut f);
                f
            })
            .collect();
        Prompt {
            name: name.into(),
            pcmu: encode(Law::Mu),
            pcma: encode(Law::A),
            g722,
        }
    }

    /// A prompt of `ms` milliseconds of silence (rounded up to whole frames), handy for pauses and tests.
    pub fn silence(name: impl Into<String>, ms: u32) -> Prompt {
        let n = ms.div_ceil(20) as usize * FRAME_BYTES;
        Prompt::from_samples(name, &vec![0; n])
    }

    /// A sine tone (e.g. a beep or ring-back segment).
    pub fn tone(name: impl Into<String>, freq_hz: f64, ms: u32, amplitude: i16) -> Prompt {
        let n = ms as usize * 8;
        let samples: Vec<i16> = (0..n)
            .map(|i| {
                let t = i as f64 / wav::SAMPLE_RATE as f64;
                ((2.0 * std::f64::consts::PI * freq_hz * t).sin() * amplitude as f64) as i16
            })
            .collect();
        Prompt::from_samples(name, &samples)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 160-byte frames in `codec`.
    pub fn frames(&self, codec: Codec) -> &[[u8; FRAME_BYTES]] {
        match codec {
            Codec::Pcmu => &self.pcmu,
            Codec::Pcma => &self.pcma,
            Codec::G722 => &self.g722,
        }
    }

    pub fn frame_count(&self) -> usize {
        self.pcmu.len()
    }

    pub fn duration(&self) -> Duration {
        Duration::from_millis(20 * self.frame_count() as u64)
    }
}

/// All prompts of one language, by file stem (`welcome.wav` → `"welcome"`).
#[derive(Debug, Default, Clone)]
pub struct Prompts {
    dir: PathBuf,
    by_name: HashMap<String, Arc<Prompt>>,
}

impl Prompts {
    /// Load every `<dir>/<language>/*.wav`. Any unreadable or unsupported file is an error naming it, so a bad
    /// prompt is found at start-up rather than in the middle of a call.
    pub fn load(dir: impl AsRef<Path>, language: &str) -> Result<Prompts, PromptError> {
        let dir = dir.as_ref().join(language);
        let entries = std::fs::read_dir(&dir).map_err(|source| PromptError::Dir {
            path: dir.clone(),
            source,
        })?;
        let mut by_name = HashMap::new();
        for entry in entries {
            let entry = entry.map_err(|source| PromptError::Dir {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            let is_wav = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if !is_wav || !path.is_file() {
                continue;
            }
            let samples = wav::read(&path)?;
            by_name.insert(
                stem.to_string(),
                Arc::new(Prompt::from_samples(stem, &samples)),
            );
        }
        Ok(Prompts { dir, by_name })
    }

    /// An empty set to fill with [`Prompts::insert`] (tests, generated tones).
    pub fn new() -> Prompts {
        Prompts::default()
    }

    pub fn insert(&mut self, prompt: Prompt) -> Arc<Prompt> {
        let p = Arc::new(prompt);
        self.by_name.insert(p.name().to_string(), p.clone());
        p
    }

    pub fn get(&self, name: &str) -> Option<Arc<Prompt>> {
        self.by_name.get(name).cloned()
    }

    /// The directory the prompts were loaded from (`<dir>/<language>`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_padded() {
        let p = Prompt::from_samples("x", &[1000; 170]);
        assert_eq!(p.frame_count(), 2);
        let f = p.frames(Codec::Pcmu);
        assert_eq!(f[0][0], g711::linear_to_ulaw(1000));
        assert_eq!(f[1][9], g711::linear_to_ulaw(1000));
        assert_eq!(f[1][10], 0xFF);
        assert_eq!(p.frames(Codec::Pcma)[1][10], 0xD5);
        assert_eq!(p.frames(Codec::G722).len(), 2);
        assert_eq!(p.duration(), Duration::from_millis(40));
        assert_eq!(Prompt::silence("s", 50).frame_count(), 3);
        assert_eq!(Prompt::tone("t", 425.0, 100, 8000).frame_count(), 5);
    }

    #[test]
    fn load_dir() {
        let d = tempfile::tempdir().unwrap();
        let zh = d.path().join("zh");
        std::fs::create_dir(&zh).unwrap();
        wav::write(zh.join("welcome.wav"), &[0; 800]).unwrap();
        wav::write(zh.join("BYE.WAV"), &[0; 160]).unwrap();
        std::fs::write(zh.join("readme.txt"), "x").unwrap();
        let p = Prompts::load(d.path(), "zh").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.get("welcome").unwrap().frame_count(), 5);
        assert!(p.get("BYE").is_some());
        assert!(p.get("readme").is_none());

        let e = Prompts::load(d.path(), "en").unwrap_err();
        assert!(
            e.to_string()
                .contains(&d.path().join("en").display().to_string()),
            "{e}"
        );

        std::fs::write(zh.join("bad.wav"), "not a wav").unwrap();
        let e = Prompts::load(d.path(), "zh").unwrap_err();
        assert!(e.to_string().contains("bad.wav"), "{e}");
    }
}
