use crate::stun::*;

#[test]
fn placeholder_parse_empty_binding() {
    let mut buf = Vec::new();
    let tid = TransactionId([7; 12]);
    let n = MessageBuilder::new(&mut buf, Class::Request, Method::BINDING, tid).finish();
    assert_eq!(n, 20);
    let m = Message::parse(&buf).unwrap();
    assert_eq!(m.transaction_id(), tid);
}
