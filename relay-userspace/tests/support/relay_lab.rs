//! Three namespaces wired like a relay deployment, with fixed MACs and permanent neighbours so
//! `bpf_fib_lookup` results are deterministic:
//!
//! ```text
//! client ns            relay ns                          peer ns
//! c0 10.0.1.2  <-----> r0 10.0.1.1   (server side)
//!    fd00:1::2            fd00:1::1
//!                      r1 10.0.2.1   (relay side) <----> p0 10.0.2.2 / fd00:2::2
//!                         fd00:2::1
//!                      r2 10.0.3.1   (never in the devmap) <-> p1 10.0.3.2
//! ```
//! Also on r0's link: 10.0.1.3 / fd00:1::3 (neighbour only, no host) for XDP_TX cases, and
//! 10.0.2.9 on r1's subnet with no neighbour entry.

use super::{add_addr, add_neigh, Netns, Veth};

pub const C0_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x0c, 0x00];
pub const R0_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x01, 0x00];
pub const R1_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x01, 0x01];
pub const R2_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x01, 0x02];
pub const P0_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x0e, 0x00];
pub const P1_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x0e, 0x01];
/// MAC of the on-link-only neighbour 10.0.1.3 / fd00:1::3.
pub const ONLINK_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x0c, 0x03];

pub struct RelayLab {
    // Veths first so they drop before their namespaces.
    pub server_link: Veth,
    pub relay_link: Veth,
    pub other_link: Veth,
    pub client: Netns,
    pub relay: Netns,
    pub peer: Netns,
}

impl RelayLab {
    pub fn new(tag: &str) -> RelayLab {
        let client = Netns::new(&format!("{tag}c"));
        let relay = Netns::new(&format!("{tag}r"));
        let peer = Netns::new(&format!("{tag}p"));
        let server_link = Veth::new(&relay, "r0", R0_MAC, &client, "c0", C0_MAC);
        let relay_link = Veth::new(&relay, "r1", R1_MAC, &peer, "p0", P0_MAC);
        let other_link = Veth::new(&relay, "r2", R2_MAC, &peer, "p1", P1_MAC);
        for (ns, dev, cidr) in [
            (&client, "c0", "10.0.1.2/24"),
            (&client, "c0", "fd00:1::2/64"),
            (&relay, "r0", "10.0.1.1/24"),
            (&relay, "r0", "fd00:1::1/64"),
            (&relay, "r1", "10.0.2.1/24"),
            (&relay, "r1", "fd00:2::1/64"),
            (&relay, "r2", "10.0.3.1/24"),
            (&relay, "r2", "fd00:3::1/64"),
            (&peer, "p0", "10.0.2.2/24"),
            (&peer, "p0", "fd00:2::2/64"),
            (&peer, "p1", "10.0.3.2/24"),
            (&peer, "p1", "fd00:3::2/64"),
        ] {
            add_addr(ns, dev, cidr);
        }
        for (ns, dev, ip, mac) in [
            (&relay, "r0", "10.0.1.2", C0_MAC),
            (&relay, "r0", "fd00:1::2", C0_MAC),
            (&relay, "r0", "10.0.1.3", ONLINK_MAC),
            (&relay, "r0", "fd00:1::3", ONLINK_MAC),
            (&relay, "r1", "10.0.2.2", P0_MAC),
            (&relay, "r1", "fd00:2::2", P0_MAC),
            (&relay, "r2", "10.0.3.2", P1_MAC),
            (&relay, "r2", "fd00:3::2", P1_MAC),
            (&client, "c0", "10.0.1.1", R0_MAC),
            (&client, "c0", "fd00:1::1", R0_MAC),
            (&peer, "p0", "10.0.2.1", R1_MAC),
            (&peer, "p0", "fd00:2::1", R1_MAC),
        ] {
            add_neigh(ns, dev, ip, mac);
        }
        relay.enable_forwarding();
        RelayLab { server_link, relay_link, other_link, client, relay, peer }
    }
}
