//! `otr-peer ACCOUNT PROTOCOL KEYFILE`: drives one padlock-otr account from a
//! pipe, one command per line on stdin, one JSON event per line on stdout.
//! The protocol is documented in docs/otr-peer.md; the interop harnesses for
//! libotr and python-potr speak the same one.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::time::Instant;

use padlock_interop::args::Args;
use padlock_interop::keyfile;
use padlock_otr::{
    Event, ExtraSymmetricKey, Fingerprint, InstanceTag, MessageState, Otr, Output, Policy,
    SecureInfo, SmpEvent, UnreadableReason,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let [_, account, protocol, keyfile] = argv.as_slice() else {
        eprintln!("usage: otr-peer ACCOUNT PROTOCOL KEYFILE");
        return ExitCode::from(2);
    };
    let mut rng = match seeded_rng() {
        Ok(rng) => rng,
        Err(error) => {
            eprintln!("otr-peer: no randomness: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (key, instag) = match keyfile::load_or_create(keyfile.as_ref(), &mut rng) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("otr-peer: {keyfile}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut peer = Peer {
        otr: Otr::new(key, instag, Policy::OPPORTUNISTIC),
        rng,
        trust: HashMap::new(),
        seen: HashSet::new(),
        out: io::stdout().lock(),
    };
    peer.emit(json!({
        "type": "ready",
        "account": account,
        "protocol": protocol,
        "fingerprint": peer.otr.fingerprint().to_string(),
        "instag": instag.to_string(),
    }));
    let stdin = io::stdin();
    let mut line = String::new();
    let mut input = stdin.lock();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(_) => {}
            Err(error) => {
                eprintln!("otr-peer: reading stdin: {error}");
                return ExitCode::FAILURE;
            }
        }
        let command = line.trim_end_matches(['\n', '\r']);
        if command.is_empty() {
            continue;
        }
        match peer.run(command) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit) => {
                peer.emit(json!({"type": "bye"}));
                return ExitCode::SUCCESS;
            }
            Err(error) => peer.emit(json!({"type": "error", "detail": error})),
        }
        peer.drain();
    }
}

/// The RNG: from the OS, or from `OTR_PEER_SEED` (a decimal u64) for
/// reproducible transcripts.
fn seeded_rng() -> Result<ChaCha20Rng, String> {
    if let Ok(seed) = std::env::var("OTR_PEER_SEED") {
        let seed: u64 = seed
            .parse()
            .map_err(|_| "OTR_PEER_SEED is not a number".to_owned())?;
        return Ok(ChaCha20Rng::seed_from_u64(seed));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
    Ok(ChaCha20Rng::from_seed(seed))
}

enum Flow {
    Continue,
    Quit,
}

struct Peer<W: Write> {
    otr: Otr,
    rng: ChaCha20Rng,
    /// Trust per (peer, fingerprint): "smp" after a successful SMP.
    trust: HashMap<(String, Fingerprint), &'static str>,
    /// Fingerprints seen per peer, for `new_fingerprint`.
    seen: HashSet<(String, Fingerprint)>,
    out: W,
}

impl<W: Write> Peer<W> {
    fn run(&mut self, command: &str) -> Result<Flow, String> {
        let now = Instant::now();
        if self
            .otr
            .poll_timeout()
            .is_some_and(|deadline| deadline <= now)
        {
            self.otr.handle_timeout(now);
        }
        let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
        let mut args = Args::new(rest);
        let result: Result<(), String> = match verb {
            "recv" => {
                let from = args.word()?;
                let wire = args.last()?;
                self.otr.handle_incoming(&from, &wire, now, &mut self.rng);
                Ok(())
            }
            "send" => {
                let to = args.word()?;
                let text = args.last()?;
                // A refusal shows as a msg_event; nothing else to report.
                let _ = self.otr.send_message(&to, &text, now, &mut self.rng);
                Ok(())
            }
            "query" => {
                let to = args.last()?;
                self.otr.start(&to, now).map_err(|e| e.to_string())
            }
            "end" => {
                let to = args.last()?;
                self.otr.end(&to, now, &mut self.rng);
                self.drain();
                Ok(())
            }
            "smp" => {
                let to = args.word()?;
                let secret = args.last()?;
                self.otr
                    .smp_start(&to, None, secret.as_bytes(), now, &mut self.rng)
                    .map_err(|e| e.to_string())
            }
            "smpq" => {
                let to = args.word()?;
                let question = args.word()?;
                let secret = args.last()?;
                self.otr
                    .smp_start(&to, Some(&question), secret.as_bytes(), now, &mut self.rng)
                    .map_err(|e| e.to_string())
            }
            "smp_answer" => {
                let to = args.word()?;
                let secret = args.last()?;
                self.otr
                    .smp_answer(&to, secret.as_bytes(), now, &mut self.rng)
                    .map_err(|e| e.to_string())
            }
            "smp_abort" => {
                let to = args.last()?;
                self.otr.smp_abort(&to, now).map_err(|e| e.to_string())
            }
            "status" => {
                let to = args.last()?;
                self.status(&to);
                Ok(())
            }
            "fingerprint" => {
                let fingerprint = self.otr.fingerprint().to_string();
                self.emit(json!({"type": "fingerprint", "fingerprint": fingerprint}));
                Ok(())
            }
            "policy" => {
                let name = args.last()?;
                let policy = match name.as_str() {
                    "v2" => Policy::OPPORTUNISTIC.without(Policy::ALLOW_V3),
                    "v3" => Policy::OPPORTUNISTIC.without(Policy::ALLOW_V2),
                    other => other.parse::<Policy>().map_err(|e| e.to_string())?,
                };
                self.otr.set_policy(policy);
                Ok(())
            }
            "mms" => {
                let size = args.last()?;
                let size: usize = size
                    .parse()
                    .map_err(|_| format!("mms: not a number: {size:?}"))?;
                self.otr.set_max_message_size(size);
                Ok(())
            }
            "extrakey" => {
                let to = args.word()?;
                let use_value = args.word()?;
                let use_data = args.last()?;
                let use_value: u32 = use_value
                    .parse()
                    .map_err(|_| format!("extrakey: bad use {use_value:?}"))?;
                match self
                    .otr
                    .send_extra_symmetric_key(&to, use_value, use_data.as_bytes(), now)
                {
                    Ok(key) => {
                        self.drain();
                        self.emit_extra_key(&to, &key, use_value, use_data.as_bytes(), true);
                        Ok(())
                    }
                    Err(error) => Err(error.to_string()),
                }
            }
            "select" => {
                let to = args.word()?;
                let tag = args.last()?;
                let instance = InstanceTag::from_hex(&tag);
                if instance.is_none() && u32::from_str_radix(&tag, 16).map_or(true, |v| v > 1) {
                    return Err(format!("select: bad instance tag {tag:?}"));
                }
                self.otr.select_instance(&to, instance);
                Ok(())
            }
            "ping" => {
                self.drain();
                let token = args.last().unwrap_or_default();
                self.emit(json!({"type": "pong", "token": token}));
                Ok(())
            }
            "quit" => return Ok(Flow::Quit),
            other => Err(format!("unknown command {other:?}")),
        };
        result.map(|()| Flow::Continue)
    }

    fn status(&mut self, peer: &str) {
        let (msgstate, fingerprint, trust) = match self.otr.status(peer) {
            MessageState::Encrypted(info) => (
                "encrypted",
                info.fingerprint.to_string(),
                self.trust_of(peer, &info.fingerprint),
            ),
            MessageState::Finished => ("finished", String::new(), ""),
            _ => ("plaintext", String::new(), ""),
        };
        self.emit(json!({
            "type": "status", "peer": peer, "msgstate": msgstate,
            "fingerprint": fingerprint, "trust": trust,
        }));
    }

    fn trust_of(&self, peer: &str, fingerprint: &Fingerprint) -> &'static str {
        self.trust
            .get(&(peer.to_owned(), *fingerprint))
            .copied()
            .unwrap_or("")
    }

    /// Turns the engine's outputs into events.
    fn drain(&mut self) {
        while let Some(output) = self.otr.poll_output() {
            match output {
                Output::Send { to, text } => {
                    self.emit(json!({"type": "wire", "to": to, "data": text}))
                }
                Output::Message {
                    from,
                    text,
                    encrypted,
                    ..
                } => {
                    self.emit(json!({"type": "message", "from": from, "text": text, "encrypted": encrypted}));
                }
                Output::Event {
                    peer,
                    instance,
                    event,
                } => self.event(&peer, instance, event),
                _ => {}
            }
        }
        let _ = self.out.flush();
    }

    fn event(&mut self, peer: &str, instance: Option<InstanceTag>, event: Event) {
        let instag = instance.map(|t| t.to_string()).unwrap_or_default();
        match event {
            Event::GoneSecure(info) => self.secure("gone_secure", peer, &instag, &info),
            Event::StillSecure(info) => self.secure("still_secure", peer, &instag, &info),
            Event::GoneInsecure => {
                self.emit(json!({"type": "gone_insecure", "peer": peer, "state": "plaintext"}))
            }
            Event::Finished => {
                self.emit(json!({"type": "gone_insecure", "peer": peer, "state": "finished"}))
            }
            Event::Smp(smp) => self.smp(peer, smp),
            Event::ExtraSymmetricKey {
                key,
                use_value,
                use_data,
            } => {
                self.emit_extra_key(peer, &key, use_value, &use_data, false);
            }
            Event::ConnectionEnded => self.msg_event(peer, "connection_ended", None),
            Event::EncryptionRequired => self.msg_event(peer, "encryption_required", None),
            Event::HeldMessagesSent { count } => {
                self.msg_event(peer, "msg_resent", Some(count.to_string()))
            }
            Event::UnencryptedWhilePrivate => self.msg_event(peer, "rcvdmsg_unencrypted", None),
            Event::Unreadable { reason } => {
                let detail = match reason {
                    UnreadableReason::NotPrivate => "not private".to_owned(),
                    UnreadableReason::Data(error) => error.to_string(),
                    _ => "unreadable".to_owned(),
                };
                let name = match reason {
                    UnreadableReason::NotPrivate => "rcvdmsg_not_in_private",
                    _ => "rcvdmsg_unreadable",
                };
                self.msg_event(peer, name, Some(detail));
            }
            Event::ForOtherInstance => self.msg_event(peer, "rcvdmsg_for_other_instance", None),
            Event::Malformed { detail } => self.msg_event(peer, "rcvdmsg_malformed", Some(detail)),
            Event::PeerError { text } => self.msg_event(peer, "rcvdmsg_general_err", Some(text)),
            Event::AkeFailed(error) => self.msg_event(peer, "setup_error", Some(error.to_string())),
            Event::HeartbeatReceived => self.msg_event(peer, "log_heartbeat_rcvd", None),
            Event::HeartbeatSent => self.msg_event(peer, "log_heartbeat_sent", None),
            other => self.msg_event(peer, "other", Some(format!("{other:?}"))),
        }
    }

    fn secure(&mut self, kind: &str, peer: &str, instag: &str, info: &SecureInfo) {
        if self.seen.insert((peer.to_owned(), info.fingerprint)) {
            self.emit(json!({"type": "new_fingerprint", "peer": peer, "fingerprint": info.fingerprint.to_string()}));
        }
        let trust = self.trust_of(peer, &info.fingerprint);
        self.emit(json!({
            "type": kind, "peer": peer, "fingerprint": info.fingerprint.to_string(), "trust": trust,
            "ssid": info.ssid.to_hex(), "version": info.version.to_string(), "instag": instag,
        }));
    }

    fn smp(&mut self, peer: &str, event: SmpEvent) {
        let current = match self.otr.status(peer) {
            MessageState::Encrypted(info) => Some(info.fingerprint),
            _ => None,
        };
        let mut out = json!({"type": "smp", "peer": peer});
        let name = match event {
            SmpEvent::AskForSecret => "ask_for_secret",
            SmpEvent::AskForAnswer { question } => {
                out["question"] = Value::String(question);
                "ask_for_answer"
            }
            SmpEvent::InProgress => "in_progress",
            SmpEvent::Success => {
                if let Some(fingerprint) = current {
                    self.trust.insert((peer.to_owned(), fingerprint), "smp");
                }
                "success"
            }
            SmpEvent::Failure => {
                if let Some(fingerprint) = current {
                    self.trust.remove(&(peer.to_owned(), fingerprint));
                }
                "failure"
            }
            SmpEvent::Abort => "abort",
            SmpEvent::Cheated => "cheated",
            _ => "error",
        };
        out["event"] = Value::String(name.to_owned());
        self.emit(out);
    }

    fn msg_event(&mut self, peer: &str, name: &str, detail: Option<String>) {
        let mut out = json!({"type": "msg_event", "peer": peer, "event": name});
        if let Some(detail) = detail {
            out["detail"] = Value::String(detail);
        }
        self.emit(out);
    }

    fn emit_extra_key(
        &mut self,
        peer: &str,
        key: &ExtraSymmetricKey,
        use_value: u32,
        use_data: &[u8],
        sent: bool,
    ) {
        let hex: String = key
            .expose_secret()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.emit(json!({
            "type": "extra_key", "peer": peer, "use": use_value,
            "usedata": String::from_utf8_lossy(use_data), "key": hex, "sent": sent,
        }));
    }

    fn emit(&mut self, value: Value) {
        let _ = writeln!(self.out, "{value}");
        let _ = self.out.flush();
    }
}
