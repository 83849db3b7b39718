//! A minimal blocking TURN client over UDP for negative tests: it crafts exactly the requests
//! a test wants (including wrong ones) with the project's codec and reads raw responses.

use relay::stun::{attr_type as at, long_term_key_md5, Class, Message, MessageBuilder, Method, TransactionId};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

pub struct Client {
    pub sock: UdpSocket,
    pub server: SocketAddr,
    pub username: String,
    pub key: Vec<u8>,
    pub realm: String,
    pub nonce: String,
}

/// A decoded response, owned.
#[derive(Debug)]
pub struct Response {
    pub raw: Vec<u8>,
}

impl Response {
    pub fn msg(&self) -> Message<'_> {
        Message::parse(&self.raw).expect("response parses")
    }
    pub fn class(&self) -> Class {
        self.msg().class()
    }
    pub fn error(&self) -> Option<u16> {
        self.msg().error_code().map(|r| r.expect("ERROR-CODE decodes").0)
    }
}

pub fn tid() -> TransactionId {
    TransactionId(rand::random())
}

impl Client {
    pub fn new(local: &str, server: SocketAddr) -> Client {
        let sock = UdpSocket::bind(local).expect("bind client");
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Client { sock, server, username: String::new(), key: Vec::new(), realm: String::new(), nonce: String::new() }
    }

    pub fn send_raw(&self, bytes: &[u8]) {
        self.sock.send_to(bytes, self.server).expect("send");
    }

    pub fn recv(&self) -> Option<Response> {
        let mut buf = vec![0u8; 2048];
        match self.sock.recv_from(&mut buf) {
            Ok((n, _)) => {
                buf.truncate(n);
                Some(Response { raw: buf })
            }
            Err(_) => None,
        }
    }

    /// Sends a request built by `fill` (plus USERNAME/REALM/NONCE/MI/FINGERPRINT when
    /// credentials are known) and returns the response.
    pub fn request(&self, method: Method, fill: impl Fn(&mut MessageBuilder<'_>)) -> Response {
        let mut buf = Vec::new();
        let t = tid();
        {
            let mut b = MessageBuilder::new(&mut buf, Class::Request, method, t);
            fill(&mut b);
            if !self.nonce.is_empty() {
                b.add_text(at::USERNAME, &self.username);
                b.add_text(at::REALM, &self.realm);
                b.add_text(at::NONCE, &self.nonce);
                b.add_message_integrity(&self.key);
            }
            b.add_fingerprint();
            b.finish();
        }
        self.send_raw(&buf);
        loop {
            let r = self.recv().expect("a response within 5 s");
            if r.msg().transaction_id() == t {
                return r;
            }
        }
    }

    /// Learns REALM and NONCE from a 401 and keeps credentials for later requests.
    pub fn login(&mut self, username: &str, password: &str) {
        let r = self.request(Method::ALLOCATE, |b| {
            b.add_requested_transport(17);
        });
        assert_eq!(r.error(), Some(401), "unauthenticated Allocate must get 401");
        let msg = r.msg();
        self.realm = msg.text(at::REALM).expect("REALM").unwrap().to_owned();
        self.nonce = msg.text(at::NONCE).expect("NONCE").unwrap().to_owned();
        self.username = username.to_owned();
        self.key = long_term_key_md5(username, &self.realm, password).to_vec();
    }

    pub fn allocate(&self) -> Response {
        self.request(Method::ALLOCATE, |b| {
            b.add_requested_transport(17);
        })
    }

    pub fn create_permission(&self, peer: SocketAddr) -> Response {
        self.request(Method::CREATE_PERMISSION, |b| {
            b.add_xor_address(at::XOR_PEER_ADDRESS, peer);
        })
    }

    pub fn channel_bind(&self, channel: u16, peer: SocketAddr) -> Response {
        self.request(Method::CHANNEL_BIND, |b| {
            b.add_channel_number(channel);
            b.add_xor_address(at::XOR_PEER_ADDRESS, peer);
        })
    }
}
