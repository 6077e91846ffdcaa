//! Notifications for chats that are not on screen: the terminal bell, and
//! a desktop notification whose content follows a privacy level: none,
//! "new message" (nothing about who or what), the sender, or the full text.
//!
//! A desktop notification goes to the terminal as an OSC 777 sequence
//! (foot, urxvt, Ghostty, WezTerm, VTE terminals with notification
//! support; others ignore it), or to a command of the user's choice (such
//! as `notify-send`), which gets the title and the body as two arguments.
//! Everything shown is cleaned of control characters first: a message
//! cannot smuggle escape sequences into the terminal or the command line.

use std::fmt;
use std::io;
use std::process::{Command, Stdio};

use serde::Deserialize;

/// How much a desktop notification says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// No desktop notification.
    None,
    /// "New message" and nothing else (the default).
    #[default]
    NewMessage,
    /// Who wrote or what changed, without the message's text.
    Sender,
    /// The message's text too (it then leaves Padlock for the desktop's
    /// notification service, which may keep it).
    FullText,
}

impl Level {
    /// Every level, as `/notify` and the configuration file name them.
    pub const ALL: [Self; 4] = [Self::None, Self::NewMessage, Self::Sender, Self::FullText];

    /// Its name in the configuration file and in `/notify`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::NewMessage => "new-message",
            Self::Sender => "sender",
            Self::FullText => "full-text",
        }
    }

    /// The level named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.name() == name)
    }
}

/// The notification settings (`[notifications]` in the configuration
/// file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifications {
    /// What a desktop notification says.
    pub level: Level,
    /// Ring the terminal bell too.
    pub bell: bool,
    /// A program (and its first arguments) that shows a notification; it
    /// gets the title and the body as two more arguments. `None`: the
    /// terminal is asked (OSC 777).
    pub command: Option<Vec<String>>,
}

impl Default for Notifications {
    fn default() -> Self {
        Self {
            level: Level::NewMessage,
            bell: true,
            command: None,
        }
    }
}

/// What happened in a chat that is not on screen.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A message arrived.
    Message {
        /// The contact (bare JID).
        contact: &'a str,
        /// Its text.
        text: &'a str,
    },
    /// The chat's privacy changed, a key warning, or the contact asks to
    /// authenticate: `line` says what.
    Changed {
        /// The contact (bare JID).
        contact: &'a str,
        /// Padlock's line about it.
        line: &'a str,
    },
}

/// One desktop notification. `Debug` does not show the body (it may be a
/// message's text).
#[derive(Clone, PartialEq, Eq)]
pub struct Notification {
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("title", &self.title)
            .field(
                "body",
                &format_args!("<{} chars>", self.body.chars().count()),
            )
            .finish()
    }
}

/// The longest body shown; a longer text is cut with "…".
pub const MAX_BODY_CHARS: usize = 200;

/// The notification `level` allows for `event`, if any.
pub fn notification(level: Level, event: Event<'_>) -> Option<Notification> {
    let (title, body) = match (level, event) {
        (Level::None, _) => return None,
        (Level::NewMessage, Event::Message { .. }) => ("Padlock".to_owned(), "New message".into()),
        (Level::NewMessage, Event::Changed { .. }) => {
            ("Padlock".to_owned(), "A chat needs your attention".into())
        }
        (Level::Sender, Event::Message { contact, .. }) => {
            (format!("Padlock: {contact}"), "New message".into())
        }
        (Level::Sender | Level::FullText, Event::Changed { contact, line }) => {
            (format!("Padlock: {contact}"), line.to_owned())
        }
        (Level::FullText, Event::Message { contact, text }) => {
            (format!("Padlock: {contact}"), text.to_owned())
        }
    };
    Some(Notification {
        title: clean(&title, MAX_BODY_CHARS),
        body: clean(&body, MAX_BODY_CHARS),
    })
}

/// `text` without control characters (line breaks become spaces), at most
/// `max` characters.
fn clean(text: &str, max: usize) -> String {
    let mut cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cleaned.chars().count() > max {
        cleaned = cleaned.chars().take(max.saturating_sub(1)).collect();
        cleaned.push('…');
    }
    cleaned
}

/// The OSC 777 sequence that asks the terminal for a desktop notification.
/// The title cannot hold `;` (the sequence's separator).
pub fn osc777(notification: &Notification) -> String {
    format!(
        "\x1b]777;notify;{};{}\x1b\\",
        notification.title.replace(';', ","),
        notification.body
    )
}

/// Runs the user's notification command with the title and the body as
/// its last two arguments, without a shell and without waiting for it.
pub fn run_command(command: &[String], notification: &Notification) -> io::Result<()> {
    let Some((program, args)) = command.split_first() else {
        return Err(io::Error::other("the notification command is empty"));
    };
    let mut child = Command::new(program)
        .args(args)
        .arg(&notification.title)
        .arg(&notification.body)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // Reaped in the background: a slow notifier never holds the UI.
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    const MESSAGE: Event<'static> = Event::Message {
        contact: "sam@demo.padlock",
        text: "meet at the north gate",
    };

    #[test]
    fn each_level_says_only_what_it_allows() {
        assert_eq!(notification(Level::None, MESSAGE), None);
        let new = notification(Level::NewMessage, MESSAGE).unwrap();
        assert!(!format!("{}{}", new.title, new.body).contains("sam"));
        assert!(!new.body.contains("north gate"));
        let sender = notification(Level::Sender, MESSAGE).unwrap();
        assert!(sender.title.contains("sam@demo.padlock"));
        assert!(!sender.body.contains("north gate"));
        let full = notification(Level::FullText, MESSAGE).unwrap();
        assert_eq!(full.body, "meet at the north gate");
        assert!(!format!("{full:?}").contains("north gate"));
    }

    #[test]
    fn escape_sequences_in_a_message_cannot_reach_the_terminal() {
        let hostile = Event::Message {
            contact: "mallory@evil;example",
            text: "hi\x1b]52;c;ZXZpbA==\x07\x1b\\\u{9b}2J\nbye",
        };
        let n = notification(Level::FullText, hostile).unwrap();
        let sequence = osc777(&n);
        // One ESC opens the sequence, one closes it; nothing else.
        assert_eq!(sequence.matches('\x1b').count(), 2, "{sequence:?}");
        assert!(!sequence.contains('\x07') && !sequence.contains('\u{9b}'));
        assert!(sequence.starts_with("\x1b]777;notify;Padlock: mallory@evil,example;hi "));
        let long = "x".repeat(500);
        let n = notification(
            Level::FullText,
            Event::Message {
                contact: "a@b",
                text: &long,
            },
        )
        .unwrap();
        assert_eq!(n.body.chars().count(), MAX_BODY_CHARS);
    }

    #[test]
    fn the_command_gets_the_title_and_the_body() {
        let dir = std::env::temp_dir().join(format!("padlock-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let command = vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            format!("printf '%s|%s' \"$0\" \"$1\" > {}", out.display()),
        ];
        let n = notification(Level::Sender, MESSAGE).unwrap();
        run_command(&command, &n).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let written = loop {
            if let Ok(text) = std::fs::read_to_string(&out)
                && !text.is_empty()
            {
                break text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the command did not run"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(written, "Padlock: sam@demo.padlock|New message");
        assert!(run_command(&[], &n).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
