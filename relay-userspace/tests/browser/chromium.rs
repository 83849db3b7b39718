//! Headless Chromium (Debian's `chromium`) in a namespace, with a fresh profile and HOME, fake
//! camera and microphone, and nothing that phones home.
use crate::netlab::process::{require, Guarded};
use crate::netlab::Ns;
use std::path::Path;

/// `home` must already hold the NSS database (`.pki/nssdb`) with the test CA.
pub fn launch(ns: &Ns, home: &Path, url: &str) -> Guarded {
    require("chromium", "chromium");
    let profile = home.join("profile");
    std::fs::create_dir_all(&profile).expect("create profile dir");
    let mut cmd = ns.command("chromium");
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--password-store=basic",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
            // Page console lines on stderr: they land in the failure report.
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url);
    Guarded::spawn("chromium", cmd)
}
