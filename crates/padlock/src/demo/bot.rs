//! Sam, the demo contact: a client core and a runtime of its own in this
//! process, driven by a small script. It greets, tells the shared secret
//! once the chat is private, answers authentication with it, replies to
//! messages, and on request moves to a new device (a fresh key), so the
//! user sees the key-change warning.

use std::collections::VecDeque;
use std::time::Instant;

use padlock_core::{Client, Command, Config, PrivacyState, SmpProgress, UiEvent};
use padlock_otr::{InstanceTag, Otr, Policy, PrivateKey};
use padlock_runtime::{Event, Handle, Request};
use padlock_store::MemoryStore;
use padlock_xmpp::{Input, Output, RosterEntry, Subscription};
use rand_chacha::ChaCha20Rng;
use tokio::sync::mpsc;

/// Sam's address.
pub(crate) const SAM: &str = "sam@demo.padlock";
/// Sam's device.
pub(crate) const SAM_FULL: &str = "sam@demo.padlock/phone";
/// The secret Sam and the user share (told in the chat: it is a demo).
pub(crate) const SHARED_SECRET: &str = "blue heron";

/// What the demo asks of Sam.
#[derive(Debug)]
pub(crate) enum BotCommand {
    /// Move to a new device with this fresh key.
    NewDevice(PrivateKey, InstanceTag),
}

/// Runs Sam until `commands` closes. `net` is Sam's end of the in-memory
/// network, `you` and `you_full` the user's addresses.
pub(crate) async fn run(
    key: PrivateKey,
    tag: InstanceTag,
    rng: ChaCha20Rng,
    net: padlock_xmpp::Handle,
    you: &'static str,
    you_full: &'static str,
    mut commands: mpsc::UnboundedReceiver<BotCommand>,
) {
    let (devices, device_rx) = mpsc::unbounded_channel();
    tokio::spawn(switchboard(net, you, you_full, device_rx));
    let mut rng = rng;
    let mut device = Device::start(key, tag, rng_fork(&mut rng), &devices, false);
    let mut script = Script::new(you);
    loop {
        tokio::select! {
            event = device.handle.events.recv() => match event {
                Some(event) => {
                    for request in script.react(event) {
                        let _ = device.handle.requests.send(request);
                    }
                }
                None => return,
            },
            command = commands.recv() => match command {
                Some(BotCommand::NewDevice(key, tag)) => {
                    // The old device logs out (ending the private chat),
                    // the new one logs in and makes the chat private again.
                    let _ = device.handle.requests.send(Request::Quit);
                    while let Some(event) = device.handle.events.recv().await {
                        if matches!(event, Event::Stopped { .. }) {
                            break;
                        }
                    }
                    device = Device::start(key, tag, rng_fork(&mut rng), &devices, true);
                    script = Script::new(you);
                    script.new_device = true;
                }
                None => return,
            },
        }
    }
}

/// What Sam says and does in answer to what its core reports.
struct Script {
    you: String,
    greeted: bool,
    told_secret: bool,
    new_device: bool,
}

impl Script {
    fn new(you: &str) -> Self {
        Self {
            you: you.to_owned(),
            greeted: false,
            told_secret: false,
            new_device: false,
        }
    }

    fn say(&self, text: &str) -> Request {
        Request::Command(Command::Send {
            contact: self.you.clone(),
            text: text.into(),
        })
    }

    fn react(&mut self, event: Event) -> Vec<Request> {
        match event {
            Event::Network(Output::Online { .. }) if !self.greeted => {
                self.greeted = true;
                if self.new_device {
                    return vec![Request::Command(Command::StartPrivate {
                        contact: self.you.clone(),
                    })];
                }
                vec![self.say(
                    "Hi! I'm Sam, a demo contact living inside this program. Our chat is NOT \
                     private yet: press F2 (the padlock) to make it private.",
                )]
            }
            Event::Ui(UiEvent::StateChanged { state, .. })
                if state == PrivacyState::PrivateUnverified && !self.told_secret =>
            {
                self.told_secret = true;
                let opening = if self.new_device {
                    "I moved to a new device, so I have a new key: you cannot know it is me \
                     until you authenticate me again."
                } else {
                    "We're private now, but you cannot know it is really me until you \
                     authenticate me."
                };
                vec![self.say(&format!(
                    "{opening} Press F3, Tab to \"Shared secret\" and type our secret: \
                     {SHARED_SECRET} (in real life, agree on it in person, never in the chat \
                     you are checking)."
                ))]
            }
            Event::Ui(UiEvent::Smp {
                progress: SmpProgress::SecretRequested | SmpProgress::QuestionAsked { .. },
                ..
            }) => vec![Request::Command(Command::SmpAnswer {
                contact: self.you.clone(),
                secret: SHARED_SECRET.into(),
            })],
            Event::Ui(UiEvent::Smp {
                progress: SmpProgress::Verified { .. } | SmpProgress::ContactVerifiedUs,
                ..
            }) => {
                let next = if self.new_device {
                    "That's my new key verified. That is the whole flow; /quit when you are done."
                } else {
                    "You verified me: this key is remembered as mine. Now type /demo newdevice \
                     and I will move to a new device with a new key, to show you the warning."
                };
                vec![self.say(next)]
            }
            Event::Ui(UiEvent::Smp {
                progress: SmpProgress::Failed,
                ..
            }) => vec![self.say(&format!(
                "That did not match: our secret is {SHARED_SECRET}. Try again with F3."
            ))],
            Event::Ui(UiEvent::Message {
                encrypted, text, ..
            }) => {
                if text.as_str().trim().is_empty() {
                    return Vec::new();
                }
                let reply = if encrypted {
                    "Got it, encrypted: only I could read that."
                } else {
                    "Got it, but you sent that in plaintext: anyone on the path could read it. \
                     Press F2 first."
                };
                vec![self.say(reply)]
            }
            _ => Vec::new(),
        }
    }
}

/// One of Sam's devices: a client core with its own key, in its own
/// runtime.
struct Device {
    handle: Handle,
}

impl Device {
    fn start(
        key: PrivateKey,
        tag: InstanceTag,
        rng: ChaCha20Rng,
        devices: &mpsc::UnboundedSender<DeviceEnds>,
        replay_login: bool,
    ) -> Self {
        let (input, input_rx) = mpsc::channel(64);
        let (output_tx, output) = mpsc::channel(64);
        let _ = devices.send(DeviceEnds {
            input: input_rx,
            output: output_tx,
            replay_login,
        });
        // Manual: Sam never starts by itself (the user presses the
        // padlock), and sends no whitespace tag that would.
        let otr = Otr::new(key, tag, Policy::MANUAL);
        let mut config = Config::new(SAM);
        config.global_policy = Policy::MANUAL;
        let client = Client::new(config, otr, MemoryStore::new(), Instant::now(), unix_now());
        let handle = padlock_runtime::spawn(client, padlock_xmpp::Handle { input, output }, rng);
        Self { handle }
    }
}

/// The network ends of Sam's current device.
struct DeviceEnds {
    input: mpsc::Receiver<Input>,
    output: mpsc::Sender<Output>,
    replay_login: bool,
}

/// Keeps Sam's end of the network while devices come and go: messages go
/// both ways to the current device; a device that logs out is told it is
/// closed without closing the network.
async fn switchboard(
    mut net: padlock_xmpp::Handle,
    you: &'static str,
    you_full: &'static str,
    mut devices: mpsc::UnboundedReceiver<DeviceEnds>,
) {
    let mut current: Option<DeviceEnds> = None;
    // What arrives while no device is logged in waits for the next one
    // (as a server's offline storage would keep it).
    let mut waiting: VecDeque<Output> = VecDeque::new();
    loop {
        tokio::select! {
            device = devices.recv() => match device {
                Some(device) => {
                    let replay = if device.replay_login { login(you, you_full) } else { Vec::new() };
                    for output in replay.into_iter().chain(waiting.drain(..)) {
                        let _ = device.output.send(output).await;
                    }
                    current = Some(device);
                }
                None => return,
            },
            output = net.output.recv() => match (output, &current) {
                (Some(output), Some(device)) => {
                    let _ = device.output.send(output).await;
                }
                (Some(output), None) => waiting.push_back(output),
                (None, _) => return,
            },
            input = next_input(&mut current) => match input {
                Some(Input::Action(padlock_core::TransportAction::Close) | Input::Shutdown) | None => {
                    if let Some(device) = current.take() {
                        let _ = device.output.send(Output::Closed).await;
                    }
                }
                Some(input) => {
                    let _ = net.input.send(input).await;
                }
            },
        }
    }
}

async fn next_input(current: &mut Option<DeviceEnds>) -> Option<Input> {
    match current {
        Some(device) => device.input.recv().await,
        None => std::future::pending().await,
    }
}

/// What a login shows a new device (as the in-memory network does).
fn login(you: &str, you_full: &str) -> Vec<Output> {
    use padlock_core::TransportEvent;
    vec![
        Output::Online {
            bound_jid: SAM_FULL.to_owned(),
            resumed: false,
        },
        Output::Core(TransportEvent::Connected),
        Output::Roster(vec![RosterEntry {
            jid: you.to_owned(),
            name: None,
            subscription: Subscription::Both,
            pending_out: false,
        }]),
        Output::Core(TransportEvent::RosterItem {
            jid: you.to_owned(),
        }),
        Output::Core(TransportEvent::PresenceAvailable {
            jid: you_full.to_owned(),
        }),
    ]
}

fn rng_fork(rng: &mut ChaCha20Rng) -> ChaCha20Rng {
    use rand_core::{Rng, SeedableRng};
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    ChaCha20Rng::from_seed(seed)
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
#[allow(clippy::panic, reason = "tests: failures are test failures")]
mod tests {
    use padlock_core::{Command, PrivacyState, SmpProgress, UiEvent};
    use padlock_runtime::{Event, Request};
    use padlock_xmpp::Output;

    use super::{SHARED_SECRET, Script};

    const YOU: &str = "you@demo.padlock";

    fn said(requests: &[Request]) -> String {
        match requests {
            [Request::Command(Command::Send { contact, text })] if contact == YOU => {
                text.as_str().to_owned()
            }
            other => panic!("expected one message to you, got {other:?}"),
        }
    }

    fn private() -> Event {
        Event::Ui(UiEvent::StateChanged {
            contact: YOU.into(),
            state: PrivacyState::PrivateUnverified,
            intent_private: true,
            resource: None,
            fingerprint: None,
            trust: None,
            logged: false,
            line: String::new(),
        })
    }

    fn online() -> Event {
        Event::Network(Output::Online {
            bound_jid: super::SAM_FULL.into(),
            resumed: false,
        })
    }

    #[test]
    fn sam_greets_tells_the_secret_once_private_and_answers_with_it() {
        let mut script = Script::new(YOU);
        assert!(said(&script.react(online())).contains("press F2"));
        assert!(script.react(online()).is_empty(), "greets once");
        assert!(said(&script.react(private())).contains(SHARED_SECRET));
        assert!(script.react(private()).is_empty(), "tells it once");
        let answer = script.react(Event::Ui(UiEvent::Smp {
            contact: YOU.into(),
            progress: SmpProgress::SecretRequested,
            line: String::new(),
        }));
        let [Request::Command(Command::SmpAnswer { secret, .. })] = answer.as_slice() else {
            panic!("no answer: {answer:?}");
        };
        assert_eq!(secret.as_str(), SHARED_SECRET);
        let next = script.react(Event::Ui(UiEvent::Smp {
            contact: YOU.into(),
            progress: SmpProgress::ContactVerifiedUs,
            line: String::new(),
        }));
        assert!(said(&next).contains("/demo newdevice"));
    }

    #[test]
    fn on_a_new_device_sam_makes_the_chat_private_again() {
        let mut script = Script::new(YOU);
        script.new_device = true;
        let start = script.react(online());
        assert!(matches!(
            start.as_slice(),
            [Request::Command(Command::StartPrivate { .. })]
        ));
        assert!(said(&script.react(private())).contains("new device"));
    }

    #[test]
    fn sam_says_whether_a_message_was_encrypted() {
        let mut script = Script::new(YOU);
        for (encrypted, expected) in [(true, "encrypted"), (false, "plaintext")] {
            let reply = script.react(Event::Ui(UiEvent::Message {
                contact: YOU.into(),
                from: format!("{YOU}/terminal"),
                text: "hi".into(),
                encrypted,
                copy: false,
                may_log: false,
            }));
            assert!(said(&reply).contains(expected));
        }
    }
}
