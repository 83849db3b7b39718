//! Loading the embedded object, pinning its maps, attaching through BPF links.

use std::{
    ffi::CString,
    fs, io,
    path::{Path, PathBuf},
};

use aya::{
    programs::{Xdp, XdpMode as AyaMode},
    Ebpf, EbpfLoader,
};
use relay_common::{map_names, PROGRAM_NAME};

use super::{AttachedMode, XdpError, XdpMode};

/// aya-log level values (aya_log_common::Level): 0 disables every log statement.
const LOG_OFF: u8 = 0;
const LOG_DEBUG: u8 = 4;

/// Loads `relay::XDP_OBJECT` and the program into the kernel (not attached yet).
pub fn load_object(debug_log: bool) -> Result<Ebpf, XdpError> {
    let level = if debug_log { LOG_DEBUG } else { LOG_OFF };
    let mut ebpf = EbpfLoader::new()
        .override_global("AYA_LOG_LEVEL", &level, false)
        .load(crate::XDP_OBJECT)
        .map_err(|e| XdpError::Load(e.to_string()))?;
    program_mut(&mut ebpf)?.load().map_err(|e| XdpError::Load(format!("{PROGRAM_NAME}: {}", tail(&e.to_string()))))?;
    Ok(ebpf)
}

pub fn program_mut(ebpf: &mut Ebpf) -> Result<&mut Xdp, XdpError> {
    ebpf.program_mut(PROGRAM_NAME)
        .ok_or(XdpError::Missing(PROGRAM_NAME))?
        .try_into()
        .map_err(|e: aya::programs::ProgramError| XdpError::Load(e.to_string()))
}

pub fn program(ebpf: &Ebpf) -> Result<&Xdp, XdpError> {
    ebpf.program(PROGRAM_NAME)
        .ok_or(XdpError::Missing(PROGRAM_NAME))?
        .try_into()
        .map_err(|e: aya::programs::ProgramError| XdpError::Load(e.to_string()))
}

/// Mounts bpffs on `/sys/fs/bpf` if `dir` is under it and nothing is mounted there.
pub fn ensure_bpffs(dir: &Path) -> Result<(), XdpError> {
    let root = Path::new("/sys/fs/bpf");
    if !dir.starts_with(root) || is_bpffs(root) {
        return Ok(());
    }
    let src = CString::new("bpf").map_err(|e| XdpError::Bpffs(e.to_string()))?;
    let target = CString::new("/sys/fs/bpf").map_err(|e| XdpError::Bpffs(e.to_string()))?;
    // SAFETY: all pointers are valid NUL-terminated strings or null (no mount data).
    let rc = unsafe { libc::mount(src.as_ptr(), target.as_ptr(), src.as_ptr(), 0, std::ptr::null()) };
    if rc != 0 {
        return Err(XdpError::Bpffs(format!("mount -t bpf bpf /sys/fs/bpf: {}", io::Error::last_os_error())));
    }
    Ok(())
}

fn is_bpffs(path: &Path) -> bool {
    const BPF_FS_MAGIC: i64 = 0xcafe_4a11;
    let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) else { return false };
    // SAFETY: statfs is plain old data; the path is NUL-terminated.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid path and out pointer.
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut st) };
    rc == 0 && st.f_type as i64 == BPF_FS_MAGIC
}

/// Pins every map under `dir`, replacing pins from an earlier run (their bindings belong to a
/// daemon that is gone; its program detached with its links).
pub fn pin_maps(ebpf: &Ebpf, dir: &Path) -> Result<(), XdpError> {
    ensure_bpffs(dir)?;
    fs::create_dir_all(dir).map_err(|e| XdpError::Pin(format!("{}: {e}", dir.display())))?;
    for name in map_names::ALL {
        let path = dir.join(name);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(XdpError::Pin(format!("{}: {e}", path.display()))),
        }
        let map = ebpf.map(name).ok_or(XdpError::Missing(name))?;
        map.pin(&path).map_err(|e| XdpError::Pin(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// Removes the pins [`pin_maps`] created (and the directory if empty).
pub fn unpin_maps(dir: &Path) {
    for name in map_names::ALL {
        let _ = fs::remove_file(dir.join(name));
    }
    let _ = fs::remove_dir(dir);
}

/// Attaches through a BPF link (detached when the daemon exits, even if it crashes).
/// `Auto` tries native, then skb; the error names every attempt.
pub fn attach(ebpf: &mut Ebpf, interface: &str, mode: XdpMode) -> Result<AttachedMode, XdpError> {
    let attempts: &[AttachedMode] = match mode {
        XdpMode::Auto => &[AttachedMode::Native, AttachedMode::Skb],
        XdpMode::Native => &[AttachedMode::Native],
        XdpMode::Skb => &[AttachedMode::Skb],
        XdpMode::Off => return Err(XdpError::Off),
    };
    let prog = program_mut(ebpf)?;
    let mut reasons = Vec::new();
    for &attempt in attempts {
        let aya_mode = match attempt {
            AttachedMode::Native => AyaMode::Driver,
            AttachedMode::Skb => AyaMode::Skb,
        };
        match prog.attach(interface, aya_mode) {
            Ok(_link) => return Ok(attempt),
            Err(e) => reasons.push(format!("{}: {e}", attempt.as_str())),
        }
    }
    Err(XdpError::Attach { interface: interface.to_owned(), reason: reasons.join("; ") })
}

/// Interface index by name, in the calling thread's network namespace.
pub fn ifindex(interface: &str) -> Result<u32, XdpError> {
    let c = CString::new(interface).map_err(|_| XdpError::NoInterface(interface.to_owned()))?;
    // SAFETY: NUL-terminated string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(XdpError::NoInterface(interface.to_owned())),
        i => Ok(i),
    }
}

/// The default pin directory as a path.
pub fn default_pin_dir() -> PathBuf {
    PathBuf::from(relay_common::PIN_DIR)
}

/// The end of a verifier log: the reason is in the last lines, the rest is thousands of lines.
fn tail(log: &str) -> &str {
    const KEEP: usize = 3000;
    if log.len() <= KEEP {
        return log;
    }
    let mut start = log.len() - KEEP;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}
