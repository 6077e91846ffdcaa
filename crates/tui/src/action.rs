//! What the user can do: every key and every typed command becomes one
//! [`Action`], and the [`crate::App`] changes only through actions and the
//! runtime's events. What the app asks of the outside world is an
//! [`Effect`].

use std::path::PathBuf;

use padlock_core::{Command, Sensitive};
use padlock_otr::Policy;

/// One thing the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// The padlock: start the private chat (not private), start it again
    /// (starting, finished, interrupted), or end it (private: asks once
    /// more).
    Padlock,
    /// Open the Authenticate dialog (`/otr verify`, `/verify`).
    Authenticate,
    /// Select the next contact.
    NextContact,
    /// Select the previous contact.
    PreviousContact,
    /// Select a contact by bare JID.
    SelectContact(String),
    /// Scroll the chat towards older lines.
    ScrollUp,
    /// Scroll the chat towards newer lines.
    ScrollDown,
    /// Show the help, of everything or of one command.
    Help(Option<String>),
    /// Quit (private chats are ended first).
    Quit,

    /// Type a character (in the input line or the focused field).
    Insert(char),
    /// Paste text (it may be a secret: never in `Debug`).
    Paste(Sensitive),
    /// Copy your own fingerprint to the clipboard (in the Authenticate
    /// dialog), to send it to the contact over another channel.
    CopyFingerprint,
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Move the cursor left.
    Left,
    /// Move the cursor right.
    Right,
    /// Move the cursor to the start.
    Home,
    /// Move the cursor to the end.
    End,
    /// Enter: send the input line, or confirm the focused dialog step.
    Submit,
    /// Esc: close the dialog (not the loud warning, which needs a choice).
    Cancel,
    /// Tab: the next method or field of a dialog.
    NextField,
    /// Shift-Tab: the previous method or field of a dialog.
    PreviousField,
    /// Up in a dialog: the previous field.
    Up,
    /// Down in a dialog: the next field.
    Down,

    /// Send a message to the selected contact.
    Send(Sensitive),
    /// `/otr start`: make the chat private (or refresh it).
    StartPrivate,
    /// `/otr end`: end the private chat.
    EndPrivate,
    /// `/otr trust`: mark the contact's current key verified (you compared
    /// it over another channel).
    Trust,
    /// `/otr untrust`: mark the contact's current key unverified.
    Untrust,
    /// `/otr accept`: after the loud warning, accept the new key without
    /// verifying it (held messages go out; it stays unverified).
    AcceptKey,
    /// `/otr secret`: authenticate with a secret both share (or answer the
    /// contact's request for it).
    Secret(Sensitive),
    /// `/otr question`: ask a question only the contact can answer.
    Question {
        /// The question shown to the contact.
        question: String,
        /// The expected answer.
        answer: Sensitive,
    },
    /// `/otr answer`: answer the contact's question.
    Answer(Sensitive),
    /// `/otr abort`: abort the authentication under way.
    AbortAuthentication,
    /// `/otr myfp`: show your fingerprint.
    MyFingerprint,
    /// `/otr theirfp`: show the contact's fingerprint.
    TheirFingerprint,
    /// `/fingerprints`: the contact's keys seen and their trust.
    Fingerprints,
    /// `/forget`: forget the contact's keys.
    Forget,
    /// `/otr gen`: generate your key (or, when you have one, open the
    /// Security settings to generate a new one).
    GenerateKey,
    /// `/security` (F4): the Security settings screen.
    Security,
    /// `/export [FILE]`: export your key and your contacts' trust.
    Export(Option<String>),
    /// `/import [PATH]`: import keys and trust (a Padlock bundle, or
    /// another client's files).
    Import(Option<String>),
    /// `/otr policy [...]`: show (`None`) or set the policy.
    Policy(Option<PolicyChange>),
    /// `/otr log [on|off]`: show (`None`) or set whether private chats are
    /// logged on this device.
    Log(Option<bool>),
    /// `/status`: the selected chat's state in words.
    Status,
    /// `/resource [name]`: list the contact's online resources, or lock
    /// the chat to one.
    Resource(Option<String>),
    /// `/notify [level]`: show (`None`) or set how much a notification
    /// of a background chat says.
    Notify(Option<crate::notify::Level>),
    /// A command of the front end (`/demo ...`): the words after the slash.
    Extension(Vec<String>),

    /// Loud key-change warning: verify the new key now.
    WarningVerify,
    /// Loud key-change warning: accept the new key without verifying.
    WarningAccept,
    /// Loud key-change warning: end the private chat.
    WarningEnd,
}

/// `/otr policy NAME [contact|account|global]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyChange {
    /// The policy; `None` (`default`) inherits from the scope above.
    pub policy: Option<Policy>,
    /// Where it applies.
    pub scope: Scope,
}

/// Where a policy set by `/otr policy` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The selected contact (the default).
    Contact,
    /// This account.
    Account,
    /// Every account.
    Global,
}

/// What the app asks of its front end (the runtime, the terminal, the
/// demo).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Effect {
    /// Give the client core this command.
    Command(Command),
    /// Quit: log out (ending private chats), then stop.
    Quit,
    /// A front-end command (`/demo newdevice`): the words after the slash.
    Extension(Vec<String>),
    /// Ring the terminal bell (something changed in a background chat).
    Bell,
    /// Show a desktop notification (a background chat), already reduced
    /// to what the privacy level allows.
    Notify(crate::notify::Notification),
    /// Put this text on the clipboard through the terminal (OSC 52).
    Copy(String),
    /// Ask the runtime for the Security settings view (answered by
    /// [`crate::Input::Security`]).
    QuerySecurity,
    /// Generate a new key for the account in the background, then give
    /// it to the core ([`padlock_core::Command::ReplaceKey`]).
    RegenerateKey,
    /// Write the key and the contacts' trust into an encrypted bundle at
    /// `path` (answered by [`crate::Input::StoreJobDone`]).
    Export {
        /// Where (an existing file is not overwritten).
        path: PathBuf,
        /// The bundle's passphrase.
        passphrase: Sensitive,
    },
    /// Import keys and trust from `path`: a Padlock bundle (with its
    /// passphrase) or another client's OTR files or directory (answered by
    /// [`crate::Input::StoreJobDone`]).
    Import {
        /// The file or directory.
        path: PathBuf,
        /// A bundle's passphrase.
        passphrase: Option<Sensitive>,
    },
}
