//! libotr itself as the judge: compiles `fixtures/import/libotr_tool.c`
//! against the installed libotr and runs it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A compiled libotr_tool, or `None` (with the reason printed) if libotr's
/// development files are not installed. Anything else that fails is a test
/// failure.
pub fn build(work: &Path) -> Option<PathBuf> {
    let has_pkg = Command::new("pkg-config")
        .args(["--exists", "libotr"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_pkg || !Path::new("/usr/include/libotr/privkey.h").exists() {
        eprintln!(
            "SKIPPED: libotr's development files (Debian package libotr5-dev) are not installed; \
             the test script installs them"
        );
        return None;
    }
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "libotr"])
        .output()
        .expect("pkg-config runs");
    assert!(
        flags.status.success(),
        "pkg-config --cflags --libs libotr failed"
    );
    let flags = String::from_utf8(flags.stdout).expect("pkg-config prints text");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/libotr_tool.c");
    let binary = work.join("libotr_tool");
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .arg("-O1")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .args(flags.split_whitespace())
        .status()
        .expect("the C compiler runs");
    assert!(status.success(), "compiling libotr_tool.c failed");
    Some(binary)
}

/// A fresh, empty directory for one test.
pub fn work_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("padlock-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// One key libotr generated.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    pub file: PathBuf,
    pub account: String,
    pub protocol: String,
    /// libotr's human form: five groups of eight uppercase hex digits.
    pub fingerprint: String,
}

/// Generates `3 * count` keys (three accounts per file) in `dir`, files
/// numbered from `first`, in `jobs` parallel libotr processes.
pub fn generate(
    tool: &Path,
    dir: &Path,
    first: usize,
    count: usize,
    jobs: usize,
) -> Vec<GeneratedKey> {
    let per_job = count.div_ceil(jobs.max(1));
    let children: Vec<_> = (0..jobs)
        .filter_map(|j| {
            let start = first + j * per_job;
            let n = per_job.min((first + count).saturating_sub(start));
            (n > 0).then(|| {
                Command::new(tool)
                    .arg("gen")
                    .arg(dir)
                    .arg(start.to_string())
                    .arg(n.to_string())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .expect("libotr_tool starts")
            })
        })
        .collect();
    let mut keys = Vec::new();
    for child in children {
        let output = child.wait_with_output().expect("libotr_tool runs");
        assert!(output.status.success(), "libotr_tool gen failed");
        for line in String::from_utf8(output.stdout).expect("text").lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let ["KEY", file, account, protocol, fingerprint] = fields.as_slice() else {
                panic!("unexpected line {line:?}");
            };
            keys.push(GeneratedKey {
                file: PathBuf::from(file),
                account: (*account).to_owned(),
                protocol: (*protocol).to_owned(),
                fingerprint: (*fingerprint).to_owned(),
            });
        }
    }
    keys
}

/// What libotr read from a set of files.
#[derive(Debug, Default)]
pub struct LibotrView {
    /// (account, protocol, human fingerprint).
    pub keys: Vec<(String, String, String)>,
    /// (contact, account, protocol, human fingerprint, trust).
    pub fingerprints: Vec<(String, String, String, String, String)>,
    /// (account, protocol, tag as %08x).
    pub instance_tags: Vec<(String, String, String)>,
}

/// Reads the three files with libotr.
pub fn read(tool: &Path, keys: &Path, fingerprints: &Path, instance_tags: &Path) -> LibotrView {
    let output = Command::new(tool)
        .arg("read")
        .args([keys, fingerprints, instance_tags])
        .output()
        .expect("libotr_tool runs");
    assert!(
        output.status.success(),
        "libotr could not read the files: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut view = LibotrView::default();
    for line in String::from_utf8(output.stdout).expect("text").lines() {
        let f: Vec<String> = line.split('\t').map(str::to_owned).collect();
        match f.as_slice() {
            [kind, a, p, fp] if kind == "KEY" => view.keys.push((a.clone(), p.clone(), fp.clone())),
            [kind, c, a, p, fp, t] if kind == "FPR" => {
                view.fingerprints
                    .push((c.clone(), a.clone(), p.clone(), fp.clone(), t.clone()))
            }
            [kind, a, p, t] if kind == "TAG" => {
                view.instance_tags.push((a.clone(), p.clone(), t.clone()))
            }
            _ => panic!("unexpected line {line:?}"),
        }
    }
    view
}

/// True if the file has a DSA value written as a quoted string, as libgcrypt
/// does when the bytes look printable.
pub fn has_quoted_value(bytes: &[u8]) -> bool {
    [b"(p \"", b"(q \"", b"(g \"", b"(y \"", b"(x \""]
        .iter()
        .any(|pattern| bytes.windows(pattern.len()).any(|w| w == *pattern))
}
