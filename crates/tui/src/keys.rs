//! The UI's configuration file: key bindings (which key does what) and
//! notifications.
//!
//! The file (by default `$XDG_CONFIG_HOME/padlock/config.toml`) has two
//! tables, both optional. `[keys]` names actions and lists their keys; an
//! action left out keeps its defaults. `[notifications]` says what a
//! background chat does: `level` is `none`, `new-message` (the default),
//! `sender` or `full-text` (see [`crate::notify`]), `bell` rings the
//! terminal bell too (default `true`), `command` is a program that shows
//! desktop notifications instead of the terminal (`["notify-send"]`). The
//! defaults are:
//!
//! ```toml
//! [keys]
//! padlock = ["F2", "Ctrl-p"]          # start, refresh or end the private chat
//! authenticate = ["F3"]               # the Authenticate dialog
//! security = ["F4"]                   # the Security settings screen
//! next_contact = ["Alt-Down", "Ctrl-n"]
//! previous_contact = ["Alt-Up"]
//! scroll_up = ["PageUp"]
//! scroll_down = ["PageDown"]
//! help = ["F1"]
//! quit = ["Ctrl-q"]
//!
//! [notifications]
//! level = "new-message"
//! bell = true
//! ```
//!
//! A key is `F1`..`F12`, `Enter`, `Esc`, `Tab`, `Backspace`, `Up`, `Down`,
//! `Left`, `Right`, `Home`, `End`, `PageUp`, `PageDown`, `Insert`, `Delete`,
//! or one character, optionally after `Ctrl-`, `Alt-` and/or `Shift-`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::{fmt, fs, io};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use crate::notify::{Level, Notifications};

/// What a bound key does (the keys that are not plain typing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Binding {
    /// The padlock: start, refresh or end the private chat.
    Padlock,
    /// Open the Authenticate dialog.
    Authenticate,
    /// Open the Security settings screen.
    Security,
    /// Select the next contact.
    NextContact,
    /// Select the previous contact.
    PreviousContact,
    /// Scroll the chat up.
    ScrollUp,
    /// Scroll the chat down.
    ScrollDown,
    /// Show the help.
    Help,
    /// Quit.
    Quit,
}

impl Binding {
    /// Every binding, in the order the help lists them.
    pub const ALL: [Self; 9] = [
        Self::Padlock,
        Self::Authenticate,
        Self::Security,
        Self::NextContact,
        Self::PreviousContact,
        Self::ScrollUp,
        Self::ScrollDown,
        Self::Help,
        Self::Quit,
    ];

    /// Its name in the configuration file.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Padlock => "padlock",
            Self::Authenticate => "authenticate",
            Self::Security => "security",
            Self::NextContact => "next_contact",
            Self::PreviousContact => "previous_contact",
            Self::ScrollUp => "scroll_up",
            Self::ScrollDown => "scroll_down",
            Self::Help => "help",
            Self::Quit => "quit",
        }
    }

    fn defaults(self) -> &'static [&'static str] {
        match self {
            Self::Padlock => &["F2", "Ctrl-p"],
            Self::Authenticate => &["F3"],
            Self::Security => &["F4"],
            Self::NextContact => &["Alt-Down", "Ctrl-n"],
            Self::PreviousContact => &["Alt-Up"],
            Self::ScrollUp => &["PageUp"],
            Self::ScrollDown => &["PageDown"],
            Self::Help => &["F1"],
            Self::Quit => &["Ctrl-q"],
        }
    }
}

/// One key with its modifiers, as written in the configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    modifiers: KeyModifiers,
}

impl Key {
    /// Reads `Ctrl-p`, `F2`, `Alt-Down`...
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (modifier, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            modifiers |= modifier;
            rest = rest.get(len..).unwrap_or_default();
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backspace" => KeyCode::Backspace,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "insert" => KeyCode::Insert,
            "delete" => KeyCode::Delete,
            "space" => KeyCode::Char(' '),
            lower => match function_key(lower) {
                Some(n) => KeyCode::F(n),
                None => {
                    let mut chars = rest.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => KeyCode::Char(c.to_ascii_lowercase()),
                        _ => return Err(KeyError::Unknown(text.to_owned())),
                    }
                }
            },
        };
        Ok(Self { code, modifiers })
    }

    fn matches(&self, event: &KeyEvent) -> bool {
        let code = match event.code {
            KeyCode::Char(c) => KeyCode::Char(c.to_ascii_lowercase()),
            code => code,
        };
        // Terminals report Shift with upper-case letters; a binding without
        // Shift still matches a plain letter only.
        code == self.code && event.modifiers == self.modifiers
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::PageUp => f.write_str("PageUp"),
            KeyCode::PageDown => f.write_str("PageDown"),
            code => write!(f, "{code:?}"),
        }
    }
}

/// Where the configuration file is looked for:
/// `$XDG_CONFIG_HOME/padlock/config.toml`, else
/// `~/.config/padlock/config.toml`; `env` reads the environment.
pub fn default_path(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let config = env("XDG_CONFIG_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(config.join("padlock").join("config.toml"))
}

fn function_key(lower: &str) -> Option<u8> {
    let n: u8 = lower.strip_prefix('f')?.parse().ok()?;
    (1..=12).contains(&n).then_some(n)
}

/// A key binding file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The file is not TOML of the expected shape.
    Syntax(String),
    /// An action name that does not exist.
    UnknownAction(String),
    /// A key name that cannot be read.
    Unknown(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(error) => write!(f, "the configuration file cannot be read: {error}"),
            Self::UnknownAction(name) => {
                let names: Vec<&str> = Binding::ALL.iter().map(|b| b.name()).collect();
                write!(
                    f,
                    "unknown action {name:?} in [keys] of the configuration file; expected \
                     one of: {}",
                    names.join(", ")
                )
            }
            Self::Unknown(key) => write!(
                f,
                "unknown key {key:?}: expected F1..F12, Enter, Esc, Tab, Up, Down, PageUp, \
                 PageDown, Home, End, ... or one character, after Ctrl-, Alt- or Shift-"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// Which key does what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    bindings: BTreeMap<Binding, Vec<Key>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    keys: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    notifications: NotificationsFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NotificationsFile {
    level: Option<Level>,
    bell: Option<bool>,
    command: Option<Vec<String>>,
}

/// Everything the configuration file sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The key bindings.
    pub keys: KeyMap,
    /// What background chats do.
    pub notifications: Notifications,
}

impl Config {
    /// Reads a configuration file (see the module documentation); what it
    /// leaves out keeps its default.
    pub fn from_toml(text: &str) -> Result<Self, KeyError> {
        let file: File = toml::from_str(text).map_err(|e| KeyError::Syntax(e.to_string()))?;
        let defaults = Notifications::default();
        let command = file.notifications.command.filter(|c| !c.is_empty());
        Ok(Self {
            keys: KeyMap::from_names(file.keys)?,
            notifications: Notifications {
                level: file.notifications.level.unwrap_or(defaults.level),
                bell: file.notifications.bell.unwrap_or(defaults.bell),
                command,
            },
        })
    }

    /// Reads the configuration file at `path`; the defaults when there is
    /// no such file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        match fs::read_to_string(path) {
            Ok(text) => Self::from_toml(&text),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(KeyError::Syntax(format!("{}: {error}", path.display()))),
        }
    }
}

impl KeyMap {
    /// Reads the `[keys]` of a configuration file (see the module
    /// documentation); actions it leaves out keep their defaults.
    pub fn from_toml(text: &str) -> Result<Self, KeyError> {
        Config::from_toml(text).map(|config| config.keys)
    }

    fn from_names(names: BTreeMap<String, Vec<String>>) -> Result<Self, KeyError> {
        let mut map = Self::default();
        for (name, keys) in names {
            let binding = Binding::ALL
                .into_iter()
                .find(|b| b.name() == name)
                .ok_or(KeyError::UnknownAction(name))?;
            let keys = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()?;
            map.bindings.insert(binding, keys);
        }
        Ok(map)
    }

    /// The binding a key event triggers, if any.
    pub fn binding(&self, event: &KeyEvent) -> Option<Binding> {
        self.bindings
            .iter()
            .find(|(_, keys)| keys.iter().any(|k| k.matches(event)))
            .map(|(binding, _)| *binding)
    }

    /// The keys of a binding, for the help and the status bar.
    pub fn keys(&self, binding: Binding) -> &[Key] {
        self.bindings.get(&binding).map_or(&[], Vec::as_slice)
    }

    /// The first key of a binding as text ("F2"), or the binding's name
    /// when it has no key.
    pub fn label(&self, binding: Binding) -> String {
        self.keys(binding)
            .first()
            .map_or_else(|| binding.name().to_owned(), Key::to_string)
    }
}

impl Default for KeyMap {
    fn default() -> Self {
        let mut bindings = BTreeMap::new();
        for binding in Binding::ALL {
            let keys = binding
                .defaults()
                .iter()
                .filter_map(|k| Key::parse(k).ok())
                .collect();
            bindings.insert(binding, keys);
        }
        Self { bindings }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests: failures are test failures")]
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn defaults_bind_the_padlock_to_f2_and_ctrl_p() {
        let map = KeyMap::default();
        assert_eq!(
            map.binding(&press(KeyCode::F(2), KeyModifiers::NONE)),
            Some(Binding::Padlock)
        );
        assert_eq!(
            map.binding(&press(KeyCode::Char('p'), KeyModifiers::CONTROL)),
            Some(Binding::Padlock)
        );
        assert_eq!(
            map.binding(&press(KeyCode::Char('p'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(map.label(Binding::Authenticate), "F3");
    }

    #[test]
    fn a_file_overrides_only_what_it_names() {
        let map = KeyMap::from_toml("[keys]\npadlock = [\"F5\", \"Alt-l\"]\n").unwrap_or_default();
        assert_eq!(
            map.binding(&press(KeyCode::F(5), KeyModifiers::NONE)),
            Some(Binding::Padlock)
        );
        assert_eq!(
            map.binding(&press(KeyCode::Char('l'), KeyModifiers::ALT)),
            Some(Binding::Padlock)
        );
        assert_eq!(map.binding(&press(KeyCode::F(2), KeyModifiers::NONE)), None);
        assert_eq!(
            map.binding(&press(KeyCode::F(3), KeyModifiers::NONE)),
            Some(Binding::Authenticate)
        );
    }

    #[test]
    fn the_file_is_found_in_the_config_directory() {
        let env = |name: &str| (name == "HOME").then(|| OsString::from("/home/u"));
        assert_eq!(
            default_path(env),
            Some(PathBuf::from("/home/u/.config/padlock/config.toml"))
        );
        let missing = Config::load(Path::new("/nonexistent/padlock/config.toml"));
        assert_eq!(missing, Ok(Config::default()));
    }

    #[test]
    fn notifications_are_read_with_their_defaults() {
        let config = Config::from_toml("[keys]\npadlock = [\"F5\"]\n").unwrap();
        assert_eq!(config.notifications, Notifications::default());
        assert_eq!(config.notifications.level, Level::NewMessage);
        let config = Config::from_toml(
            "[notifications]\nlevel = \"sender\"\nbell = false\ncommand = [\"notify-send\", \"-u\", \"low\"]\n",
        )
        .unwrap();
        assert_eq!(config.notifications.level, Level::Sender);
        assert!(!config.notifications.bell);
        assert_eq!(
            config.notifications.command,
            Some(vec!["notify-send".into(), "-u".into(), "low".into()])
        );
        assert!(Config::from_toml("[notifications]\nlevel = \"loud\"\n").is_err());
        assert!(Config::from_toml("[notifications]\nsound = true\n").is_err());
    }

    #[test]
    fn mistakes_in_the_file_say_what_is_accepted() {
        let error = KeyMap::from_toml("[keys]\npadlok = [\"F2\"]\n").err();
        assert!(matches!(error, Some(KeyError::UnknownAction(_))));
        assert!(error.is_some_and(|e| e.to_string().contains("padlock, authenticate")));
        let error = KeyMap::from_toml("[keys]\npadlock = [\"Hyper-x\"]\n").err();
        assert_eq!(error, Some(KeyError::Unknown("Hyper-x".to_owned())));
    }
}
