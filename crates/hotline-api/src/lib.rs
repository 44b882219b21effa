//! hotline-api
