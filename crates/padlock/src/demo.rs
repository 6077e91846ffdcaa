//! `padlock demo`: the flow people are taught, between you and a built-in
//! demo contact, over an in-memory network with the real OTR engine.
//!
//! At a terminal it is the terminal UI ([`interactive`]) with Sam, a demo
//! contact driven by a small script ([`bot`]); with `--script`, or when
//! standard input or output is not a terminal, it is the text walkthrough
//! below ([`run`]), which tests and CI read.

mod bot;
pub(crate) mod interactive;

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use padlock_otr::{
    Event, Fingerprint, InstanceTag, MessageState, Otr, Output, Policy, PrivateKey, SmpEvent,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const YOU: &str = "you@padlock.demo";
const CONTACT: &str = "demo@padlock.demo";
const SHARED_SECRET: &str = "blue heron";

/// What the user knows about a contact's keys (the demo's in-memory trust
/// store).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trust {
    Unverified,
    Verified,
}

struct Party {
    otr: Otr,
    name: &'static str,
}

struct Demo<'w, W: Write> {
    you: Party,
    contact: Party,
    rng: ChaCha20Rng,
    now: Instant,
    trust: HashMap<Fingerprint, Trust>,
    ended: bool,
    out: &'w mut W,
}

/// Runs the demo, writing the conversation to `out`.
pub(crate) fn run<W: Write>(seed: Option<u64>, out: &mut W) -> io::Result<()> {
    let mut rng = match seed {
        Some(seed) => ChaCha20Rng::seed_from_u64(seed),
        None => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
            ChaCha20Rng::from_seed(bytes)
        }
    };
    writeln!(
        out,
        "Padlock demo: a private chat with a demo contact, no server needed.\n"
    )?;
    writeln!(out, "1. A key per account. Generating yours (DSA-1024)...")?;
    let your_key = PrivateKey::generate(&mut rng);
    let contact_key = PrivateKey::generate(&mut rng);
    let you = Party {
        otr: Otr::new(your_key, InstanceTag::random(&mut rng), Policy::MANUAL),
        name: YOU,
    };
    let contact = Party {
        otr: Otr::new(contact_key, InstanceTag::random(&mut rng), Policy::MANUAL),
        name: CONTACT,
    };
    writeln!(out, "   Your fingerprint:  {}", you.otr.fingerprint())?;
    writeln!(out, "   {CONTACT}'s:  {}\n", contact.otr.fingerprint())?;
    let mut demo = Demo {
        you,
        contact,
        rng,
        now: Instant::now(),
        trust: HashMap::new(),
        ended: false,
        out,
    };
    demo.walk()
}

impl<W: Write> Demo<'_, W> {
    fn walk(&mut self) -> io::Result<()> {
        writeln!(self.out, "2. You open a chat with {CONTACT}: [Not private]")?;
        self.say_to_contact("hi! can we talk privately?")?;

        writeln!(self.out, "\n3. You press the padlock.")?;
        let _ = self.you.otr.start(CONTACT, self.now);
        self.drive()?;
        self.status_line()?;

        self.say_to_contact("the meeting is at 6")?;
        self.contact_says("got it, see you there")?;

        writeln!(
            self.out,
            "\n4. You authenticate {CONTACT} with a secret you both know."
        )?;
        writeln!(
            self.out,
            "   (The demo contact tells you: the secret is {SHARED_SECRET:?}.)"
        )?;
        let _ = self.you.otr.smp_start(
            CONTACT,
            None,
            SHARED_SECRET.as_bytes(),
            self.now,
            &mut self.rng,
        );
        self.drive()?;
        let _ = self
            .contact
            .otr
            .smp_answer(YOU, SHARED_SECRET.as_bytes(), self.now, &mut self.rng);
        self.drive()?;
        self.status_line()?;

        writeln!(
            self.out,
            "\n5. {CONTACT} moves to a new device (a new key)."
        )?;
        let new_key = PrivateKey::generate(&mut self.rng);
        self.contact.otr = Otr::new(new_key, InstanceTag::random(&mut self.rng), Policy::MANUAL);
        self.now += Duration::from_secs(90);
        let _ = self.contact.otr.start(YOU, self.now);
        self.drive()?;
        self.status_line()?;
        writeln!(
            self.out,
            "   Verification never carries over to a new key: authenticate again before saying anything sensitive."
        )?;

        writeln!(self.out, "\n6. You end the private chat.")?;
        self.you.otr.end(CONTACT, self.now, &mut self.rng);
        self.drive()?;
        self.status_line()?;
        writeln!(
            self.out,
            "\nThat is the whole flow. Padlock speaks the same OTR as Pidgin, Adium and Gajim."
        )
    }

    fn say_to_contact(&mut self, text: &str) -> io::Result<()> {
        let _ = self
            .you
            .otr
            .send_message(CONTACT, text, self.now, &mut self.rng);
        self.drive()
    }

    fn contact_says(&mut self, text: &str) -> io::Result<()> {
        let _ = self
            .contact
            .otr
            .send_message(YOU, text, self.now, &mut self.rng);
        self.drive()
    }

    /// Delivers messages both ways until nothing moves, narrating what you see.
    fn drive(&mut self) -> io::Result<()> {
        for _ in 0..1000 {
            let mut moved = false;
            while let Some(output) = self.you.otr.poll_output() {
                match output {
                    Output::Send { text, .. } => {
                        moved = true;
                        self.contact
                            .otr
                            .handle_incoming(YOU, &text, self.now, &mut self.rng);
                    }
                    other => self.narrate(other)?,
                }
            }
            while let Some(output) = self.contact.otr.poll_output() {
                match output {
                    Output::Send { text, .. } => {
                        moved = true;
                        self.you
                            .otr
                            .handle_incoming(CONTACT, &text, self.now, &mut self.rng);
                    }
                    Output::Message {
                        text, encrypted, ..
                    } => {
                        writeln!(self.out, "   {} you: {text}", mark(encrypted))?;
                    }
                    _ => {}
                }
            }
            if !moved {
                return Ok(());
            }
        }
        Err(io::Error::other("the demo network did not settle"))
    }

    /// What the user sees of an output of their own engine.
    fn narrate(&mut self, output: Output) -> io::Result<()> {
        match output {
            Output::Message {
                text, encrypted, ..
            } => {
                writeln!(
                    self.out,
                    "   {} {}: {text}",
                    mark(encrypted),
                    self.contact.name
                )
            }
            Output::Event { event, .. } => match event {
                Event::GoneSecure(info) => {
                    let line = match self.trust.get(&info.fingerprint) {
                        Some(Trust::Verified) => {
                            "Private conversation started with a verified key.".to_owned()
                        }
                        Some(Trust::Unverified) => {
                            "Private conversation started, but not verified.".to_owned()
                        }
                        None if self.trust.is_empty() => format!(
                            "Private conversation started, but not verified: anyone in the middle could read it. \
                             Verify {CONTACT} before sending anything sensitive. (Session id {})",
                            info.ssid
                        ),
                        None if self.trust.values().any(|t| *t == Trust::Verified) => format!(
                            "WARNING: {CONTACT} is using a NEW KEY ({}). You had verified their old key. \
                             This chat is NOT verified until you authenticate them again.",
                            info.fingerprint
                        ),
                        None => format!(
                            "{CONTACT} is contacting you from a new device/key ({}).",
                            info.fingerprint
                        ),
                    };
                    self.trust
                        .entry(info.fingerprint)
                        .or_insert(Trust::Unverified);
                    writeln!(self.out, "   * {line}")
                }
                Event::Smp(SmpEvent::Success) => {
                    if let MessageState::Encrypted(info) = self.you.otr.status(CONTACT) {
                        self.trust.insert(info.fingerprint, Trust::Verified);
                    }
                    writeln!(
                        self.out,
                        "   * Authentication succeeded: {CONTACT} knows the secret. This key is now verified."
                    )
                }
                Event::Smp(SmpEvent::Failure) => writeln!(
                    self.out,
                    "   * Authentication FAILED: the secrets differ. This may not be {CONTACT}."
                ),
                // One line per conversation, however many instances ended.
                Event::GoneInsecure if !self.ended => {
                    self.ended = true;
                    writeln!(self.out, "   * You ended the private conversation.")
                }
                Event::Finished => {
                    writeln!(self.out, "   * {CONTACT} ended the private conversation.")
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn status_line(&mut self) -> io::Result<()> {
        let state = match self.you.otr.status(CONTACT) {
            MessageState::Encrypted(info) => match self.trust.get(&info.fingerprint) {
                Some(Trust::Verified) => "[Private, verified]",
                _ => "[Private, unverified]",
            },
            MessageState::Finished => "[Finished]",
            _ => "[Not private]",
        };
        writeln!(self.out, "   Status: {state}")
    }
}

/// The mark every chat line carries, so the scrollback stays truthful.
fn mark(encrypted: bool) -> &'static str {
    if encrypted {
        "[encrypted]"
    } else {
        "[NOT encrypted]"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_walks_the_whole_flow() {
        let mut out = Vec::new();
        run(Some(42), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let order = [
            "[NOT encrypted] you: hi! can we talk privately?",
            "Private conversation started, but not verified",
            "Status: [Private, unverified]",
            "[encrypted] demo@padlock.demo: got it, see you there",
            "Authentication succeeded",
            "Status: [Private, verified]",
            "WARNING: demo@padlock.demo is using a NEW KEY",
            "Status: [Private, unverified]",
            "You ended the private conversation.",
            "Status: [Not private]",
        ];
        let mut rest = text.as_str();
        for expected in order {
            let at = rest
                .find(expected)
                .unwrap_or_else(|| panic!("missing {expected:?} in:\n{text}"));
            rest = &rest[at + expected.len()..];
        }
    }
}
