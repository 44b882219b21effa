//! hotline-acd
