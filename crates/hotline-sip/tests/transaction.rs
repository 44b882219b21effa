//! Transaction layer driven with a fake clock: every timer (A–K, 2xx retransmission) is exercised.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hotline_sip::msg::{parse_datagram, Method, Request, Response, SipMessage, Via};
use hotline_sip::{TimerConfig, TransactionLayer, Transmit, Transport, TxnEvent};

const T1: Duration = Duration::from_millis(500);

fn peer() -> SocketAddr {
    "192.0.2.10:5070".parse().unwrap()
}

fn layer() -> TransactionLayer {
    TransactionLayer::new(TimerConfig::default())
}

fn drain(l: &mut TransactionLayer) -> Vec<Transmit> {
    std::iter::from_fn(|| l.poll_transmit()).collect()
}

fn events(l: &mut TransactionLayer) -> Vec<TxnEvent> {
    std::iter::from_fn(|| l.poll_event()).collect()
}

fn parse_resp(t: &Transmit) -> Response {
    // lenient: a 400 echoes the malformed headers it complains about
    match hotline_sip::msg::parse_lenient(&t.bytes).unwrap().0 {
        SipMessage::Response(r) => r,
        SipMessage::Request(r) => panic!("expected response, got {}", r.method),
    }
}

fn parse_req(t: &Transmit) -> Request {
    match parse_datagram(&t.bytes).unwrap() {
        SipMessage::Request(r) => r,
        SipMessage::Response(r) => panic!("expected request, got {}", r.status),
    }
}

fn request(method: &str, branch: &str, cseq: u32, to_tag: Option<&str>) -> String {
    let to = match to_tag {
        Some(t) => format!("<sip:bob@example.com>;tag={t}"),
        None => "<sip:bob@example.com>".into(),
    };
    format!(
        "{method} sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5070;branch={branch};rport\r\n\
         From: <sip:alice@example.com>;tag=a1\r\n\
         To: {to}\r\n\
         Call-ID: call-1@192.0.2.10\r\n\
         CSeq: {cseq} {method}\r\n\
         Max-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

fn out_request(method: Method) -> Request {
    let mut r = Request::new(method.clone(), "sip:bob@192.0.2.20".parse().unwrap());
    let via = Via::new(Transport::Udp, "192.0.2.1", Some(5060));
    r.headers.push("Via", via.to_string());
    r.headers.push("From", "<sip:hotline@192.0.2.1>;tag=h1");
    r.headers.push("To", "<sip:bob@192.0.2.20>");
    r.headers.push("Call-ID", "out-1@192.0.2.1");
    r.headers.push("CSeq", format!("1 {method}"));
    r.headers.push("Max-Forwards", "70");
    r
}

fn response_for(req: &Request, status: u16, to_tag: Option<&str>) -> Vec<u8> {
    let mut r = Response::to_request(req, status, "");
    if let Some(t) = to_tag {
        r.set_to_tag(t);
    }
    r.to_bytes()
}

/// Times (relative to start) at which the transaction retransmitted its first message, until `end`.
fn retransmit_times(l: &mut TransactionLayer, start: Instant, end: Duration) -> Vec<Duration> {
    let mut times = Vec::new();
    while let Some(t) = l.poll_timeout() {
        if t > start + end {
            break;
        }
        l.handle_timeout(t);
        for _ in drain(l) {
            times.push(t - start);
        }
    }
    times
}

#[test]
fn invite_client_timer_a_and_b() {
    let mut l = layer();
    let now = Instant::now();
    let id = l.send_request(now, out_request(Method::Invite), peer(), Transport::Udp);
    assert_eq!(drain(&mut l).len(), 1);
    let times = retransmit_times(&mut l, now, T1 * 64);
    // Timer A: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s (doubling, no cap)
    let expect: Vec<Duration> = [500u64, 1500, 3500, 7500, 15500, 31500]
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .collect();
    assert_eq!(times, expect);
    // Timer B at 64*T1
    let ev = events(&mut l);
    assert!(
        matches!(ev.as_slice(), [TxnEvent::Timeout { id: i }] if *i == id),
        "{ev:?}"
    );
    assert_eq!(l.counts(), (0, 0));
}

#[test]
fn invite_client_non2xx_acks_and_timer_d() {
    let mut l = layer();
    let now = Instant::now();
    let req = out_request(Method::Invite);
    let id = l.send_request(now, req.clone(), peer(), Transport::Udp);
    let sent = parse_req(&drain(&mut l)[0]);
    l.handle_input(
        now,
        Transport::Udp,
        peer(),
        &response_for(&sent, 180, Some("b1")),
    );
    l.handle_input(
        now,
        Transport::Udp,
        peer(),
        &response_for(&sent, 486, Some("b1")),
    );
    let tx = drain(&mut l);
    assert_eq!(tx.len(), 1);
    let ack = parse_req(&tx[0]);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.cseq(), Some((1, Method::Ack)));
    assert_eq!(ack.to().unwrap().tag(), Some("b1"));
    assert_eq!(
        ack.top_via().unwrap().branch,
        sent.top_via().unwrap().branch
    );
    let ev = events(&mut l);
    assert!(matches!(&ev[0], TxnEvent::Response { id: i, resp } if *i == id && resp.status == 180));
    assert!(matches!(&ev[1], TxnEvent::Response { resp, .. } if resp.status == 486));
    // retransmitted 486 → ACK again, not passed up
    l.handle_input(
        now,
        Transport::Udp,
        peer(),
        &response_for(&sent, 486, Some("b1")),
    );
    assert_eq!(parse_req(&drain(&mut l)[0]).method, Method::Ack);
    assert!(events(&mut l).is_empty());
    // no Timer A after a response
    l.handle_timeout(now + Duration::from_secs(31));
    assert!(drain(&mut l).is_empty());
    assert_eq!(l.counts().0, 1);
    // Timer D (32 s)
    l.handle_timeout(now + Duration::from_secs(32));
    assert_eq!(l.counts().0, 0);
}

#[test]
fn invite_client_2xx_passes_retransmissions_up() {
    let mut l = layer();
    let now = Instant::now();
    let id = l.send_request(now, out_request(Method::Invite), peer(), Transport::Udp);
    let sent = parse_req(&drain(&mut l)[0]);
    let ok = response_for(&sent, 200, Some("b1"));
    l.handle_input(now, Transport::Udp, peer(), &ok);
    l.handle_input(now + T1, Transport::Udp, peer(), &ok);
    let ev = events(&mut l);
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(
        |e| matches!(e, TxnEvent::Response { id: i, resp } if *i == id && resp.status == 200)
    ));
    assert!(drain(&mut l).is_empty(), "the layer never ACKs a 2xx");
    l.handle_timeout(now + T1 * 64);
    assert_eq!(l.counts().0, 0);
}

#[test]
fn reliable_transport_skips_retransmissions() {
    let mut l = layer();
    let now = Instant::now();
    l.send_request(now, out_request(Method::Invite), peer(), Transport::Tcp);
    l.send_request(now, out_request(Method::Options), peer(), Transport::Tcp);
    assert_eq!(drain(&mut l).len(), 2);
    let times = retransmit_times(&mut l, now, T1 * 64);
    assert!(times.is_empty());
    assert_eq!(events(&mut l).len(), 2, "Timer B and F still fire");
}

#[test]
fn non_invite_client_timers_e_f() {
    let mut l = layer();
    let now = Instant::now();
    let id = l.send_request(now, out_request(Method::Options), peer(), Transport::Udp);
    drain(&mut l);
    let times = retransmit_times(&mut l, now, T1 * 64);
    let ms: Vec<u128> = times.iter().map(|d| d.as_millis()).collect();
    // E: 0.5, 1.5, 3.5, then every T2 = 4 s
    assert_eq!(&ms[..5], &[500, 1500, 3500, 7500, 11500]);
    assert!(ms.windows(2).skip(3).all(|w| w[1] - w[0] == 4000));
    let ev = events(&mut l);
    assert!(matches!(ev.as_slice(), [TxnEvent::Timeout { id: i }] if *i == id));
}

#[test]
fn non_invite_client_proceeding_uses_t2_and_timer_k() {
    let mut l = layer();
    let now = Instant::now();
    l.send_request(now, out_request(Method::Options), peer(), Transport::Udp);
    let sent = parse_req(&drain(&mut l)[0]);
    l.handle_input(now, Transport::Udp, peer(), &response_for(&sent, 100, None));
    // first E fire at 0.5 s, then T2 later
    l.handle_timeout(now + T1);
    assert_eq!(drain(&mut l).len(), 1);
    let next = l.poll_timeout().unwrap();
    assert_eq!(next - now, T1 + Duration::from_secs(4));
    l.handle_input(
        now + T1,
        Transport::Udp,
        peer(),
        &response_for(&sent, 200, None),
    );
    let ev = events(&mut l);
    assert_eq!(ev.len(), 2);
    // retransmitted final absorbed
    l.handle_input(
        now + T1,
        Transport::Udp,
        peer(),
        &response_for(&sent, 200, None),
    );
    assert!(events(&mut l).is_empty());
    // Timer K = T4
    l.handle_timeout(now + T1 + Duration::from_millis(4999));
    assert_eq!(l.counts().0, 1);
    l.handle_timeout(now + T1 + Duration::from_secs(5));
    assert_eq!(l.counts().0, 0);
}

fn server_request(l: &mut TransactionLayer, now: Instant, raw: &str) -> hotline_sip::ServerTxnId {
    l.handle_input(now, Transport::Udp, peer(), raw.as_bytes());
    let ev = events(l);
    match ev.as_slice() {
        [TxnEvent::Request { id, .. }] => *id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn invite_server_timers_g_h() {
    let mut l = layer();
    let now = Instant::now();
    let raw = request("INVITE", "z9hG4bKinv1", 1, None);
    let id = server_request(&mut l, now, &raw);
    let trying = parse_resp(&drain(&mut l)[0]);
    assert_eq!(trying.status, 100);
    // rport/received stamped and used
    let via = trying.top_via().unwrap();
    assert_eq!(via.rport, Some(Some(5070)));
    assert_eq!(via.received.as_deref(), Some("192.0.2.10"));
    // retransmitted INVITE → 100 again
    l.handle_input(now, Transport::Udp, peer(), raw.as_bytes());
    assert_eq!(parse_resp(&drain(&mut l)[0]).status, 100);
    assert!(events(&mut l).is_empty());
    let req = l.server_request(&id).unwrap().clone();
    l.send_response(now, &id, Response::to_request(&req, 486, "Busy Here"))
        .unwrap();
    let tx = drain(&mut l);
    assert_eq!(tx[0].dest, peer());
    let times = retransmit_times(&mut l, now, T1 * 64);
    let ms: Vec<u128> = times.iter().map(|d| d.as_millis()).collect();
    assert_eq!(&ms[..4], &[500, 1500, 3500, 7500]);
    assert!(ms.windows(2).skip(3).all(|w| w[1] - w[0] == 4000));
    // Timer H: gone after 64*T1 without ACK
    assert_eq!(l.counts().1, 0);
}

#[test]
fn invite_server_ack_confirms_and_timer_i() {
    let mut l = layer();
    let now = Instant::now();
    let id = server_request(&mut l, now, &request("INVITE", "z9hG4bKinv2", 1, None));
    drain(&mut l);
    let req = l.server_request(&id).unwrap().clone();
    let mut resp = Response::to_request(&req, 487, "Request Terminated");
    resp.set_to_tag("t9");
    l.send_response(now, &id, resp).unwrap();
    drain(&mut l);
    l.handle_input(
        now + T1 / 2,
        Transport::Udp,
        peer(),
        request("ACK", "z9hG4bKinv2", 1, Some("t9")).as_bytes(),
    );
    assert!(events(&mut l).is_empty(), "ACK for non-2xx is absorbed");
    // no more G retransmissions
    l.handle_timeout(now + T1 * 2);
    assert!(drain(&mut l).is_empty());
    // Timer I = T4 after the ACK
    l.handle_timeout(now + T1 / 2 + Duration::from_millis(4999));
    assert_eq!(l.counts().1, 1);
    l.handle_timeout(now + T1 / 2 + Duration::from_secs(5));
    assert_eq!(l.counts().1, 0);
}

#[test]
fn invite_server_2xx_retransmitted_until_ack() {
    let mut l = layer();
    let now = Instant::now();
    let id = server_request(&mut l, now, &request("INVITE", "z9hG4bKinv3", 1, None));
    drain(&mut l);
    let req = l.server_request(&id).unwrap().clone();
    let mut ok = Response::to_request(&req, 200, "OK");
    ok.set_to_tag("t1");
    l.send_response(now, &id, ok).unwrap();
    assert_eq!(drain(&mut l).len(), 1);
    l.handle_timeout(now + T1);
    l.handle_timeout(now + T1 * 3);
    assert_eq!(drain(&mut l).len(), 2, "2xx retransmitted at T1, 3*T1");
    // ACK for the 2xx has its own branch
    l.handle_input(
        now + T1 * 4,
        Transport::Udp,
        peer(),
        request("ACK", "z9hG4bKack3", 1, Some("t1")).as_bytes(),
    );
    let ev = events(&mut l);
    assert!(matches!(ev.as_slice(), [TxnEvent::Ack { req, .. }] if req.method == Method::Ack));
    l.handle_timeout(now + T1 * 20);
    assert!(drain(&mut l).is_empty());
    assert_eq!(l.counts().1, 0);
}

#[test]
fn invite_server_2xx_ack_timeout() {
    let mut l = layer();
    let now = Instant::now();
    let id = server_request(&mut l, now, &request("INVITE", "z9hG4bKinv4", 1, None));
    drain(&mut l);
    let req = l.server_request(&id).unwrap().clone();
    l.send_response(now, &id, Response::to_request(&req, 200, "OK"))
        .unwrap();
    drain(&mut l);
    let times = retransmit_times(&mut l, now, T1 * 64);
    assert_eq!(times.len(), 10, "{times:?}");
    let ev = events(&mut l);
    assert!(matches!(ev.as_slice(), [TxnEvent::AckTimeout { id: i }] if *i == id));
}

#[test]
fn non_invite_server_timer_j() {
    let mut l = layer();
    let now = Instant::now();
    let raw = request("OPTIONS", "z9hG4bKopt1", 7, None);
    let id = server_request(&mut l, now, &raw);
    // retransmission before the answer: absorbed silently
    l.handle_input(now, Transport::Udp, peer(), raw.as_bytes());
    assert!(drain(&mut l).is_empty());
    let req = l.server_request(&id).unwrap().clone();
    l.send_response(now, &id, Response::to_request(&req, 200, "OK"))
        .unwrap();
    assert_eq!(drain(&mut l).len(), 1);
    l.handle_input(now + T1, Transport::Udp, peer(), raw.as_bytes());
    assert_eq!(parse_resp(&drain(&mut l)[0]).status, 200, "final repeated");
    l.handle_timeout(now + T1 * 64 - Duration::from_millis(1));
    assert_eq!(l.counts().1, 1);
    l.handle_timeout(now + T1 * 64);
    assert_eq!(l.counts().1, 0);
}

#[test]
fn cancel_matches_invite() {
    let mut l = layer();
    let now = Instant::now();
    let id = server_request(&mut l, now, &request("INVITE", "z9hG4bKinv5", 1, None));
    drain(&mut l);
    l.handle_input(
        now,
        Transport::Udp,
        peer(),
        request("CANCEL", "z9hG4bKinv5", 1, None).as_bytes(),
    );
    let tx = drain(&mut l);
    let ok = parse_resp(&tx[0]);
    assert_eq!((ok.status, ok.cseq().unwrap().1), (200, Method::Cancel));
    let ev = events(&mut l);
    assert!(matches!(ev.as_slice(), [TxnEvent::Cancelled { id: i, .. }] if *i == id));
    let req = l.server_request(&id).unwrap().clone();
    l.send_response(now, &id, Response::to_request(&req, 487, ""))
        .unwrap();
    assert_eq!(parse_resp(&drain(&mut l)[0]).status, 487);
    // CANCEL for nothing → 481
    l.handle_input(
        now,
        Transport::Udp,
        peer(),
        request("CANCEL", "z9hG4bKnone", 1, None).as_bytes(),
    );
    assert_eq!(parse_resp(&drain(&mut l)[0]).status, 481);
}

#[test]
fn merged_request_gets_482() {
    let mut l = layer();
    let now = Instant::now();
    server_request(&mut l, now, &request("INVITE", "z9hG4bKpath1", 1, None));
    drain(&mut l);
    l.handle_input(
        now,
        Transport::Udp,
        peer(),
        request("INVITE", "z9hG4bKpath2", 1, None).as_bytes(),
    );
    assert_eq!(parse_resp(&drain(&mut l)[0]).status, 482);
    assert!(events(&mut l).is_empty());
}

#[test]
fn rfc2543_matching_without_cookie() {
    let mut l = layer();
    let now = Instant::now();
    let raw = request("OPTIONS", "oldbranch", 3, None);
    let id = server_request(&mut l, now, &raw);
    let req = l.server_request(&id).unwrap().clone();
    l.send_response(now, &id, Response::to_request(&req, 200, "OK"))
        .unwrap();
    drain(&mut l);
    l.handle_input(now, Transport::Udp, peer(), raw.as_bytes());
    assert_eq!(
        drain(&mut l).len(),
        1,
        "retransmission matched without a cookie"
    );
    assert!(events(&mut l).is_empty());
}

#[test]
fn malformed_request_gets_400_from_layer() {
    let mut l = layer();
    let now = Instant::now();
    let raw = request("INVITE", "z9hG4bKbad", 1, None).replace("CSeq: 1 INVITE", "CSeq: x INVITE");
    l.handle_input(now, Transport::Udp, peer(), raw.as_bytes());
    let r = parse_resp(&drain(&mut l)[0]);
    assert_eq!(r.status, 400);
    assert!(events(&mut l).is_empty());
    let raw = request("OPTIONS", "z9hG4bKv", 1, None).replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia");
    l.handle_input(now, Transport::Udp, peer(), raw.as_bytes());
    assert_eq!(parse_resp(&drain(&mut l)[0]).status, 505);
    let raw = request("FOO", "z9hG4bKfoo", 1, None);
    l.handle_input(now, Transport::Udp, peer(), raw.as_bytes());
    assert_eq!(parse_resp(&drain(&mut l)[0]).status, 501);
    // garbage and broken responses: silence
    l.handle_input(now, Transport::Udp, peer(), b"\x00\x01garbage");
    l.handle_input(now, Transport::Udp, peer(), b"SIP/2.0 4294967301 x\r\n\r\n");
    assert!(drain(&mut l).is_empty());
}

#[test]
fn torture_corpus_through_the_layer() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/rfc4475");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("note: corpus absent, skipped");
        return;
    };
    let mut l = layer();
    let now = Instant::now();
    for e in entries.flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        l.handle_input(now, Transport::Udp, peer(), &bytes);
        for t in drain(&mut l) {
            assert!(!t.dest.ip().is_unspecified());
            assert_ne!(t.dest.ip().to_string(), "255.255.255.255");
        }
    }
    let name = |n: &str| dir.join(n);
    let mut l = layer();
    l.handle_input(
        now,
        Transport::Udp,
        peer(),
        &std::fs::read(name("badinv01.dat")).unwrap(),
    );
    let tx = drain(&mut l);
    assert_eq!(parse_resp(&tx[0]).status, 400);
    assert_eq!(tx[0].dest, peer(), "unparsable Via: answer the source");
}
