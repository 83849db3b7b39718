//! peer -> client: UDP to a relayed address becomes ChannelData from the server address
//! (RFC 8656 §12.7 for the rules the daemon would apply).

use aya_ebpf::programs::XdpContext;
use relay_common::{route_slot, P2cValue, Verdict};

use crate::{
    csum::{wire16, Csum},
    maps::{count_channel, Scratch, P2C},
    ptr::{addr_of, addr_to_key, packet, set_family, st, Family, CD_LEN, UDP_LEN},
    rewrite::{ip_check, kept, resize, write, Headers},
    route::{lookup, transmit, Flow},
};

/// Inlined into the entry point (see c2p); returns [`crate::pack`]ed results.
#[inline(always)]
pub fn forward<F: Family>(ctx: &XdpContext, s: &mut Scratch) -> u64 {
    crate::pack(forward_inner::<F>(ctx, s))
}

#[inline(always)]
fn forward_inner<F: Family>(ctx: &XdpContext, s: &mut Scratch) -> Result<(Verdict, u32), Verdict> {
    let d = packet(ctx, F::L4 + UDP_LEN).ok_or(Verdict::Malformed)?;
    let p = &s.parsed;
    let k = &mut s.p2c_key;
    // SAFETY: the addresses are inside the checked frame; the key is scratch map memory.
    unsafe {
        addr_to_key::<F>(addr_of(&k.peer_addr), d + F::SRC);
        addr_to_key::<F>(addr_of(&k.relay_addr), d + F::DST);
    }
    k.peer_port = p.sport;
    k.relay_port = p.dport;
    // SAFETY: family and the 3 padding bytes after it, inside the key (scratch map memory).
    unsafe { set_family(addr_of(&k.family), F::FAMILY) };
    // SAFETY: map values stay valid (RCU) for the program's run; a concurrent update by the
    // daemon can at worst mix an old and a new binding for one packet.
    // By reference on purpose: a by-value key would be copied onto the stack.
    #[allow(clippy::needless_borrows_for_generic_args)]
    let v: &P2cValue = unsafe { &*P2C.get_ptr(&*k).ok_or(Verdict::P2cMiss)? };
    let now = s.clock.now();
    if now > v.expires_ns {
        return Err(Verdict::Expired);
    }
    if v.family != F::FAMILY {
        return Err(Verdict::MixedFamily);
    }
    if p.ttl <= 1 {
        return Err(Verdict::TtlExpired);
    }
    let data_len = p.udp_len - UDP_LEN as u16;
    let new_tot = p.ip_tot + CD_LEN as u32;
    if new_tot > 0xffff {
        return Err(Verdict::MtuExceeded);
    }
    let new_tot = new_tot as u16;
    // SAFETY: the IP header is inside the checked frame.
    let old = unsafe { kept::<F>(d, p.ttl) };
    let flow = Flow {
        family: F::FAMILY,
        src: &v.server_addr,
        dst: &v.client_addr,
        sport: v.server_port,
        dport: v.client_port,
        tot_len: new_tot,
        first_word: old.first_word,
    };
    let route = lookup(ctx, &flow, route_slot(v.stats_slot, false), now).map_err(|e| match e {
        // A client on this host: no hairpin in this direction, the stack delivers it.
        Verdict::HairpinMiss => Verdict::FibFailed,
        e => e,
    })?;
    let udp_len = p.udp_len + CD_LEN as u16;
    // A zero IPv4 UDP checksum means "none" (RFC 768) and stays zero; IPv6 never has one.
    let udp_check = if p.udp_check == 0 {
        0
    } else {
        let mut c = Csum::new(p.udp_check);
        // Addresses, ports and the channel number (in the binding's delta), the UDP length in
        // the header and the pseudo-header, and the ChannelData length word (RFC 8656 §12.4).
        c.add(v.udp_csum);
        c.replace(wire16(p.udp_len), wire16(udp_len));
        c.replace(wire16(p.udp_len), wire16(udp_len));
        c.add(wire16(data_len));
        c.finish_udp()
    };
    let ip_tot = p.ip_tot as u16;
    resize(ctx, p.trailer as usize, -(CD_LEN as i32))?;
    let d = packet(ctx, F::L4 + UDP_LEN + CD_LEN).ok_or(Verdict::Aborted)?;
    let h = Headers {
        route,
        src: &v.server_addr,
        dst: &v.client_addr,
        sport: v.server_port,
        dport: v.client_port,
        ip_tot: new_tot,
        udp_len,
        ip_check: ip_check::<F>(&old, [v.ip_csum, 0], ip_tot, new_tot),
        udp_check,
    };
    // SAFETY: the resized frame was checked for the headers and the ChannelData header.
    unsafe {
        write::<F>(d, &old, &h);
        st::<u16>(d + F::L4 + UDP_LEN, wire16(v.channel));
        st::<u16>(d + F::L4 + UDP_LEN + 2, wire16(data_len));
    }
    count_channel(v.stats_slot, false, u64::from(data_len));
    let verdict = if F::ADDR_LEN == 4 { Verdict::ForwardedP2cV4 } else { Verdict::ForwardedP2cV6 };
    Ok((verdict, transmit(route)?))
}
