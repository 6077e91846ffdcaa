//! The terminal UI over a running runtime: the runtime's events go to the
//! screen, the screen's requests to the runtime. Used by the demo, and by
//! the UI over a configured XMPP account ([`run_account`]).

use std::io;

use padlock_core::{Client, Command, NewKey};
use padlock_runtime::{Event, Handle, Request};
use padlock_store::{AccountId, KeyStore};
use padlock_tui::app::{Connection, KeyStatus};
use padlock_tui::keys::{self, Binding, Config};
use padlock_tui::{App, Effect, Input};
use rand_chacha::ChaCha20Rng;
use tokio::sync::mpsc;

use crate::tui_bridge;

/// The UI's configuration (key bindings, notifications) from the user's
/// file; the defaults without one.
pub(crate) fn config() -> io::Result<Config> {
    match keys::default_path(|name| std::env::var_os(name)) {
        Some(path) => Config::load(&path).map_err(io::Error::other),
        None => Ok(Config::default()),
    }
}

/// Carries the runtime's events to the screen and the screen's effects to
/// the runtime until either side ends. Front-end commands (`/demo ...`) go
/// to `extension`, whose answer is shown as a line. `account` is the
/// runtime's account (what `/export` exports).
pub(crate) async fn forward(
    mut runtime: Handle,
    account: &AccountId,
    inputs: &mpsc::UnboundedSender<Input>,
    effects: &mut mpsc::UnboundedReceiver<Effect>,
    mut extension: impl FnMut(&[String]) -> String,
) {
    loop {
        tokio::select! {
            event = runtime.events.recv() => match event {
                Some(Event::Stopped { error: Some(error) }) => {
                    hold(error, inputs, effects).await;
                    return;
                }
                Some(event) => {
                    for input in tui_bridge::inputs(event) {
                        let _ = inputs.send(input);
                    }
                }
                None => {
                    let _ = inputs.send(Input::Stopped(None));
                    return;
                }
            },
            effect = effects.recv() => match effect {
                Some(Effect::Extension(words)) => {
                    let _ = inputs.send(Input::Info(extension(&words)));
                }
                Some(Effect::RegenerateKey) => {
                    regenerate(runtime.requests.clone(), inputs.clone());
                }
                Some(effect) => {
                    if let Some(request) = tui_bridge::request(effect, account) {
                        let _ = runtime.requests.send(request);
                    }
                }
                // The screen is gone: log out cleanly.
                None => {
                    let _ = runtime.requests.send(Request::Quit);
                    return;
                }
            },
        }
    }
}

/// Generates a new key off the async threads, then hands it to the core,
/// which ends the private chats and switches to it (the screen learns it
/// from [`padlock_core::UiEvent::KeyReplaced`]).
fn regenerate(requests: mpsc::UnboundedSender<Request>, inputs: mpsc::UnboundedSender<Input>) {
    tokio::spawn(async move {
        let key = async {
            let job = padlock_store::generate_key_in_background(|_| {})?;
            tokio::task::spawn_blocking(move || job.wait())
                .await
                .map_err(|_| padlock_store::KeyGenError::WorkerFailed)?
        };
        match key.await {
            Ok(key) => {
                let command = Command::ReplaceKey(NewKey::new(key));
                let _ = requests.send(Request::Command(command));
            }
            Err(error) => {
                let line = format!("No new key: {error}. Your key is unchanged.");
                let _ = inputs.send(Input::StoreJobDone(Err(line)));
            }
        }
    });
}

/// The runtime stopped on an error (the server refused the login, the
/// settings cannot work): the screen stays, saying why, until the user
/// quits, so the reason is read where the user looks.
async fn hold(
    error: String,
    inputs: &mpsc::UnboundedSender<Input>,
    effects: &mut mpsc::UnboundedReceiver<Effect>,
) {
    let _ = inputs.send(Input::Connection(Connection::Failed(error.clone())));
    let _ = inputs.send(Input::Info(
        "Padlock stopped and sends nothing more; /quit leaves.".to_owned(),
    ));
    while let Some(effect) = effects.recv().await {
        if matches!(effect, Effect::Quit) {
            break;
        }
        let _ = inputs.send(Input::Info(format!(
            "Not connected ({error}): nothing was sent. /quit leaves."
        )));
    }
    let _ = inputs.send(Input::Stopped(Some(error)));
}

/// The terminal UI for one account: `client` (with its store and key) over
/// the transport `connect` makes inside the async runtime (for XMPP:
/// `|| padlock_xmpp::spawn(settings)`). Returns when the user quit and the
/// account logged out.
pub(crate) fn run_account<S>(
    client: Client<S>,
    connect: impl FnOnce() -> padlock_xmpp::Handle,
    rng: ChaCha20Rng,
    config: Config,
) -> io::Result<()>
where
    S: KeyStore + Send + 'static,
{
    let id = client.account().clone();
    let account = id.name.clone();
    let fingerprint = client.fingerprint();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    tokio.block_on(async move {
        let (input_tx, input_rx) = mpsc::unbounded_channel();
        let (effect_tx, mut effect_rx) = mpsc::unbounded_channel();
        let keymap = &config.keys;
        let (help, quit) = (keymap.label(Binding::Help), keymap.label(Binding::Quit));
        let mut app = App::new(&account)
            .with_keymap(config.keys)
            .with_notifications(config.notifications);
        app.set_key(KeyStatus::Ready(fingerprint));
        for contact in client.store().contacts(client.account()) {
            app.add_contact(contact);
        }
        app.show_info(format!(
            "You are {account}. Your fingerprint: {fingerprint}. {help}: help, {quit}: quit."
        ));
        let runtime = padlock_runtime::spawn(client, connect(), rng);
        let driver = tokio::spawn(async move {
            forward(runtime, &id, &input_tx, &mut effect_rx, |_| {
                "That command is for the demo only.".to_owned()
            })
            .await;
        });
        let result = padlock_tui::run(app, input_rx, effect_tx).await;
        driver.abort();
        match result? {
            None => Ok(()),
            Some(error) => Err(io::Error::other(error)),
        }
    })
}
