//! ADDRESS-ERROR-CODE (RFC 8656 §18.12): family (8 bits), 13 reserved bits, class (3 bits),
//! number (8 bits), reason phrase, as in ERROR-CODE (RFC 8489 §14.8).

use super::error_code::{code_from, reason_from, MAX_REASON_BYTES};
use super::requested_address_family::AddressFamily;
use super::text::truncate_utf8;
use super::AttrError;

/// `(family, code, reason)`.
pub fn decode_address_error_code(v: &[u8]) -> Result<(AddressFamily, u16, &str), AttrError> {
    let Some(&[family, _, class, number]) = v.get(..4) else {
        return Err(AttrError::BadLength(v.len()));
    };
    let fam = AddressFamily::from_code(family)?;
    Ok((fam, code_from(class, number)?, reason_from(&v[4..])?))
}

pub fn encode_address_error_code(fam: AddressFamily, code: u16, reason: &str, out: &mut Vec<u8>) {
    let reason = truncate_utf8(reason, MAX_REASON_BYTES);
    out.extend_from_slice(&[fam.code(), 0, ((code / 100) & 0x07) as u8, (code % 100) as u8]);
    out.extend_from_slice(reason.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut v = Vec::new();
        encode_address_error_code(AddressFamily::V6, 440, "Address Family not Supported", &mut v);
        assert_eq!(decode_address_error_code(&v).unwrap(), (AddressFamily::V6, 440, "Address Family not Supported"));
        assert_eq!(decode_address_error_code(&[9, 0, 4, 40]), Err(AttrError::BadFamily(9)));
        assert_eq!(decode_address_error_code(&[1, 0]), Err(AttrError::BadLength(2)));
    }
}
