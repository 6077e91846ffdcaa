//! The dialogs: Authenticate (question, shared secret, fingerprints), the
//! loud key-change warning, and the help.

use padlock_otr::Fingerprint;

use crate::field::Field;

/// The three ways to authenticate a contact, in the order UX.md teaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A question only the contact can answer (SMP with a question).
    Question,
    /// A secret both already share (SMP).
    SharedSecret,
    /// Compare fingerprints over another channel.
    Fingerprint,
}

impl Method {
    /// All three, in tab order.
    pub const ALL: [Self; 3] = [Self::Question, Self::SharedSecret, Self::Fingerprint];

    /// Its tab title.
    pub const fn title(self) -> &'static str {
        match self {
            Self::Question => "Question and answer",
            Self::SharedSecret => "Shared secret",
            Self::Fingerprint => "Compare fingerprints",
        }
    }

    fn fields(self) -> usize {
        match self {
            Self::Question | Self::Fingerprint => 2,
            Self::SharedSecret => 1,
        }
    }
}

/// Who started the authentication the dialog shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The user authenticates the contact.
    Asking,
    /// The contact asked: answer their question (`Some`) or enter the
    /// secret both share (`None`).
    Answering {
        /// The contact's question (untrusted text).
        question: Option<String>,
    },
}

/// Where an authentication stands, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Filling in the dialog.
    Editing,
    /// Sent; waiting for the contact.
    Waiting,
    /// The contact answered; checking.
    Checking,
    /// It is over.
    Done(Outcome),
}

/// How an authentication ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The contact's key is now verified.
    Verified,
    /// The contact verified you (you answered their question); verify them
    /// back.
    ContactVerifiedUs,
    /// The answers differed: this may not be the contact.
    Failed,
    /// Someone aborted it.
    Aborted,
    /// It broke (protocol error, or the key changed meanwhile).
    Error,
    /// The core refused (the line says why).
    Refused(String),
}

/// What the paste box says about the text pasted into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasteCheck {
    /// Nothing pasted.
    Empty,
    /// Fewer than 40 hex digits so far.
    Incomplete,
    /// The pasted fingerprint is the contact's.
    Matches,
    /// It is not: do not confirm.
    Differs,
}

/// An `xmpp:` link in the paste box ([`crate::uri`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PastedLink {
    /// It starts like a link but is not a complete, well-formed one with
    /// an `otr-fingerprint`.
    Malformed,
    /// A link for this JID (bare, as in the link) with this fingerprint.
    For {
        /// The JID of the link.
        jid: String,
        /// Its fingerprint.
        fingerprint: Fingerprint,
    },
}

/// The Authenticate dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate {
    /// The contact (bare JID).
    pub contact: String,
    /// The method on screen.
    pub method: Method,
    /// Asking or answering.
    pub role: Role,
    /// The focused field of the method (0 = first).
    pub focus: usize,
    /// Question method: the question.
    pub question: Field,
    /// Question method: the expected answer; when answering: the answer or
    /// shared secret.
    pub answer: Field,
    /// Shared-secret method: the secret.
    pub secret: Field,
    /// Fingerprint method: what the contact sent over the other channel.
    pub paste: Field,
    /// The contact's fingerprint when the dialog opened: the decision is
    /// bound to it.
    pub shown: Option<Fingerprint>,
    /// Your fingerprint.
    pub mine: Option<Fingerprint>,
    /// The contact's key changed while the dialog was open.
    pub key_changed: bool,
    /// Where it stands.
    pub stage: Stage,
}

impl Authenticate {
    /// The dialog to authenticate `contact`, bound to the fingerprint shown.
    pub fn asking(contact: &str, shown: Option<Fingerprint>, mine: Option<Fingerprint>) -> Self {
        Self {
            contact: contact.to_owned(),
            method: Method::Question,
            role: Role::Asking,
            focus: 0,
            question: Field::new(),
            answer: Field::new(),
            secret: Field::new(),
            paste: Field::new(),
            shown,
            mine,
            key_changed: false,
            stage: Stage::Editing,
        }
    }

    /// The dialog to answer the contact's request.
    pub fn answering(
        contact: &str,
        question: Option<String>,
        shown: Option<Fingerprint>,
        mine: Option<Fingerprint>,
    ) -> Self {
        let method = if question.is_some() {
            Method::Question
        } else {
            Method::SharedSecret
        };
        Self {
            method,
            role: Role::Answering { question },
            ..Self::asking(contact, shown, mine)
        }
    }

    /// Tab: the next method (only when asking and not yet sent).
    pub fn next_method(&mut self, forward: bool) {
        if self.role != Role::Asking || self.stage != Stage::Editing {
            return;
        }
        let at = Method::ALL
            .iter()
            .position(|m| *m == self.method)
            .unwrap_or(0);
        let len = Method::ALL.len();
        let next = if forward {
            (at + 1) % len
        } else {
            (at + len - 1) % len
        };
        self.method = Method::ALL.get(next).copied().unwrap_or(Method::Question);
        self.focus = 0;
    }

    /// Up/Down: the previous or next field of the method.
    pub fn move_focus(&mut self, forward: bool) {
        let fields = self.field_count();
        self.focus = if forward {
            (self.focus + 1).min(fields.saturating_sub(1))
        } else {
            self.focus.saturating_sub(1)
        };
    }

    /// How many fields the current view has.
    pub fn field_count(&self) -> usize {
        match self.role {
            Role::Answering { .. } => 1,
            Role::Asking => self.method.fields(),
        }
    }

    /// Whether the focus is on the last field (Enter then submits).
    pub fn on_last_field(&self) -> bool {
        self.focus + 1 >= self.field_count()
    }

    /// The text field under the focus, if the focus is on one.
    pub fn focused_field(&mut self) -> Option<&mut Field> {
        if self.stage != Stage::Editing {
            return None;
        }
        match (&self.role, self.method, self.focus) {
            (Role::Answering { .. }, _, _) => Some(&mut self.answer),
            (Role::Asking, Method::Question, 0) => Some(&mut self.question),
            (Role::Asking, Method::Question, _) => Some(&mut self.answer),
            (Role::Asking, Method::SharedSecret, _) => Some(&mut self.secret),
            (Role::Asking, Method::Fingerprint, 0) => Some(&mut self.paste),
            (Role::Asking, Method::Fingerprint, _) => None,
        }
    }

    /// What the paste box says. A pasted `xmpp:` link is compared by its
    /// fingerprint, and only if it is for the contact of the dialog: a
    /// link for anyone else, or a malformed one, [`PasteCheck::Differs`]
    /// ([`Authenticate::pasted_link`] says why).
    pub fn paste_check(&self) -> PasteCheck {
        match self.pasted_link() {
            None => {}
            Some(PastedLink::Malformed) => return PasteCheck::Differs,
            Some(PastedLink::For { jid, fingerprint }) => {
                return if self.is_contact(&jid) && self.shown == Some(fingerprint) {
                    PasteCheck::Matches
                } else {
                    PasteCheck::Differs
                };
            }
        }
        let digits: String = self
            .paste
            .as_str()
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect();
        let other = self
            .paste
            .as_str()
            .chars()
            .any(|c| !c.is_ascii_hexdigit() && !c.is_whitespace() && c != ':');
        if digits.is_empty() && !other {
            return PasteCheck::Empty;
        }
        let Some(shown) = self.shown else {
            return PasteCheck::Differs;
        };
        let expected = shown.to_hex();
        if !other && digits.len() < expected.len() {
            return if expected.starts_with(&digits.to_ascii_lowercase()) {
                PasteCheck::Incomplete
            } else {
                PasteCheck::Differs
            };
        }
        if !other && digits.eq_ignore_ascii_case(&expected) {
            PasteCheck::Matches
        } else {
            PasteCheck::Differs
        }
    }

    /// The `xmpp:` link in the paste box, if what is there starts like one.
    pub fn pasted_link(&self) -> Option<PastedLink> {
        let text = self.paste.as_str().trim_start();
        if !text
            .get(..5)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("xmpp:"))
        {
            return None;
        }
        Some(match crate::uri::parse_fingerprint_uri(text) {
            Some((jid, fingerprint)) => PastedLink::For { jid, fingerprint },
            None => PastedLink::Malformed,
        })
    }

    /// Whether `jid` is the contact of the dialog (JIDs compare without
    /// regard to case).
    pub fn is_contact(&self, jid: &str) -> bool {
        jid.to_lowercase() == self.contact.to_lowercase()
    }
}

/// The loud warning: a contact the user verified now uses a new key. It
/// stays until the user chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChangeWarning {
    /// The contact (bare JID).
    pub contact: String,
    /// The resource that uses the new key.
    pub resource: String,
    /// The new key.
    pub fingerprint: Fingerprint,
    /// The core's line.
    pub line: String,
}

/// A dialog over the chat.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Modal {
    /// The loud key-change warning.
    KeyChange(KeyChangeWarning),
    /// The Authenticate dialog.
    Authenticate(Box<Authenticate>),
    /// The help (lines of text).
    Help(Vec<String>),
    /// The Security settings screen.
    Security(Box<crate::security::Security>),
}

/// Splits a fingerprint into its five groups of eight.
pub fn groups(fingerprint: &Fingerprint) -> Vec<String> {
    fingerprint
        .to_string()
        .split(' ')
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(byte: u8) -> Fingerprint {
        Fingerprint([byte; 20])
    }

    #[test]
    fn the_paste_box_compares_with_the_fingerprint_shown() {
        let mut dialog = Authenticate::asking("sam@demo.padlock", Some(fp(0xab)), Some(fp(1)));
        assert_eq!(dialog.paste_check(), PasteCheck::Empty);
        dialog.paste.insert_str("ABABABAB abab");
        assert_eq!(dialog.paste_check(), PasteCheck::Incomplete);
        dialog.paste.clear();
        dialog.paste.insert_str(&fp(0xab).to_string());
        assert_eq!(dialog.paste_check(), PasteCheck::Matches);
        dialog.paste.insert('0');
        assert_eq!(dialog.paste_check(), PasteCheck::Differs);
        dialog.paste.clear();
        dialog.paste.insert_str("ABABABAC");
        assert_eq!(dialog.paste_check(), PasteCheck::Differs);
    }

    fn link(jid: &str, fingerprint: &Fingerprint) -> String {
        crate::uri::fingerprint_uri(jid, fingerprint)
    }

    #[test]
    fn the_paste_box_compares_a_link_for_the_contact() {
        let mut dialog = Authenticate::asking("sam@demo.padlock", Some(fp(0xab)), Some(fp(1)));
        dialog
            .paste
            .insert_str(&link("sam@demo.padlock", &fp(0xab)));
        assert_eq!(dialog.paste_check(), PasteCheck::Matches);
        assert_eq!(
            dialog.pasted_link(),
            Some(PastedLink::For {
                jid: "sam@demo.padlock".into(),
                fingerprint: fp(0xab)
            })
        );
        // Upper case, another client's form, a resource, a JID in
        // another case, a line break from the paste.
        dialog.paste.clear();
        dialog.paste.insert_str(&format!(
            "XMPP:Sam@Demo.Padlock/phone?subscribe;otr-fingerprint={}\n",
            "AB".repeat(20)
        ));
        assert_eq!(dialog.paste_check(), PasteCheck::Matches);
        // Another key for the contact.
        dialog.paste.clear();
        dialog
            .paste
            .insert_str(&link("sam@demo.padlock", &fp(0xac)));
        assert_eq!(dialog.paste_check(), PasteCheck::Differs);
    }

    #[test]
    fn a_link_for_someone_else_or_a_broken_one_differs() {
        let mut dialog = Authenticate::asking("sam@demo.padlock", Some(fp(0xab)), Some(fp(1)));
        // The right key in a link for another JID (say, a relay that
        // forwards Sam's key as its own): not Sam's.
        dialog
            .paste
            .insert_str(&link("mallory@demo.padlock", &fp(0xab)));
        assert_eq!(dialog.paste_check(), PasteCheck::Differs);
        assert_eq!(
            dialog.pasted_link(),
            Some(PastedLink::For {
                jid: "mallory@demo.padlock".into(),
                fingerprint: fp(0xab)
            })
        );
        // Cut short, or with spaces inside the digits.
        for text in [
            "xmpp:sam@demo.padlock?otr-fingerprint=abab",
            "xmpp:sam@demo.padlock",
            "xmpp:",
            "xmpp:sam@demo.padlock?otr-fingerprint=ABABABAB ABABABAB ABABABAB ABABABAB ABABABAB",
        ] {
            dialog.paste.clear();
            dialog.paste.insert_str(text);
            assert_eq!(dialog.paste_check(), PasteCheck::Differs, "{text}");
            assert_eq!(dialog.pasted_link(), Some(PastedLink::Malformed), "{text}");
        }
        // Without a fingerprint shown there is nothing to match.
        let mut unknown = Authenticate::asking("sam@demo.padlock", None, None);
        unknown
            .paste
            .insert_str(&link("sam@demo.padlock", &fp(0xab)));
        assert_eq!(unknown.paste_check(), PasteCheck::Differs);
        // Plain groups are still read as before.
        dialog.paste.clear();
        dialog.paste.insert_str(&fp(0xab).to_string());
        assert_eq!(dialog.pasted_link(), None);
        assert_eq!(dialog.paste_check(), PasteCheck::Matches);
    }

    #[test]
    fn tab_cycles_the_methods_only_when_asking() {
        let mut dialog = Authenticate::asking("sam@demo.padlock", None, None);
        dialog.next_method(true);
        assert_eq!(dialog.method, Method::SharedSecret);
        dialog.next_method(false);
        dialog.next_method(false);
        assert_eq!(dialog.method, Method::Fingerprint);
        let mut answering = Authenticate::answering("sam@demo.padlock", None, None, None);
        answering.next_method(true);
        assert_eq!(answering.method, Method::SharedSecret);
    }
}
