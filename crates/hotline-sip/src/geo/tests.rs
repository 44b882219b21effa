use super::*;
use crate::msg::{parse_datagram, Request, SipMessage};

/// RFC 5491 §5.2.1 (Point).
const POINT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
xmlns:gml="http://www.opengis.net/gml"
entity="pres:point2d@example.com">
  <dm:device id="point2d">
<gp:geopriv>
  <gp:location-info>
    <gml:Point srsName="urn:ogc:def:crs:EPSG::4326">
      <gml:pos>-34.407 150.883</gml:pos>
    </gml:Point>
  </gp:location-info>
  <gp:usage-rules/>
  <gp:method>Wiremap</gp:method>
</gp:geopriv>
<dm:deviceID>mac:1234567890ab</dm:deviceID>
<dm:timestamp>2007-06-22T20:57:29Z</dm:timestamp>
  </dm:device>
</presence>"#;

/// RFC 5491 §5.2.3 (Circle).
const CIRCLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
xmlns:gml="http://www.opengis.net/gml"
xmlns:gs="http://www.opengis.net/pidflo/1.0"
entity="pres:circle@example.com">
  <dm:device id="circle">
<gp:geopriv>
  <gp:location-info>
    <gs:Circle srsName="urn:ogc:def:crs:EPSG::4326">
      <gml:pos>42.5463 -73.2512</gml:pos>
      <gs:radius uom="urn:ogc:def:uom:EPSG::9001">
        850.24
      </gs:radius>
    </gs:Circle>
  </gp:location-info>
  <gp:usage-rules/>
  <gp:method>OTDOA</gp:method>
</gp:geopriv>
  </dm:device>
</presence>"#;

/// RFC 5491 §3.4-style civic tuple (RFC 4119 namespace prefix `cl:`).
const CIVIC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
xmlns:cl="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
entity="pres:ness@example.com">
  <tuple id="sg89ab">
<status>
  <gp:geopriv>
    <gp:location-info>
      <cl:civicAddress>
        <cl:country>US</cl:country>
        <cl:A1>New York</cl:A1>
        <cl:A3>New York</cl:A3>
        <cl:A6>Broadway</cl:A6>
        <cl:HNO>123</cl:HNO>
        <cl:LOC>Suite 75</cl:LOC>
        <cl:PC>10027-0401</cl:PC>
      </cl:civicAddress>
    </gp:location-info>
    <gp:usage-rules/>
    <gp:method>Manual</gp:method>
  </gp:geopriv>
</status>
  </tuple>
</presence>"#;

/// A Chinese civic address, default namespace for PIDF and `ca:` for civic elements.
const CIVIC_CN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
entity="sip:13800138000@ims.mnc000.mcc460.3gppnetwork.org">
  <tuple id="loc1">
<status>
  <gp:geopriv>
    <gp:location-info>
      <ca:civicAddress xml:lang="zh-CN">
        <ca:country>CN</ca:country>
        <ca:A1>广东省</ca:A1>
        <ca:A2>深圳市</ca:A2>
        <ca:A3>福田区</ca:A3>
        <ca:A4>华强北街道</ca:A4>
        <ca:RD>深南中路</ca:RD>
        <ca:HNO>1001</ca:HNO>
        <ca:BLD>&#x8D5B;格广场</ca:BLD>
        <ca:FLR>12</ca:FLR>
        <ca:ROOM>1203</ca:ROOM>
        <ca:PC>518031</ca:PC>
      </ca:civicAddress>
    </gp:location-info>
    <gp:usage-rules/>
    <gp:method>Cell</gp:method>
  </gp:geopriv>
</status>
  </tuple>
</presence>"#;

/// RFC 6442 §7 example INVITE, Content-Length filled in by [`rfc6442_invite`].
const INVITE_HEAD: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
    Via: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK74bf9\r\n\
    Max-Forwards: 70\r\n\
    To: Bob <sip:bob@biloxi.example.com>\r\n\
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
    Call-ID: 3848276298220188511@atlanta.example.com\r\n\
    Geolocation: <cid:target123@atlanta.example.com>\r\n\
    Geolocation-Routing: no\r\n\
    Accept: application/sdp, application/pidf+xml\r\n\
    CSeq: 31862 INVITE\r\n\
    Contact: <sip:alice@atlanta.example.com>\r\n\
    Content-Type: multipart/mixed; boundary=boundary1\r\n";

const INVITE_BODY: &str = "--boundary1\r\n\
    Content-Type: application/sdp\r\n\
    \r\n\
    v=0\r\no=alice 2890844526 2890842807 IN IP4 atlanta.example.com\r\n\
    s=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\n\
    a=rtpmap:0 PCMU/8000\r\n\
    \r\n\
    --boundary1\r\n\
    Content-Type: application/pidf+xml\r\n\
    Content-ID: <target123@atlanta.example.com>\r\n\
    \r\n\
    <?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
    <presence\r\n\
       xmlns=\"urn:ietf:params:xml:ns:pidf\"\r\n\
       xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\"\r\n\
       xmlns:gbp=\"urn:ietf:params:xml:ns:pidf:geopriv10:basicPolicy\"\r\n\
       xmlns:cl=\"urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr\"\r\n\
       xmlns:gml=\"http://www.opengis.net/gml\"\r\n\
       xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\r\n\
       entity=\"pres:alice@atlanta.example.com\">\r\n\
     <dm:device id=\"target123-1\">\r\n\
       <gp:geopriv>\r\n\
         <gp:location-info>\r\n\
           <gml:location>\r\n\
             <gml:Point srsName=\"urn:ogc:def:crs:EPSG::4326\">\r\n\
               <gml:pos>32.86726 -97.16054</gml:pos>\r\n\
             </gml:Point>\r\n\
            </gml:location>\r\n\
         </gp:location-info>\r\n\
         <gp:usage-rules>\r\n\
           <gbp:retransmission-allowed>false\r\n\
           </gbp:retransmission-allowed>\r\n\
           <gbp:retention-expiry>2010-11-14T20:00:00Z\r\n\
           </gbp:retention-expiry>\r\n\
         </gp:usage-rules>\r\n\
         <gp:method>802.11</gp:method>\r\n\
       </gp:geopriv>\r\n\
       <dm:deviceID>mac:1234567890ab</dm:deviceID>\r\n\
       <dm:timestamp>2010-11-04T20:57:29Z</dm:timestamp>\r\n\
     </dm:device>\r\n\
    </presence>\r\n\
    --boundary1--\r\n";

fn rfc6442_invite(head: &str, body: &str) -> Request {
    let wire = format!("{head}Content-Length: {}\r\n\r\n{body}", body.len());
    match parse_datagram(wire.as_bytes()) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
}

#[test]
fn point_rfc5491() {
    let l = parse_pidf_lo(POINT.as_bytes()).unwrap();
    assert_eq!(l.point, Some((-34.407, 150.883)));
    assert_eq!(l.radius_m, None);
    assert_eq!(l.civic, None);
    assert_eq!(l.method.as_deref(), Some("Wiremap"));
    assert_eq!(l.raw_entity.as_deref(), Some("pres:point2d@example.com"));
    assert_eq!(l.describe(), "-34.407,150.883");
}

#[test]
fn circle_rfc5491() {
    let l = parse_pidf_lo(CIRCLE.as_bytes()).unwrap();
    assert_eq!(l.point, Some((42.5463, -73.2512)));
    assert_eq!(l.radius_m, Some(850.24));
    assert_eq!(l.method.as_deref(), Some("OTDOA"));
    assert_eq!(l.describe(), "42.5463,-73.2512 (±850.24 m)");
}

#[test]
fn civic_us() {
    let l = parse_pidf_lo(CIVIC.as_bytes()).unwrap();
    let c = l.civic.clone().unwrap();
    assert_eq!(c.country.as_deref(), Some("US"));
    assert_eq!(c.a6.as_deref(), Some("Broadway"));
    assert_eq!(c.pc.as_deref(), Some("10027-0401"));
    assert_eq!(l.point, None);
    assert_eq!(l.method.as_deref(), Some("Manual"));
    // A1 and A3 are both "New York": the repeat is dropped.
    assert_eq!(l.describe(), "US New York Broadway 123 Suite 75");
}

#[test]
fn civic_chinese() {
    let l = parse_pidf_lo(CIVIC_CN.as_bytes()).unwrap();
    let c = l.civic.clone().unwrap();
    assert_eq!(c.a1.as_deref(), Some("广东省"));
    assert_eq!(c.a4.as_deref(), Some("华强北街道"));
    assert_eq!(
        c.bld.as_deref(),
        Some("赛格广场"),
        "character reference decoded"
    );
    assert_eq!(
        c.display(),
        "中国 广东省 深圳市 福田区 华强北街道 深南中路 1001 赛格广场 12 1203"
    );
    assert_eq!(l.describe(), c.display());
    assert_eq!(l.method.as_deref(), Some("Cell"));
    assert_eq!(
        l.raw_entity.as_deref(),
        Some("sip:13800138000@ims.mnc000.mcc460.3gppnetwork.org")
    );
}

#[test]
fn civic_and_point_in_one_document() {
    // Two tuples (geodetic and civic), odd prefixes, a CDATA section, a comment in the text.
    let xml = r#"<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" entity="pres:x@y">
      <p:tuple id="a"><p:status><geopriv><location-info>
        <gp2:Sphere xmlns:gp2="http://www.opengis.net/pidflo/1.0">
          <g:pos xmlns:g="http://www.opengis.net/gml">22.5431 114.0579 30</g:pos>
          <gp2:radius>15</gp2:radius>
        </gp2:Sphere></location-info>
        <method>GPS</method></geopriv></p:status></p:tuple>
      <p:tuple id="b"><p:status><geopriv><location-info>
        <civicAddress><country>CN</country><A1><![CDATA[北京市]]></A1>
          <A3>朝阳区</A3><A6>建国路</A6><RD>建国路</RD><HNO>8<!-- c --></HNO><HNS>A</HNS>
          <LMK>SOHO</LMK><NAM>某公司</NAM><FLR/></civicAddress>
        </location-info><method>Manual</method></geopriv></p:status></p:tuple>
    </p:presence>"#;
    let l = parse_pidf_lo(xml.as_bytes()).unwrap();
    assert_eq!(l.point, Some((22.5431, 114.0579)));
    assert_eq!(l.radius_m, Some(15.0));
    assert_eq!(l.method.as_deref(), Some("GPS"), "first method wins");
    let c = l.civic.clone().unwrap();
    assert_eq!(c.flr, None, "empty element ignored");
    assert_eq!(c.display(), "中国 北京市 朝阳区 建国路 8A 某公司 SOHO");
    assert_eq!(l.describe(), c.display(), "civic preferred over the point");
}

#[test]
fn rfc6442_invite_by_value() {
    let inv = rfc6442_invite(INVITE_HEAD, INVITE_BODY);
    let uris = geolocation_uris(&inv).unwrap();
    assert_eq!(uris.len(), 1);
    assert_eq!(
        uris[0].content_id().as_deref(),
        Some("target123@atlanta.example.com")
    );
    assert!(!uris[0].is_by_reference());

    let parts = parse_multipart(inv.headers.get("Content-Type").unwrap(), &inv.body).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].content_type().as_deref(), Some("application/sdp"));
    assert!(parts[0].body.starts_with(b"v=0\r\n"));
    assert!(
        parts[0].body.ends_with(b"a=rtpmap:0 PCMU/8000\r\n"),
        "the CRLF before the delimiter is not part of the body"
    );
    assert_eq!(parts[1].content_id(), Some("target123@atlanta.example.com"));
    assert!(parts[1].body.ends_with(b"</presence>"));

    let l = message_location(&inv).unwrap();
    assert_eq!(l.point, Some((32.86726, -97.16054)));
    assert_eq!(l.method.as_deref(), Some("802.11"));
    assert_eq!(
        l.raw_entity.as_deref(),
        Some("pres:alice@atlanta.example.com")
    );
}

#[test]
fn cid_selects_the_part() {
    // Two PIDF-LO parts: the Geolocation cid (percent-encoded) picks the second one.
    let body = format!(
        "preamble to ignore\n--b\nContent-Type: application/pidf+xml\nContent-ID: <one@x>\n\n{POINT}\n\
         --b\ncontent-type: Application/PIDF+XML; charset=UTF-8\ncontent-id:\n <two@x>\n\n{CIRCLE}\n\
         --b--\nepilogue --b\n"
    );
    let geo = parse_geolocation("<cid:two%40x>").unwrap();
    let pidf = find_pidf(
        Some("multipart/mixed;boundary=\"b\""),
        body.as_bytes(),
        &geo,
    )
    .unwrap();
    assert_eq!(parse_pidf_lo(pidf).unwrap().radius_m, Some(850.24));
    // Without a matching cid: the first PIDF part.
    let geo = parse_geolocation("<cid:nope@x>").unwrap();
    let pidf = find_pidf(Some("multipart/mixed; boundary=b"), body.as_bytes(), &geo).unwrap();
    assert_eq!(parse_pidf_lo(pidf).unwrap().radius_m, None);
    // A PIDF body on its own.
    let pidf = find_pidf(Some("application/pidf+xml"), POINT.as_bytes(), &[]).unwrap();
    assert_eq!(pidf, POINT.as_bytes());
    assert_eq!(
        find_pidf(Some("application/sdp"), b"v=0", &[]),
        Err(GeoError::NoPidf)
    );
    assert_eq!(find_pidf(None, b"", &[]), Err(GeoError::NoPidf));
}

#[test]
fn nested_multipart() {
    let body = format!(
        "--outer\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\
         --outer\r\nContent-Type: multipart/related; boundary=inner\r\n\r\n\
         --inner\r\nContent-Type: application/pidf+xml\r\n\r\n{CIVIC_CN}\r\n--inner--\r\n\
         --outer--"
    );
    let pidf = find_pidf(
        Some("multipart/mixed; boundary=outer"),
        body.as_bytes(),
        &[],
    )
    .unwrap();
    let l = parse_pidf_lo(pidf).unwrap();
    assert_eq!(l.civic.unwrap().a2.as_deref(), Some("深圳市"));
}

#[test]
fn geolocation_header_forms() {
    let g = parse_geolocation(
        "<cid:target123@atlanta.example.com>, <https://lis.example.cn/loc/abc?x=1>;inserted-by=\"ims\" ; foo,\
         <sip:3sdefrhy2jj7@lis.atlanta.example.com;transport=tls>",
    )
    .unwrap();
    assert_eq!(g.len(), 3);
    assert_eq!(g[1].scheme(), "https");
    assert!(g[1].is_by_reference());
    assert_eq!(g[1].content_id(), None);
    assert_eq!(
        g[1].params,
        vec![
            ("inserted-by".into(), Some("\"ims\"".into())),
            ("foo".into(), None)
        ]
    );
    assert_eq!(g[2].scheme(), "sip");
    assert_eq!(
        g[2].uri,
        "sip:3sdefrhy2jj7@lis.atlanta.example.com;transport=tls"
    );
    for bad in [
        "",
        "  ",
        "cid:x@y",
        "<cid:x@y",
        "<nocolon>",
        "<:x>",
        "<cid:a b>",
        "<cid:x> junk",
        "<cid:x>;=1",
    ] {
        assert!(parse_geolocation(bad).is_err(), "{bad:?} accepted");
    }
    let many = vec!["<cid:x>"; MAX_GEO_URIS + 1].join(",");
    assert_eq!(parse_geolocation(&many), Err(GeoError::TooManyUris));
    // Message without the header: no URIs.
    let inv = rfc6442_invite(
        &INVITE_HEAD.replace("Geolocation: <cid:target123@atlanta.example.com>\r\n", ""),
        INVITE_BODY,
    );
    assert_eq!(geolocation_uris(&inv).unwrap(), vec![]);
    // …still located: the first PIDF part is used.
    assert!(message_location(&inv).unwrap().point.is_some());
}

#[test]
fn multipart_edge_cases() {
    assert_eq!(
        boundary("multipart/mixed; boundary=\"simple boundary\"").as_deref(),
        Some("simple boundary")
    );
    assert_eq!(
        boundary("multipart/mixed;BOUNDARY=abc;charset=x").as_deref(),
        Some("abc")
    );
    assert_eq!(boundary("multipart/mixed"), None);
    assert_eq!(boundary("multipart/mixed; boundary=\"\""), None);
    assert_eq!(boundary("multipart/mixed; boundary=\"a"), None);
    assert_eq!(
        boundary(&format!("multipart/mixed; boundary={}", "x".repeat(71))),
        None
    );
    assert_eq!(boundary("multipart/mixed; boundary=a<b"), None);

    assert!(matches!(
        parse_multipart("application/sdp", b""),
        Err(GeoError::NotMultipart(_))
    ));
    assert_eq!(
        parse_multipart("multipart/mixed", b"--x\r\n\r\n--x--"),
        Err(GeoError::Boundary)
    );
    assert_eq!(
        parse_multipart("multipart/mixed; boundary=x", b"no delimiter"),
        Err(GeoError::NoParts)
    );
    assert_eq!(
        parse_multipart("multipart/mixed; boundary=x", b""),
        Err(GeoError::NoParts)
    );
    // A line that only starts like a delimiter is content; padding after one is allowed.
    let p = parse_multipart(
        "multipart/mixed; boundary=x",
        b"--x \t\n\nbody\n--xy\n--x--  \n",
    )
    .unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].body, b"body\n--xy");
    assert!(p[0].headers.is_empty());
    // Unterminated last part ends at the end of the body; a part with headers only.
    let p = parse_multipart(
        "multipart/mixed; boundary=x",
        b"--x\r\nContent-Type: text/plain\r\n--x\r\n\r\ntail",
    )
    .unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].content_type().as_deref(), Some("text/plain"));
    assert_eq!(p[0].body, b"");
    assert_eq!(p[1].body, b"tail");
    // Empty parts and a header line without a colon.
    let p = parse_multipart("multipart/mixed; boundary=x", b"--x\r\n--x\r\n--x--").unwrap();
    assert_eq!(p.len(), 2);
    assert!(matches!(
        parse_multipart(
            "multipart/mixed; boundary=x",
            b"--x\r\nnot a header\r\n\r\nbody\r\n--x--"
        ),
        Err(GeoError::PartHeader(_))
    ));
    // Part and size bounds.
    let many = "--x\r\n\r\np\r\n".repeat(MAX_PARTS + 1) + "--x--";
    assert_eq!(
        parse_multipart("multipart/mixed; boundary=x", many.as_bytes()),
        Err(GeoError::TooManyParts)
    );
    let exactly = "--x\r\n\r\np\r\n".repeat(MAX_PARTS) + "--x--";
    assert_eq!(
        parse_multipart("multipart/mixed; boundary=x", exactly.as_bytes())
            .unwrap()
            .len(),
        MAX_PARTS
    );
    let big = vec![b'a'; MAX_BODY_SIZE + 1];
    assert_eq!(
        parse_multipart("multipart/mixed; boundary=x", &big),
        Err(GeoError::TooLarge)
    );
    // Binary content is carried through untouched.
    let p = parse_multipart(
        "multipart/mixed; boundary=x",
        b"--x\r\n\r\n\xff\x00\xfe\r\n--x--",
    )
    .unwrap();
    assert_eq!(p[0].body, b"\xff\x00\xfe");
}

#[test]
fn malformed_pidf() {
    let doctype = r#"<?xml version="1.0"?><!DOCTYPE presence [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
        <presence entity="x"><tuple><status><geopriv><location-info><civicAddress>
        <country>&xxe;</country></civicAddress></location-info></geopriv></status></tuple></presence>"#;
    assert_eq!(parse_pidf_lo(doctype.as_bytes()), Err(GeoError::Doctype));
    // An undeclared entity is an error, not an empty string.
    let ent = CIVIC_CN.replace("广东省", "&xxe;");
    assert!(matches!(
        parse_pidf_lo(ent.as_bytes()),
        Err(GeoError::Xml(_))
    ));
    assert_eq!(
        parse_pidf_lo(b"<locationResponse/>"),
        Err(GeoError::NotPidf("locationResponse".into()))
    );
    assert_eq!(
        parse_pidf_lo(b"<presence entity='x'/>"),
        Err(GeoError::NoLocation)
    );
    assert_eq!(
        parse_pidf_lo(b""),
        Err(GeoError::Xml("no root element".into()))
    );
    assert_eq!(parse_pidf_lo(b"\xff<presence/>"), Err(GeoError::Encoding));
    assert!(matches!(
        parse_pidf_lo(POINT.replace("</dm:device>", "</dm:devic>").as_bytes()),
        Err(GeoError::Xml(_))
    ));
    assert!(matches!(
        parse_pidf_lo(&POINT.as_bytes()[..POINT.len() - 12]),
        Err(GeoError::Xml(_))
    ));
    assert!(matches!(
        parse_pidf_lo(format!("{POINT}<presence/>").as_bytes()),
        Err(GeoError::Xml(_))
    ));
    // Bad coordinates are ignored, so nothing usable is left.
    for pos in [
        "91 10", "10 181", "NaN 1", "inf 1", "1", "1 2 3 4", "a b", "",
    ] {
        let x = POINT.replace("-34.407 150.883", pos);
        assert_eq!(
            parse_pidf_lo(x.as_bytes()),
            Err(GeoError::NoLocation),
            "{pos:?}"
        );
    }
    let neg = CIRCLE.replace("850.24", "-1");
    assert_eq!(parse_pidf_lo(neg.as_bytes()).unwrap().radius_m, None);
    let deep = format!(
        "<presence>{}{}</presence>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    assert_eq!(parse_pidf_lo(deep.as_bytes()), Err(GeoError::TooDeep));
    let big = format!("{POINT}{}", " ".repeat(MAX_BODY_SIZE));
    assert_eq!(parse_pidf_lo(big.as_bytes()), Err(GeoError::TooLarge));
    // A byte-order mark is fine.
    let bom = [b"\xEF\xBB\xBF".as_slice(), POINT.as_bytes()].concat();
    assert!(parse_pidf_lo(&bom).is_ok());
}

#[test]
fn describe_and_display() {
    let mut l = Location {
        point: Some((22.5, 114.0)),
        radius_m: Some(50.0),
        ..Location::default()
    };
    assert_eq!(l.describe(), "22.5,114 (±50 m)");
    l.civic = Some(CivicAddress::default());
    assert_eq!(
        l.describe(),
        "22.5,114 (±50 m)",
        "an empty civic address says nothing"
    );
    assert_eq!(Location::default().describe(), "");
    let c = CivicAddress {
        country: Some("cn".into()),
        a1: Some(" 上海市 ".into()),
        a2: Some("上海市".into()),
        a3: Some("浦东新区".into()),
        a5: Some("陆家嘴社区".into()),
        rd: Some("世纪大道".into()),
        hno: Some("100".into()),
        unit: Some("2单元".into()),
        loc: Some("东门".into()),
        ..CivicAddress::default()
    };
    assert_eq!(
        c.display(),
        "中国 上海市 浦东新区 陆家嘴社区 世纪大道 100 2单元 东门"
    );
}

/// Truncations and byte mutations of valid inputs never panic.
#[test]
fn no_panic_on_mangled_input() {
    let inv = rfc6442_invite(INVITE_HEAD, INVITE_BODY);
    let ct = "multipart/mixed; boundary=boundary1";
    let body = inv.body.clone();
    let subst: &[&[u8]] = &[
        b"",
        b"\r",
        b"\n",
        b"-",
        b"<",
        b">",
        b"&",
        b"&#x0;",
        b"\"",
        b"\xff",
        b"\xe4",
        b"\0",
        b"<!DOCTYPE x>",
        b"]]>",
        b"<![CDATA[",
    ];
    let mut runs = 0usize;
    // Every truncation of the whole body, plus mutations at a stride to keep the test quick.
    for i in 0..=body.len() {
        let cut = &body[..i];
        let _ = find_pidf(Some(ct), cut, &[]).map(parse_pidf_lo);
        runs += 1;
        if i % 7 != 0 {
            continue;
        }
        for s in subst {
            let tail = body.get(i + 1..).unwrap_or_default();
            let m = [cut, s, tail].concat();
            let _ = parse_multipart(ct, &m);
            let _ = find_pidf(Some(ct), &m, &[]).map(parse_pidf_lo);
            runs += 1;
        }
    }
    for doc in [POINT, CIRCLE, CIVIC_CN] {
        let doc = doc.as_bytes();
        for i in 0..=doc.len() {
            let _ = parse_pidf_lo(&doc[..i]);
            for s in subst {
                let tail = doc.get(i + 1..).unwrap_or_default();
                if let Ok(l) = parse_pidf_lo(&[&doc[..i], s, tail].concat()) {
                    let _ = l.describe();
                }
                runs += 1;
            }
        }
    }
    let header = "<cid:target123@atlanta.example.com>;a=\"b,c\", <https://x/y>;p";
    for (i, _) in header.char_indices() {
        for s in ["", "<", ">", ",", ";", "\"", "%", "%zz", "中"] {
            let m = format!("{}{s}{}", &header[..i], &header[i + 1..]);
            if let Ok(g) = parse_geolocation(&m) {
                g.iter().for_each(|u| {
                    let _ = (u.scheme(), u.content_id());
                });
            }
            runs += 1;
        }
    }
    assert!(runs > 10_000, "{runs}");
}
