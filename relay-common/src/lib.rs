//! Types shared between the XDP program (`relay-ebpf`) and the daemon (`relay-userspace`).
//!
//! Every struct is `#[repr(C)]` with explicit padding fields and a `const` size assert, so the
//! kernel and userspace agree byte for byte and BTF shows named fields.
#![no_std]
