//! The page's report (JSON posted to /result): what must hold, and a readable account of what
//! happened for when it does not.
use serde_json::Value;
use std::fmt::Write;

pub struct Report(pub Value);

/// What a scenario expects of the call.
pub struct Expect {
    pub messages: u64,
    pub min_frames: u64,
    /// The client-to-relay transport of both selected local candidates: udp, tcp or tls.
    pub relay_protocol: &'static str,
    /// A probe peer with only blocked TURN URLs ran and must have gathered nothing.
    pub probe: bool,
}

impl Report {
    pub fn parse(json: &str) -> Report {
        Report(serde_json::from_str(json).unwrap_or_else(|e| panic!("page report is not JSON ({e}): {json}")))
    }

    /// Every broken expectation, in words; empty when the call worked as required.
    pub fn problems(&self, expect: &Expect) -> Vec<String> {
        let r = &self.0;
        let mut out = Vec::new();
        if let Some(e) = r["error"].as_str() {
            out.push(format!("page error: {e}"));
        }
        let echoes = r["echoes"].as_u64().unwrap_or(0);
        if echoes != expect.messages {
            out.push(format!("data channel echoed {echoes} of {} messages", expect.messages));
        }
        let inbound = &r["inbound"];
        let (audio, video) = (num(&inbound["audioBytes"]), num(&inbound["videoBytes"]));
        let frames = num(&inbound["framesDecoded"]);
        if audio == 0 || video == 0 {
            out.push(format!("callee inbound-rtp bytes: audio {audio}, video {video} (both must be > 0)"));
        }
        if frames < expect.min_frames {
            out.push(format!("callee decoded {frames} video frames, want at least {}", expect.min_frames));
        }
        for side in ["caller", "callee"] {
            out.extend(pair_problems(side, &r["selected"][side], expect.relay_protocol));
        }
        if expect.probe {
            let relayed = candidates(&r["peers"]["probe"]).iter().filter(|c| c["type"] == "relay").count();
            if relayed > 0 {
                out.push(format!("the probe gathered {relayed} relay candidate(s) through a blocked TURN URL"));
            }
        }
        out
    }

    /// One line for the test log: what the call achieved.
    pub fn summary(&self) -> String {
        let r = &self.0;
        let pair = |side: &str| {
            let p = &r["selected"][side];
            format!("{}/{} {}", p["local"]["candidateType"], p["local"]["relayProtocol"], p["remote"]["candidateType"])
        };
        format!(
            "echoes {}, callee inbound {}, caller pair {}, callee pair {}",
            r["echoes"],
            r["inbound"],
            pair("caller"),
            pair("callee")
        )
    }

    /// ICE state history, gathered candidates, errors, selected pairs and the page's own log.
    pub fn describe(&self) -> String {
        let r = &self.0;
        let mut s = String::new();
        for (name, peer) in r["peers"].as_object().into_iter().flatten() {
            let _ = writeln!(s, "[{name}] ice states: {}", join(&peer["iceStates"]));
            let _ = writeln!(s, "[{name}] connection states: {}", join(&peer["connectionStates"]));
            let _ = writeln!(s, "[{name}] gathering states: {}", join(&peer["gatheringStates"]));
            for c in candidates(peer) {
                let _ = writeln!(
                    s,
                    "[{name}] candidate {} {} relayProtocol={} {}:{} url={}",
                    c["type"], c["protocol"], c["relayProtocol"], c["address"], c["port"], c["url"]
                );
            }
            for e in peer["candidateErrors"].as_array().into_iter().flatten() {
                let _ = writeln!(s, "[{name}] candidate error {e}");
            }
        }
        let _ = writeln!(s, "selected pairs: {}", r["selected"]);
        let _ = writeln!(s, "callee inbound: {}", r["inbound"]);
        let _ = writeln!(s, "echoes: {}", r["echoes"]);
        let _ = writeln!(s, "page log:\n  {}", join_lines(&r["events"]));
        s
    }
}

fn pair_problems(side: &str, pair: &Value, protocol: &str) -> Vec<String> {
    if pair.is_null() {
        return vec![format!("{side}: no selected candidate pair")];
    }
    let mut out = Vec::new();
    if pair["state"] != "succeeded" {
        out.push(format!("{side}: selected pair state {}", pair["state"]));
    }
    for end in ["local", "remote"] {
        if pair[end]["candidateType"] != "relay" {
            out.push(format!("{side}: {end} candidate is {}, not relay", pair[end]["candidateType"]));
        }
        // The relayed address itself is always UDP (RFC 8656 section 2).
        if pair[end]["protocol"] != "udp" {
            out.push(format!("{side}: {end} candidate protocol {}, want udp", pair[end]["protocol"]));
        }
    }
    if pair["local"]["relayProtocol"] != protocol {
        out.push(format!("{side}: local relayProtocol {}, want {protocol}", pair["local"]["relayProtocol"]));
    }
    out
}

fn candidates(peer: &Value) -> Vec<&Value> {
    peer["candidates"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

fn num(v: &Value) -> u64 {
    v.as_f64().map(|f| f as u64).unwrap_or(0)
}

fn join(v: &Value) -> String {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap_or("?")).collect::<Vec<_>>().join(" -> "))
        .unwrap_or_default()
}

fn join_lines(v: &Value) -> String {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap_or("?")).collect::<Vec<_>>().join("\n  "))
        .unwrap_or_default()
}
