//! Relayed transport addresses: the core picks ports, the edge binds sockets (RFC 8656 §7.2).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

use rand::Rng;

/// Opens and closes relay sockets for the core. The edge implements it with real UDP sockets;
/// tests use a fake. Called synchronously from `Server` methods, never from a timer thread.
pub trait RelayBinder: Send {
    /// Binds a UDP socket on `addr` now; an error makes the core try another port.
    fn bind(&mut self, addr: SocketAddr) -> std::io::Result<()>;
    /// Closes the socket bound on `addr` (allocation gone, or an EVEN-PORT reservation expired
    /// unused; only the former is followed by `Output::RelayClosed`).
    fn close(&mut self, addr: SocketAddr);
}

/// Which port shape an Allocate asks for (RFC 8656 §7.2, EVEN-PORT §18.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortShape {
    Any,
    Even,
    /// Even port, and the next (odd) port is reserved for a later RESERVATION-TOKEN.
    EvenReserveNext,
}

/// How many failed `bind` calls one Allocate may cause before giving up with 508.
const MAX_BIND_FAILURES: u32 = 32;

#[derive(Debug)]
pub(crate) struct PortPool {
    min: u16,
    max: u16,
    in_use: HashSet<SocketAddr>,
}

impl PortPool {
    pub(crate) fn new(min: u16, max: u16) -> Self {
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        PortPool { min, max, in_use: HashSet::new() }
    }

    fn size(&self) -> u32 {
        u32::from(self.max) - u32::from(self.min) + 1
    }

    /// Picks and binds a free port on `ip`, starting at a random offset (RFC 8656 §21.1.7:
    /// random relay ports make the TURN loop attack harder). Returns the bound address and, for
    /// [`PortShape::EvenReserveNext`], the reserved odd one (also bound). `None`: 508.
    pub(crate) fn acquire(
        &mut self,
        ip: IpAddr,
        shape: PortShape,
        binder: &mut dyn RelayBinder,
        rng: &mut impl Rng,
    ) -> Option<(SocketAddr, Option<SocketAddr>)> {
        let size = self.size();
        let start = rng.gen_range(0..size);
        let mut failures = 0;
        for i in 0..size {
            let off = (start + i) % size;
            // off < size, so min + off <= max fits in u16.
            let port = u16::try_from(u32::from(self.min) + off).ok()?;
            if shape != PortShape::Any && port % 2 != 0 {
                continue;
            }
            let addr = SocketAddr::new(ip, port);
            let next = match shape {
                PortShape::EvenReserveNext => match port.checked_add(1) {
                    Some(p) if p <= self.max => Some(SocketAddr::new(ip, p)),
                    _ => continue,
                },
                _ => None,
            };
            if self.in_use.contains(&addr) || next.is_some_and(|n| self.in_use.contains(&n)) {
                continue;
            }
            if binder.bind(addr).is_err() {
                failures += 1;
            } else if let Some(n) = next {
                if binder.bind(n).is_err() {
                    binder.close(addr);
                    failures += 1;
                } else {
                    self.in_use.insert(addr);
                    self.in_use.insert(n);
                    return Some((addr, Some(n)));
                }
            } else {
                self.in_use.insert(addr);
                return Some((addr, None));
            }
            if failures >= MAX_BIND_FAILURES {
                return None;
            }
        }
        None
    }

    /// Closes the socket on `addr` and returns the port to the pool.
    pub(crate) fn release(&mut self, addr: SocketAddr, binder: &mut dyn RelayBinder) {
        if self.in_use.remove(&addr) {
            binder.close(addr);
        }
    }

    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        self.in_use.len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::sync::{Arc, Mutex};

    /// A binder that records calls and refuses the ports listed in `refuse`.
    #[derive(Clone, Default)]
    pub(crate) struct FakeBinder {
        pub(crate) state: Arc<Mutex<FakeState>>,
    }

    #[derive(Default, Debug)]
    pub(crate) struct FakeState {
        pub(crate) bound: HashSet<SocketAddr>,
        pub(crate) refuse: HashSet<u16>,
        pub(crate) closed: Vec<SocketAddr>,
    }

    impl RelayBinder for FakeBinder {
        fn bind(&mut self, addr: SocketAddr) -> std::io::Result<()> {
            let mut s = self.state.lock().unwrap();
            if s.refuse.contains(&addr.port()) || !s.bound.insert(addr) {
                return Err(std::io::ErrorKind::AddrInUse.into());
            }
            Ok(())
        }
        fn close(&mut self, addr: SocketAddr) {
            let mut s = self.state.lock().unwrap();
            s.bound.remove(&addr);
            s.closed.push(addr);
        }
    }

    fn ip() -> IpAddr {
        "192.0.2.1".parse().unwrap()
    }

    #[test]
    fn exhausts_then_frees() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut b = FakeBinder::default();
        let mut pool = PortPool::new(50000, 50003);
        let mut got = Vec::new();
        for _ in 0..4 {
            got.push(pool.acquire(ip(), PortShape::Any, &mut b, &mut rng).unwrap().0);
        }
        assert!(pool.acquire(ip(), PortShape::Any, &mut b, &mut rng).is_none());
        pool.release(got[2], &mut b);
        assert_eq!(pool.acquire(ip(), PortShape::Any, &mut b, &mut rng).unwrap().0, got[2]);
    }

    #[test]
    fn skips_ports_the_os_refuses() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let mut b = FakeBinder::default();
        b.state.lock().unwrap().refuse.extend([50000, 50001, 50002]);
        let mut pool = PortPool::new(50000, 50003);
        let (a, _) = pool.acquire(ip(), PortShape::Any, &mut b, &mut rng).unwrap();
        assert_eq!(a.port(), 50003);
    }

    #[test]
    fn even_and_reserved_pairs() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut b = FakeBinder::default();
        let mut pool = PortPool::new(50001, 50010);
        for _ in 0..3 {
            let (a, r) = pool.acquire(ip(), PortShape::EvenReserveNext, &mut b, &mut rng).unwrap();
            assert_eq!(a.port() % 2, 0);
            assert_eq!(r.unwrap().port(), a.port() + 1);
        }
        for _ in 0..2 {
            let (a, _) = pool.acquire(ip(), PortShape::Even, &mut b, &mut rng).unwrap();
            assert_eq!(a.port() % 2, 0);
        }
        assert!(pool.acquire(ip(), PortShape::Even, &mut b, &mut rng).is_none());
        assert_eq!(pool.in_use(), 8);
    }
}
