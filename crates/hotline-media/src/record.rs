//! Call recordings: one writer thread per engine, fed by the media tasks over a channel, so no media task ever
//! waits on the disk. A task hands over one second of audio at a time (one allocation per second per call).
//!
//! Format: WAV, 8 kHz, mono, 16-bit linear — the mix of everyone audible in the call (citizen and agent; in a
//! conference also the third party and a barging supervisor; whispers and listeners are left out). The header
//! is written with "unknown" sizes and fixed when the recording ends, so a file cut short by a crash still plays
//! up to where it stopped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::OnceLock;

use crate::wav::WavWriter;

/// Samples per chunk handed to the writer (one second at 8 kHz).
pub const CHUNK_SAMPLES: usize = 8000;

enum Msg {
    Open {
        id: u64,
        path: PathBuf,
    },
    Samples {
        id: u64,
        samples: Vec<i16>,
    },
    Close {
        id: u64,
    },
    /// Answered once everything sent before it is on disk (tests, shutdown).
    Sync(mpsc::Sender<()>),
}

/// The writer thread, started on first use.
#[derive(Default)]
pub struct Recorder {
    tx: OnceLock<Option<mpsc::Sender<Msg>>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    fn sender(&self) -> Option<&mpsc::Sender<Msg>> {
        self.tx
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel();
                match std::thread::Builder::new()
                    .name("hotline-recorder".into())
                    .spawn(move || writer(rx))
                {
                    Ok(_) => Some(tx),
                    Err(e) => {
                        tracing::error!("cannot start the recording thread: {e}");
                        None
                    }
                }
            })
            .as_ref()
    }

    fn send(&self, msg: Msg) {
        if let Some(tx) = self.sender() {
            let _ = tx.send(msg);
        }
    }

    pub(crate) fn open(&self, id: u64, path: PathBuf) {
        self.send(Msg::Open { id, path });
    }

    pub(crate) fn write(&self, id: u64, samples: Vec<i16>) {
        self.send(Msg::Samples { id, samples });
    }

    pub(crate) fn close(&self, id: u64) {
        self.send(Msg::Close { id });
    }

    /// Wait until everything handed over so far is written (blocking; call from a blocking context).
    pub fn sync(&self) {
        let (tx, rx) = mpsc::channel();
        self.send(Msg::Sync(tx));
        let _ = rx.recv();
    }
}

fn writer(rx: mpsc::Receiver<Msg>) {
    let mut open: HashMap<u64, WavWriter> = HashMap::new();
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Open { id, path } => {
                if let Some(dir) = path.parent() {
                    if let Err(e) = std::fs::create_dir_all(dir) {
                        tracing::warn!(path = %path.display(), "cannot create the recording directory: {e}");
                        continue;
                    }
                }
                match WavWriter::create(&path) {
                    Ok(w) => {
                        open.insert(id, w);
                    }
                    Err(e) => tracing::warn!("cannot start a recording: {e}"),
                }
            }
            Msg::Samples { id, samples } => {
                if let Some(w) = open.get_mut(&id) {
                    if let Err(e) = w.write_samples(&samples) {
                        tracing::warn!("recording write failed: {e}");
                        open.remove(&id);
                    }
                }
            }
            Msg::Close { id } => {
                if let Some(w) = open.remove(&id) {
                    if let Err(e) = w.finish() {
                        tracing::warn!("recording not finished: {e}");
                    }
                }
            }
            Msg::Sync(done) => {
                for w in open.values_mut() {
                    let _ = w.flush();
                }
                let _ = done.send(());
            }
        }
    }
    for (_, w) in open {
        let _ = w.finish();
    }
}
