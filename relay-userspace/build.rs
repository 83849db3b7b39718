//! Builds the XDP program (`relay-ebpf`) with nightly for `bpfel-unknown-none` and hands the
//! object to the daemon through `OUT_DIR`, so `cargo build` always embeds the object built from
//! the sources in this tree. A failed eBPF build fails this build: there is no silent fallback to
//! a stale or empty object. `cargo xtask bootstrap` installs what the eBPF build needs.
use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("relay-userspace lives inside the workspace");
    let ebpf_dir = root.join("relay-ebpf");
    for watched in ["relay-ebpf/src", "relay-ebpf/Cargo.toml", "relay-ebpf/Cargo.lock", "relay-common/src"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = root.join("target").join("ebpf");
    build_ebpf(&ebpf_dir, &target_dir);
    let object = target_dir.join("bpfel-unknown-none/release/relay-xdp");
    std::fs::copy(&object, out_dir.join("relay-xdp.o"))
        .unwrap_or_else(|e| panic!("eBPF object {} missing after build: {e}", object.display()));
}

fn build_ebpf(ebpf_dir: &Path, target_dir: &Path) {
    let mut cmd = Command::new("rustup");
    cmd.args([
        "run",
        "nightly",
        "cargo",
        "build",
        "--release",
        "--target",
        "bpfel-unknown-none",
        "-Z",
        "build-std=core",
    ])
    .arg("--manifest-path")
    .arg(ebpf_dir.join("Cargo.toml"))
    .arg("--target-dir")
    .arg(target_dir);
    // The outer (stable) cargo exports its own toolchain, flags and package metadata; none of it
    // may leak into the nightly eBPF build.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let leaks = (key.starts_with("CARGO") && key != "CARGO_HOME")
            || key.starts_with("RUSTC")
            || key.starts_with("RUSTDOC")
            || key == "RUSTFLAGS"
            || key == "RUSTUP_TOOLCHAIN";
        if leaks {
            cmd.env_remove(&key);
        }
    }
    let status = cmd.status().unwrap_or_else(|e| panic!("cannot run rustup to build the eBPF program: {e}"));
    if !status.success() {
        panic!(
            "building relay-ebpf failed ({status}); its compiler output is above. If instead the \
             toolchain is missing (nightly with rust-src, bpf-linker 0.13 built against nightly's \
             LLVM), run `cargo xtask bootstrap` (the README's commands do this for you)."
        );
    }
}
