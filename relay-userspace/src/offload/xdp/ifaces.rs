//! Which interfaces hold the daemon's addresses (the default attach set).

use std::{collections::BTreeSet, ffi::CStr, net::IpAddr};

/// Names of the interfaces holding any of `addrs`; an unspecified address (0.0.0.0, ::) means
/// every interface that is up, except loopback.
pub fn interfaces_for_addrs(addrs: &[IpAddr]) -> std::io::Result<Vec<String>> {
    let any = addrs.iter().any(IpAddr::is_unspecified);
    let mut names = BTreeSet::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: cur is a node of the list getifaddrs returned, alive until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }.to_string_lossy().into_owned();
        let up = ifa.ifa_flags & libc::IFF_UP as u32 != 0;
        let lo = ifa.ifa_flags & libc::IFF_LOOPBACK as u32 != 0;
        // SAFETY: ifa_addr is null or points to a sockaddr of the family it declares.
        let addr = unsafe { sockaddr_ip(ifa.ifa_addr) };
        let wanted = match addr {
            Some(ip) => addrs.contains(&ip) || (any && up && !lo),
            None => false,
        };
        if wanted {
            names.insert(name);
        }
    }
    // SAFETY: head came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(names.into_iter().collect())
}

/// # Safety
/// `sa` must be null or point to a valid sockaddr of its declared family.
unsafe fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: caller guarantees a valid sockaddr; the family selects the concrete type.
    unsafe {
        match i32::from((*sa).sa_family) {
            libc::AF_INET => {
                let sin = &*(sa as *const libc::sockaddr_in);
                Some(IpAddr::from(u32::from_be(sin.sin_addr.s_addr).to_be_bytes()))
            }
            libc::AF_INET6 => {
                let sin6 = &*(sa as *const libc::sockaddr_in6);
                Some(IpAddr::from(sin6.sin6_addr.s6_addr))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_address_finds_lo() {
        let names = interfaces_for_addrs(&["127.0.0.1".parse().expect("literal")]).expect("getifaddrs");
        assert_eq!(names, vec!["lo".to_owned()]);
    }
}
