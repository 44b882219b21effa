//! Hotline IVR: menu definitions, a pure menu interpreter and spoken-number announcements.
//!
//! Everything here is sans-IO in the quinn-proto style: the caller feeds inputs with the
//! current [`std::time::Instant`] (`handle(now, input)`), drains [`Output`]s with
//! `poll_output()`, asks `poll_timeout()` when to call back and calls `handle_timeout(now)`.
//! Nothing reads a clock, spawns a task or touches a socket, so the call task (or a test
//! with a fake clock) fully controls time.

pub mod announce;
pub mod menu;

pub use announce::{
    estimated_wait, number_prompts, position_prompts, wait_minutes, wait_prompts, Lang,
};
pub use menu::{
    Action, Input, Ivr, Menu, MenuError, Menus, Output, ParseActionError, PathStep,
    MAX_STEPS_WITHOUT_DIGIT,
};
