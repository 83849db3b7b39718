#![no_std]
#![no_main]

use aya_ebpf::{bindings::xdp_action, macros::{map, xdp}, maps::PerCpuArray, programs::XdpContext};

#[map]
static VERDICTS: PerCpuArray<u64> = PerCpuArray::with_max_entries(16, 0);

#[xdp]
pub fn relay_xdp(_ctx: XdpContext) -> u32 {
    if let Some(slot) = VERDICTS.get_ptr_mut(0) {
        // SAFETY: per-CPU slot, no other CPU writes it.
        unsafe { *slot += 1 };
    }
    xdp_action::XDP_PASS
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
