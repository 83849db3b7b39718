//! One video visit: a lab, the TURN server with a certificate from the test CA, the app
//! server, headless Chromium in the patient's or the clinic's namespace, and the page's report.
use super::report::{Expect, Report};
use super::turn_server::{self, Kind, TurnServer, SECRET};
use super::{chromium, pki, server::AppServer};
use crate::netlab::firewall::Counters;
use crate::netlab::process::Guarded;
use crate::netlab::{Lab, Site};
use base64::Engine;
use hmac::{Hmac, Mac};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Hang guard for the whole page run (the page gives up by itself a little earlier).
const PAGE_WITHIN: Duration = Duration::from_secs(60);
const PAGE_DEADLINE_MS: u64 = 40_000;
pub const MESSAGES: u64 = 20;
pub const MIN_FRAMES: u64 = 10;

#[derive(Clone, Copy)]
pub enum From {
    Patient,
    Clinic,
}

pub struct Scenario {
    pub name: &'static str,
    pub from: From,
    /// The only TURN URL the page's peers get; `{relay}` is replaced by the relay's IP.
    pub url: &'static str,
    pub relay_protocol: &'static str,
    /// TURN URLs the firewall must block, tried by a probe peer in the same page.
    pub probe_urls: &'static [&'static str],
}

/// What a finished run leaves for scenario-specific checks.
/// Field order is drop order: the TURN server ends before its namespace goes.
pub struct Outcome {
    pub firewall: Counters,
    pub server: TurnServer,
    /// Everything a human needs when a check fails.
    pub diagnostics: String,
    _lab: Lab,
    _dir: TempDir,
    _turn: MutexGuard<'static, ()>,
}

/// One scenario at a time: our relay pins its XDP maps at one fixed path, so two relays in
/// auto mode would fight over it (each run is only a few seconds).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn run(s: &Scenario) -> Outcome {
    // A scenario that failed poisons the lock; the next one still runs on a fresh lab.
    let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let lab = Lab::new();
    let dir = TempDir::new(s.name);
    let kind = Kind::from_env();
    let relay_ip = lab.relay.ip;
    let cert = pki::issue(&dir.0, relay_ip.into());
    let server = turn_server::start(kind, &lab.relay.ns, relay_ip, &cert);
    let home = dir.0.join("home");
    pki::trust_in_nssdb(&home, &cert.ca_pem);

    let user = format!("{}-{}", s.name, std::process::id());
    let config = page_config(s, &relay_ip.to_string(), &user);
    let site: &Site = match s.from {
        From::Patient => &lab.patient,
        From::Clinic => &lab.clinic,
    };
    let app = AppServer::start(&site.ns, config);
    let mut browser = chromium::launch(&site.ns, &home, &app.url());
    let posted = wait_for_report(&app, &mut browser);
    let firewall = lab.firewall_counters();
    let browser_log = browser.log();
    drop(browser);
    drop(app);
    let Some(json) = posted else {
        panic!(
            "{} ({kind:?}): the page posted no report (Chromium exited, or {PAGE_WITHIN:?} passed)\n--- chromium ---\n{}\n--- {kind:?} log for {user} ---\n{}",
            s.name,
            tail(&browser_log, 60),
            server.log_for(&user)
        );
    };
    let report = Report::parse(&json);
    let diagnostics = format!(
        "--- page report ---\n{}\n--- patient firewall counters ---\n{:?}\n--- chromium (tail) ---\n{}\n--- {kind:?} log for {user} ---\n{}",
        report.describe(),
        firewall.0,
        tail(&browser_log, 40),
        server.log_for(&user)
    );
    let expect = Expect {
        messages: MESSAGES,
        min_frames: MIN_FRAMES,
        relay_protocol: s.relay_protocol,
        probe: !s.probe_urls.is_empty(),
    };
    let problems = report.problems(&expect);
    eprintln!("{} ({kind:?}): {}", s.name, report.summary());
    if std::env::var_os("BROWSER_TEST_VERBOSE").is_some() {
        eprintln!("{diagnostics}");
    }
    assert!(problems.is_empty(), "{} ({kind:?}) failed:\n  - {}\n{diagnostics}", s.name, problems.join("\n  - "));
    Outcome { firewall, server, diagnostics, _lab: lab, _dir: dir, _turn: turn }
}

/// The page's report; None if Chromium exits or the hang guard expires first.
fn wait_for_report(app: &AppServer, browser: &mut Guarded) -> Option<String> {
    let deadline = Instant::now() + PAGE_WITHIN;
    while Instant::now() < deadline {
        if let Some(json) = app.wait_result(Duration::from_millis(500)) {
            return Some(json);
        }
        if !browser.alive() {
            return app.wait_result(Duration::from_millis(500));
        }
    }
    None
}

fn page_config(s: &Scenario, relay_ip: &str, user: &str) -> String {
    let (username, credential) = rest_credentials(user);
    let servers =
        |urls: Vec<String>| serde_json::json!([{ "urls": urls, "username": username, "credential": credential }]);
    let url = |u: &str| u.replace("{relay}", relay_ip);
    let probe = if s.probe_urls.is_empty() {
        serde_json::Value::Null
    } else {
        servers(s.probe_urls.iter().map(|u| url(u)).collect())
    };
    serde_json::json!({
        "iceServers": servers(vec![url(s.url)]),
        "probeIceServers": probe,
        "messages": MESSAGES,
        "minFrames": MIN_FRAMES,
        "deadlineMs": PAGE_DEADLINE_MS,
    })
    .to_string()
}

/// What an app's backend does per visit (TURN REST API, as coturn implements it): username
/// `<unix expiry>:<user>`, password base64(HMAC-SHA1(secret, username)). Computed here, not
/// by the relay's own code, so the relay is checked against an independent implementation.
fn rest_credentials(user: &str) -> (String, String) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
    let username = format!("{}:{user}", now + 3600);
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, password)
}

/// The last `n` lines, without Chromium's D-Bus complaints (there is no bus in the lab).
fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.contains("dbus")).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A directory of the test's own under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("relay-browser-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
