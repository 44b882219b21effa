use super::*;
use crate::msg::{parse_datagram, Response, SipMessage};

fn req(s: &str) -> Request {
    match parse_datagram(s.as_bytes()) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
}

const REFER: &str = "REFER sip:hotline@192.0.2.1 SIP/2.0\r\n\
    Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bKr1\r\n\
    From: <sip:agent1001@hotline.example.com>;tag=a1\r\n\
    To: <sip:hotline@192.0.2.1>;tag=h1\r\n\
    Call-ID: call-77\r\nCSeq: 3 REFER\r\n\
    Contact: <sip:agent1001@192.0.2.50>\r\n\
    r: <sip:110@gw.example.cn;user=phone>\r\n\
    b: \"Agent 1001\" <sip:agent1001@hotline.example.com>\r\n\
    Content-Length: 0\r\n\r\n";

/// A UAS dialog: peer alice (tag `ra`), us (tag `lt`), Call-ID `dlg-1`.
fn dialog() -> Dialog {
    let inv = req("INVITE sip:hotline@192.0.2.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bKx\r\n\
        From: <sip:alice@example.com>;tag=ra\r\nTo: <sip:hotline@192.0.2.1>\r\n\
        Call-ID: dlg-1\r\nCSeq: 5 INVITE\r\nContact: <sip:alice@192.0.2.50:5060>\r\n\
        Content-Length: 0\r\n\r\n");
    let mut ok = Response::to_request(&inv, 200, "OK");
    ok.set_to_tag("lt");
    ok.headers.push("Contact", "<sip:hotline@192.0.2.1:5060>");
    let mut d = Dialog::uas(&inv, &ok).expect("dialog");
    d.via = Some(("192.0.2.1:5060".into(), crate::Transport::Udp));
    d
}

#[test]
fn blind_transfer_compact_header() {
    let r = req(REFER);
    let rt = ReferTo::from_request(&r).unwrap();
    assert_eq!(rt.target.to_string(), "sip:110@gw.example.cn;user=phone");
    assert_eq!(rt.target_user(), Some("110"));
    assert_eq!(rt.replaces, None);
    assert!(rt.headers.is_empty());
    let rb = parse_referred_by(r.headers.get("Referred-By").unwrap()).unwrap();
    assert_eq!(rb.uri.user.as_deref(), Some("agent1001"));
    assert_eq!(rb.display.as_deref(), Some("Agent 1001"));
}

#[test]
fn refer_to_missing_or_multiple() {
    let no = req(&REFER.replace("r: <sip:110@gw.example.cn;user=phone>\r\n", ""));
    assert_eq!(ReferTo::from_request(&no), Err(ReferError::Missing));
    let two = req(&REFER.replace(
        "r: <sip:110@gw.example.cn;user=phone>\r\n",
        "Refer-To: <sip:110@a>\r\nRefer-To: <sip:119@a>\r\n",
    ));
    assert_eq!(ReferTo::from_request(&two), Err(ReferError::Multiple));
    let comma = req(&REFER.replace(
        "r: <sip:110@gw.example.cn;user=phone>",
        "r: <sip:110@a>, <sip:119@a>",
    ));
    assert_eq!(ReferTo::from_request(&comma), Err(ReferError::Multiple));
}

#[test]
fn attended_transfer_rfc3891_example() {
    // RFC 3891 §7 (the REFER in the attended-transfer flow).
    let rt = ReferTo::parse(
        "<sips:bob@bobphone.example.com?Replaces=12345%40192.168.118.3%3B\
         to-tag%3D12345%3Bfrom-tag%3D5FFE-3994>",
    )
    .unwrap();
    assert_eq!(rt.target.to_string(), "sips:bob@bobphone.example.com");
    assert!(rt.target.headers.is_empty());
    assert_eq!(rt.target_user(), Some("bob"));
    let r = rt.replaces.clone().unwrap();
    assert_eq!(r.call_id, "12345@192.168.118.3");
    assert_eq!(r.to_tag, "12345");
    assert_eq!(r.from_tag, "5FFE-3994");
    assert!(!r.early_only);
    // The serialized form parses back to the same value.
    assert_eq!(ReferTo::parse(&rt.to_string()).unwrap(), rt);
}

#[test]
fn replaces_header_forms() {
    // RFC 3891 §6.1 example, with names in other cases and spaces around ';'.
    let r = Replaces::parse("98732@sip.example.com ; FROM-TAG=r33th4x0r;To-Tag=ff87ff").unwrap();
    assert_eq!(r.call_id, "98732@sip.example.com");
    assert_eq!(r.to_tag, "ff87ff");
    assert_eq!(r.from_tag, "r33th4x0r");
    let e: Replaces = "425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only"
        .parse()
        .unwrap();
    assert!(e.early_only);
    assert_eq!(
        e.to_string(),
        "425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only"
    );
    let enc = Replaces::parse_encoded("abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2").unwrap();
    assert_eq!(
        (
            enc.call_id.as_str(),
            enc.to_tag.as_str(),
            enc.from_tag.as_str()
        ),
        ("abc@host", "1", "2")
    );
    assert_eq!(
        enc.to_encoded(),
        "abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2",
        "@ ; = are escaped"
    );
    // unknown parameters are ignored
    assert!(Replaces::parse("x;to-tag=1;from-tag=2;foo=bar;baz").is_ok());
}

#[test]
fn replaces_errors() {
    for bad in [
        "",
        ";to-tag=1;from-tag=2",
        "abc;to-tag=1",
        "abc;from-tag=2",
        "abc;to-tag=;from-tag=2",
        "abc;to-tag;from-tag=2",
        "abc;to-tag=1;to-tag=3;from-tag=2",
        "a b;to-tag=1;from-tag=2",
        "a@b@c;to-tag=1;from-tag=2",
        "abc;to-tag=1;;from-tag=2",
        "abc;to-tag=a b;from-tag=2",
    ] {
        assert!(
            matches!(Replaces::parse(bad), Err(ReferError::Replaces(_))),
            "{bad:?} accepted"
        );
    }
    assert!(matches!(
        Replaces::parse_encoded("abc%4"),
        Err(ReferError::Escape(_))
    ));
    assert!(matches!(
        Replaces::parse_encoded("abc%FF%3Bto-tag%3D1%3Bfrom-tag%3D2"),
        Err(ReferError::Escape(_))
    ));
}

#[test]
fn refer_to_forms() {
    // addr-spec with header parameters
    let rt = ReferTo::parse("sip:12345@hotline.example.cn;method=INVITE").unwrap();
    assert_eq!(rt.target_user(), Some("12345"));
    assert_eq!(rt.params, vec![("method".into(), Some("INVITE".into()))]);
    // unbracketed addr-spec with embedded Replaces (sent by some phones)
    let rt = ReferTo::parse("sip:1002@pbx?Replaces=c1%40pbx%3Bto-tag%3Da%3Bfrom-tag%3Db").unwrap();
    assert_eq!(rt.target.to_string(), "sip:1002@pbx");
    assert_eq!(rt.replaces.unwrap().call_id, "c1@pbx");
    // unescaped ';' and '=' inside the embedded header value are tolerated
    let rt = ReferTo::parse("<sip:1002@pbx?Replaces=c1%40pbx;to-tag=a;from-tag=b>").unwrap();
    assert_eq!(rt.replaces.unwrap().from_tag, "b");
    // display name, other embedded headers (decoded), tel URIs
    let rt = ReferTo::parse(
        "\"Police\" <sip:110@gw;user=phone?Subject=%E8%BD%AC%E6%8E%A5&Priority=urgent>;x=1",
    )
    .unwrap();
    assert_eq!(rt.display.as_deref(), Some("Police"));
    assert_eq!(rt.header("subject"), Some("转接"));
    assert_eq!(rt.header("Priority"), Some("urgent"));
    assert_eq!(rt.target.param("user"), Some(Some("phone")));
    let again = ReferTo::parse(&rt.to_string()).unwrap();
    assert_eq!(again, rt);
    let rt = ReferTo::parse("<tel:+8675512345;phone-context=+86>").unwrap();
    assert_eq!(rt.target_user(), Some("+8675512345"));
    let rt = ReferTo::parse("<sip:pbx.example.cn>").unwrap();
    assert_eq!(rt.target_user(), None);
}

#[test]
fn refer_to_errors() {
    assert_eq!(ReferTo::parse("  "), Err(ReferError::Empty));
    assert_eq!(
        ReferTo::parse("<http://example.com/>"),
        Err(ReferError::Scheme("http".into()))
    );
    assert!(matches!(
        ReferTo::parse("<sip:a@b"),
        Err(ReferError::Malformed(_))
    ));
    assert!(matches!(
        ReferTo::parse("<sip:a@b?Replaces=x%3Bto-tag%3D1>"),
        Err(ReferError::Replaces(_))
    ));
    assert!(matches!(
        ReferTo::parse("<sip:a@b?Replaces=x%3Bto-tag%3D1%3Bfrom-tag%3D2&Replaces=y%3Bto-tag%3D1%3Bfrom-tag%3D2>"),
        Err(ReferError::Replaces(_))
    ));
    assert!(matches!(
        ReferTo::parse("<sip:a@b?Subject=%zz>"),
        Err(ReferError::Escape(_))
    ));
    let long = format!("<sip:{}@b>", "1".repeat(MAX_REFER_TO_LEN));
    assert_eq!(ReferTo::parse(&long), Err(ReferError::TooLong));
}

#[test]
fn sipfrag_build_and_parse() {
    assert_eq!(sipfrag(100, "Trying"), "SIP/2.0 100 Trying\r\n");
    assert_eq!(sipfrag(200, ""), "SIP/2.0 200 OK\r\n");
    assert_eq!(
        sipfrag(503, "Busy\r\nX-Injected: 1"),
        "SIP/2.0 503 BusyX-Injected: 1\r\n",
        "no line injection"
    );
    assert_eq!(
        parse_sipfrag(b"SIP/2.0 200 OK\r\n").unwrap(),
        (200, "OK".to_string())
    );
    assert_eq!(
        sipfrag_status(b"\r\nSIP/2.0 180 Ringing\nContact: <sip:x@y>\n"),
        Ok(180)
    );
    assert_eq!(sipfrag_status(b"sip/2.0 486 Busy Here"), Ok(486));
    assert_eq!(parse_sipfrag(b"SIP/2.0 603").unwrap(), (603, String::new()));
    for bad in [
        &b""[..],
        b"\r\n\r\n",
        b"SIP/2.0",
        b"SIP/2.0 20 OK",
        b"SIP/2.0 2000 OK",
        b"SIP/2.0 099 Low",
        b"SIP/2.0 700 High",
        b"SIP/3.0 200 OK",
        b"INVITE sip:a@b SIP/2.0",
        b"SIP/2.0 2x0 OK",
        b"\xff\xfe",
    ] {
        assert!(
            matches!(parse_sipfrag(bad), Err(ReferError::Sipfrag(_))),
            "{:?} accepted",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn notify_and_refer_in_dialog() {
    let mut d = dialog();
    let n = refer_notify(&mut d, Some(3), 100, "Trying");
    assert_eq!(n.method, Method::Notify);
    assert_eq!(n.headers.get("Event"), Some("refer;id=3"));
    assert_eq!(
        n.headers.get("Subscription-State"),
        Some("active;expires=60")
    );
    assert_eq!(n.headers.get("Content-Type"), Some(SIPFRAG_CONTENT_TYPE));
    assert_eq!(n.body, b"SIP/2.0 100 Trying\r\n");
    assert_eq!(n.call_id(), Some("dlg-1"));
    assert_eq!(n.from().unwrap().tag(), Some("lt"));
    assert_eq!(n.to().unwrap().tag(), Some("ra"));
    assert!(n.top_via().is_some());
    let p = parse_refer_notify(&n).unwrap();
    assert_eq!(
        p,
        ReferProgress {
            event_id: Some(3),
            status: 100,
            reason: "Trying".into(),
            terminated: false
        }
    );
    // The final NOTIFY ends the subscription; it survives a trip through the wire format.
    let fin = refer_notify(&mut d, None, 200, "");
    assert_eq!(fin.cseq().map(|c| c.0), Some(n.cseq().unwrap().0 + 1));
    let fin = req(&String::from_utf8(fin.to_bytes()).unwrap());
    let p = parse_refer_notify(&fin).unwrap();
    assert_eq!((p.event_id, p.status, p.terminated), (None, 200, true));

    let mut bad = fin.clone();
    bad.headers.set("Event", "dialog");
    assert!(matches!(
        parse_refer_notify(&bad),
        Err(ReferError::Notify(_))
    ));
    bad.headers.set("Event", "refer;id=x");
    assert!(parse_refer_notify(&bad).is_err());
    let mut bad = fin.clone();
    bad.headers.set("Content-Type", "text/plain");
    assert!(parse_refer_notify(&bad).is_err());

    let target = ReferTo::new("sip:1002@pbx".parse().unwrap()).with_replaces(Replaces {
        call_id: "c1@pbx".into(),
        to_tag: "a".into(),
        from_tag: "b".into(),
        early_only: false,
    });
    let by: NameAddr = "<sip:hotline@192.0.2.1>".parse().unwrap();
    let refer = refer_request(&mut d, &target, Some(&by));
    assert_eq!(refer.method, Method::Refer);
    assert!(refer.contacts().len() == 1, "REFER carries a Contact");
    let refer = req(&String::from_utf8(refer.to_bytes()).unwrap());
    assert_eq!(ReferTo::from_request(&refer).unwrap(), target);
    assert_eq!(
        refer.headers.get("b"),
        Some("<sip:hotline@192.0.2.1>"),
        "compact name lookup"
    );
}

#[test]
fn replaces_matches_dialog() {
    let d = dialog();
    let r = Replaces::parse("dlg-1;to-tag=lt;from-tag=ra").unwrap();
    assert!(r.matches(&d));
    assert!(!Replaces::parse("dlg-1;to-tag=ra;from-tag=lt")
        .unwrap()
        .matches(&d));
    assert!(!Replaces::parse("DLG-1;to-tag=lt;from-tag=ra")
        .unwrap()
        .matches(&d));
}

/// Truncations and single-character mutations of valid inputs never panic.
#[test]
fn no_panic_on_mangled_input() {
    let seeds = [
        "\"Police\" <sips:bob@bobphone.example.com;user=phone?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994;early-only&Subject=%E8%BD%AC>;x=1",
        "sip:1002@pbx?Replaces=c1%40pbx;to-tag=a;from-tag=b",
        "<tel:+8675512345;phone-context=+86>",
        "425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only",
        "SIP/2.0 200 OK\r\n",
    ];
    let subst = [
        "", "%", "%4", "%FF", ";", "=", "<", ">", "\"", "?", "&", "@", ":", " ", "\0", "\r\n",
        "中", "\\",
    ];
    let mut runs = 0;
    for seed in seeds {
        let cuts: Vec<usize> = seed.char_indices().map(|(i, _)| i).collect();
        for &i in &cuts {
            let prefix = &seed[..i];
            exercise(prefix);
            let next = seed[i..].chars().next().map_or(0, char::len_utf8);
            for s in subst {
                let m = format!("{prefix}{s}{}", &seed[i + next..]);
                exercise(&m);
                let ins = format!("{prefix}{s}{}", &seed[i..]);
                exercise(&ins);
                runs += 2;
            }
        }
    }
    assert!(runs > 5000);
}

fn exercise(s: &str) {
    if let Ok(rt) = ReferTo::parse(s) {
        let _ = rt.target_user();
        let _ = ReferTo::parse(&rt.to_string());
    }
    let _ = Replaces::parse(s);
    let _ = Replaces::parse_encoded(s);
    let _ = parse_sipfrag(s.as_bytes());
    let _ = parse_referred_by(s);
    let _ = percent_decode(s, "x");
}
