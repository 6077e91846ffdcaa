//! The terminal loop: raw mode and the alternate screen, restored on exit,
//! on error and on panic; keys, pastes and resizes in; the screen redrawn
//! from the [`App`] after every change; the bell for background chats.

use std::io::{self, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, Event, EventStream};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use futures::StreamExt;
use padlock_core::{SecurityView, UiEvent};
use padlock_store::Progress;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use crate::action::Effect;
use crate::app::{App, Connection};
use crate::notify;
use crate::render::render;

/// What the loop is told besides the user's keys.
#[derive(Debug)]
#[non_exhaustive]
pub enum Input {
    /// Something the client core said.
    Ui(UiEvent),
    /// Progress of the user's key generation.
    KeyProgress(Progress),
    /// The connection changed.
    Connection(Connection),
    /// A contact is on the roster (bare JID).
    Contact(String),
    /// A line from the front end for the console or the selected chat.
    Info(String),
    /// The Security settings view the app asked for
    /// ([`Effect::QuerySecurity`]).
    Security(SecurityView),
    /// An export or import ended: what to tell the user.
    StoreJobDone(Result<String, String>),
    /// The runtime stopped: the loop ends (with the reason when it was not
    /// asked for).
    Stopped(Option<String>),
}

impl App {
    /// Applies what the front end said; `false` once the runtime stopped.
    pub fn handle_input(&mut self, input: Input) -> bool {
        match input {
            Input::Ui(event) => self.handle_ui(event),
            Input::KeyProgress(progress) => self.key_progress(progress),
            Input::Connection(connection) => self.set_connection(connection),
            Input::Contact(jid) => self.add_contact(&jid),
            Input::Info(line) => self.show_info(line),
            Input::Security(view) => self.security_view(view),
            Input::StoreJobDone(result) => self.store_job_done(result),
            Input::Stopped(_) => return false,
        }
        true
    }
}

/// Raw mode and the alternate screen while it lives; the terminal is
/// restored when it is dropped, and by a panic hook if the program panics.
#[derive(Debug)]
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen (with bracketed paste).
    pub fn enter() -> io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let guard = Self { _private: () };
        execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Whether the terminal is in raw mode and the alternate screen (so that
/// it is restored once: leaving the alternate screen twice would move the
/// cursor back over what was printed in between, such as a panic message).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Leaves raw mode and the alternate screen, shows the cursor. Does
/// nothing when they were already left.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
}

/// A panic restores the terminal before the message is printed, so the
/// message is readable and the shell usable.
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Runs the screen until the user quits and the runtime stopped (or
/// `inputs` closes). `effects` gets what the app asks for, except the bell,
/// which the loop rings itself. Returns why the runtime stopped, when it
/// was not asked to.
pub async fn run(
    mut app: App,
    mut inputs: mpsc::UnboundedReceiver<Input>,
    effects: mpsc::UnboundedSender<Effect>,
) -> io::Result<Option<String>> {
    let guard = TerminalGuard::enter()?;
    let result = event_loop(&mut app, &mut inputs, &effects).await;
    drop(guard);
    result
}

async fn event_loop(
    app: &mut App,
    inputs: &mut mpsc::UnboundedReceiver<Input>,
    effects: &mpsc::UnboundedSender<Effect>,
) -> io::Result<Option<String>> {
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    let mut events = EventStream::new();
    let mut quits = 0u32;
    loop {
        terminal.draw(|frame| render(app, frame))?;
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => app.handle_key(key),
                Some(Ok(Event::Paste(text))) => {
                    // It may be a secret pasted into a dialog: wiped after use.
                    let text = zeroize::Zeroizing::new(text);
                    app.handle_paste(&text);
                }
                Some(Ok(Event::Resize(..))) => terminal.autoresize()?,
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => return Ok(None),
            },
            input = inputs.recv() => {
                let mut next = input;
                // Take everything that is waiting before drawing again.
                loop {
                    match next {
                        Some(Input::Stopped(error)) => return Ok(error),
                        Some(input) => {
                            app.handle_input(input);
                        }
                        None => return Ok(None),
                    }
                    match inputs.try_recv() {
                        Ok(input) => next = Some(input),
                        Err(_) => break,
                    }
                }
            }
        }
        while let Some(effect) = app.poll_effect() {
            match effect {
                Effect::Bell => bell(&mut terminal)?,
                Effect::Notify(notification) => match app.notifications().command.clone() {
                    Some(command) => {
                        if let Err(error) = notify::run_command(&command, &notification) {
                            app.show_info(format!(
                                "The notification command {:?} failed: {error}",
                                command.join(" ")
                            ));
                        }
                    }
                    None => {
                        let backend = terminal.backend_mut();
                        backend.write_all(notify::osc777(&notification).as_bytes())?;
                        backend.flush()?;
                    }
                },
                Effect::Copy(text) => {
                    let backend = terminal.backend_mut();
                    backend.write_all(osc52(&text).as_bytes())?;
                    backend.flush()?;
                }
                Effect::Quit => {
                    quits += 1;
                    // A second quit does not wait for the runtime.
                    if quits > 1 || effects.send(Effect::Quit).is_err() {
                        return Ok(None);
                    }
                }
                effect => {
                    if effects.send(effect).is_err() {
                        return Ok(Some("the runtime is gone".to_owned()));
                    }
                }
            }
        }
    }
}

/// The OSC 52 sequence that asks the terminal to put `text` on the
/// clipboard (xterm, kitty, foot, WezTerm, iTerm2, tmux with
/// `set-clipboard on`; others ignore it).
pub fn osc52(text: &str) -> String {
    use base64::Engine as _;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

fn bell(terminal: &mut Terminal<CrosstermBackend<Stdout>>) -> io::Result<()> {
    let backend = terminal.backend_mut();
    backend.write_all(b"\x07")?;
    backend.flush()
}
