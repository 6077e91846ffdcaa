//! `padlock demo` at a terminal: the terminal UI for "you@demo.padlock",
//! next to Sam, a demo contact with its own client core and runtime in
//! this process, over the in-memory network. Keys are generated in the
//! background with progress shown; everything is kept in memory.

use std::io;
use std::time::Instant;

use padlock_core::{Client, Config};
use padlock_otr::{InstanceTag, Otr, Policy, PrivateKey};
use padlock_runtime::memory::linked_pair;
use padlock_store::{AccountId, KeyStore as _, MemoryStore, Progress};
use padlock_tui::command::{CommandHelp, Extension};
use padlock_tui::keys::Config as UiConfig;
use padlock_tui::{App, Effect, Input};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use tokio::sync::mpsc;

use super::bot::{self, BotCommand, SAM, SAM_FULL, unix_now};
use crate::tui_session;

/// The user's demo account.
const YOU: &str = "you@demo.padlock";
/// The user's device.
const YOU_FULL: &str = "you@demo.padlock/terminal";

/// Runs the demo's terminal UI until the user quits.
pub(crate) fn run(seed: Option<u64>) -> io::Result<()> {
    let config = tui_session::config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(session(seed, config))
}

async fn session(seed: Option<u64>, config: UiConfig) -> io::Result<()> {
    let (input_tx, input_rx) = mpsc::unbounded_channel();
    let (effect_tx, effect_rx) = mpsc::unbounded_channel();
    let mut app = App::new(YOU)
        .with_keymap(config.keys)
        .with_notifications(config.notifications)
        .with_extension(Extension {
            name: "demo".to_owned(),
            commands: vec![CommandHelp {
                usage: "/demo newdevice".to_owned(),
                help: "Sam moves to a new device with a new key (you see the warning)".to_owned(),
            }],
        });
    app.add_contact(SAM);
    app.show_info(format!(
        "Welcome to the Padlock demo. You are {YOU}; Sam ({SAM}) lives inside this program. \
         Nothing is written to disk. F1: help, Ctrl-q: quit."
    ));
    let rng = match seed {
        Some(seed) => ChaCha20Rng::seed_from_u64(seed),
        None => padlock_store::system_rng().map_err(io::Error::other)?,
    };
    let driver = tokio::spawn(drive(rng, seed.is_some(), input_tx, effect_rx));
    let result = padlock_tui::run(app, input_rx, effect_tx).await;
    driver.abort();
    match result? {
        None => Ok(()),
        Some(error) => Err(io::Error::other(error)),
    }
}

/// Generates the keys, starts both clients, then carries the runtime's
/// events to the screen and the screen's requests to the runtime.
async fn drive(
    mut rng: ChaCha20Rng,
    seeded: bool,
    inputs: mpsc::UnboundedSender<Input>,
    mut effects: mpsc::UnboundedReceiver<Effect>,
) {
    let progress = inputs.clone();
    let your_key = generate(fork(&mut rng), seeded, move |p| {
        let _ = progress.send(Input::KeyProgress(p));
    });
    let sam_key = generate(fork(&mut rng), seeded, |_| {});
    let keys = async { (your_key.await, sam_key.await) };
    tokio::pin!(keys);
    let (your_key, sam_key) = loop {
        tokio::select! {
            keys = &mut keys => break keys,
            effect = effects.recv() => match effect {
                Some(Effect::Quit) | None => {
                    let _ = inputs.send(Input::Stopped(None));
                    return;
                }
                Some(_) => {
                    let _ = inputs.send(Input::Info(
                        "One moment: the demo's keys (yours and Sam's) are still being generated.".to_owned(),
                    ));
                }
            },
        }
    };
    let (Ok(your_key), Ok(sam_key)) = (your_key, sam_key) else {
        let _ = inputs.send(Input::Stopped(Some(
            "the keys could not be generated".to_owned(),
        )));
        return;
    };
    let (you_net, sam_net) = linked_pair(YOU_FULL, SAM_FULL);
    let tag = InstanceTag::random(&mut rng);
    // The store knows your key too, as a real account's does: the
    // Security settings export it and replace it.
    let account = AccountId::new(YOU, "xmpp");
    let mut store = MemoryStore::new();
    if let Err(error) = store.set_account_key(&account, your_key.clone(), tag) {
        let _ = inputs.send(Input::Stopped(Some(error.to_string())));
        return;
    }
    let otr = Otr::new(your_key, tag, Policy::OPPORTUNISTIC);
    let client = Client::new(Config::new(YOU), otr, store, Instant::now(), unix_now());
    let you = padlock_runtime::spawn(client, you_net, fork(&mut rng));
    let (bot_tx, bot_rx) = mpsc::unbounded_channel();
    tokio::spawn(bot::run(
        sam_key,
        InstanceTag::random(&mut rng),
        fork(&mut rng),
        sam_net,
        YOU,
        YOU_FULL,
        bot_rx,
    ));
    tui_session::forward(you, &account, &inputs, &mut effects, |words| {
        demo_command(words, &mut rng, seeded, &bot_tx)
    })
    .await;
}

/// `/demo ...`: what it does, in one line.
fn demo_command(
    words: &[String],
    rng: &mut ChaCha20Rng,
    seeded: bool,
    bot: &mpsc::UnboundedSender<BotCommand>,
) -> String {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["demo", "newdevice"] => {
            let key = generate(fork(rng), seeded, |_| {});
            let tag = InstanceTag::random(rng);
            let bot = bot.clone();
            tokio::spawn(async move {
                if let Ok(key) = key.await {
                    let _ = bot.send(BotCommand::NewDevice(key, tag));
                }
            });
            "Sam is moving to a new device: a new key is being generated for it...".to_owned()
        }
        ["otr", "gen"] => "Your key is generated when the demo starts.".to_owned(),
        _ => {
            "Demo commands: /demo newdevice (Sam moves to a new device with a new key).".to_owned()
        }
    }
}

/// A DSA key generated off the async threads: from the system's
/// randomness with progress reports, or (for a seeded run) from `rng`.
async fn generate(
    rng: ChaCha20Rng,
    seeded: bool,
    progress: impl Fn(Progress) + Send + 'static,
) -> Result<PrivateKey, String> {
    if seeded {
        progress(Progress::Started);
        let key = tokio::task::spawn_blocking(move || {
            let mut rng = rng;
            PrivateKey::generate(&mut rng)
        })
        .await
        .map_err(|e| e.to_string())?;
        progress(Progress::Finished {
            fingerprint: key.public_key().fingerprint(),
        });
        return Ok(key);
    }
    let job = padlock_store::generate_key_in_background(progress).map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || job.wait())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

fn fork(rng: &mut ChaCha20Rng) -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    ChaCha20Rng::from_seed(seed)
}
