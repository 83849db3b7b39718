//! BPF_PROG_TEST_RUN on the loaded program: byte-exact fixtures and benchmarks.

use std::time::Duration;

use aya::{programs::TestRun, TestRunOptions};

use super::{loader, XdpError, XdpOffload};

/// What the program did with one test packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRunOutput {
    /// XDP action (`XDP_PASS` = 2, `XDP_TX` = 3, `XDP_REDIRECT` = 4, ...).
    pub action: u32,
    /// The packet after the program ran.
    pub packet: Vec<u8>,
    /// Average time per run as measured by the kernel.
    pub duration: Duration,
}

/// `struct xdp_md` as BPF_PROG_TEST_RUN takes it in `ctx_in` (include/uapi/linux/bpf.h).
#[repr(C)]
struct XdpMd {
    data: u32,
    data_end: u32,
    data_meta: u32,
    ingress_ifindex: u32,
    rx_queue_index: u32,
    egress_ifindex: u32,
}

impl XdpOffload {
    /// Runs the program `repeat` times on `packet` as if it arrived on `ingress_ifindex`
    /// (0: the loopback device) of the calling thread's network namespace. Nothing is sent.
    pub fn test_run(&self, packet: &[u8], ingress_ifindex: u32, repeat: u32) -> Result<TestRunOutput, XdpError> {
        let md = XdpMd {
            data: 0,
            data_end: u32::try_from(packet.len()).map_err(|_| XdpError::TestRun("packet too large".into()))?,
            data_meta: 0,
            ingress_ifindex,
            rx_queue_index: 0,
            egress_ifindex: 0,
        };
        // SAFETY: XdpMd is #[repr(C)] of six u32s: no padding, every byte initialised.
        let ctx =
            unsafe { std::slice::from_raw_parts((&md as *const XdpMd).cast::<u8>(), std::mem::size_of::<XdpMd>()) };
        // Room for the 4 bytes p2c adds plus slack.
        let mut out = vec![0u8; packet.len() + 64];
        self.with_ebpf(|ebpf| {
            let prog = loader::program(ebpf)?;
            let opts = TestRunOptions {
                data_in: Some(packet),
                data_out: Some(&mut out),
                ctx_in: if ingress_ifindex == 0 { None } else { Some(ctx) },
                ctx_out: None,
                repeat: repeat.max(1),
                ..TestRunOptions::default()
            };
            let r = prog.test_run(opts).map_err(|e| XdpError::TestRun(e.to_string()))?;
            let len = (r.data_size_out as usize).min(out.len());
            out.truncate(len);
            Ok(TestRunOutput { action: r.return_value, packet: out, duration: r.duration })
        })
    }
}
