//! The Security settings screen: your account's key (with "Generate a new
//! key"), every contact's known keys with their trust and labels (verify,
//! unverify, forget, label, copy), export and import of keys, and your
//! fingerprint as an `xmpp:` link with its QR code ([`crate::uri`]).
//!
//! The screen shows what the store said last ([`SecurityView`], asked for
//! with [`Effect::QuerySecurity`] when it opens and after every change);
//! every change goes to the client core as a command bound to the exact
//! fingerprint on screen, so a decision is never applied to another key.

use std::path::PathBuf;

use padlock_core::{Command, SecurityView};
use padlock_otr::Fingerprint;
use padlock_store::{FingerprintRecord, Trust};

use crate::action::{Action, Effect};
use crate::dialog::groups;
use crate::field::Field;

/// A question or form over the list, waiting for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prompt {
    /// "I have verified that ... is the correct fingerprint for ...": Y/N.
    Verify {
        /// The contact.
        contact: String,
        /// The fingerprint shown.
        fingerprint: Fingerprint,
    },
    /// Forget this key and its trust: Y/N.
    Forget {
        /// The contact.
        contact: String,
        /// The fingerprint shown.
        fingerprint: Fingerprint,
    },
    /// A label for this key.
    Label {
        /// The contact.
        contact: String,
        /// The fingerprint shown.
        fingerprint: Fingerprint,
        /// The label typed.
        field: Field,
    },
    /// Generate a new key for the account: Y/N, after the warning.
    Regenerate,
    /// Export the key and the contacts' trust into an encrypted file.
    Export(FileForm),
    /// Import keys and trust: a Padlock bundle or another client's files.
    Import(FileForm),
    /// Your fingerprint as an `xmpp:` link (and its QR code where the
    /// terminal is large enough); Esc or Enter closes it.
    Link,
}

/// The fields of the export and import forms: a path and a passphrase
/// (typed twice when exporting).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileForm {
    /// Where.
    pub path: Field,
    /// The bundle's passphrase (never shown).
    pub passphrase: Field,
    /// The passphrase again (export only).
    pub repeat: Field,
    /// The focused field: 0 path, 1 passphrase, 2 repeat.
    pub focus: usize,
    /// What is wrong with what was typed.
    pub error: Option<String>,
}

impl FileForm {
    fn with_path(path: &str) -> Self {
        let mut form = Self::default();
        form.path.insert_str(path);
        form
    }

    fn focused(&mut self) -> &mut Field {
        match self.focus {
            0 => &mut self.path,
            1 => &mut self.passphrase,
            _ => &mut self.repeat,
        }
    }
}

/// One key in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    /// The contact.
    pub contact: &'a str,
    /// The key.
    pub record: &'a FingerprintRecord,
    /// The private conversation uses it now.
    pub in_use: bool,
}

/// The screen's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Security {
    view: Option<SecurityView>,
    selected: usize,
    /// Select this contact's first key when the view arrives.
    focus_contact: Option<String>,
    prompt: Option<Prompt>,
    note: Option<String>,
    regenerating: bool,
}

/// What an action on the screen asks of the app.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// Close the screen.
    pub close: bool,
    /// Effects, in order.
    pub effects: Vec<Effect>,
}

impl Reply {
    fn effects(effects: Vec<Effect>) -> Self {
        Self {
            close: false,
            effects,
        }
    }
}

impl Security {
    /// The screen, waiting for the store's view; `contact`'s first key
    /// is selected once it arrives.
    pub fn new(contact: Option<String>) -> Self {
        Self {
            focus_contact: contact,
            ..Self::default()
        }
    }

    /// The screen with a prompt already open (`/export`, `/import`,
    /// `/otr gen`).
    pub fn with_prompt(mut self, prompt: Prompt) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// The export form, with `path` typed in.
    pub fn export_prompt(path: &str) -> Prompt {
        Prompt::Export(FileForm::with_path(path))
    }

    /// The import form, with `path` typed in.
    pub fn import_prompt(path: &str) -> Prompt {
        Prompt::Import(FileForm::with_path(path))
    }

    /// What the store said last, if it answered yet.
    pub fn view(&self) -> Option<&SecurityView> {
        self.view.as_ref()
    }

    /// The index of the selected key in [`Security::rows`].
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The open prompt.
    pub fn prompt(&self) -> Option<&Prompt> {
        self.prompt.as_ref()
    }

    /// The last result or hint.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// A new key is being generated.
    pub fn is_regenerating(&self) -> bool {
        self.regenerating
    }

    /// Every contact's keys, contact by contact, in the order first seen.
    pub fn rows(&self) -> Vec<Row<'_>> {
        let Some(view) = &self.view else {
            return Vec::new();
        };
        view.contacts
            .iter()
            .flat_map(|contact| {
                contact.keys.iter().map(move |record| Row {
                    contact: &contact.jid,
                    record,
                    in_use: contact.in_use == Some(record.fingerprint),
                })
            })
            .collect()
    }

    /// The store's view arrived.
    pub fn set_view(&mut self, view: SecurityView) {
        self.view = Some(view);
        if let Some(contact) = self.focus_contact.take()
            && let Some(index) = self.rows().iter().position(|row| row.contact == contact)
        {
            self.selected = index;
        }
        self.selected = self.selected.min(self.rows().len().saturating_sub(1));
    }

    /// A line to show at the bottom (a result, an error).
    pub fn set_note(&mut self, note: String) {
        self.note = Some(note);
    }

    /// The new key is in use (or could not be made).
    pub fn regenerated(&mut self, note: String) {
        self.regenerating = false;
        self.note = Some(note);
    }

    /// Whether the prompt on top has text fields (keys type into them).
    pub fn is_typing(&self) -> bool {
        matches!(
            self.prompt,
            Some(Prompt::Label { .. } | Prompt::Export(_) | Prompt::Import(_))
        )
    }

    /// Whether a yes/no question is open.
    pub fn is_asking(&self) -> bool {
        matches!(
            self.prompt,
            Some(Prompt::Verify { .. } | Prompt::Forget { .. } | Prompt::Regenerate)
        )
    }

    fn selected_row(&self) -> Option<(String, Fingerprint, Trust)> {
        self.rows().get(self.selected).map(|row| {
            (
                row.contact.to_owned(),
                row.record.fingerprint,
                row.record.trust,
            )
        })
    }

    /// Carries out one action of the user.
    pub fn handle(&mut self, action: Action) -> Reply {
        if self.prompt.is_some() {
            return self.handle_prompt(action);
        }
        match action {
            Action::Cancel => Reply {
                close: true,
                effects: Vec::new(),
            },
            Action::Up | Action::ScrollUp => {
                self.selected = self.selected.saturating_sub(1);
                Reply::default()
            }
            Action::Down | Action::ScrollDown => {
                self.selected = (self.selected + 1).min(self.rows().len().saturating_sub(1));
                Reply::default()
            }
            Action::Insert(c) => self.choose(c.to_ascii_lowercase()),
            _ => Reply::default(),
        }
    }

    fn choose(&mut self, key: char) -> Reply {
        self.note = None;
        match key {
            'g' => {
                if self.regenerating {
                    self.note = Some("Your new key is being generated.".to_owned());
                } else {
                    self.prompt = Some(Prompt::Regenerate);
                }
                return Reply::default();
            }
            'e' => {
                self.prompt = Some(Prompt::Export(FileForm::default()));
                return Reply::default();
            }
            'i' => {
                self.prompt = Some(Prompt::Import(FileForm::default()));
                return Reply::default();
            }
            'q' => {
                self.prompt = Some(Prompt::Link);
                return Reply::default();
            }
            _ => {}
        }
        let Some((contact, fingerprint, trust)) = self.selected_row() else {
            self.note = Some("No contact's key is known yet.".to_owned());
            return Reply::default();
        };
        match key {
            'v' => {
                self.prompt = Some(Prompt::Verify {
                    contact,
                    fingerprint,
                })
            }
            'u' if trust == Trust::Unverified => {
                self.note = Some("That key is not verified.".to_owned());
            }
            'u' => {
                return Reply::effects(vec![
                    Effect::Command(Command::Unverify {
                        contact,
                        fingerprint,
                    }),
                    Effect::QuerySecurity,
                ]);
            }
            'f' => {
                self.prompt = Some(Prompt::Forget {
                    contact,
                    fingerprint,
                })
            }
            'l' => {
                let mut field = Field::new();
                if let Some(label) = self
                    .rows()
                    .get(self.selected)
                    .and_then(|row| row.record.label.as_deref())
                {
                    field.insert_str(label);
                }
                self.prompt = Some(Prompt::Label {
                    contact,
                    fingerprint,
                    field,
                });
            }
            'c' => {
                self.note = Some(format!(
                    "{contact}'s fingerprint is on the clipboard (where the terminal lets \
                     programs set it)."
                ));
                return Reply::effects(vec![Effect::Copy(groups(&fingerprint).join(" "))]);
            }
            _ => {}
        }
        Reply::default()
    }

    fn handle_prompt(&mut self, action: Action) -> Reply {
        let Some(prompt) = self.prompt.as_mut() else {
            return Reply::default();
        };
        if action == Action::Cancel {
            self.prompt = None;
            return Reply::default();
        }
        let exporting = matches!(prompt, Prompt::Export(_));
        match prompt {
            Prompt::Link => {
                if matches!(action, Action::Submit | Action::Insert('q' | 'Q')) {
                    self.prompt = None;
                }
                Reply::default()
            }
            Prompt::Verify { .. } | Prompt::Forget { .. } | Prompt::Regenerate => match action {
                Action::Insert('y' | 'Y') | Action::Submit => self.confirm(),
                Action::Insert('n' | 'N') => {
                    self.prompt = None;
                    Reply::default()
                }
                _ => Reply::default(),
            },
            Prompt::Label { field, .. } => {
                if action == Action::Submit {
                    return self.confirm();
                }
                edit(field, action);
                Reply::default()
            }
            Prompt::Export(form) | Prompt::Import(form) => {
                // The export form has the passphrase twice.
                let fields = if exporting { 3 } else { 2 };
                match action {
                    Action::NextField | Action::Down => form.focus = (form.focus + 1) % fields,
                    Action::PreviousField | Action::Up => {
                        form.focus = (form.focus + fields - 1) % fields;
                    }
                    Action::Submit => return self.confirm(),
                    other => edit(form.focused(), other),
                }
                Reply::default()
            }
        }
    }

    fn confirm(&mut self) -> Reply {
        let Some(prompt) = self.prompt.take() else {
            return Reply::default();
        };
        let command = match prompt {
            Prompt::Verify {
                contact,
                fingerprint,
            } => Command::VerifyFingerprint {
                contact,
                fingerprint,
            },
            Prompt::Forget {
                contact,
                fingerprint,
            } => Command::Forget {
                contact,
                fingerprint,
            },
            Prompt::Label {
                contact,
                fingerprint,
                field,
            } => Command::Label {
                contact,
                fingerprint,
                label: Some(field.as_str().to_owned()).filter(|l| !l.trim().is_empty()),
            },
            Prompt::Regenerate => {
                self.regenerating = true;
                self.note = Some(
                    "Generating your new key in the background; you can keep chatting. It \
                     replaces the old one when it is ready."
                        .to_owned(),
                );
                return Reply::effects(vec![Effect::RegenerateKey]);
            }
            Prompt::Export(mut form) => return self.export(&mut form),
            Prompt::Import(mut form) => return self.import(&mut form),
            Prompt::Link => return Reply::default(),
        };
        Reply::effects(vec![Effect::Command(command), Effect::QuerySecurity])
    }

    fn export(&mut self, form: &mut FileForm) -> Reply {
        let error = if form.path.as_str().trim().is_empty() {
            Some("Type where to write the file.")
        } else if form.passphrase.is_empty() {
            Some("Choose a passphrase: you type it again on the other device.")
        } else if form.passphrase.as_str() != form.repeat.as_str() {
            Some("The two passphrases differ.")
        } else {
            None
        };
        if let Some(error) = error {
            form.error = Some(error.to_owned());
            self.prompt = Some(Prompt::Export(std::mem::take(form)));
            return Reply::default();
        }
        let path = PathBuf::from(form.path.as_str().trim());
        self.note = Some(format!("Exporting to {}...", path.display()));
        Reply::effects(vec![Effect::Export {
            path,
            passphrase: form.passphrase.take(),
        }])
    }

    fn import(&mut self, form: &mut FileForm) -> Reply {
        if form.path.as_str().trim().is_empty() {
            form.error = Some("Type the file or directory to import.".to_owned());
            self.prompt = Some(Prompt::Import(std::mem::take(form)));
            return Reply::default();
        }
        let path = PathBuf::from(form.path.as_str().trim());
        self.note = Some(format!("Importing {}...", path.display()));
        let passphrase = (!form.passphrase.is_empty()).then(|| form.passphrase.take());
        Reply::effects(vec![Effect::Import { path, passphrase }])
    }
}

fn edit(field: &mut Field, action: Action) {
    match action {
        Action::Insert(c) => field.insert(c),
        Action::Paste(text) => field.insert_str(text.as_str()),
        Action::Backspace => field.backspace(),
        Action::Delete => field.delete(),
        Action::Left => field.left(),
        Action::Right => field.right(),
        Action::Home => field.home(),
        Action::End => field.end(),
        _ => {}
    }
}
