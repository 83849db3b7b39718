//! Cross-module tests: RFC test vectors, builder/parser round trips, rejection rules.

mod decode_rules;
mod framing_stream;
mod rfc_vectors;
mod roundtrip;
mod vectors;
