//! How the daemon asks for XDP: `--xdp auto|native|skb|off`, interfaces, ports, pin dir.

use std::{fmt, path::PathBuf, str::FromStr};

/// Requested attach mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum XdpMode {
    /// Native, else generic (skb), else off; never an error.
    #[default]
    Auto,
    /// Native (driver) XDP or fail.
    Native,
    /// Generic (skb) XDP or fail.
    Skb,
    /// Do not load the program.
    Off,
}

impl FromStr for XdpMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(XdpMode::Auto),
            "native" => Ok(XdpMode::Native),
            "skb" | "generic" => Ok(XdpMode::Skb),
            "off" => Ok(XdpMode::Off),
            other => Err(format!("unknown XDP mode {other:?} (expected auto, native, skb or off)")),
        }
    }
}

impl fmt::Display for XdpMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            XdpMode::Auto => "auto",
            XdpMode::Native => "native",
            XdpMode::Skb => "skb",
            XdpMode::Off => "off",
        })
    }
}

/// The mode an interface actually got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachedMode {
    Native,
    Skb,
}

impl AttachedMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachedMode::Native => "native",
            AttachedMode::Skb => "skb",
        }
    }
}

/// One interface the program is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub interface: String,
    pub ifindex: u32,
    pub mode: AttachedMode,
}

/// Loading options.
#[derive(Clone, Debug)]
pub struct XdpConfig {
    pub mode: XdpMode,
    /// Interfaces to attach to (the CLI defaults them to those holding the listening/relay
    /// addresses, see [`super::interfaces_for_addrs`]).
    pub interfaces: Vec<String>,
    /// UDP ports on which client ChannelData arrives (3478 by default).
    pub listen_ports: Vec<u16>,
    /// bpffs directory to pin maps in; `None` pins nothing (tests, benchmarks).
    pub pin_dir: Option<PathBuf>,
    /// Enable the program's aya-log output at debug level (off on the hot path by default).
    pub debug_log: bool,
}

impl Default for XdpConfig {
    fn default() -> Self {
        XdpConfig {
            mode: XdpMode::Auto,
            interfaces: Vec::new(),
            listen_ports: vec![3478],
            pin_dir: Some(PathBuf::from(relay_common::PIN_DIR)),
            debug_log: false,
        }
    }
}
