// A video visit in one page: `caller` sends fake camera + microphone and a data channel to
// `callee`, both with iceTransportPolicy 'relay', so every packet crosses the TURN relay.
// The test's server gives the config (GET /config) and receives what happened (POST /result).
'use strict';

const started = performance.now();
const events = [];
function note(msg) {
  const line = `${((performance.now() - started) / 1000).toFixed(2)}s ${msg}`;
  events.push(line);
  console.log(line);
}

function candidateInfo(c) {
  // relayProtocol is the client-to-relay transport (udp, tcp, tls) of a relay candidate.
  return { type: c.type, protocol: c.protocol, relayProtocol: c.relayProtocol || null,
           address: c.address, port: c.port, url: c.url || null };
}

function watch(name, pc, report) {
  const r = { iceStates: [pc.iceConnectionState], connectionStates: [pc.connectionState],
              gatheringStates: [pc.iceGatheringState], candidates: [], candidateErrors: [] };
  report.peers[name] = r;
  pc.addEventListener('iceconnectionstatechange', () => {
    r.iceStates.push(pc.iceConnectionState);
    note(`${name} ice ${pc.iceConnectionState}`);
  });
  pc.addEventListener('connectionstatechange', () => r.connectionStates.push(pc.connectionState));
  pc.addEventListener('icegatheringstatechange', () => r.gatheringStates.push(pc.iceGatheringState));
  pc.addEventListener('icecandidate', e => {
    if (e.candidate && e.candidate.candidate) {
      r.candidates.push(candidateInfo(e.candidate));
      note(`${name} candidate ${e.candidate.candidate}`);
    }
  });
  pc.addEventListener('icecandidateerror', e => {
    r.candidateErrors.push({ url: e.url, errorCode: e.errorCode, errorText: e.errorText });
    note(`${name} candidate error ${e.url} ${e.errorCode} ${e.errorText}`);
  });
  return r;
}

// Signalling in-page: each side's candidates go straight to the other.
function connect(from, to) {
  from.addEventListener('icecandidate', e => {
    if (e.candidate) to.addIceCandidate(e.candidate).catch(err => note(`addIceCandidate: ${err}`));
  });
}

async function selectedPair(pc) {
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach(s => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
  });
  if (!pair) return null;
  const cand = id => {
    const c = stats.get(id) || {};
    return { candidateType: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol || null,
             address: c.address, port: c.port, url: c.url || null };
  };
  return { state: pair.state, bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived,
           local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId) };
}

async function inbound(pc) {
  const stats = await pc.getStats();
  const out = { audioBytes: 0, videoBytes: 0, framesDecoded: 0 };
  stats.forEach(s => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'audio') out.audioBytes += s.bytesReceived || 0;
    if (s.kind === 'video') {
      out.videoBytes += s.bytesReceived || 0;
      out.framesDecoded += s.framesDecoded || 0;
    }
  });
  return out;
}

// A peer that only knows the TURN URLs the firewall blocks: it must gather no relay candidate.
async function startProbe(cfg, report) {
  if (!cfg.probeIceServers) return null;
  const pc = new RTCPeerConnection({ iceServers: cfg.probeIceServers, iceTransportPolicy: 'relay' });
  const r = watch('probe', pc, report);
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  return { pc, r };
}

async function run(cfg, report) {
  const probe = await startProbe(cfg, report);
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
  note(`media: ${stream.getTracks().map(t => t.kind).join(',')}`);
  const config = { iceServers: cfg.iceServers, iceTransportPolicy: 'relay' };
  const caller = new RTCPeerConnection(config);
  const callee = new RTCPeerConnection(config);
  watch('caller', caller, report);
  watch('callee', callee, report);
  connect(caller, callee);
  connect(callee, caller);
  stream.getTracks().forEach(t => caller.addTrack(t, stream));

  callee.addEventListener('datachannel', e => {
    e.channel.addEventListener('message', m => e.channel.send(m.data));
  });
  const channel = caller.createDataChannel('echo');
  channel.addEventListener('open', () => {
    note('data channel open');
    for (let i = 0; i < cfg.messages; i++) channel.send(`echo-${i}`);
  });
  channel.addEventListener('message', m => {
    // Ordered channel: the n-th echo must be the n-th message.
    if (m.data === `echo-${report.echoes}`) report.echoes++;
    else note(`unexpected echo ${m.data} after ${report.echoes}`);
  });

  await caller.setLocalDescription(await caller.createOffer());
  await callee.setRemoteDescription(caller.localDescription);
  await callee.setLocalDescription(await callee.createAnswer());
  await caller.setRemoteDescription(callee.localDescription);

  const deadline = performance.now() + cfg.deadlineMs;
  for (;;) {
    report.inbound = await inbound(callee);
    const media = report.inbound.framesDecoded >= cfg.minFrames && report.inbound.audioBytes > 0;
    if (media && report.echoes === cfg.messages) break;
    const relayed = name => report.peers[name].candidates.some(c => c.type === 'relay');
    const gathered = caller.iceGatheringState === 'complete' && callee.iceGatheringState === 'complete';
    if (gathered && !(relayed('caller') && relayed('callee'))) {
      note('gathering complete without a relay candidate on both sides');
      break;
    }
    if (caller.iceConnectionState === 'failed' || callee.iceConnectionState === 'failed') {
      note('ICE failed');
      break;
    }
    if (performance.now() > deadline) {
      note('page deadline reached');
      break;
    }
    await new Promise(res => setTimeout(res, 200));
  }
  report.selected = { caller: await selectedPair(caller), callee: await selectedPair(callee) };
  if (probe) report.probeGathering = probe.pc.iceGatheringState;
}

async function main() {
  const report = { error: null, events, peers: {}, echoes: 0, inbound: null, selected: null };
  let cfg = null;
  try {
    cfg = await (await fetch('/config')).json();
    await run(cfg, report);
  } catch (e) {
    report.error = String((e && e.stack) || e);
  }
  await fetch('/result', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                           body: JSON.stringify(report) });
}

main();
