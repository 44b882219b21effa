//! hotline-tickets
