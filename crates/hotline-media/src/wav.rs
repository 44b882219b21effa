//! WAV files: the reader accepts exactly what prompts must be (8 kHz, mono, 16-bit linear PCM) and says
//! precisely what is wrong with anything else; the writer produces the same format (recordings, tests).

use std::path::{Path, PathBuf};

/// The only sample rate the reader accepts.
pub const SAMPLE_RATE: u32 = 8000;

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a RIFF/WAVE file")]
    NotWave,
    #[error("truncated WAV file: {0}")]
    Truncated(&'static str),
    #[error("WAV file has no `{0}` chunk")]
    MissingChunk(&'static str),
    #[error(
        "unsupported WAV format: format tag {format}, {channels} channel(s), {rate} Hz, {bits} bits; \
         need 8000 Hz mono 16-bit PCM (e.g. `sox in.wav -r 8000 -c 1 -b 16 -e signed-integer out.wav`)"
    )]
    Unsupported {
        format: u16,
        channels: u16,
        rate: u32,
        bits: u16,
    },
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: Box<WavError>,
    },
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Decode a WAV file held in memory into 16-bit samples.
pub fn decode(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(WavError::NotWave);
    }
    let mut pos = 12usize;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = bytes
            .get(pos..pos + 4)
            .ok_or(WavError::Truncated("chunk header"))?;
        let size = u32_at(bytes, pos + 4).ok_or(WavError::Truncated("chunk header"))? as usize;
        let body_start = pos + 8;
        match id {
            b"fmt " => {
                let body = bytes
                    .get(body_start..body_start.saturating_add(size))
                    .ok_or(WavError::Truncated("fmt chunk"))?;
                if body.len() < 16 {
                    return Err(WavError::Truncated("fmt chunk"));
                }
                let mut format = u16_at(body, 0).unwrap_or(0);
                let channels = u16_at(body, 2).unwrap_or(0);
                let rate = u32_at(body, 4).unwrap_or(0);
                let bits = u16_at(body, 14).unwrap_or(0);
                // WAVE_FORMAT_EXTENSIBLE: the real format tag is the first two bytes of the sub-format GUID.
                if format == 0xFFFE {
                    format = u16_at(body, 24).unwrap_or(format);
                }
                fmt = Some((format, channels, rate, bits));
            }
            b"data" => {
                let (format, channels, rate, bits) = fmt.ok_or(WavError::MissingChunk("fmt "))?;
                if format != 1 || channels != 1 || rate != SAMPLE_RATE || bits != 16 {
                    return Err(WavError::Unsupported {
                        format,
                        channels,
                        rate,
                        bits,
                    });
                }
                // Tolerate a data size larger than the file (streams written without a final size).
                let end = body_start.saturating_add(size).min(bytes.len());
                let data = bytes.get(body_start..end).unwrap_or(&[]);
                return Ok(data
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect());
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        pos = body_start.saturating_add(size).saturating_add(size & 1);
    }
    Err(WavError::MissingChunk(if fmt.is_some() {
        "data"
    } else {
        "fmt "
    }))
}

/// Read an 8 kHz mono 16-bit WAV file; errors name the file.
pub fn read(path: impl AsRef<Path>) -> Result<Vec<i16>, WavError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| WavError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode(&bytes).map_err(|e| WavError::File {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}

/// The 44-byte canonical header for `n_samples` of 8 kHz mono 16-bit PCM.
pub fn header(n_samples: u32) -> [u8; 44] {
    let data_len = n_samples.saturating_mul(2);
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&data_len.saturating_add(36).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&1u16.to_le_bytes());
    h[24..28].copy_from_slice(&SAMPLE_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    h[32..34].copy_from_slice(&2u16.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

/// Encode samples as an 8 kHz mono 16-bit WAV file.
pub fn encode(samples: &[i16]) -> Vec<u8> {
    let n = u32::try_from(samples.len()).unwrap_or(u32::MAX / 2);
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(&header(n));
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Write an 8 kHz mono 16-bit WAV file.
pub fn write(path: impl AsRef<Path>, samples: &[i16]) -> Result<(), WavError> {
    let path = path.as_ref();
    std::fs::write(path, encode(samples)).map_err(|source| WavError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Streams samples to a WAV file (call recordings): the header is written up front with unknown (maximal) sizes
/// and patched by [`WavWriter::finish`]; a file never finished (crash) is still readable up to its end.
pub struct WavWriter {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    samples: u32,
}

impl WavWriter {
    pub fn create(path: impl AsRef<Path>) -> Result<WavWriter, WavError> {
        use std::io::Write;
        let path = path.as_ref().to_path_buf();
        let io = |source| WavError::Io {
            path: path.clone(),
            source,
        };
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
        // Sizes "unknown" until finish(): the reader then takes the data up to the end of the file.
        let mut h = header(0);
        h[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        h[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        file.write_all(&h).map_err(io)?;
        Ok(WavWriter {
            path,
            file,
            samples: 0,
        })
    }

    pub fn write_samples(&mut self, samples: &[i16]) -> Result<(), WavError> {
        use std::io::Write;
        for s in samples {
            self.file
                .write_all(&s.to_le_bytes())
                .map_err(|source| WavError::Io {
                    path: self.path.clone(),
                    source,
                })?;
        }
        self.samples = self
            .samples
            .saturating_add(u32::try_from(samples.len()).unwrap_or(u32::MAX));
        Ok(())
    }

    /// Push buffered samples to the file (the header still says "unknown size").
    pub fn flush(&mut self) -> Result<(), WavError> {
        use std::io::Write;
        self.file.flush().map_err(|source| WavError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Flush and write the final sizes into the header.
    pub fn finish(mut self) -> Result<(), WavError> {
        use std::io::{Seek, SeekFrom, Write};
        let path = self.path.clone();
        let io = |source| WavError::Io {
            path: path.clone(),
            source,
        };
        self.file.flush().map_err(io)?;
        let mut f = self.file.into_inner().map_err(|e| io(e.into_error()))?;
        f.seek(SeekFrom::Start(0)).map_err(io)?;
        f.write_all(&header(self.samples)).map_err(io)?;
        f.sync_data().map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_writer() {
        use std::io::Write;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("rec.wav");
        let mut w = WavWriter::create(&p).unwrap();
        w.write_samples(&[1, 2, 3]).unwrap();
        w.write_samples(&[4]).unwrap();
        w.file.flush().unwrap();
        assert_eq!(
            read(&p).unwrap(),
            vec![1, 2, 3, 4],
            "readable before finish"
        );
        w.finish().unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 44 + 8);
        assert_eq!(read(&p).unwrap(), vec![1, 2, 3, 4]);
    }

    #[test]
    fn roundtrip() {
        let s: Vec<i16> = (0..1000).map(|i| (i * 37 % 2000 - 1000) as i16).collect();
        let bytes = encode(&s);
        assert_eq!(bytes.len(), 44 + 2000);
        assert_eq!(decode(&bytes).unwrap(), s);
    }

    #[test]
    fn skips_unknown_chunks() {
        let s = [1i16, -2, 3];
        let plain = encode(&s);
        let mut b = plain[..12].to_vec();
        b.extend_from_slice(b"LIST");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(b"abc\0"); // odd size + pad byte
        b.extend_from_slice(&plain[12..]);
        assert_eq!(decode(&b).unwrap(), s);
    }

    #[test]
    fn rejects_other_formats() {
        let mut b = encode(&[0; 10]);
        b[24..28].copy_from_slice(&16000u32.to_le_bytes());
        let e = decode(&b).unwrap_err();
        assert!(matches!(e, WavError::Unsupported { rate: 16000, .. }));
        assert!(e.to_string().contains("16000 Hz"));
        let mut b = encode(&[0; 10]);
        b[22..24].copy_from_slice(&2u16.to_le_bytes());
        assert!(matches!(
            decode(&b),
            Err(WavError::Unsupported { channels: 2, .. })
        ));
        assert!(matches!(decode(b"hello"), Err(WavError::NotWave)));
        assert!(matches!(
            decode(&encode(&[0; 4])[..30]),
            Err(WavError::Truncated(_))
        ));
        assert!(matches!(
            decode(&encode(&[0; 4])[..36]),
            Err(WavError::MissingChunk("data"))
        ));
    }

    #[test]
    fn read_names_the_file() {
        let e = read("/nonexistent/x.wav").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/x.wav"));
    }
}
