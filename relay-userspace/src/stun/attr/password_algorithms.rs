//! PASSWORD-ALGORITHMS (RFC 8489 §14.11) and PASSWORD-ALGORITHM (§14.12): each entry is
//! algorithm (16 bits), parameters length (16 bits), parameters padded to 4 bytes.
//! MD5 and SHA-256 take no parameters (§18.5); parameters of other algorithms are skipped.

use super::AttrError;

/// Most entries accepted in PASSWORD-ALGORITHMS, to bound memory.
pub const MAX_PASSWORD_ALGORITHMS: usize = 32;

/// Registered algorithms (RFC 8489 §18.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordAlgorithm {
    Md5,
    Sha256,
    Other(u16),
}

impl PasswordAlgorithm {
    pub fn code(self) -> u16 {
        match self {
            PasswordAlgorithm::Md5 => 0x0001,
            PasswordAlgorithm::Sha256 => 0x0002,
            PasswordAlgorithm::Other(c) => c,
        }
    }

    pub fn from_code(c: u16) -> Self {
        match c {
            0x0001 => PasswordAlgorithm::Md5,
            0x0002 => PasswordAlgorithm::Sha256,
            other => PasswordAlgorithm::Other(other),
        }
    }
}

/// One entry at the start of `v`: the algorithm and the bytes it occupies.
fn entry(v: &[u8]) -> Result<(PasswordAlgorithm, usize), AttrError> {
    let Some(&[a0, a1, l0, l1]) = v.get(..4) else {
        return Err(AttrError::BadLength(v.len()));
    };
    let plen = usize::from(u16::from_be_bytes([l0, l1]));
    let used = 4 + ((plen + 3) & !3);
    // The last entry's parameter padding may be outside the attribute value (it is TLV padding).
    if 4 + plen > v.len() {
        return Err(AttrError::BadLength(v.len()));
    }
    Ok((PasswordAlgorithm::from_code(u16::from_be_bytes([a0, a1])), used))
}

pub fn decode_password_algorithms(v: &[u8]) -> Result<Vec<PasswordAlgorithm>, AttrError> {
    let mut out = Vec::new();
    let mut rest = v;
    while !rest.is_empty() {
        if out.len() == MAX_PASSWORD_ALGORITHMS {
            return Err(AttrError::TooMany);
        }
        let (alg, used) = entry(rest)?;
        out.push(alg);
        rest = rest.get(used..).unwrap_or(&[]);
    }
    Ok(out)
}

pub fn decode_password_algorithm(v: &[u8]) -> Result<PasswordAlgorithm, AttrError> {
    let (alg, used) = entry(v)?;
    if used < v.len() {
        return Err(AttrError::BadLength(v.len()));
    }
    Ok(alg)
}

pub fn encode_password_algorithm(alg: PasswordAlgorithm) -> [u8; 4] {
    let [a, b] = alg.code().to_be_bytes();
    [a, b, 0, 0]
}

/// Entries without parameters (the only kind defined, RFC 8489 §18.5).
pub fn encode_password_algorithms(algs: &[PasswordAlgorithm], out: &mut Vec<u8>) {
    for a in algs {
        out.extend_from_slice(&encode_password_algorithm(*a));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PasswordAlgorithm::*;

    #[test]
    fn round_trip() {
        let mut v = Vec::new();
        encode_password_algorithms(&[Sha256, Md5, Other(9)], &mut v);
        assert_eq!(v, [0, 2, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0]);
        assert_eq!(decode_password_algorithms(&v).unwrap(), vec![Sha256, Md5, Other(9)]);
        assert_eq!(decode_password_algorithm(&encode_password_algorithm(Md5)).unwrap(), Md5);
    }

    #[test]
    fn skips_parameters() {
        let v = [0, 9, 0, 3, 1, 2, 3, 0, 0, 2, 0, 0];
        assert_eq!(decode_password_algorithms(&v).unwrap(), vec![Other(9), Sha256]);
        assert_eq!(decode_password_algorithm(&[0, 9, 0, 3, 1, 2, 3]).unwrap(), Other(9));
    }

    #[test]
    fn rejects_bad_values() {
        assert_eq!(decode_password_algorithms(&[0, 1, 0]), Err(AttrError::BadLength(3)));
        assert_eq!(decode_password_algorithms(&[0, 1, 0, 8, 1]), Err(AttrError::BadLength(5)));
        assert_eq!(decode_password_algorithm(&[0, 1, 0, 0, 0, 2, 0, 0]), Err(AttrError::BadLength(8)));
        let many: Vec<u8> = (0..33).flat_map(|_| [0, 1, 0, 0]).collect();
        assert_eq!(decode_password_algorithms(&many), Err(AttrError::TooMany));
    }
}
