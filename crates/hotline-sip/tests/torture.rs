//! RFC 4475 / RFC 5118 torture corpus: every file gets the reaction its README lists.

use std::path::PathBuf;

use hotline_sip::policy::{react, Capabilities, Reaction};

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Well-formed: accepted, or answered with something other than 400 (an application answer).
    Accept,
    /// Answered with exactly this status.
    Status(u16),
    /// Dropped silently (broken or unmatched responses).
    Drop,
    /// 400 or dropped (the README allows both).
    RejectOrDrop,
}

use Expect::*;

const RFC4475: &[(&str, Expect)] = &[
    ("wsinv.dat", Accept),
    ("intmeth.dat", Status(501)),
    ("esc01.dat", Accept),
    ("escnull.dat", Accept),
    ("esc02.dat", Status(501)),
    ("lwsdisp.dat", Accept),
    ("longreq.dat", Accept),
    ("dblreq.dat", Accept),
    ("semiuri.dat", Accept),
    ("transports.dat", Accept),
    ("mpart01.dat", Accept),
    ("unreason.dat", Accept),
    ("noreason.dat", Accept),
    ("badinv01.dat", Status(400)),
    ("clerr.dat", Status(400)),
    ("ncl.dat", Status(400)),
    ("scalar02.dat", Status(400)),
    ("scalarlg.dat", Drop),
    ("quotbal.dat", Status(400)),
    ("ltgtruri.dat", Status(400)),
    ("lwsruri.dat", Status(400)),
    ("lwsstart.dat", Status(400)),
    ("trws.dat", Status(400)),
    ("escruri.dat", Status(400)),
    ("baddate.dat", Accept),
    ("regbadct.dat", Status(400)),
    ("badaspec.dat", Status(400)),
    ("baddn.dat", Status(400)),
    ("badvers.dat", Status(505)),
    ("mismatch01.dat", Status(400)),
    ("mismatch02.dat", Status(501)),
    ("bigcode.dat", Drop),
    ("badbranch.dat", Accept),
    ("insuf.dat", Status(400)),
    ("unkscm.dat", Status(416)),
    ("novelsc.dat", Status(416)),
    ("unksm2.dat", Accept),
    ("bext01.dat", Status(420)),
    ("invut.dat", Status(415)),
    ("regaut01.dat", Accept),
    ("multi01.dat", Status(400)),
    ("mcl01.dat", Status(400)),
    ("bcast.dat", Accept),
    ("zeromf.dat", Accept),
    ("cparam01.dat", Accept),
    ("cparam02.dat", Accept),
    ("regescrt.dat", Accept),
    ("sdp01.dat", Status(406)),
    ("inv2543.dat", Accept),
    ("test.dat", RejectOrDrop),
];

const RFC5118: &[(&str, Expect)] = &[
    ("ipv6-good.dat", Accept),
    ("ipv6-bad.dat", Status(400)),
    ("port-ambiguous.dat", Accept),
    ("port-unambiguous.dat", Accept),
    ("via-received-param-with-delim.dat", Accept),
    ("via-received-param-no-delim.dat", Accept),
    ("ipv6-in-sdp.dat", Accept),
    ("mult-ip-in-header.dat", Accept),
    ("mult-ip-in-sdp.dat", Accept),
    ("ipv4-mapped-ipv6.dat", Accept),
    ("ipv6-bug-abnf-3-colons.dat", Accept),
    ("ipv6-correct-abnf-2-colons.dat", Accept),
];

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.is_dir().then_some(dir)
}

fn check_dir(dir: PathBuf, table: &[(&str, Expect)]) -> Vec<String> {
    let caps = Capabilities::default();
    let mut failures = Vec::new();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dat"))
        .collect();
    files.sort();
    for name in &files {
        let Some((_, expect)) = table.iter().find(|(n, _)| n == name) else {
            failures.push(format!("{name}: no expectation in the table"));
            continue;
        };
        let bytes = std::fs::read(dir.join(name)).expect("read corpus file");
        let reaction = react(&bytes, Some(&caps));
        let ok = match (expect, &reaction) {
            (Accept, Reaction::Accept(_)) => true,
            (Accept, Reaction::Respond(r)) => r.status != 400 && r.status != 505,
            (Status(s), Reaction::Respond(r)) => r.status == *s,
            (Drop, Reaction::Drop) => true,
            (RejectOrDrop, Reaction::Drop) => true,
            (RejectOrDrop, Reaction::Respond(r)) => r.status == 400,
            _ => false,
        };
        if let Reaction::Respond(r) = &reaction {
            // every answer must itself be well-formed and carry the mandatory headers back
            let back = hotline_sip::parse_datagram(&r.to_bytes());
            if back.is_err() && !matches!(expect, Status(400) | RejectOrDrop | Status(505)) {
                failures.push(format!("{name}: our response does not parse: {back:?}"));
            }
            if r.status == 420 && r.headers.get("Unsupported").is_none() {
                failures.push(format!("{name}: 420 without Unsupported"));
            }
            if r.status == 501 && r.headers.get("Allow").is_none() {
                failures.push(format!("{name}: 501 without Allow"));
            }
        }
        if !ok {
            let got = match &reaction {
                Reaction::Respond(r) => format!("{} {}", r.status, r.reason),
                Reaction::Drop => "drop".into(),
                Reaction::Accept(_) => "accept".into(),
            };
            failures.push(format!("{name}: expected {expect:?}, got {got}"));
        }
    }
    for (n, _) in table {
        if !files.iter().any(|f| f == n) {
            failures.push(format!("{n}: listed but missing from {}", dir.display()));
        }
    }
    failures
}

#[test]
fn torture_corpus() {
    let Some(root) = corpus() else {
        println!("note: ../../../shared/corpus is absent; torture test skipped");
        return;
    };
    let mut failures = check_dir(root.join("rfc4475"), RFC4475);
    failures.extend(check_dir(root.join("rfc5118/wire"), RFC5118));
    assert!(
        failures.is_empty(),
        "torture failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn torture_details() {
    use hotline_sip::msg::{parse_datagram, SipMessage};
    let Some(root) = corpus() else {
        return;
    };
    let read = |p: &str| std::fs::read(root.join(p)).expect("corpus file");
    let req = |p: &str| match parse_datagram(&read(p)) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("{p}: {other:?}"),
    };
    // §3.1.1.1: folding, compact names, leading zeros, comma-joined Vias
    let r = req("rfc4475/wsinv.dat");
    assert_eq!(r.max_forwards(), Some(68));
    assert_eq!(r.cseq().map(|c| c.0), Some(9));
    assert_eq!(r.vias().len(), 3);
    assert_eq!(
        r.from()
            .and_then(|f| f.tag().map(str::to_string))
            .as_deref(),
        Some("98asjd8")
    );
    assert_eq!(
        r.headers.get("UnknownHeaderWithUnusualValue"),
        Some(";;,,;;,;")
    );
    assert_eq!(
        r.headers.get("NewFangledHeader"),
        Some("newfangled value continued newfangled value")
    );
    // §3.1.1.3: escapes kept verbatim
    let r = req("rfc4475/esc01.dat");
    let c = &r.contacts()[0];
    assert_eq!(c.uri.param("n%61me"), Some(Some("v%61lue%25%34%31")));
    // §3.1.1.4: two distinct contacts with NULs
    let r = req("rfc4475/escnull.dat");
    let c = r.contacts();
    assert_eq!(c.len(), 2);
    assert_ne!(c[0].uri, c[1].uri);
    // §3.1.1.8: trailing octets ignored
    let r = req("rfc4475/dblreq.dat");
    assert!(r.body.is_empty());
    // §3.1.1.9
    let r = req("rfc4475/semiuri.dat");
    assert_eq!(r.uri.user.as_deref(), Some("user;par=u%40example.net"));
    // §3.1.1.11: binary multipart framed by Content-Length
    let r = req("rfc4475/mpart01.dat");
    assert_eq!(r.body.len(), 553);
    // §3.1.1.5: C%6Fntact is not Contact
    let r = req("rfc4475/esc02.dat");
    assert_eq!(r.contacts().len(), 2);
    // RFC 5118 §4.3/4.4
    let r = req("rfc5118/wire/port-ambiguous.dat");
    assert_eq!(r.uri.host, "[2001:db8::10:5070]");
    assert_eq!(r.uri.port, None);
    let r = req("rfc5118/wire/port-unambiguous.dat");
    assert_eq!(r.uri.host, "[2001:db8::10]");
    assert_eq!(r.uri.port, Some(5070));
    let r = req("rfc5118/wire/via-received-param-no-delim.dat");
    assert!(r.vias().iter().any(|v| v.received.is_some()));
}
