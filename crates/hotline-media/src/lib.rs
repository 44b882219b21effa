//! hotline-media
