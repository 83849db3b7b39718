//! Which interfaces hold the daemon's addresses (the default attach set).

use std::{collections::BTreeSet, net::IpAddr};

/// Names of the interfaces holding any of `addrs`; an unspecified address (0.0.0.0, ::) means
/// every interface that is up, except loopback.
pub fn interfaces_for_addrs(addrs: &[IpAddr]) -> std::io::Result<Vec<String>> {
    let any = addrs.iter().any(IpAddr::is_unspecified);
    let names: BTreeSet<String> = crate::net::interfaces::all_addresses()?
        .into_iter()
        .filter(|a| addrs.contains(&a.ip) || (any && a.up && !a.loopback))
        .map(|a| a.interface)
        .collect();
    Ok(names.into_iter().collect())
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
