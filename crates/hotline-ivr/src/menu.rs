//! Menu definitions (`[menus.NAME]` in the config) and the pure menu interpreter [`Ivr`].
//!
//! # Semantics
//!
//! * **Entering a menu** plays its `prompt` (`Output::Play { barge_in: true }`) and resets the
//!   menu's failure counter.
//! * **Barge-in**: a digit while any prompt plays emits `Output::StopPlayback` and is handled
//!   at once. The driver must not report `PlaybackDone` for a playback it stopped on
//!   `StopPlayback` (a late `PlaybackDone` would be taken for the next prompt).
//! * **Timeout**: the digit timer starts only when the menu prompt has finished
//!   (`Input::PlaybackDone`); the caller then has `timeout` to press a digit. No timer runs
//!   while a prompt plays, so a long prompt never eats the caller's time.
//! * **Digits**: an option digit applies its action. Any other character (including a
//!   non-DTMF one from a broken peer) is *invalid*.
//! * **Failures and retries**: each timeout or invalid digit is a failure and increments the
//!   menu's counter, then `on_timeout` / `on_invalid` is applied:
//!   - a *leaving* action (`queue:`, `hangup`, `callback`, `menu:`) is applied every time;
//!   - a *staying* action (`repeat`, `play:`) is applied while `failures <= retries`
//!     (the first try plus `retries` more attempts); once `failures > retries` the retries are
//!     exhausted and the call goes to the **final fallback**: `on_timeout` if that is a
//!     leaving action, otherwise `hangup`. (So the contract example, `on_invalid = "repeat"`,
//!     `on_timeout = "queue:elderly"`, `retries = 2`, sends a caller who keeps pressing wrong
//!     digits to the queue on the third wrong digit: agent first, never a dead end.)
//! * **`play:PROMPT`** plays that prompt, then replays the current menu's prompt (same
//!   failure counter). Digits barge into it like into any prompt and are taken as choices in
//!   the current menu.
//! * **`repeat`** replays the current menu's prompt (same failure counter).
//! * **`menu:NAME`** switches menu (counter reset). An unknown target (a config not
//!   validated) hangs up rather than panicking.
//! * **Loop cap**: every prompt played counts as a step; a digit resets the count. More than
//!   [`MAX_STEPS_WITHOUT_DIGIT`] prompts without any digit (e.g. two menus whose
//!   `on_timeout` point at each other) hangs up.
//! * **Terminal**: `Output::Route(action)` with `Queue`, `Hangup` or `Callback`; after it the
//!   interpreter ignores all inputs. [`Ivr::path`] lists every step for the ticket.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// More prompts than this without a single digit ends the call (hang up): a silent caller
/// on a menu loop must not hold a channel forever.
pub const MAX_STEPS_WITHOUT_DIGIT: u32 = 50;

/// Upper bound accepted by [`Menus::validate`] for `retries`: more is a config mistake.
pub const MAX_RETRIES: u32 = 10;
/// Upper bound accepted by [`Menus::validate`] for `timeout`.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(120);

/// What a menu option, timeout or invalid digit does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Action {
    /// `queue:NAME` — terminal: hand the call to an ACD queue.
    Queue(String),
    /// `menu:NAME` — switch to another menu.
    Menu(String),
    /// `play:PROMPT` — play a prompt, then come back to the same menu.
    Play(String),
    /// `repeat` — replay the current menu.
    Repeat,
    /// `hangup` — terminal.
    Hangup,
    /// `callback` — terminal: leave a callback request.
    Callback,
}

impl Action {
    /// Terminal actions end the IVR with `Output::Route`.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Action::Queue(_) | Action::Hangup | Action::Callback)
    }

    /// Actions that keep the caller in the current menu (subject to the retry limit).
    fn stays(&self) -> bool {
        matches!(self, Action::Repeat | Action::Play(_))
    }
}

/// A bad action string, e.g. `queue:` or `dial:123`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid IVR action `{text}`: {reason} (expected queue:NAME, menu:NAME, play:PROMPT, repeat, hangup or callback)")]
pub struct ParseActionError {
    /// The offending text, verbatim.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for Action {
    type Err = ParseActionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseActionError {
            text: s.to_string(),
            reason,
        };
        let t = s.trim();
        match t {
            "repeat" => return Ok(Action::Repeat),
            "hangup" => return Ok(Action::Hangup),
            "callback" => return Ok(Action::Callback),
            _ => {}
        }
        let Some((kind, name)) = t.split_once(':') else {
            return Err(err("unknown action"));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(err("missing name after `:`"));
        }
        if name.chars().any(char::is_whitespace) {
            return Err(err("name contains whitespace"));
        }
        match kind.trim() {
            "queue" => Ok(Action::Queue(name.to_string())),
            "menu" => Ok(Action::Menu(name.to_string())),
            "play" => Ok(Action::Play(name.to_string())),
            _ => Err(err("unknown action kind")),
        }
    }
}

impl TryFrom<String> for Action {
    type Error = ParseActionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Action> for String {
    fn from(a: Action) -> String {
        a.to_string()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Queue(n) => write!(f, "queue:{n}"),
            Action::Menu(n) => write!(f, "menu:{n}"),
            Action::Play(p) => write!(f, "play:{p}"),
            Action::Repeat => f.write_str("repeat"),
            Action::Hangup => f.write_str("hangup"),
            Action::Callback => f.write_str("callback"),
        }
    }
}

/// One `[menus.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    pub name: String,
    /// Prompt name, e.g. `elderly-menu` (resolved to `sounds/{lang}/elderly-menu.wav`).
    pub prompt: String,
    /// How long to wait for a digit after the prompt finished.
    pub timeout: Duration,
    /// Extra attempts after the first one before the final fallback (see module docs).
    pub retries: u32,
    pub options: BTreeMap<char, Action>,
    pub on_timeout: Action,
    pub on_invalid: Action,
}

/// Errors from [`Menus::validate`] and [`Ivr::new`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MenuError {
    #[error("menu `{0}` does not exist")]
    UnknownMenu(String),
    #[error("menu `{menu}`: {place} points to unknown menu `{target}`")]
    UnknownTarget {
        menu: String,
        place: String,
        target: String,
    },
    #[error("menu `{menu}`: option key {digit:?} is not a DTMF key (0-9, *, #)")]
    BadDigit { menu: String, digit: char },
    #[error("menu `{menu}`: retries = {retries} is more than {MAX_RETRIES}")]
    TooManyRetries { menu: String, retries: u32 },
    #[error("menu `{menu}`: timeout must be between 1 ms and {MAX_TIMEOUT:?}")]
    BadTimeout { menu: String },
    #[error("menu `{menu}`: empty prompt")]
    EmptyPrompt { menu: String },
    #[error("menu `{menu}`: `play:` prompt name is empty")]
    EmptyPlay { menu: String },
}

/// A set of menus keyed by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Menus {
    menus: BTreeMap<String, Menu>,
}

fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || c == '*' || c == '#'
}

impl Menus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a menu under its own name.
    pub fn insert(&mut self, menu: Menu) {
        self.menus.insert(menu.name.clone(), menu);
    }

    pub fn get(&self, name: &str) -> Option<&Menu> {
        self.menus.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.menus.contains_key(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Menu> {
        self.menus.values()
    }

    pub fn len(&self) -> usize {
        self.menus.len()
    }

    pub fn is_empty(&self) -> bool {
        self.menus.is_empty()
    }

    /// Checks every menu; returns all problems at once so a config author fixes them in one go.
    pub fn validate(&self) -> Result<(), Vec<MenuError>> {
        let mut errs = Vec::new();
        for m in self.menus.values() {
            let menu = || m.name.clone();
            if m.prompt.trim().is_empty() {
                errs.push(MenuError::EmptyPrompt { menu: menu() });
            }
            if m.timeout.is_zero() || m.timeout > MAX_TIMEOUT {
                errs.push(MenuError::BadTimeout { menu: menu() });
            }
            if m.retries > MAX_RETRIES {
                errs.push(MenuError::TooManyRetries {
                    menu: menu(),
                    retries: m.retries,
                });
            }
            let mut actions: Vec<(String, &Action)> = Vec::new();
            for (d, a) in &m.options {
                if !is_dtmf(*d) {
                    errs.push(MenuError::BadDigit {
                        menu: menu(),
                        digit: *d,
                    });
                }
                actions.push((format!("option {d}"), a));
            }
            actions.push(("on_timeout".into(), &m.on_timeout));
            actions.push(("on_invalid".into(), &m.on_invalid));
            for (place, a) in actions {
                match a {
                    Action::Menu(t) if !self.contains(t) => errs.push(MenuError::UnknownTarget {
                        menu: menu(),
                        place,
                        target: t.clone(),
                    }),
                    Action::Play(p) if p.trim().is_empty() => {
                        errs.push(MenuError::EmptyPlay { menu: menu() })
                    }
                    _ => {}
                }
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// Inputs to the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The call is answered and media flows: play the start menu.
    Start,
    /// A DTMF digit (RFC 4733 or SIP INFO; the interpreter does not care which).
    Digit(char),
    /// The prompt from the last `Output::Play` finished on its own.
    PlaybackDone,
}

/// Commands for the call task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Play a prompt; `barge_in` means a digit may interrupt it (always true today).
    Play { prompt: String, barge_in: bool },
    /// Stop the current prompt (barge-in). No `PlaybackDone` is expected for it.
    StopPlayback,
    /// Terminal: `Queue`, `Hangup` or `Callback`.
    Route(Action),
}

/// One step of the caller's way through the menus, kept for the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PathStep {
    Entered {
        menu: String,
    },
    Digit {
        menu: String,
        digit: char,
    },
    Invalid {
        menu: String,
        digit: char,
    },
    Timeout {
        menu: String,
    },
    /// The menu is replayed after a failure; `attempt` is 2 for the first retry.
    Retry {
        menu: String,
        attempt: u32,
    },
    Played {
        menu: String,
        prompt: String,
    },
    RetriesExhausted {
        menu: String,
    },
    UnknownMenu {
        menu: String,
    },
    LoopCap,
    Routed {
        action: Action,
    },
}

impl fmt::Display for PathStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathStep::Entered { menu } => write!(f, "enter {menu}"),
            PathStep::Digit { digit, .. } => write!(f, "press {digit}"),
            PathStep::Invalid { digit, .. } => write!(f, "invalid {digit}"),
            PathStep::Timeout { .. } => f.write_str("timeout"),
            PathStep::Retry { attempt, .. } => write!(f, "retry {attempt}"),
            PathStep::Played { prompt, .. } => write!(f, "play {prompt}"),
            PathStep::RetriesExhausted { .. } => f.write_str("retries exhausted"),
            PathStep::UnknownMenu { menu } => write!(f, "unknown menu {menu}"),
            PathStep::LoopCap => f.write_str("loop cap"),
            PathStep::Routed { action } => write!(f, "-> {action}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// A prompt plays; `menu_prompt` is false for a `play:` prompt (replay the menu after it).
    Prompt {
        menu_prompt: bool,
    },
    Collect {
        deadline: Instant,
    },
    Done,
}

/// The menu interpreter for one call. See the module docs for the exact semantics.
#[derive(Debug, Clone)]
pub struct Ivr {
    menus: Menus,
    current: String,
    state: State,
    failures: u32,
    steps_without_digit: u32,
    outputs: VecDeque<Output>,
    path: Vec<PathStep>,
    result: Option<Action>,
}

impl Ivr {
    /// Prepares an interpreter starting at `start_menu`; nothing happens until `Input::Start`.
    pub fn new(menus: &Menus, start_menu: &str) -> Result<Self, MenuError> {
        if !menus.contains(start_menu) {
            return Err(MenuError::UnknownMenu(start_menu.to_string()));
        }
        Ok(Self {
            menus: menus.clone(),
            current: start_menu.to_string(),
            state: State::Idle,
            failures: 0,
            steps_without_digit: 0,
            outputs: VecDeque::new(),
            path: Vec::new(),
            result: None,
        })
    }

    pub fn handle(&mut self, now: Instant, input: Input) {
        match (self.state, input) {
            (State::Idle, Input::Start) => {
                let start = self.current.clone();
                self.enter(&start);
            }
            (State::Prompt { menu_prompt }, Input::PlaybackDone) => {
                if menu_prompt {
                    let timeout = self.menu().map_or(Duration::ZERO, |m| m.timeout);
                    // Unvalidated huge timeouts must not panic on Instant overflow.
                    let deadline = now
                        .checked_add(timeout)
                        .or_else(|| now.checked_add(MAX_TIMEOUT))
                        .unwrap_or(now);
                    self.state = State::Collect { deadline };
                } else {
                    self.play_menu_prompt();
                }
            }
            (State::Prompt { .. }, Input::Digit(d)) => {
                self.outputs.push_back(Output::StopPlayback);
                self.digit(d);
            }
            (State::Collect { .. }, Input::Digit(d)) => self.digit(d),
            // Anything else (digits before Start or after the route, a stray PlaybackDone)
            // carries no meaning here and is ignored.
            _ => {}
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When `handle_timeout` must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Collect { deadline } => Some(deadline),
            _ => None,
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::Collect { deadline } = self.state {
            if now >= deadline {
                let menu = self.current.clone();
                self.path.push(PathStep::Timeout { menu });
                let action = self.menu().map_or(Action::Hangup, |m| m.on_timeout.clone());
                self.failure(action);
            }
        }
    }

    /// The caller's way through the menus so far (for the ticket).
    pub fn path(&self) -> Vec<PathStep> {
        self.path.clone()
    }

    /// The path as one line, e.g. `enter main > press 1 > -> queue:general`.
    pub fn path_summary(&self) -> String {
        let parts: Vec<String> = self.path.iter().map(ToString::to_string).collect();
        parts.join(" > ")
    }

    /// The terminal action once routed.
    pub fn result(&self) -> Option<&Action> {
        self.result.as_ref()
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    pub fn current_menu(&self) -> &str {
        &self.current
    }

    fn menu(&self) -> Option<&Menu> {
        self.menus.get(&self.current)
    }

    fn digit(&mut self, d: char) {
        self.steps_without_digit = 0;
        let menu = self.current.clone();
        let chosen = if is_dtmf(d) {
            self.menu().and_then(|m| m.options.get(&d).cloned())
        } else {
            None
        };
        match chosen {
            Some(action) => {
                self.path.push(PathStep::Digit { menu, digit: d });
                self.apply(action);
            }
            None => {
                self.path.push(PathStep::Invalid { menu, digit: d });
                let action = self.menu().map_or(Action::Hangup, |m| m.on_invalid.clone());
                self.failure(action);
            }
        }
    }

    /// A timeout or invalid digit: apply `action` subject to the retry limit (module docs).
    fn failure(&mut self, action: Action) {
        self.failures = self.failures.saturating_add(1);
        if !action.stays() {
            self.apply(action);
            return;
        }
        let (retries, on_timeout) = self
            .menu()
            .map_or((0, Action::Hangup), |m| (m.retries, m.on_timeout.clone()));
        let menu = self.current.clone();
        if self.failures > retries {
            self.path.push(PathStep::RetriesExhausted { menu });
            let fallback = if on_timeout.stays() {
                Action::Hangup
            } else {
                on_timeout
            };
            self.apply(fallback);
        } else {
            self.path.push(PathStep::Retry {
                menu,
                attempt: self.failures.saturating_add(1),
            });
            self.apply(action);
        }
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Menu(name) => self.enter(&name),
            Action::Repeat => self.play_menu_prompt(),
            Action::Play(prompt) => {
                let menu = self.current.clone();
                self.path.push(PathStep::Played {
                    menu,
                    prompt: prompt.clone(),
                });
                self.play(prompt, false);
            }
            terminal => self.route(terminal),
        }
    }

    fn enter(&mut self, name: &str) {
        if !self.menus.contains(name) {
            self.path.push(PathStep::UnknownMenu {
                menu: name.to_string(),
            });
            self.route(Action::Hangup);
            return;
        }
        self.current = name.to_string();
        self.failures = 0;
        self.path.push(PathStep::Entered {
            menu: name.to_string(),
        });
        self.play_menu_prompt();
    }

    fn play_menu_prompt(&mut self) {
        match self.menu().map(|m| m.prompt.clone()) {
            Some(prompt) => self.play(prompt, true),
            None => self.route(Action::Hangup),
        }
    }

    fn play(&mut self, prompt: String, menu_prompt: bool) {
        self.steps_without_digit = self.steps_without_digit.saturating_add(1);
        if self.steps_without_digit > MAX_STEPS_WITHOUT_DIGIT {
            self.path.push(PathStep::LoopCap);
            self.route(Action::Hangup);
            return;
        }
        self.outputs.push_back(Output::Play {
            prompt,
            barge_in: true,
        });
        self.state = State::Prompt { menu_prompt };
    }

    fn route(&mut self, action: Action) {
        self.path.push(PathStep::Routed {
            action: action.clone(),
        });
        self.outputs.push_back(Output::Route(action.clone()));
        self.result = Some(action);
        self.state = State::Done;
    }
}
