//! Typed commands: Profanity's `/otr` verbs and Padlock's own, parsed into
//! [`Action`]s. A mistyped command says what would have been accepted.

use std::fmt;

use padlock_core::Sensitive;
use padlock_otr::Policy;

use crate::action::{Action, PolicyChange, Scope};

/// One command the input line accepts, for parsing and for `/help`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandHelp {
    /// How it is written (`/otr secret <secret>`).
    pub usage: String,
    /// What it does.
    pub help: String,
}

/// A front-end command (`/demo`): its name and the help of its verbs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The word after the slash (`demo`).
    pub name: String,
    /// Its forms with their help.
    pub commands: Vec<CommandHelp>,
}

/// The `/otr` verbs: (verb, arguments, help).
const OTR_VERBS: &[(&str, &str, &str)] = &[
    (
        "gen",
        "",
        "generate your key (done automatically on first use); with a key, a new one \
         (contacts then see a new key and must verify it again)",
    ),
    ("myfp", "", "show your fingerprint"),
    ("theirfp", "", "show the contact's fingerprint"),
    (
        "start",
        "",
        "make the chat private (same as the padlock key)",
    ),
    (
        "end",
        "",
        "end the private chat; messages are then sent in plaintext",
    ),
    (
        "verify",
        "",
        "authenticate the contact: a question, a shared secret or the fingerprints",
    ),
    (
        "trust",
        "",
        "mark the contact's key verified after comparing fingerprints over another channel",
    ),
    ("untrust", "", "mark the contact's key not verified"),
    (
        "accept",
        "",
        "accept a contact's new key without verifying it (it stays unverified)",
    ),
    (
        "secret",
        "<secret>",
        "authenticate with a secret you both know (or answer the contact's request)",
    ),
    (
        "question",
        "\"<question>\" <answer>",
        "ask a question only the contact can answer; <answer> is what you expect",
    ),
    ("answer", "<answer>", "answer the contact's question"),
    ("abort", "", "abort the authentication under way"),
    (
        "policy",
        "[manual|opportunistic|always|default] [contact|account|global]",
        "show or set when chats become private (default: for this contact)",
    ),
    (
        "log",
        "[on|off]",
        "show or set whether this device logs private chats (off by default)",
    ),
];

/// Padlock's own commands: (name, arguments, help).
const OTHER: &[(&str, &str, &str)] = &[
    ("verify", "", "authenticate the contact (the guided dialog)"),
    (
        "security",
        "",
        "security settings: your key, every contact's keys (verify, unverify, forget, \
         label, copy), export, import",
    ),
    (
        "fingerprints",
        "",
        "the contact's keys seen and their trust (in the security settings)",
    ),
    (
        "forget",
        "",
        "forget one of the contact's keys (in the security settings: F on the key)",
    ),
    (
        "export",
        "[file]",
        "write your key and your contacts' trust into a file encrypted with a passphrase, \
         for another device",
    ),
    (
        "import",
        "[path]",
        "import keys and trust: a Padlock export, or Pidgin/libotr, Gajim/potr or Jitsi files",
    ),
    ("status", "", "the chat's state in words"),
    (
        "resource",
        "[name]",
        "the contact's online resources (devices), or lock the chat to one",
    ),
    (
        "notify",
        "[none|new-message|sender|full-text]",
        "show or set what a notification of a chat not on screen says (until you quit)",
    ),
    ("help", "[command]", "this help, or one command's"),
    ("quit", "", "end private chats and quit"),
];

/// Every command the input line accepts, with `extensions` after the
/// built-in ones.
pub fn commands(extensions: &[Extension]) -> Vec<CommandHelp> {
    let mut all: Vec<CommandHelp> = OTR_VERBS
        .iter()
        .map(|(verb, args, help)| CommandHelp {
            usage: join(&format!("/otr {verb}"), args),
            help: (*help).to_owned(),
        })
        .collect();
    all.extend(OTHER.iter().map(|(name, args, help)| CommandHelp {
        usage: join(&format!("/{name}"), args),
        help: (*help).to_owned(),
    }));
    for extension in extensions {
        all.extend(extension.commands.iter().cloned());
    }
    all
}

fn join(name: &str, args: &str) -> String {
    if args.is_empty() {
        name.to_owned()
    } else {
        format!("{name} {args}")
    }
}

/// A command that could not be read, with what would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub problem: String,
    /// The closest accepted form, if one is close.
    pub suggestion: Option<String>,
    /// The accepted forms of the command (or every command).
    pub accepted: Vec<String>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem)?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, " Did you mean {suggestion}?")?;
        }
        if !self.accepted.is_empty() {
            write!(f, " Accepted: {}.", self.accepted.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// Reads a line that starts with `/`.
pub fn parse(line: &str, extensions: &[Extension]) -> Result<Action, ParseError> {
    let body = line.trim_start().strip_prefix('/').unwrap_or(line).trim();
    let (name, rest) = split_word(body);
    match name {
        "otr" => parse_otr(rest),
        "verify" => no_args(Action::Authenticate, rest, "/verify"),
        "fingerprints" => no_args(Action::Fingerprints, rest, "/fingerprints"),
        "forget" => no_args(Action::Forget, rest, "/forget"),
        "security" => no_args(Action::Security, rest, "/security"),
        "resource" => Ok(Action::Resource(
            (!rest.is_empty()).then(|| rest.to_owned()),
        )),
        "notify" if rest.is_empty() => Ok(Action::Notify(None)),
        "notify" => crate::notify::Level::parse(rest)
            .map(|level| Action::Notify(Some(level)))
            .ok_or_else(|| ParseError {
                problem: format!("/notify takes a level, not {rest:?}."),
                suggestion: None,
                accepted: vec!["/notify [none|new-message|sender|full-text]".to_owned()],
            }),
        "export" => Ok(Action::Export((!rest.is_empty()).then(|| rest.to_owned()))),
        "import" => Ok(Action::Import((!rest.is_empty()).then(|| rest.to_owned()))),
        "status" => no_args(Action::Status, rest, "/status"),
        "quit" => no_args(Action::Quit, rest, "/quit"),
        "help" => Ok(Action::Help(
            (!rest.is_empty()).then(|| rest.trim_start_matches('/').to_owned()),
        )),
        name => {
            if extensions.iter().any(|e| e.name == name) {
                return Ok(Action::Extension(
                    body.split_whitespace().map(str::to_owned).collect(),
                ));
            }
            let mut names: Vec<String> = ["otr"]
                .iter()
                .chain(OTHER.iter().map(|(name, _, _)| name))
                .map(|name| format!("/{name}"))
                .collect();
            names.extend(extensions.iter().map(|e| format!("/{}", e.name)));
            Err(ParseError {
                problem: format!("Unknown command /{name}."),
                suggestion: closest(&format!("/{name}"), &names),
                accepted: names,
            })
        }
    }
}

fn parse_otr(args: &str) -> Result<Action, ParseError> {
    let (verb, rest) = split_word(args);
    let usage = |verb: &str| {
        OTR_VERBS
            .iter()
            .find(|(v, _, _)| *v == verb)
            .map(|(v, a, _)| join(&format!("/otr {v}"), a))
            .unwrap_or_default()
    };
    let missing = |verb: &str, what: &str| ParseError {
        problem: format!("/otr {verb} needs {what}."),
        suggestion: None,
        accepted: vec![usage(verb)],
    };
    let action = match verb {
        "gen" => Action::GenerateKey,
        "myfp" => Action::MyFingerprint,
        "theirfp" => Action::TheirFingerprint,
        "start" => Action::StartPrivate,
        "end" => Action::EndPrivate,
        "verify" => Action::Authenticate,
        "trust" => Action::Trust,
        "untrust" => Action::Untrust,
        "accept" => Action::AcceptKey,
        "abort" => Action::AbortAuthentication,
        "secret" if rest.is_empty() => return Err(missing("secret", "the secret you share")),
        "secret" => Action::Secret(Sensitive::new(rest)),
        "answer" if rest.is_empty() => return Err(missing("answer", "your answer")),
        "answer" => Action::Answer(Sensitive::new(rest)),
        "question" => {
            let (question, answer) = split_question(rest)
                .ok_or_else(|| missing("question", "a question and its answer"))?;
            Action::Question {
                question,
                answer: Sensitive::new(answer),
            }
        }
        "policy" => Action::Policy(parse_policy(rest)?),
        "log" => match rest {
            "" => Action::Log(None),
            "on" => Action::Log(Some(true)),
            "off" => Action::Log(Some(false)),
            other => {
                return Err(ParseError {
                    problem: format!("/otr log takes on or off, not {other:?}."),
                    suggestion: None,
                    accepted: vec![usage("log")],
                });
            }
        },
        verb => {
            let verbs: Vec<String> = OTR_VERBS
                .iter()
                .map(|(v, a, _)| join(&format!("/otr {v}"), a))
                .collect();
            let names: Vec<String> = OTR_VERBS
                .iter()
                .map(|(v, _, _)| format!("/otr {v}"))
                .collect();
            let problem = if verb.is_empty() {
                "/otr needs a verb.".to_owned()
            } else {
                format!("Unknown command /otr {verb}.")
            };
            return Err(ParseError {
                suggestion: (!verb.is_empty())
                    .then(|| closest(&format!("/otr {verb}"), &names))
                    .flatten(),
                problem,
                accepted: verbs,
            });
        }
    };
    let takes_args = matches!(verb, "secret" | "answer" | "question" | "policy" | "log");
    if !takes_args && !rest.is_empty() {
        return Err(ParseError {
            problem: format!("/otr {verb} takes no arguments."),
            suggestion: None,
            accepted: vec![usage(verb)],
        });
    }
    Ok(action)
}

fn parse_policy(args: &str) -> Result<Option<PolicyChange>, ParseError> {
    let accepted = vec![
        "/otr policy".to_owned(),
        "/otr policy manual|opportunistic|always|default [contact|account|global]".to_owned(),
    ];
    let mut words = args.split_whitespace();
    let Some(name) = words.next() else {
        return Ok(None);
    };
    let policy = match name {
        "default" => None,
        name => match name.parse::<Policy>() {
            Ok(policy) if name != "never" => Some(policy),
            _ => {
                return Err(ParseError {
                    problem: format!("Unknown policy {name:?}."),
                    suggestion: closest(name, &["manual", "opportunistic", "always", "default"])
                        .map(|s| format!("/otr policy {s}")),
                    accepted,
                });
            }
        },
    };
    let scope = match words.next() {
        None | Some("contact") => Scope::Contact,
        Some("account") => Scope::Account,
        Some("global") => Scope::Global,
        Some(other) => {
            return Err(ParseError {
                problem: format!("Unknown scope {other:?}."),
                suggestion: None,
                accepted,
            });
        }
    };
    if words.next().is_some() || (policy.is_none() && scope == Scope::Global) {
        return Err(ParseError {
            problem: "The global policy cannot be left unset; name one.".to_owned(),
            suggestion: None,
            accepted,
        });
    }
    Ok(Some(PolicyChange { policy, scope }))
}

/// `"question" answer`, or `question? answer`.
fn split_question(text: &str) -> Option<(String, String)> {
    let (question, answer) = if let Some(quoted) = text.strip_prefix('"') {
        let end = quoted.find('"')?;
        (quoted.get(..end)?, quoted.get(end + 1..)?)
    } else {
        let end = text.find('?')? + 1;
        (text.get(..end)?, text.get(end..)?)
    };
    let (question, answer) = (question.trim(), answer.trim());
    (!question.is_empty() && !answer.is_empty()).then(|| (question.to_owned(), answer.to_owned()))
}

fn no_args(action: Action, rest: &str, usage: &str) -> Result<Action, ParseError> {
    if rest.is_empty() {
        Ok(action)
    } else {
        Err(ParseError {
            problem: format!("{usage} takes no arguments."),
            suggestion: None,
            accepted: vec![usage.to_owned()],
        })
    }
}

fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

/// The accepted name closest to `typed`, when it is close enough to be a
/// typo.
fn closest<S: AsRef<str>>(typed: &str, names: &[S]) -> Option<String> {
    names
        .iter()
        .map(|name| (distance(typed, name.as_ref()), name.as_ref()))
        .filter(|(d, name)| *d <= 2.max(name.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name.to_owned())
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            previous = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = substitution.min(above + 1).min(left + 1);
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Action {
        match parse(line, &[]) {
            Ok(action) => action,
            Err(error) => unreachable!("{line}: {error}"),
        }
    }

    fn err(line: &str) -> String {
        parse(line, &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn profanity_verbs_become_actions() {
        assert_eq!(ok("/otr start"), Action::StartPrivate);
        assert_eq!(ok("/otr end"), Action::EndPrivate);
        assert_eq!(ok("/otr gen"), Action::GenerateKey);
        assert_eq!(ok("/otr myfp"), Action::MyFingerprint);
        assert_eq!(ok("/otr theirfp"), Action::TheirFingerprint);
        assert_eq!(ok("/otr trust"), Action::Trust);
        assert_eq!(ok("/otr untrust"), Action::Untrust);
        assert_eq!(
            ok("/otr secret blue heron"),
            Action::Secret("blue heron".into())
        );
        assert_eq!(ok("/otr answer fiffi"), Action::Answer("fiffi".into()));
        assert_eq!(
            ok("/otr question \"Name of my rabbit?\" fiffi"),
            Action::Question {
                question: "Name of my rabbit?".into(),
                answer: "fiffi".into()
            }
        );
        assert_eq!(
            ok("/otr question Where did we meet? in Lyon"),
            Action::Question {
                question: "Where did we meet?".into(),
                answer: "in Lyon".into()
            }
        );
        assert_eq!(ok("/otr policy"), Action::Policy(None));
        assert_eq!(
            ok("/otr policy always"),
            Action::Policy(Some(PolicyChange {
                policy: Some(Policy::ALWAYS),
                scope: Scope::Contact
            }))
        );
        assert_eq!(
            ok("/otr policy manual global"),
            Action::Policy(Some(PolicyChange {
                policy: Some(Policy::MANUAL),
                scope: Scope::Global
            }))
        );
        assert_eq!(ok("/otr log on"), Action::Log(Some(true)));
        assert_eq!(ok("/otr log"), Action::Log(None));
        assert_eq!(ok("/verify"), Action::Authenticate);
        assert_eq!(ok("/otr verify"), Action::Authenticate);
        assert_eq!(ok("/fingerprints"), Action::Fingerprints);
        assert_eq!(ok("/forget"), Action::Forget);
        assert_eq!(ok("/security"), Action::Security);
        assert_eq!(
            ok("/notify sender"),
            Action::Notify(Some(crate::notify::Level::Sender))
        );
        assert_eq!(ok("/notify"), Action::Notify(None));
        assert_eq!(ok("/resource"), Action::Resource(None));
        assert_eq!(
            ok("/resource phone"),
            Action::Resource(Some("phone".into()))
        );
        assert!(parse("/notify loudly", &[]).is_err());
        assert_eq!(ok("/export"), Action::Export(None));
        assert_eq!(
            ok("/export /tmp/my keys"),
            Action::Export(Some("/tmp/my keys".into()))
        );
        assert_eq!(
            ok("/import ~/.purple"),
            Action::Import(Some("~/.purple".into()))
        );
        assert_eq!(ok("/status"), Action::Status);
        assert_eq!(ok("/help"), Action::Help(None));
        assert_eq!(ok("/help /otr"), Action::Help(Some("otr".into())));
        assert_eq!(ok("/quit"), Action::Quit);
    }

    #[test]
    fn mistakes_say_what_would_have_been_accepted() {
        let text = err("/otr strat");
        assert!(
            text.starts_with("Unknown command /otr strat. Did you mean /otr start?"),
            "{text}"
        );
        assert!(text.contains("/otr secret <secret>"), "{text}");
        let text = err("/verfy");
        assert!(text.contains("Did you mean /verify?"), "{text}");
        assert!(err("/otr secret").contains("Accepted: /otr secret <secret>."));
        assert!(err("/otr question no answer").contains("/otr question \"<question>\" <answer>"));
        assert!(err("/otr policy sometimes").contains("/otr policy manual|opportunistic"));
        assert!(err("/otr log maybe").contains("/otr log [on|off]"));
        assert!(err("/otr start now").contains("takes no arguments"));
        assert!(err("/otr").starts_with("/otr needs a verb."));
    }

    #[test]
    fn front_end_commands_pass_through() {
        let demo = Extension {
            name: "demo".into(),
            commands: vec![CommandHelp {
                usage: "/demo newdevice".into(),
                help: "the demo contact moves to a new device".into(),
            }],
        };
        assert_eq!(
            parse("/demo newdevice", std::slice::from_ref(&demo)),
            Ok(Action::Extension(vec!["demo".into(), "newdevice".into()]))
        );
        let text = parse("/dmeo", &[demo])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(text.contains("Did you mean /demo?"), "{text}");
    }
}
