//! Binding (RFC 8489 §6.3): answered on every transport, without authentication.

use crate::stun::attr_type as at;

use super::super::error_response::TurnError;
use super::super::server::Server;
use super::Req;

impl Server {
    pub(crate) fn handle_binding(&mut self, req: &Req<'_>) {
        // RFC 8489 §6.3.1: unknown comprehension-required attributes -> 420.
        let unknown = req.msg.unknown_comprehension_required();
        if !unknown.is_empty() {
            return self.send_error(req, TurnError::UnknownAttributes(unknown), None);
        }
        // RFC 8489 §6.3.1.1: XOR-MAPPED-ADDRESS is the source address as seen by us.
        let client = req.ft.client;
        let data = self.success(req, None, |b| {
            b.add_xor_address(at::XOR_MAPPED_ADDRESS, client);
        });
        self.reply(req.ft, data);
    }
}
