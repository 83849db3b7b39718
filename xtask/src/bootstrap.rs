//! Idempotent set-up. Every step checks first and does nothing when its tool is present, so a
//! second run takes a second or two.
use crate::cmd::{have, nightly_cargo, output, run as sh, stable_cargo};
use anyhow::{bail, Context, Result};
use std::process::Command;

/// bpf-linker must be built against the same LLVM major as nightly rustc (TOOLCHAIN.md).
const BPF_LINKER_VERSION: &str = "0.13.0";
const BPF_LINKER_LLVM_FEATURE: &str = "llvm-22";

/// Debian packages the tests need, keyed by a binary each one provides.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("turnutils_stunclient", "coturn"),
    ("ethtool", "ethtool"),
    ("ip", "iproute2"),
    ("nft", "nftables"),
    ("bpftool", "bpftool"),
    ("python3", "python3"),
    ("chromium", "chromium"),
    ("certutil", "libnss3-tools"),
];

/// aioice: an independent TURN client (Python) the tests drive; pinned for repeatable runs.
const AIOICE: &str = "aioice==0.13.0";

pub fn run(test_deps: bool) -> Result<()> {
    nightly_toolchain()?;
    rust_src()?;
    bpf_linker()?;
    if test_deps {
        debian_packages(TEST_PACKAGES)?;
        cargo_fuzz()?;
        python_clients()?;
    }
    Ok(())
}

fn nightly_toolchain() -> Result<()> {
    if output(Command::new("rustup").args(["run", "nightly", "rustc", "--version"])).is_some() {
        return Ok(());
    }
    sh(Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))
}

fn rust_src() -> Result<()> {
    let installed = output(Command::new("rustup").args(["component", "list", "--toolchain", "nightly", "--installed"]))
        .unwrap_or_default();
    if installed.lines().any(|l| l.starts_with("rust-src")) {
        return Ok(());
    }
    sh(Command::new("rustup").args(["component", "add", "rust-src", "--toolchain", "nightly"]))
}

fn bpf_linker() -> Result<()> {
    let current = output(Command::new("bpf-linker").arg("--version")).unwrap_or_default();
    if current.contains(BPF_LINKER_VERSION) {
        return Ok(());
    }
    eprintln!("xtask: building bpf-linker {BPF_LINKER_VERSION} against nightly's libLLVM (about a minute)");
    let sysroot = output(Command::new("rustup").args(["run", "nightly", "rustc", "--print", "sysroot"]))
        .context("cannot ask nightly rustc for its sysroot")?;
    let lib_dir = std::path::Path::new(sysroot.trim()).join("lib");
    let lib = std::fs::read_dir(&lib_dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("libLLVM.so.") && n.contains("-rust-"))
        .with_context(|| format!("no libLLVM.so.*-rust-* in {}", lib_dir.display()))?;
    let link = lib_dir.join("libLLVM.so");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&lib, &link).context("cannot link libLLVM.so")?;
    sh(stable_cargo()
        .args(["install", "bpf-linker", "--version", BPF_LINKER_VERSION, "--locked", "--no-default-features"])
        .args(["--features", BPF_LINKER_LLVM_FEATURE])
        .env("LLVM_PREFIX", sysroot.trim()))
}

/// Installs the packages whose binary is missing; `apt-get update` only when something is.
pub fn debian_packages(wanted: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = wanted.iter().filter(|(bin, _)| !have(bin)).map(|(_, pkg)| *pkg).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !have("apt-get") {
        bail!("missing Debian packages {missing:?} and no apt-get to install them");
    }
    sh(Command::new("apt-get").args(["update", "-qq"]))?;
    sh(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn cargo_fuzz() -> Result<()> {
    if output(nightly_cargo().args(["fuzz", "--version"])).is_some() {
        return Ok(());
    }
    sh(stable_cargo().args(["install", "cargo-fuzz", "--locked"]))
}

/// A virtualenv under target/ with the Python TURN client, so the system Python stays untouched.
fn python_clients() -> Result<()> {
    let venv = crate::cmd::root().join("target/test-venv");
    let python = venv.join("bin/python");
    if output(Command::new(&python).args(["-c", "import aioice"])).is_some() {
        return Ok(());
    }
    sh(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    sh(Command::new(&python).args(["-m", "pip", "install", "--quiet", AIOICE]))
}
