//! Attribute value codecs, one file per attribute family. Decoders take the value without
//! padding (as in [`super::RawAttr::value`]) and never panic; encoders produce the value only
//! (the TLV header and padding are [`super::MessageBuilder`]'s job).

mod address;
mod address_error_code;
mod channel_number;
mod error_code;
mod even_port;
mod ice;
mod icmp;
mod lifetime;
mod password_algorithms;
mod requested_address_family;
mod requested_transport;
mod reservation_token;
mod text;
mod unknown_attributes;
mod userhash;
mod xor_address;

pub use address::{decode_address, encode_address, EncodedAddr};
pub use address_error_code::{decode_address_error_code, encode_address_error_code};
pub use channel_number::{decode_channel_number, encode_channel_number};
pub use error_code::{decode_error_code, encode_error_code, MAX_REASON_BYTES};
pub use even_port::{decode_even_port, encode_even_port};
pub use ice::{decode_u64, encode_u64};
pub use icmp::{decode_icmp, encode_icmp, Icmp};
pub use lifetime::{decode_lifetime, decode_u32};
pub use password_algorithms::{
    decode_password_algorithm, decode_password_algorithms, encode_password_algorithm, encode_password_algorithms,
    PasswordAlgorithm, MAX_PASSWORD_ALGORITHMS,
};
pub use requested_address_family::{decode_address_family, encode_address_family, AddressFamily};
pub use requested_transport::{decode_requested_transport, encode_requested_transport, PROTO_TCP, PROTO_UDP};
pub use reservation_token::{decode_reservation_token, RESERVATION_TOKEN_LEN};
pub use text::{decode_text, text_limit, truncate_utf8};
pub use unknown_attributes::{decode_unknown_attributes, encode_unknown_attributes};
pub use userhash::decode_userhash;
pub use xor_address::{decode_xor_address, encode_xor_address};

use super::error::AttrError;

/// Exactly `N` bytes or [`AttrError::BadLength`].
pub(crate) fn fixed<const N: usize>(v: &[u8]) -> Result<[u8; N], AttrError> {
    <[u8; N]>::try_from(v).map_err(|_| AttrError::BadLength(v.len()))
}
