//! hotline-config
