//! hotline-switch
