//! Local interface addresses (getifaddrs): default listening addresses, default relay address,
//! and which interfaces XDP attaches to.

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One address configured on one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfAddr {
    pub interface: String,
    pub ip: IpAddr,
    pub up: bool,
    pub loopback: bool,
    /// An IPv6 address with a scope id (link-local): unusable in a TURN address.
    pub scoped: bool,
}

/// Addresses a relay can listen on: up interfaces, no scoped IPv6.
pub fn local_addresses() -> std::io::Result<Vec<IfAddr>> {
    Ok(all_addresses()?.into_iter().filter(|a| a.up && !a.scoped).collect())
}

/// Every IPv4/IPv6 address on every interface (the one getifaddrs walk in the project).
pub fn all_addresses() -> std::io::Result<Vec<IfAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, valid until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }.to_string_lossy().into_owned();
        // SAFETY: ifa_addr is non-null and its family field says which sockaddr it is.
        let (ip, scoped) = unsafe {
            match i32::from((*ifa.ifa_addr).sa_family) {
                libc::AF_INET => {
                    let sa = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    (IpAddr::V4(Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr))), false)
                }
                libc::AF_INET6 => {
                    let sa = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    (IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr)), sa.sin6_scope_id != 0)
                }
                _ => continue,
            }
        };
        out.push(IfAddr {
            interface: name,
            ip,
            up: ifa.ifa_flags & libc::IFF_UP as u32 != 0,
            loopback: ifa.ifa_flags & libc::IFF_LOOPBACK as u32 != 0,
            scoped,
        });
    }
    // SAFETY: head came from getifaddrs and is freed exactly once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_is_listed() {
        let addrs = super::local_addresses().unwrap();
        assert!(addrs.iter().any(|a| a.ip == std::net::IpAddr::from([127, 0, 0, 1])), "{addrs:?}");
    }
}
