//! otr-bench: padlock-otr against libotr 4.1.1, the same workloads in the
//! same run.
//!
//! ```text
//! cargo run --release -p padlock-bench --bin otr-bench [-- --rounds 7 --quick --only ake]
//! ```
//!
//! For each workload, the number of iterations per round is calibrated for
//! each implementation (about `--seconds` of measured time), then the rounds
//! alternate between libotr and Padlock (libotr first in even rounds,
//! Padlock first in odd ones). Rates are medians over the rounds; the ratio
//! is the median of the per-round ratios Padlock/libotr, each taken from two
//! runs that are next to each other in time, since this machine's speed
//! drifts. Peak heap is the highest over the rounds.

use std::process::ExitCode;

use clap::Parser;
use padlock_bench::libotr::Libotr;
use padlock_bench::{CountingAllocator, Error, Measurement, Workload, padlock};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// The name that selects the idle-session measurement with `--only`.
const IDLE: &str = "idle-sessions";

/// Benchmarks padlock-otr against libotr 4.1.1 (needs libotr5-dev,
/// pkg-config and a C compiler).
#[derive(Parser, Debug)]
#[command(name = "otr-bench")]
struct Args {
    /// Rounds per workload (each runs libotr and Padlock once).
    #[arg(long)]
    rounds: Option<usize>,
    /// Fewer rounds, shorter rounds, fewer idle sessions: a quick look.
    #[arg(long)]
    quick: bool,
    /// Run only these workloads (repeatable): keygen, ake, data-16, data-1k,
    /// data-64k, ping-pong, smp, fragmented-64k, idle-sessions.
    #[arg(long, value_name = "WORKLOAD")]
    only: Vec<String>,
    /// Measured seconds per run of one implementation in one round.
    #[arg(long)]
    seconds: Option<f64>,
    /// Private sessions created to measure the memory of one idle session.
    #[arg(long)]
    sessions: Option<u64>,
}

struct Settings {
    rounds: usize,
    seconds: f64,
    sessions: u64,
    workloads: Vec<Workload>,
    idle: bool,
}

impl Settings {
    fn from_args(args: Args) -> Result<Self, String> {
        let (rounds, seconds, sessions) = if args.quick {
            (3, 0.15, 20)
        } else {
            (5, 0.5, 200)
        };
        let mut workloads = Vec::new();
        let mut idle = args.only.is_empty();
        for name in &args.only {
            if name == IDLE {
                idle = true;
            } else {
                workloads.push(
                    name.parse::<Workload>()
                        .map_err(|e| format!("{e}, {IDLE}"))?,
                );
            }
        }
        if args.only.is_empty() {
            workloads = Workload::ALL.to_vec();
        }
        let settings = Self {
            rounds: args.rounds.unwrap_or(rounds),
            seconds: args.seconds.unwrap_or(seconds),
            sessions: args.sessions.unwrap_or(sessions),
            workloads,
            idle,
        };
        if settings.rounds == 0
            || settings.sessions == 0
            || settings.seconds.is_nan()
            || settings.seconds <= 0.0
        {
            return Err("--rounds, --seconds and --sessions must be positive".into());
        }
        Ok(settings)
    }
}

/// The result of one workload.
struct Row {
    workload: Workload,
    libotr_rate: f64,
    padlock_rate: f64,
    ratio: f64,
    ratio_min: f64,
    ratio_max: f64,
    libotr_peak: u64,
    padlock_peak: u64,
}

fn main() -> ExitCode {
    let settings = match Settings::from_args(Args::parse()) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("otr-bench: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("otr-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(settings: &Settings) -> Result<(), Error> {
    eprintln!("otr-bench: compiling the libotr side...");
    let libotr = Libotr::build()?;
    if cfg!(debug_assertions) {
        eprintln!("otr-bench: warning: a debug build; use --release for meaningful numbers");
    }
    let mut rows = Vec::new();
    for &workload in &settings.workloads {
        rows.push(measure(&libotr, workload, settings)?);
    }
    let idle = if settings.idle {
        eprintln!(
            "otr-bench: idle sessions: {} private sessions each",
            settings.sessions
        );
        let ours = padlock::idle_session_bytes(settings.sessions)?;
        let theirs = libotr.idle_session_bytes(settings.sessions)?;
        Some((theirs, ours))
    } else {
        None
    };
    print_report(&libotr, settings, &rows, idle);
    Ok(())
}

fn measure(libotr: &Libotr, workload: Workload, settings: &Settings) -> Result<Row, Error> {
    // A key generation's time varies with its random prime search: give it
    // twice the time, so that a round averages over a few keys.
    let target = match workload {
        Workload::Keygen => settings.seconds * 2.0,
        _ => settings.seconds,
    };
    let libotr_iterations = calibrate(target, |n| libotr.run(workload, n))?;
    let padlock_iterations = calibrate(target, |n| padlock::run(workload, n))?;
    eprintln!(
        "otr-bench: {workload}: {} rounds of {libotr_iterations} (libotr) / {padlock_iterations} (Padlock) iterations",
        settings.rounds
    );
    let mut theirs = Vec::new();
    let mut ours = Vec::new();
    for round in 0..settings.rounds {
        let (t, o) = if round % 2 == 0 {
            let t = libotr.run(workload, libotr_iterations)?;
            (t, padlock::run(workload, padlock_iterations)?)
        } else {
            let o = padlock::run(workload, padlock_iterations)?;
            (libotr.run(workload, libotr_iterations)?, o)
        };
        eprintln!(
            "otr-bench: {workload}: round {}: libotr {} {unit}, Padlock {} {unit}, ratio {:.2}",
            round + 1,
            format_rate(t.rate()),
            format_rate(o.rate()),
            o.rate() / t.rate(),
            unit = workload.unit(),
        );
        theirs.push(t);
        ours.push(o);
    }
    let ratios: Vec<f64> = theirs
        .iter()
        .zip(&ours)
        .map(|(t, o)| o.rate() / t.rate())
        .collect();
    let rates = |ms: &[Measurement]| median(ms.iter().map(Measurement::rate).collect());
    let peak = |ms: &[Measurement]| ms.iter().map(|m| m.peak_heap_bytes).max().unwrap_or(0);
    Ok(Row {
        workload,
        libotr_rate: rates(&theirs),
        padlock_rate: rates(&ours),
        ratio: median(ratios.clone()),
        ratio_min: ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratio_max: ratios.iter().copied().fold(0.0, f64::max),
        libotr_peak: peak(&theirs),
        padlock_peak: peak(&ours),
    })
}

/// Iterations that take about `target` seconds of measured time, found by
/// growing a trial run until it takes at least a quarter of that.
fn calibrate(
    target: f64,
    mut run: impl FnMut(u64) -> Result<Measurement, Error>,
) -> Result<u64, Error> {
    const MAX: u64 = 1 << 26;
    let mut n = 1u64;
    loop {
        let m = run(n)?;
        let per_iteration = (m.seconds / n as f64).max(1e-9);
        if m.seconds >= target / 4.0 || n >= MAX {
            return Ok(((target / per_iteration).round() as u64).clamp(1, MAX));
        }
        let wanted = (target / 4.0 / per_iteration).ceil() as u64;
        n = wanted
            .clamp(n.saturating_mul(2), n.saturating_mul(100))
            .min(MAX);
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn print_report(libotr: &Libotr, settings: &Settings, rows: &[Row], idle: Option<(f64, f64)>) {
    println!();
    println!(
        "padlock-otr {} against libotr {}: {} alternating rounds of about {} s per implementation",
        env!("CARGO_PKG_VERSION"),
        libotr.version(),
        settings.rounds,
        settings.seconds
    );
    println!(
        "rates: median over the rounds; ratio: median of the per-round Padlock/libotr rate ratios"
    );
    println!("(above 1: Padlock is faster), with the lowest and highest round in brackets;");
    println!("peak heap: the most heap bytes live at once above the start of the measured part");
    println!("(for the AKE: during one AKE, the median AKE), highest over the rounds.");
    println!();
    if !rows.is_empty() {
        println!(
            "| {:<14} | {:>16} | {:>16} | {:>22} | {:>25} |",
            "workload", "libotr", "Padlock", "Padlock/libotr", "peak heap libotr / Padlock"
        );
        println!(
            "|{:-<16}|{:->18}|{:->18}|{:->24}|{:->27}|",
            "", "", "", "", ""
        );
        for row in rows {
            let unit = row.workload.unit();
            println!(
                "| {:<14} | {:>16} | {:>16} | {:>22} | {:>25} |",
                row.workload.name(),
                format!("{} {unit}", format_rate(row.libotr_rate)),
                format!("{} {unit}", format_rate(row.padlock_rate)),
                format!(
                    "{:.2} [{:.2}-{:.2}]",
                    row.ratio, row.ratio_min, row.ratio_max
                ),
                format!(
                    "{} / {}",
                    format_bytes(row.libotr_peak as f64),
                    format_bytes(row.padlock_peak as f64)
                ),
            );
        }
    }
    if let Some((theirs, ours)) = idle {
        println!();
        println!(
            "idle private session ({} sessions held by one account, heap growth per session):",
            settings.sessions
        );
        println!(
            "  libotr {}, Padlock {} (Padlock/libotr {:.2})",
            format_bytes(theirs),
            format_bytes(ours),
            ours / theirs
        );
    }
}

fn format_rate(rate: f64) -> String {
    if rate >= 1000.0 {
        format!("{rate:.0}")
    } else if rate >= 10.0 {
        format!("{rate:.1}")
    } else {
        format!("{rate:.2}")
    }
}

fn format_bytes(bytes: f64) -> String {
    if bytes.abs() >= 1024.0 * 1024.0 {
        format!("{:.2} MiB", bytes / (1024.0 * 1024.0))
    } else if bytes.abs() >= 1024.0 {
        format!("{:.1} KiB", bytes / 1024.0)
    } else {
        format!("{bytes:.0} B")
    }
}
