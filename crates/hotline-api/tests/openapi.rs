//! `openapi.yaml` against the router, both ways: every documented path and method is routed (it never gets
//! the router's own `no such route` 404 or a 405), and every route of `src/lib.rs` is documented with its
//! methods. Also: the document is served without auth, its `$ref`s resolve, and `ActionBody`'s discriminator
//! covers every action of `src/routing/actions.rs`.
//!
//! No YAML crate is in the lock file, so the document is read by the small parser below. It accepts the
//! subset the document is written in (block mappings and sequences, one-line flow collections, plain and
//! quoted scalars, whole-line comments) and fails loudly on anything else.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use axum::Router;
use hotline_api::*;
use hotline_tickets::TicketStore;
use serde_json::{json, Map, Number, Value};

mod common;

use common::{request_reply, routing_config, routing_setup, NoAgents};

const DOC: &str = include_str!("../openapi.yaml");
const LIB: &str = include_str!("../src/lib.rs");
const ROUTING: &str = include_str!("../src/routing/actions.rs");
const TOKEN: &str = "openapi-token";

/// Documented ahead of their handler (another branch adds them). Skipped by the router check only while
/// `src/lib.rs` does not route them; once it does, they are checked like any other path.
const PENDING: &[&str] = &["/api/v1/reports/scorecards"];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

// ---------------------------------------------------------------------------------------------------------
// A YAML subset parser.

struct Line {
    no: usize,
    indent: usize,
    text: String,
}

fn lines(src: &str) -> Vec<Line> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| {
            assert!(!l.contains('\t'), "line {}: tab in indentation", i + 1);
            let text = l.trim_start();
            Line {
                no: i + 1,
                indent: l.len() - text.len(),
                text: text.trim_end().to_string(),
            }
        })
        .collect()
}

fn parse_yaml(src: &str) -> Value {
    let mut ls = lines(src);
    let mut i = 0;
    let v = block(&mut ls, &mut i, 0);
    assert!(i == ls.len(), "line {}: unexpected indentation", ls[i].no);
    v
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

fn block(ls: &mut [Line], i: &mut usize, indent: usize) -> Value {
    if is_item(&ls[*i].text) {
        sequence(ls, i, indent)
    } else {
        mapping(ls, i, indent)
    }
}

/// Where the `:` ending a mapping key is (outside quotes and brackets), if the text is a `key: value`.
fn key_colon(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    if matches!(b.first(), Some(b'{' | b'[')) {
        return None;
    }
    let mut quote: Option<u8> = None;
    for (k, &c) in b.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == b'"' || c == b'\'') && k == 0 => quote = Some(c),
            None if c == b':' && (k + 1 == b.len() || b[k + 1] == b' ') => return Some(k),
            None => {}
        }
    }
    None
}

fn mapping(ls: &mut [Line], i: &mut usize, indent: usize) -> Value {
    let mut map = Map::new();
    while *i < ls.len() && ls[*i].indent == indent && !is_item(&ls[*i].text) {
        let (no, text) = (ls[*i].no, ls[*i].text.clone());
        let colon = key_colon(&text).unwrap_or_else(|| panic!("line {no}: expected `key: value`"));
        let key = match scalar(text[..colon].trim(), no) {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let rest = text[colon + 1..].trim();
        *i += 1;
        let value = if !rest.is_empty() {
            inline(rest, no)
        } else if *i < ls.len() && ls[*i].indent > indent {
            let inner = ls[*i].indent;
            block(ls, i, inner)
        } else if *i < ls.len() && ls[*i].indent == indent && is_item(&ls[*i].text) {
            sequence(ls, i, indent)
        } else {
            Value::Null
        };
        assert!(
            map.insert(key.clone(), value).is_none(),
            "line {no}: duplicate key {key:?}"
        );
    }
    Value::Object(map)
}

fn sequence(ls: &mut [Line], i: &mut usize, indent: usize) -> Value {
    let mut out = Vec::new();
    while *i < ls.len() && ls[*i].indent == indent && is_item(&ls[*i].text) {
        let no = ls[*i].no;
        let rest = ls[*i].text[1..].trim_start().to_string();
        if rest.is_empty() {
            *i += 1;
            assert!(
                *i < ls.len() && ls[*i].indent > indent,
                "line {no}: empty item"
            );
            let inner = ls[*i].indent;
            out.push(block(ls, i, inner));
        } else if key_colon(&rest).is_some() {
            // `- key: value` opens a mapping whose keys line up with `key`.
            let inner = indent + (ls[*i].text.len() - rest.len());
            ls[*i].indent = inner;
            ls[*i].text = rest;
            out.push(mapping(ls, i, inner));
        } else {
            *i += 1;
            out.push(inline(&rest, no));
        }
    }
    Value::Array(out)
}

fn inline(text: &str, no: usize) -> Value {
    if text.starts_with('{') || text.starts_with('[') {
        let chars: Vec<char> = text.chars().collect();
        let mut p = 0;
        let v = flow(&chars, &mut p, no);
        skip_ws(&chars, &mut p);
        assert!(p == chars.len(), "line {no}: text after a flow collection");
        v
    } else {
        assert!(
            !matches!(text, "|" | ">" | "|-" | ">-")
                && !text.starts_with('&')
                && !text.starts_with('*'),
            "line {no}: block scalars, anchors and aliases are not supported"
        );
        scalar(text, no)
    }
}

fn skip_ws(c: &[char], p: &mut usize) {
    while *p < c.len() && c[*p] == ' ' {
        *p += 1;
    }
}

fn quoted(c: &[char], p: &mut usize, no: usize) -> String {
    let q = c[*p];
    *p += 1;
    let mut s = String::new();
    loop {
        let ch = *c
            .get(*p)
            .unwrap_or_else(|| panic!("line {no}: unterminated string"));
        *p += 1;
        match (q, ch) {
            ('\'', '\'') if c.get(*p) == Some(&'\'') => {
                s.push('\'');
                *p += 1;
            }
            ('\'', '\'') | ('"', '"') => return s,
            ('"', '\\') => {
                let e = c[*p];
                *p += 1;
                s.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    '"' | '\\' | '/' => e,
                    other => panic!("line {no}: unsupported escape \\{other}"),
                });
            }
            _ => s.push(ch),
        }
    }
}

fn flow(c: &[char], p: &mut usize, no: usize) -> Value {
    skip_ws(c, p);
    match c.get(*p) {
        Some('{') => {
            *p += 1;
            let mut map = Map::new();
            loop {
                skip_ws(c, p);
                if c.get(*p) == Some(&'}') {
                    *p += 1;
                    return Value::Object(map);
                }
                let key = if matches!(c[*p], '"' | '\'') {
                    quoted(c, p, no)
                } else {
                    let start = *p;
                    while *p < c.len() && !(c[*p] == ':' && c.get(*p + 1) == Some(&' ')) {
                        assert!(
                            !matches!(c[*p], ',' | '{' | '}' | '[' | ']'),
                            "line {no}: bad flow key"
                        );
                        *p += 1;
                    }
                    c[start..*p].iter().collect::<String>().trim().to_string()
                };
                assert!(
                    c.get(*p) == Some(&':'),
                    "line {no}: expected `:` after {key:?}"
                );
                *p += 1;
                let v = flow(c, p, no);
                assert!(
                    map.insert(key.clone(), v).is_none(),
                    "line {no}: duplicate key {key:?}"
                );
                skip_ws(c, p);
                match c.get(*p) {
                    Some(',') => *p += 1,
                    Some('}') => {}
                    _ => panic!("line {no}: expected `,` or `}}` in a flow mapping"),
                }
            }
        }
        Some('[') => {
            *p += 1;
            let mut out = Vec::new();
            loop {
                skip_ws(c, p);
                if c.get(*p) == Some(&']') {
                    *p += 1;
                    return Value::Array(out);
                }
                out.push(flow(c, p, no));
                skip_ws(c, p);
                match c.get(*p) {
                    Some(',') => *p += 1,
                    Some(']') => {}
                    _ => panic!("line {no}: expected `,` or `]` in a flow sequence"),
                }
            }
        }
        Some('"' | '\'') => Value::String(quoted(c, p, no)),
        Some(_) => {
            let start = *p;
            while *p < c.len() && !matches!(c[*p], ',' | '}' | ']') {
                assert!(
                    !(matches!(c[*p], '{' | '[') || (c[*p] == ':' && c.get(*p + 1) == Some(&' '))),
                    "line {no}: quote this flow scalar"
                );
                *p += 1;
            }
            scalar(c[start..*p].iter().collect::<String>().trim(), no)
        }
        None => panic!("line {no}: flow collection ends early"),
    }
}

/// A scalar written on its own: quoted, or plain typed as in YAML 1.2's core schema.
fn scalar(text: &str, no: usize) -> Value {
    if text.starts_with('"') || text.starts_with('\'') {
        let chars: Vec<char> = text.chars().collect();
        let mut p = 0;
        let s = quoted(&chars, &mut p, no);
        assert!(p == chars.len(), "line {no}: text after a quoted string");
        return Value::String(s);
    }
    assert!(
        !text.contains(" #"),
        "line {no}: trailing comments are not supported"
    );
    match text {
        "" | "~" | "null" => return Value::Null,
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    let numeric = |s: &str| {
        let s = s.strip_prefix('-').unwrap_or(s);
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
    };
    if numeric(text) {
        if let Ok(n) = text.parse::<i64>() {
            return Value::Number(n.into());
        }
    }
    if let Some((a, b)) = text.split_once('.') {
        if numeric(a) && !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()) {
            if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text.to_string())
}

#[test]
fn the_parser_reads_the_subset() {
    let v = parse_yaml(
        "# c\na: 1\nb:\n  - x\n  - k: 'it''s'\n    l: [1, \"two\", { m: null }]\nc: { d: 0.5, e: 3.0.3, f: true }\n\"200\": ok\n",
    );
    assert_eq!(
        v,
        serde_json::json!({"a": 1, "b": ["x", {"k": "it's", "l": [1, "two", {"m": null}]}],
            "c": {"d": 0.5, "e": "3.0.3", "f": true}, "200": "ok"})
    );
}

// ---------------------------------------------------------------------------------------------------------
// The router's routes, read from `src/lib.rs`.

/// `(path, methods)` of every `.route("…", …)` call; paths of the `/api/v1` router get their prefix.
fn lib_routes() -> BTreeMap<String, BTreeSet<String>> {
    let v1_start = LIB.find("let v1 = Router::new()").expect("the v1 router");
    let v1_end = v1_start + LIB[v1_start..].find(';').expect("end of the v1 router");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut from = 0;
    while let Some(k) = LIB[from..].find(".route(") {
        let at = from + k;
        let args = &LIB[at + ".route(".len()..];
        let args_trim = args.trim_start();
        from = at + 1;
        let Some(rest) = args_trim.strip_prefix('"') else {
            continue;
        };
        let path = &rest[..rest.find('"').expect("closing quote")];
        // The call's arguments: up to the `)` closing `.route(`.
        let mut depth = 1;
        let mut end = 0;
        for (j, ch) in args.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = j;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &args[..end];
        let methods: BTreeSet<String> = METHODS
            .iter()
            .filter(|m| {
                call.match_indices(&format!("{m}(")).any(|(j, _)| {
                    let before = call.as_bytes().get(j.wrapping_sub(1)).copied();
                    !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                })
            })
            .map(|m| m.to_string())
            .collect();
        assert!(!methods.is_empty(), "no method found for route {path}");
        let full = if at > v1_start && at < v1_end {
            format!("/api/v1{path}")
        } else {
            path.to_string()
        };
        out.entry(full).or_default().extend(methods);
    }
    out
}

fn doc() -> Value {
    parse_yaml(DOC)
}

fn doc_routes(d: &Value) -> BTreeMap<String, BTreeSet<String>> {
    d["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(p, item)| {
            let methods = item
                .as_object()
                .expect("path item")
                .keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .cloned()
                .collect();
            (p.clone(), methods)
        })
        .collect()
}

#[test]
fn every_route_of_the_router_is_documented() {
    let d = doc();
    let documented = doc_routes(&d);
    let routed = lib_routes();
    assert!(
        routed.len() > 40,
        "the route scan found only {} routes",
        routed.len()
    );
    let mut missing = Vec::new();
    for (path, methods) in &routed {
        match documented.get(path) {
            None => missing.push(format!("{path} (all of {methods:?})")),
            Some(doc_methods) => {
                for m in methods.difference(doc_methods) {
                    missing.push(format!("{} {path}", m.to_uppercase()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routed but not in openapi.yaml: {missing:#?}"
    );
    // And the reverse at the source level (the router check below confirms it at run time).
    let mut extra = Vec::new();
    for (path, methods) in &documented {
        if PENDING.contains(&path.as_str()) && !routed.contains_key(path) {
            continue;
        }
        for m in methods.difference(routed.get(path).unwrap_or(&BTreeSet::new())) {
            extra.push(format!("{} {path}", m.to_uppercase()));
        }
    }
    assert!(
        extra.is_empty(),
        "in openapi.yaml but not routed by src/lib.rs: {extra:#?}"
    );
}

#[test]
fn the_document_is_well_formed() {
    let d = doc();
    assert_eq!(d["openapi"], "3.0.3");
    assert_eq!(
        d["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Every $ref resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push(x.as_str().expect("$ref is a string").to_string());
                    } else {
                        refs(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&d, &mut all);
    // Discriminator mappings are references too.
    for target in d["components"]["schemas"]["ActionBody"]["discriminator"]["mapping"]
        .as_object()
        .expect("mapping")
        .values()
    {
        all.push(target.as_str().unwrap().to_string());
    }
    for r in &all {
        let ptr = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(d.pointer(ptr).is_some(), "unresolved $ref {r}");
    }
    // Every operation: an operationId (unique), responses, and its path parameters declared.
    let mut ids = BTreeSet::new();
    for (path, item) in d["paths"].as_object().unwrap() {
        let resolve = |p: &Value| -> Value {
            match p.get("$ref").and_then(Value::as_str) {
                Some(r) => d.pointer(r.trim_start_matches('#')).cloned().unwrap(),
                None => p.clone(),
            }
        };
        let shared: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(resolve).collect())
            .unwrap_or_default();
        for m in METHODS {
            let Some(op) = item.get(*m) else { continue };
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{m} {path}: operationId"));
            assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{m} {path}: responses"
            );
            let own: Vec<Value> = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(resolve).collect())
                .unwrap_or_default();
            for seg in path.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    shared
                        .iter()
                        .chain(&own)
                        .any(|p| p["in"] == "path" && p["name"] == name),
                    "{m} {path}: path parameter {name} not declared"
                );
            }
            // Every error response is the one error shape.
            for (code, resp) in op["responses"].as_object().unwrap() {
                let resp = resolve(resp);
                if code.starts_with('4') || code.starts_with('5') {
                    if let Some(schema) = resp.pointer("/content/application~1json/schema") {
                        if path != "/health" {
                            assert_eq!(
                                schema["$ref"], "#/components/schemas/Error",
                                "{m} {path} {code}"
                            );
                        }
                    }
                }
            }
        }
    }
    // No auth exactly where the router puts the route outside the token middleware.
    for (path, method) in [
        ("/health", "get"),
        ("/metrics", "get"),
        ("/api/v1/login", "post"),
        ("/api/v1/openapi.yaml", "get"),
    ] {
        assert_eq!(
            d["paths"][path][method]["security"],
            serde_json::json!([]),
            "{path}"
        );
    }
    assert_eq!(d["security"], serde_json::json!([{"bearer": []}]));
}

#[test]
fn every_action_is_in_the_discriminator() {
    let d = doc();
    let start = ROUTING.find("pub enum ActionBody {").expect("ActionBody");
    let body = &ROUTING[start..];
    let body = &body[..body.find("\n}").expect("end of ActionBody")];
    let variants: BTreeSet<String> = body
        .lines()
        .skip(1)
        .filter_map(|l| {
            let name = l.strip_prefix("    ")?;
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            name.chars().next().filter(char::is_ascii_uppercase)?;
            let mut snake = String::new();
            for (k, c) in name.chars().enumerate() {
                if c.is_ascii_uppercase() && k > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            Some(snake)
        })
        .collect();
    assert!(variants.len() > 20, "found only {variants:?}");
    let action_body = &d["components"]["schemas"]["ActionBody"];
    let mapping: BTreeSet<String> = action_body["discriminator"]["mapping"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(action_body["discriminator"]["propertyName"], "action");
    assert_eq!(mapping, variants);
    assert_eq!(
        action_body["oneOf"].as_array().unwrap().len(),
        variants.len()
    );
    // Each variant schema pins its own `action`.
    for (action, target) in action_body["discriminator"]["mapping"].as_object().unwrap() {
        let schema = d
            .pointer(target.as_str().unwrap().trim_start_matches('#'))
            .unwrap();
        assert_eq!(
            schema["properties"]["action"]["enum"],
            serde_json::json!([action]),
            "{action}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// The document against the running router.

async fn app(dir: &tempfile::TempDir) -> Router {
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let store = TicketStore::connect(&url).await.unwrap();
    let setup = routing_setup(routing_config());
    router(ApiState::new(store, TOKEN, Arc::new(NoAgents)).with_routing(setup))
}

/// Plausible values for the path parameters.
fn fill(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{id}" => "1",
            "{name}" => "general",
            "{number}" => "13800000001",
            "{date}" => "2026-10-10",
            s if s.starts_with('{') => panic!("no value for {s} in {path}"),
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, String, Vec<u8>) {
    let body = matches!(method, Method::POST | Method::PUT | Method::PATCH).then(|| json!({}));
    let r = request_reply(app, method, uri, token, body).await;
    let ct = r.content_type();
    (r.status, ct, r.body)
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let routed = lib_routes();
    let d = doc();
    let mut checked = 0;
    let mut wrong = Vec::new();
    // Deletes last, so that the other operations meet the rows they expect.
    let mut ops: Vec<(String, String)> = doc_routes(&d)
        .into_iter()
        .flat_map(|(p, ms)| ms.into_iter().map(move |m| (p.clone(), m)))
        .collect();
    ops.sort_by_key(|(p, m)| (m == "delete", p.clone()));
    for (path, m) in ops {
        if PENDING.contains(&path.as_str()) && !routed.contains_key(&path) {
            continue;
        }
        let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
        let uri = fill(&path);
        let (status, _, body) = send(&app, method, &uri, Some(TOKEN)).await;
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let no_route = status == StatusCode::NOT_FOUND && v["reason"] == "no such route";
        if no_route || status == StatusCode::METHOD_NOT_ALLOWED {
            wrong.push(format!("{} {uri}: {status} {v}", m.to_uppercase()));
        }
        checked += 1;
    }
    assert!(wrong.is_empty(), "documented but not routed: {wrong:#?}");
    assert!(checked > 60, "only {checked} operations checked");
    // The check can fail: an undocumented path does get the router's own answers.
    let (status, _, body) = send(&app, Method::GET, "/api/v1/no-such-thing", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"error": "not_found", "reason": "no such route"})
    );
    let (status, _, _) = send(&app, Method::PATCH, "/api/v1/agents", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_document_is_served_without_auth() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let (status, ct, body) = send(&app, Method::GET, "/api/v1/openapi.yaml", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/yaml"), "{ct}");
    assert_eq!(String::from_utf8(body).unwrap(), DOC);
    // Its neighbours still ask for a token.
    let (status, _, _) = send(&app, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&app, Method::POST, "/api/v1/openapi.yaml", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}
