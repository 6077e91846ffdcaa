//! padlock-tui: Padlock's terminal user interface.
//!
//! The screen is a contact list next to the chat pane, an input line and a
//! status bar that always says how private the chat is, in words, with a
//! glyph and a colour (never colour alone). One key, the padlock (F2 or
//! Ctrl-P by default), starts, refreshes or ends the private chat; F3 opens
//! the Authenticate dialog (a question, a shared secret, or comparing
//! fingerprints). A contact's new key brings the warning at its level; the
//! loudest is a dialog that waits for a choice.
//!
//! The parts, each tested on its own:
//!
//! - [`App`]: the state. Keys and typed commands become [`Action`]s, the
//!   client core's [`padlock_core::UiEvent`]s change it, and what it asks
//!   of the world comes out of [`App::poll_effect`] as [`Effect`]s. No
//!   terminal and no runtime.
//! - [`render()`]: draws an [`App`] on any ratatui backend (snapshot tests
//!   use `TestBackend`).
//! - [`keys`]: configurable key bindings (a TOML file).
//! - [`command`]: Profanity's `/otr` verbs and Padlock's own commands.
//! - [`run()`]: the terminal loop (raw mode and the alternate screen,
//!   restored on exit, error and panic); the front end feeds it [`Input`]s
//!   (the runtime's events) and carries out its [`Effect`]s.
//!
//! The design, the key binding file and the glyphs are described in
//! `docs/tui.md` of the repository.
//!
//! ```
//! use padlock_core::Command;
//! use padlock_tui::{Action, App, Effect};
//!
//! let mut app = App::new("you@demo.padlock");
//! app.add_contact("sam@demo.padlock");
//! app.apply(Action::Padlock);
//! assert_eq!(
//!     app.poll_effect(),
//!     Some(Effect::Command(Command::StartPrivate { contact: "sam@demo.padlock".into() }))
//! );
//! ```

pub mod action;
pub mod app;
pub mod command;
pub mod dialog;
pub mod field;
pub mod guide;
pub mod keys;
pub mod notify;
mod render;
pub mod security;
pub mod terminal;
pub mod uri;

pub use action::{Action, Effect};
pub use app::App;
pub use render::render;
pub use terminal::{Input, run};
