//! Parse arbitrary datagrams as ChannelData (RFC 8656 §12.4). Must never panic, and what it
//! accepts must lie inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relay::stun::{ChannelData, CHANNEL_MAX, CHANNEL_MIN};

fuzz_target!(|data: &[u8]| {
    let _ = ChannelData::is_channel_data(data);
    if let Ok(cd) = ChannelData::parse(data) {
        assert!((CHANNEL_MIN..=CHANNEL_MAX).contains(&cd.channel));
        assert!(cd.data.len() + 4 <= data.len());
        let len = u16::try_from(cd.data.len()).unwrap_or(u16::MAX);
        assert_eq!(ChannelData::encode_header(cd.channel, len), data[..4]);
    }
});
