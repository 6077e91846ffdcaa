//! The libotr side: `libotr_bench.c`, compiled at start-up against the
//! system's libotr (`pkg-config libotr`) and run once per measurement.
//!
//! Compiling at run time keeps the workspace buildable where libotr is
//! absent; only running the benchmark needs libotr5-dev, pkg-config and a C
//! compiler (`$CC`, else `cc`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;

use crate::{Error, Measurement, Workload};

/// The C program's source, carried in the binary.
const SOURCE: &str = include_str!("../libotr_bench.c");

/// What to install when the build fails for want of libotr.
const INSTALL_HINT: &str = "install libotr's development files, pkg-config and a C compiler \
     (Debian/Ubuntu: apt-get install libotr5-dev pkg-config gcc)";

static BUILDS: AtomicUsize = AtomicUsize::new(0);

/// The compiled libotr program, in a private temporary directory (removed
/// on drop) that also holds the two parties' key files, generated on the
/// first run.
#[derive(Debug)]
pub struct Libotr {
    dir: PathBuf,
    program: PathBuf,
    version: String,
}

#[derive(Deserialize)]
struct Report {
    iterations: u64,
    seconds: f64,
    peak_heap_bytes: u64,
}

#[derive(Deserialize)]
struct IdleReport {
    bytes_per_session: f64,
}

impl Libotr {
    /// Compiles the program.
    pub fn build() -> Result<Self, Error> {
        let version = pkg_config(&["--modversion", "libotr"])?;
        let flags = pkg_config(&["--cflags", "--libs", "libotr"])?;
        let dir = std::env::temp_dir().join(format!(
            "padlock-bench-{}-{}",
            std::process::id(),
            BUILDS.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir)
            .map_err(|e| Error::Setup(format!("cannot create {}: {e}", dir.display())))?;
        // From here on, dropping `libotr` removes the directory.
        let libotr = Self {
            program: dir.join("libotr_bench"),
            dir,
            version: version.trim().to_owned(),
        };
        let source = libotr.dir.join("libotr_bench.c");
        fs::write(&source, SOURCE)
            .map_err(|e| Error::Setup(format!("cannot write {}: {e}", source.display())))?;
        let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
        let output = Command::new(&compiler)
            // -rdynamic: libotr and libgcrypt must find the program's
            // counting malloc.
            .args(["-O2", "-rdynamic", "-o"])
            .arg(&libotr.program)
            .arg(&source)
            .args(flags.split_whitespace())
            .output()
            .map_err(|e| {
                Error::Setup(format!(
                    "cannot run the C compiler '{compiler}': {e}; {INSTALL_HINT}"
                ))
            })?;
        if !output.status.success() {
            return Err(Error::Setup(format!(
                "compiling libotr_bench.c failed:\n{}\n{INSTALL_HINT}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(libotr)
    }

    /// The version of libotr the program was built against.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Runs `workload` for `iterations` iterations in a new process.
    pub fn run(&self, workload: Workload, iterations: u64) -> Result<Measurement, Error> {
        let stdout = self.exec(workload.name(), iterations)?;
        let report: Report = serde_json::from_str(&stdout)
            .map_err(|e| Error::Libotr(format!("{workload}: unreadable report {stdout:?}: {e}")))?;
        if report.iterations != iterations {
            return Err(Error::Libotr(format!(
                "{workload}: ran {} iterations instead of {iterations}",
                report.iterations
            )));
        }
        Ok(Measurement {
            iterations: report.iterations,
            seconds: report.seconds,
            peak_heap_bytes: report.peak_heap_bytes,
        })
    }

    /// Heap bytes one idle private session costs libotr (the user state
    /// that holds it): `sessions` peers each start an AKE with alice, who
    /// answers; the peers' user state is then freed whole and alice's growth
    /// divided by `sessions`.
    pub fn idle_session_bytes(&self, sessions: u64) -> Result<f64, Error> {
        let stdout = self.exec("idle-sessions", sessions)?;
        let report: IdleReport = serde_json::from_str(&stdout).map_err(|e| {
            Error::Libotr(format!("idle-sessions: unreadable report {stdout:?}: {e}"))
        })?;
        Ok(report.bytes_per_session)
    }

    fn exec(&self, workload: &str, iterations: u64) -> Result<String, Error> {
        let output = Command::new(&self.program)
            .arg(workload)
            .arg(iterations.to_string())
            .arg(&self.dir)
            .output()
            .map_err(|e| Error::Libotr(format!("cannot run {}: {e}", self.program.display())))?;
        if !output.status.success() {
            return Err(Error::Libotr(format!(
                "{workload} ({iterations} iterations) exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        String::from_utf8(output.stdout)
            .map_err(|_| Error::Libotr(format!("{workload}: the report is not UTF-8")))
    }

    /// The temporary directory holding the program and its keys.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Libotr {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn pkg_config(args: &[&str]) -> Result<String, Error> {
    let output = Command::new("pkg-config")
        .args(args)
        .output()
        .map_err(|e| Error::Setup(format!("cannot run pkg-config: {e}; {INSTALL_HINT}")))?;
    if !output.status.success() {
        return Err(Error::Setup(format!(
            "pkg-config does not know libotr ({}); {INSTALL_HINT}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| Error::Setup("pkg-config printed something that is not UTF-8".into()))
}
