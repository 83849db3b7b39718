//! STUN codec (RFC 8489) with the TURN (RFC 8656, RFC 6062) and ICE (RFC 8445) attributes.
//!
//! Sans-IO and zero-copy: [`Message::parse`] validates the header and every TLV once and then
//! hands out slices of the caller's buffer; [`MessageBuilder`] writes into a caller-owned
//! `Vec<u8>`. Nothing here panics on hostile input (see the `fuzz/` crate).
//!
//! No SASLprep/OpaqueString (RFC 8265) is applied anywhere: text attributes and credential
//! inputs are taken as the UTF-8 bytes given (see [`long_term_key_md5`]).

// Tests unwrap freely (STYLE: tests panic rather than return Result).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod attr;
pub mod attr_type;
mod builder;
mod channel_data;
mod credentials;
mod error;
mod framing;
mod header;
mod integrity;
mod message;

#[cfg(test)]
mod tests;

pub use attr::*;
pub use builder::MessageBuilder;
pub use channel_data::{ChannelData, ChannelDataError, CHANNEL_MAX, CHANNEL_MIN};
pub use credentials::{long_term_key_md5, long_term_key_sha256, userhash};
pub use error::{AttrError, DecodeError};
pub use framing::{next_frame_len, Frame, MAX_FRAME};
pub use header::{Class, Method, TransactionId, HEADER_LEN, MAGIC_COOKIE};
pub use integrity::IntegrityResult;
pub use message::{AttrIter, Message, RawAttr};
