//! ERROR-CODE (RFC 8489 §14.8): 21 reserved bits, class (3 bits, 3..=6), number (0..=99),
//! UTF-8 reason phrase of fewer than 128 characters (at most 763 bytes).

use super::text::truncate_utf8;
use super::AttrError;

/// Longest reason phrase in bytes (RFC 8489 §14.8).
pub const MAX_REASON_BYTES: usize = 763;

/// Splits class/number bytes into a code (RFC 8489 §14.8); shared with ADDRESS-ERROR-CODE.
pub(crate) fn code_from(class: u8, number: u8) -> Result<u16, AttrError> {
    let class = class & 0x07;
    if !(3..=6).contains(&class) || number > 99 {
        return Err(AttrError::OutOfRange);
    }
    Ok(u16::from(class) * 100 + u16::from(number))
}

pub(crate) fn reason_from(v: &[u8]) -> Result<&str, AttrError> {
    if v.len() > MAX_REASON_BYTES {
        return Err(AttrError::TooLong { len: v.len(), max: MAX_REASON_BYTES });
    }
    std::str::from_utf8(v).map_err(|_| AttrError::InvalidUtf8)
}

/// `(code, reason)`; code in 300..=699.
pub fn decode_error_code(v: &[u8]) -> Result<(u16, &str), AttrError> {
    let Some(&[_, _, class, number]) = v.get(..4) else {
        return Err(AttrError::BadLength(v.len()));
    };
    Ok((code_from(class, number)?, reason_from(&v[4..])?))
}

/// Appends the value; `code` is taken modulo the 3-bit class field, the reason is cut to
/// [`MAX_REASON_BYTES`] at a character boundary.
pub fn encode_error_code(code: u16, reason: &str, out: &mut Vec<u8>) {
    let reason = truncate_utf8(reason, MAX_REASON_BYTES);
    out.extend_from_slice(&[0, 0, ((code / 100) & 0x07) as u8, (code % 100) as u8]);
    out.extend_from_slice(reason.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut v = Vec::new();
        encode_error_code(420, "Unknown Attribute", &mut v);
        assert_eq!(&v[..4], &[0, 0, 4, 20]);
        assert_eq!(decode_error_code(&v).unwrap(), (420, "Unknown Attribute"));
    }

    #[test]
    fn reserved_bits_are_ignored() {
        assert_eq!(decode_error_code(&[0xFF, 0xFF, 0xFC, 1]).unwrap(), (401, ""));
    }

    #[test]
    fn rejects_bad_values() {
        assert_eq!(decode_error_code(&[0, 0, 4]), Err(AttrError::BadLength(3)));
        assert_eq!(decode_error_code(&[0, 0, 2, 0]), Err(AttrError::OutOfRange));
        assert_eq!(decode_error_code(&[0, 0, 7, 0]), Err(AttrError::OutOfRange));
        assert_eq!(decode_error_code(&[0, 0, 4, 100]), Err(AttrError::OutOfRange));
        assert_eq!(decode_error_code(&[0, 0, 4, 0, 0xFF]), Err(AttrError::InvalidUtf8));
        let long = [b'a'; MAX_REASON_BYTES + 1];
        let mut v = vec![0, 0, 4, 0];
        v.extend_from_slice(&long);
        assert!(matches!(decode_error_code(&v), Err(AttrError::TooLong { .. })));
    }

    #[test]
    fn encode_truncates_long_reason_on_char_boundary() {
        let reason = "é".repeat(500); // 1000 bytes
        let mut v = Vec::new();
        encode_error_code(500, &reason, &mut v);
        let (_, r) = decode_error_code(&v).unwrap();
        assert!(r.len() <= MAX_REASON_BYTES);
        assert_eq!(r.len() % 2, 0);
    }
}
