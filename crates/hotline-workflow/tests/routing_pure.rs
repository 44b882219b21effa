//! Taxonomy loading and validation, catalogue routing, partner cards and ranking.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use hotline_workflow::*;

fn shipped() -> RoutingConfig {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/routing.toml");
    RoutingConfig::from_path(&path).unwrap_or_else(|e| panic!("shipped routing.toml loads: {e}"))
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn auto(rule: u64, lead: &str, co: &[&str]) -> Routing {
    Routing::Automatic {
        rule,
        lead: lead.into(),
        co: co.iter().map(|s| s.to_string()).collect(),
    }
}

fn fallback(lead: &str) -> Routing {
    Routing::Fallback { lead: lead.into() }
}

// ---------------------------------------------------------------------------------------------------------------
// The shipped file

#[test]
fn shipped_file_loads_with_17_majors_and_enough_minors() {
    let c = shipped();
    let t = &c.taxonomy;
    let majors: Vec<_> = t.categories().iter().filter(|c| c.is_major()).collect();
    let minors = t.categories().len() - majors.len();
    assert_eq!(majors.len(), 17);
    assert!(minors >= 120, "{minors} minors");
    for m in &majors {
        assert!(
            t.minors_of(&m.code).count() >= 5,
            "{} has few minors",
            m.code
        );
    }
    assert_eq!(
        t.major_of("traffic.parking").map(|c| c.name.as_str()),
        Some("交通运输")
    );
    assert_eq!(
        t.major_of("traffic").map(|c| c.code.as_str()),
        Some("traffic")
    );
    assert_eq!(t.major_of("no.such"), None);

    let path: Vec<&str> = t
        .area_path("dongcheng.xinhua.wenhua")
        .iter()
        .map(|a| a.code.as_str())
        .collect();
    assert_eq!(
        path,
        ["dongcheng", "dongcheng.xinhua", "dongcheng.xinhua.wenhua"]
    );
    assert_eq!(
        t.district_of("xicheng.jinqiao.shuian")
            .map(|a| a.name.as_str()),
        Some("西城区")
    );
    assert_eq!(
        t.district_of("kaifa").map(|a| a.code.as_str()),
        Some("kaifa")
    );
    assert!(t.area_path("nowhere").is_empty());
    assert_eq!(
        t.governing_unit("xicheng").map(|u| u.code.as_str()),
        Some("xicheng_gov")
    );
    assert_eq!(
        t.unit("gas_company").map(|u| u.kind),
        Some(UnitKind::Utility)
    );
    assert_eq!(t.partners().count(), 7);
    assert!(t.rules().rules.len() >= 20);

    assert_eq!(c.cards, CardRules::default());
    assert_eq!(c.ranking, RankingRules::default());
}

#[test]
fn shipped_catalogue_routes_typical_tickets() {
    let t = shipped().taxonomy;
    let noon = local("2026-03-10 12:00");
    let night = local("2026-03-10 20:00");
    let r = |cat: Option<&str>, area: Option<&str>, at| t.route(cat, area, at);
    assert_eq!(
        r(Some("traffic.parking"), Some("xicheng.renmin"), noon),
        auto(16, "urban_management", &["public_security"])
    );
    assert_eq!(
        r(Some("traffic.taxi"), Some("xicheng.renmin"), noon),
        auto(1, "traffic_bureau", &[])
    );
    assert_eq!(
        r(Some("construction.drainage"), None, noon),
        auto(32, "housing_bureau", &[])
    );
    assert_eq!(
        r(Some("construction.drainage"), None, night),
        auto(33, "duty_office", &["housing_bureau"])
    );
    assert_eq!(
        r(
            Some("housing.property_mgmt"),
            Some("dongcheng.xinhua.wenhua"),
            noon
        ),
        auto(31, "xinhua_office", &[])
    );
    assert_eq!(
        r(
            Some("housing.property_mgmt"),
            Some("dongcheng.huancheng"),
            noon
        ),
        auto(30, "dongcheng_gov", &[])
    );
    assert_eq!(
        r(Some("housing.property_mgmt"), Some("xicheng"), noon),
        auto(8, "housing_bureau", &[])
    );
    // "other" has no rule: the district government of the street's district.
    assert_eq!(
        r(Some("other.praise"), Some("xicheng.renmin.heping"), noon),
        fallback("xicheng_gov")
    );
    assert_eq!(
        r(Some("other.praise"), Some("kaifa.gaoxin"), noon),
        auto(35, "kaifa_committee", &[])
    );
    assert_eq!(r(Some("other.praise"), None, noon), Routing::Manual);
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

/// A small valid file; the error tests change one line of it. Line numbers are 1-based from the first line.
const BASE: &str = r#"categories = [
  { code = "traffic", name = "交通运输" },
  { code = "traffic.parking", name = "停车管理", parent = "traffic" },
  { code = "other", name = "其他" },
]
areas = [
  { code = "d1", name = "一区", level = "district" },
  { code = "d1.s1", name = "一街道", level = "street", parent = "d1" },
  { code = "d1.s1.c1", name = "一社区", level = "community", parent = "d1.s1" },
]
units = [
  { code = "centre", name = "中心", kind = "centre" },
  { code = "d1_gov", name = "一区政府", kind = "district", parent = "centre", area = "d1" },
  { code = "s1_office", name = "一街道办", kind = "street", parent = "d1_gov", area = "d1.s1" },
  { code = "bureau", name = "交通局", kind = "department", parent = "centre" },
]

[[rules]]
id = 1
category = "traffic"
area = "d1"
lead = "bureau"
co = ["d1_gov"]
window = { from = "08:30", to = "17:30", days = ["mon", "tue"] }

[cards]
yellow_at = 1
red_at = 2
expel_at = 3
"#;

/// BASE with the line equal to (else the first containing) `needle` replaced by `with` (several lines allowed).
fn edit(needle: &str, with: &str) -> String {
    let lines: Vec<&str> = BASE.lines().collect();
    let i = lines
        .iter()
        .position(|l| *l == needle)
        .or_else(|| lines.iter().position(|l| l.contains(needle)))
        .unwrap_or_else(|| panic!("{needle:?} not in BASE"));
    let mut out: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    out[i] = with.to_string();
    out.join("\n") + "\n"
}

fn error(text: &str) -> RoutingError {
    match RoutingConfig::parse(text, "routing.toml") {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_error(text: &str, line: usize, key: &str, message_part: &str) {
    let e = error(text);
    assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
    assert!(e.message.contains(message_part), "{e}");
    assert_eq!(e.file, "routing.toml");
}

#[test]
fn base_is_valid() {
    let c = RoutingConfig::parse(BASE, "routing.toml").unwrap();
    assert_eq!(c.taxonomy.categories().len(), 3);
    assert_eq!(
        c.taxonomy.rules().rules[0]
            .window
            .as_ref()
            .map(|w| w.days.len()),
        Some(2)
    );
}

#[test]
fn error_display_names_file_line_and_key() {
    let e = error(&edit(
        "\"traffic.parking\"",
        r#"  { code = "traffic.parking", name = "停车管理", parent = "trafic" },"#,
    ));
    assert_eq!(
        e.to_string(),
        r#"routing.toml:3: categories[1].parent: unknown parent category "trafic""#
    );
}

#[test]
fn category_errors() {
    assert_error(
        &edit(
            r#"code = "other""#,
            r#"  { code = "traffic", name = "又一个" },"#,
        ),
        4,
        "categories[2].code",
        r#"duplicate code "traffic" (also at categories[0].code)"#,
    );
    assert_error(
        &edit(
            r#"code = "other""#,
            r#"  { code = "traffic.parking.night", name = "夜间", parent = "traffic.parking" },"#,
        ),
        4,
        "categories[2].parent",
        "only two levels",
    );
    assert_error(
        &edit(
            r#"code = "other""#,
            r#"  { code = "Other", name = "其他" },"#,
        ),
        4,
        "categories[2].code",
        "lowercase",
    );
    assert_error(
        &edit(
            r#"code = "other""#,
            r#"  { code = "other", name = "其他", colour = "red" },"#,
        ),
        4,
        "categories[2].colour",
        "unknown key",
    );
    assert_error(
        &edit(r#"code = "other""#, r#"  { code = "other" },"#),
        4,
        "categories[2].name",
        "missing key",
    );
}

#[test]
fn area_errors() {
    // A community directly under a district.
    assert_error(
        &edit(
            r#"code = "d1.s1.c1""#,
            r#"  { code = "d1.s1.c1", name = "一社区", level = "community", parent = "d1" },"#,
        ),
        9,
        "areas[2].parent",
        "a community's parent must be a street",
    );
    // A street under a street.
    assert_error(
        &edit(
            r#"code = "d1.s1.c1""#,
            r#"  { code = "d1.s1.c1", name = "一社区", level = "street", parent = "d1.s1" },"#,
        ),
        9,
        "areas[2].parent",
        "a street's parent must be a district",
    );
    assert_error(
        &edit(
            r#"code = "d1.s1","#,
            r#"  { code = "d1.s1", name = "一街道", level = "street" },"#,
        ),
        8,
        "areas[1].level",
        "needs a parent district",
    );
    assert_error(
        &edit(
            r#"code = "d1","#,
            r#"  { code = "d1", name = "一区", level = "district", parent = "d1.s1" },"#,
        ),
        7,
        "areas[0].parent",
        "a district has no parent",
    );
    assert_error(
        &edit(
            r#"code = "d1.s1","#,
            r#"  { code = "d1.s1", name = "一街道", level = "street", parent = "d9" },"#,
        ),
        8,
        "areas[1].parent",
        r#"unknown parent area "d9""#,
    );
    assert_error(
        &edit(
            r#"code = "d1.s1","#,
            r#"  { code = "d1.s1", name = "一街道", level = "town", parent = "d1" },"#,
        ),
        8,
        "areas[1].level",
        "not a level",
    );
}

#[test]
fn unit_errors() {
    assert_error(
        &edit(
            r#"code = "bureau""#,
            r#"  { code = "bureau", name = "交通局", kind = "department", parent = "nobody" },"#,
        ),
        15,
        "units[3].parent",
        r#"unknown parent unit "nobody""#,
    );
    assert_error(
        &edit(
            r#"code = "bureau""#,
            r#"  { code = "d1_gov", name = "交通局", kind = "department" },"#,
        ),
        15,
        "units[3].code",
        "duplicate code \"d1_gov\" (also at units[1].code)",
    );
    // centre → s1_office → d1_gov → centre
    assert_error(
        &edit(
            r#"code = "centre""#,
            r#"  { code = "centre", name = "中心", kind = "centre", parent = "s1_office" },"#,
        ),
        12,
        "units[0].parent",
        "unit parent cycle: centre → s1_office → d1_gov → centre",
    );
    assert_error(
        &edit(
            r#"code = "bureau""#,
            r#"  { code = "bureau", name = "交通局", kind = "department", parent = "bureau" },"#,
        ),
        15,
        "units[3].parent",
        "unit parent cycle: bureau → bureau",
    );
    assert_error(
        &edit(
            r#"code = "bureau""#,
            r#"  { code = "bureau", name = "交通局", kind = "department", area = "d2" },"#,
        ),
        15,
        "units[3].area",
        r#"unknown area "d2""#,
    );
    assert_error(
        &edit(
            r#"code = "bureau""#,
            r#"  { code = "bureau", name = "交通局", kind = "department", area = "d1" },"#,
        ),
        15,
        "units[3].area",
        r#"already governed by unit "d1_gov""#,
    );
    assert_error(
        &edit(
            r#"code = "bureau""#,
            r#"  { code = "bureau", name = "交通局", kind = "bureau" },"#,
        ),
        15,
        "units[3].kind",
        "not a unit kind",
    );
    assert_error(
        &edit(
            r#"code = "bureau""#,
            r#"  { code = "bureau", name = "交通局", kind = "utility", partner = "yes" },"#,
        ),
        15,
        "units[3].partner",
        "true or false",
    );
}

#[test]
fn rule_errors() {
    assert_error(
        &edit("category = \"traffic\"", r#"category = "trafic""#),
        20,
        "rules[0].category",
        r#"unknown category "trafic""#,
    );
    assert_error(
        &edit("area = \"d1\"", r#"area = "d1.s2""#),
        21,
        "rules[0].area",
        r#"unknown area "d1.s2""#,
    );
    assert_error(
        &edit("lead = \"bureau\"", r#"lead = "bureua""#),
        22,
        "rules[0].lead",
        r#"unknown unit "bureua""#,
    );
    assert_error(
        &edit("lead = \"bureau\"", ""),
        18,
        "rules[0].lead",
        "missing key",
    );
    assert_error(
        &edit("co = [", r#"co = ["d1_gov", "ghost"]"#),
        23,
        "rules[0].co[1]",
        r#"unknown unit "ghost""#,
    );
    assert_error(
        &edit("co = [", r#"co = ["bureau"]"#),
        23,
        "rules[0].co[0]",
        "listed twice",
    );
    assert_error(
        &edit("window =", r#"window = { from = "8:30", to = "17:30" }"#),
        24,
        "rules[0].window.from",
        r#""8:30" is not a time of day"#,
    );
    assert_error(
        &edit("window =", r#"window = { from = "08:30", to = "24:00" }"#),
        24,
        "rules[0].window.to",
        "not a time of day",
    );
    assert_error(
        &edit(
            "window =",
            r#"window = { from = "08:30", to = "17:30", days = ["monday"] }"#,
        ),
        24,
        "rules[0].window.days[0]",
        "expected one of",
    );
    assert_error(
        &edit(
            "window =",
            "window = { from = \"08:30\", to = \"17:30\" }\n\n[[rules]]\nid = 1\nlead = \"centre\"",
        ),
        27,
        "rules[1].id",
        "duplicate rule id 1 (also at rules[0].id)",
    );
    assert_error(&edit("id = 1", "id = 0"), 19, "rules[0].id", "integer ≥ 1");
}

#[test]
fn other_errors() {
    assert_error(
        &edit("red_at = 2", "red_at = 1"),
        28,
        "cards.red_at",
        "greater than yellow_at",
    );
    assert_error(
        &edit("expel_at = 3", "expel_at = 2"),
        29,
        "cards.expel_at",
        "greater than red_at",
    );
    assert_error(
        &edit("expel_at = 3", "expel_at = 3\nwindow = \"rolling\""),
        30,
        "cards.window",
        "needs rolling_days",
    );
    assert_error(
        &edit("expel_at = 3", "expel_at = 3\nwindow = \"month\""),
        30,
        "cards.window",
        "not a window",
    );
    assert_error(&edit("[cards]", "[card]"), 26, "card", "unknown key");
    assert_error(&edit("id = 1", "id = = 1"), 19, "(syntax)", "");
}

#[test]
fn cards_and_ranking_are_configurable() {
    let text = edit("expel_at = 3", "expel_at = 4\nwindow = \"rolling\"\nrolling_days = 90\n\n[ranking]\non_time_weight = 1\nsatisfaction_weight = 3\nbottom = 3");
    let c = RoutingConfig::parse(&text, "routing.toml").unwrap();
    assert_eq!(
        c.cards,
        CardRules {
            yellow_at: 1,
            red_at: 2,
            expel_at: 4,
            window: CardWindow::RollingDays(90)
        }
    );
    assert_eq!(
        c.ranking,
        RankingRules {
            on_time_weight: 1.0,
            satisfaction_weight: 3.0,
            bottom: 3
        }
    );
}

#[test]
fn truncated_and_mangled_files_give_errors_not_panics() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/routing.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Every 5th cut and every 3rd dropped line: enough variety, and quick in a debug build.
    for n in (0..lines.len()).step_by(5) {
        let _ = RoutingConfig::parse(&lines[..n].join("\n"), "routing.toml");
    }
    for n in (0..lines.len()).step_by(3) {
        // Most give a precise error (a dangling parent, a missing key); none may panic.
        let mut without = lines.clone();
        without.remove(n);
        if let Err(e) = RoutingConfig::parse(&without.join("\n"), "routing.toml") {
            assert!(e.line >= 1 && e.line <= lines.len(), "{e}");
        }
    }
}

#[test]
fn missing_file_is_line_zero() {
    let e =
        RoutingConfig::from_path(std::path::Path::new("/nonexistent/routing.toml")).unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.line, e.key.as_str()),
        ("routing.toml", 0, "(file)")
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Routing precedence

const ROUTING: &str = r#"categories = [
  { code = "traffic", name = "交通" },
  { code = "traffic.parking", name = "停车", parent = "traffic" },
  { code = "traffic.taxi", name = "出租车", parent = "traffic" },
  { code = "other", name = "其他" },
]
areas = [
  { code = "d1", name = "一区", level = "district" },
  { code = "d1.s1", name = "一街", level = "street", parent = "d1" },
  { code = "d1.s1.c1", name = "一社区", level = "community", parent = "d1.s1" },
  { code = "d2", name = "二区", level = "district" },
  { code = "d2.s1", name = "二区一街", level = "street", parent = "d2" },
  { code = "d3", name = "三区", level = "district" },
]
units = [
  { code = "traffic_bureau", name = "交通局", kind = "department" },
  { code = "parking_office", name = "停车办", kind = "department" },
  { code = "night_desk", name = "夜班", kind = "other" },
  { code = "any_desk", name = "备用", kind = "other" },
  { code = "d1_gov", name = "一区政府", kind = "district", area = "d1" },
  { code = "c1_committee", name = "一社区居委会", kind = "community", area = "d1.s1.c1" },
  { code = "d2_gov", name = "二区政府", kind = "district", area = "d2" },
  { code = "d2s1_office", name = "二区一街道办", kind = "street", parent = "d2_gov", area = "d2.s1" },
]
rules = [
  { id = 1, category = "traffic", lead = "traffic_bureau" },
  { id = 2, category = "traffic.parking", lead = "parking_office" },
  { id = 3, area = "d1", lead = "d1_gov" },
  { id = 4, category = "traffic", area = "d1.s1.c1", lead = "c1_committee", co = ["d1_gov"] },
  { id = 5, category = "traffic.taxi", window = { from = "17:30", to = "08:30" }, lead = "night_desk" },
  { id = 6, category = "traffic", lead = "any_desk" },
]
"#;

#[test]
fn minor_beats_major_beats_any() {
    let t = Taxonomy::parse(ROUTING, "routing.toml").unwrap();
    let noon = local("2026-03-10 12:00");
    assert_eq!(
        t.route(Some("traffic.parking"), Some("d2"), noon),
        auto(2, "parking_office", &[])
    );
    // The major itself and a minor without its own rule: the major rule; rule 6 ties with 1 and loses on order.
    assert_eq!(
        t.route(Some("traffic"), Some("d2"), noon),
        auto(1, "traffic_bureau", &[])
    );
    assert_eq!(
        t.route(Some("traffic.taxi"), None, noon),
        auto(1, "traffic_bureau", &[])
    );
    // Any-category rule for d1 only when no category rule matches.
    assert_eq!(
        t.route(Some("other"), Some("d1.s1"), noon),
        auto(3, "d1_gov", &[])
    );
    assert_eq!(
        t.route(None, Some("d1.s1.c1"), noon),
        auto(3, "d1_gov", &[])
    );
    assert_eq!(
        t.route(Some("traffic"), Some("d1.s1"), noon),
        auto(1, "traffic_bureau", &[])
    );
    // Unknown category: only rules without a category can match.
    assert_eq!(
        t.route(Some("no.such"), Some("d1"), noon),
        auto(3, "d1_gov", &[])
    );
}

#[test]
fn deeper_area_beats_shallower_within_the_same_category_rank() {
    let t = Taxonomy::parse(ROUTING, "routing.toml").unwrap();
    let noon = local("2026-03-10 12:00");
    // Major + community beats major + any area.
    assert_eq!(
        t.route(Some("traffic.taxi"), Some("d1.s1.c1"), noon),
        auto(4, "c1_committee", &["d1_gov"])
    );
    // But a minor rule beats it: category comes first.
    assert_eq!(
        t.route(Some("traffic.parking"), Some("d1.s1.c1"), noon),
        auto(2, "parking_office", &[])
    );
    // The community rule does not cover its street.
    assert_eq!(
        t.route(Some("traffic.taxi"), Some("d1.s1"), noon),
        auto(1, "traffic_bureau", &[])
    );
}

#[test]
fn window_across_midnight() {
    let t = Taxonomy::parse(ROUTING, "routing.toml").unwrap();
    let taxi = |at| t.route(Some("traffic.taxi"), Some("d2"), local(at));
    let night = auto(5, "night_desk", &[]);
    let day = auto(1, "traffic_bureau", &[]);
    assert_eq!(taxi("2026-03-10 17:29"), day);
    assert_eq!(taxi("2026-03-10 17:30"), night);
    assert_eq!(taxi("2026-03-10 23:59"), night);
    assert_eq!(taxi("2026-03-11 00:00"), night);
    assert_eq!(taxi("2026-03-11 08:29"), night);
    assert_eq!(taxi("2026-03-11 08:30"), day);
    assert_eq!(taxi("2026-03-11 12:00"), day);
}

#[test]
fn window_days_name_the_starting_day() {
    let hm = |s| TimeWindow::parse_hhmm(s).unwrap();
    let w = TimeWindow {
        from: hm("17:30"),
        to: hm("08:30"),
        days: vec![chrono::Weekday::Mon, chrono::Weekday::Fri],
    };
    // 2026-01-02 is a Friday.
    assert_eq!(
        NaiveDate::from_ymd_opt(2026, 1, 2).map(|d| chrono::Datelike::weekday(&d)),
        Some(chrono::Weekday::Fri)
    );
    assert!(w.contains(local("2026-01-02 18:00"))); // Friday evening
    assert!(w.contains(local("2026-01-03 03:00"))); // Saturday morning = Friday night
    assert!(!w.contains(local("2026-01-03 18:00"))); // Saturday evening
    assert!(!w.contains(local("2026-01-05 03:00"))); // Monday morning = Sunday night
    assert!(w.contains(local("2026-01-05 18:00"))); // Monday evening
    assert!(!w.contains(local("2026-01-02 12:00"))); // Friday noon, outside the hours
    let all_day = TimeWindow {
        from: hm("00:00"),
        to: hm("00:00"),
        days: vec![chrono::Weekday::Sun],
    };
    assert!(all_day.contains(local("2026-01-04 13:00")));
    assert!(!all_day.contains(local("2026-01-05 13:00")));
    assert_eq!(TimeWindow::parse_hhmm("7:30"), None);
    assert_eq!(TimeWindow::parse_hhmm("23:60"), None);
}

#[test]
fn fallback_goes_to_the_district_government_not_the_street_office() {
    let t = Taxonomy::parse(ROUTING, "routing.toml").unwrap();
    let noon = local("2026-03-10 12:00");
    assert_eq!(
        t.route(Some("other"), Some("d2.s1"), noon),
        fallback("d2_gov")
    );
    assert_eq!(t.route(None, Some("d2"), noon), fallback("d2_gov"));
    // No unit governs d3; no area; an unknown area.
    assert_eq!(t.route(Some("other"), Some("d3"), noon), Routing::Manual);
    assert_eq!(t.route(Some("other"), None, noon), Routing::Manual);
    assert_eq!(
        t.route(Some("other"), Some("atlantis"), noon),
        Routing::Manual
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Cards

fn bad(unit: &str, at: &str, ticket: &str) -> BadRecord {
    BadRecord {
        unit: unit.into(),
        at: utc(at),
        kind: BadRecordKind::Overdue,
        ticket: ticket.into(),
    }
}

#[test]
fn cards_rise_with_each_record_and_reset_in_a_new_year() {
    let rules = CardRules::default();
    let records = vec![
        bad("water", "2026-02-01T02:00:00Z", "T1"),
        bad("gas", "2026-03-01T02:00:00Z", "G1"),
        bad("water", "2026-05-01T02:00:00Z", "T2"),
        bad("water", "2026-09-01T02:00:00Z", "T3"),
        bad("water", "2026-11-01T02:00:00Z", "T4"),
        // 2027-01-01 01:00 in China: counts in 2027.
        bad("water", "2026-12-31T17:00:00Z", "T5"),
    ];
    let card = |now| rules.card_for("water", &records, utc(now));
    assert_eq!(card("2026-01-15T00:00:00Z"), Card::None);
    assert_eq!(card("2026-02-01T02:00:00Z"), Card::Yellow);
    assert_eq!(card("2026-06-01T00:00:00Z"), Card::Red);
    assert_eq!(card("2026-10-01T00:00:00Z"), Card::Expelled);
    assert_eq!(card("2026-12-31T15:59:59Z"), Card::Expelled);
    assert_eq!(card("2026-12-31T16:30:00Z"), Card::None);
    assert_eq!(card("2027-01-02T00:00:00Z"), Card::Yellow);
    assert_eq!(
        rules.card_for("gas", &records, utc("2026-12-01T00:00:00Z")),
        Card::Yellow
    );
    assert_eq!(
        rules.card_for("power", &records, utc("2026-12-01T00:00:00Z")),
        Card::None
    );

    let events: Vec<(String, DateTime<Utc>, Card, String)> = rules
        .card_events(&records)
        .into_iter()
        .map(|e| (e.unit, e.at, e.card, e.record.ticket))
        .collect();
    let ev = |u: &str, at: &str, c, t: &str| (u.to_string(), utc(at), c, t.to_string());
    assert_eq!(
        events,
        vec![
            ev("water", "2026-02-01T02:00:00Z", Card::Yellow, "T1"),
            ev("gas", "2026-03-01T02:00:00Z", Card::Yellow, "G1"),
            ev("water", "2026-05-01T02:00:00Z", Card::Red, "T2"),
            ev("water", "2026-09-01T02:00:00Z", Card::Expelled, "T3"),
            // T4 (the 4th in 2026) raises nothing; T5 starts 2027 with a yellow card.
            ev("water", "2026-12-31T17:00:00Z", Card::Yellow, "T5"),
        ]
    );
}

#[test]
fn rolling_window_lets_records_age_out() {
    let rules = CardRules {
        window: CardWindow::RollingDays(30),
        ..CardRules::default()
    };
    let records = vec![
        bad("bus", "2026-03-01T00:00:00Z", "B1"),
        bad("bus", "2026-03-11T00:00:00Z", "B2"),
        bad("bus", "2026-04-15T00:00:00Z", "B3"),
    ];
    assert_eq!(
        rules.card_for("bus", &records, utc("2026-03-12T00:00:00Z")),
        Card::Red
    );
    // B1 is older than 30 days on 4 April: only B2 counts.
    assert_eq!(
        rules.card_for("bus", &records, utc("2026-04-04T00:00:00Z")),
        Card::Yellow
    );
    assert_eq!(
        rules.card_for("bus", &records, utc("2026-04-11T00:00:00Z")),
        Card::None
    );
    let cards: Vec<Card> = rules
        .card_events(&records)
        .into_iter()
        .map(|e| e.card)
        .collect();
    assert_eq!(cards, [Card::Yellow, Card::Red, Card::Yellow]);
}

#[test]
fn scorecard_figures() {
    let rules = CardRules::default();
    let records = vec![
        bad("water", "2026-02-01T02:00:00Z", "T1"),
        bad("gas", "2026-02-01T02:00:00Z", "G1"),
    ];
    let tally = PartnerTally {
        unit: "water".into(),
        complaints: 4,
        finished: 40,
        on_time: 38,
        graded: 20,
        satisfied: 18,
    };
    let c = Scorecard::new(&tally, &records, &rules, utc("2026-12-01T00:00:00Z"));
    assert_eq!(c.on_time_rate, Some(0.95));
    assert_eq!(c.satisfaction_rate, Some(0.9));
    assert_eq!(
        (c.bad_records, c.card, c.complaints, c.finished),
        (1, Card::Yellow, 4, 40)
    );
    // Nothing finished or graded: no rates; counts above their base are capped.
    let empty = Scorecard::new(
        &PartnerTally {
            unit: "heat".into(),
            on_time: 3,
            ..PartnerTally::default()
        },
        &records,
        &rules,
        utc("2026-12-01T00:00:00Z"),
    );
    assert_eq!(
        (empty.on_time_rate, empty.satisfaction_rate, empty.card),
        (None, None, Card::None)
    );
    let capped = PartnerTally {
        unit: "x".into(),
        finished: 2,
        on_time: 5,
        ..PartnerTally::default()
    };
    assert_eq!(
        Scorecard::new(&capped, &[], &rules, utc("2026-12-01T00:00:00Z")).on_time_rate,
        Some(1.0)
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Ranking

fn card(unit: &str, complaints: u32, on_time: Option<f64>, satisfaction: Option<f64>) -> Scorecard {
    Scorecard {
        unit: unit.into(),
        complaints,
        finished: if on_time.is_some() { 10 } else { 0 },
        on_time_rate: on_time,
        satisfaction_rate: satisfaction,
        bad_records: 0,
        card: Card::None,
    }
}

#[test]
fn ranking_and_bottom_five_with_ties() {
    let rules = RankingRules::default();
    let cards = vec![
        card("a", 0, Some(1.0), Some(1.0)),   // 100
        card("b", 3, Some(0.9), Some(0.8)),   // 85, more complaints than c
        card("c", 1, Some(0.8), Some(0.9)),   // 85
        card("d", 2, Some(0.7), Some(0.7)),   // 70
        card("e", 2, Some(0.7), Some(0.7)),   // 70, same complaints: by code after d
        card("f", 0, Some(0.6), None),        // 60 on time alone
        card("g", 9, None, None),             // nothing finished: unranked
        card("h", 0, Some(0.95), Some(0.95)), // 95
    ];
    assert_eq!(rules.score(&cards[1]), Some(85.0));
    assert_eq!(rules.score(&cards[5]), Some(60.0));
    assert_eq!(rules.score(&cards[6]), None);
    let ranked: Vec<(Option<u32>, String)> = rules
        .rank(&cards)
        .into_iter()
        .map(|r| (r.rank, r.unit))
        .collect();
    let expect = |v: &[(Option<u32>, &str)]| -> Vec<(Option<u32>, String)> {
        v.iter().map(|(r, u)| (*r, u.to_string())).collect()
    };
    assert_eq!(
        ranked,
        expect(&[
            (Some(1), "a"),
            (Some(2), "h"),
            (Some(3), "c"),
            (Some(4), "b"),
            (Some(5), "d"),
            (Some(6), "e"),
            (Some(7), "f"),
            (None, "g"),
        ])
    );
    let bottom: Vec<String> = rules
        .annual_red_warnings(&cards, rules.bottom)
        .into_iter()
        .map(|r| r.unit)
        .collect();
    assert_eq!(bottom, ["f", "e", "d", "b", "c"]);
    // The tie between b and c (85) is decided by complaints: with n = 4, c escapes the warning.
    let four: Vec<String> = rules
        .annual_red_warnings(&cards, 4)
        .into_iter()
        .map(|r| r.unit)
        .collect();
    assert_eq!(four, ["f", "e", "d", "b"]);
    assert!(rules.annual_red_warnings(&cards, 0).is_empty());
    assert_eq!(rules.annual_red_warnings(&cards, 100).len(), 7);
}

#[test]
fn weights_change_the_order() {
    let sat_heavy = RankingRules {
        on_time_weight: 1.0,
        satisfaction_weight: 3.0,
        bottom: 1,
    };
    let cards = vec![
        card("x", 0, Some(1.0), Some(0.6)),
        card("y", 0, Some(0.6), Some(1.0)),
    ];
    assert_eq!(sat_heavy.score(&cards[0]), Some(70.0));
    assert_eq!(sat_heavy.score(&cards[1]), Some(90.0));
    let worst: Vec<String> = sat_heavy
        .annual_red_warnings(&cards, sat_heavy.bottom)
        .into_iter()
        .map(|r| r.unit)
        .collect();
    assert_eq!(worst, ["x"]);
}

#[test]
fn window_may_be_a_sub_table() {
    let text = edit(
        "window =",
        "[rules.window]\nfrom = \"22:00\"\nto = \"06:00\"\ndays = [\"sat\", \"sun\"]",
    );
    let t = Taxonomy::parse(&text, "routing.toml").unwrap();
    let w = t.rules().rules[0].window.clone().unwrap();
    assert_eq!(w.days, [chrono::Weekday::Sat, chrono::Weekday::Sun]);
    // Sunday 2026-01-04 23:00 in d1: the rule; Monday 2026-01-05 23:00: no rule, so d1's government.
    assert_eq!(
        t.route(
            Some("traffic.parking"),
            Some("d1.s1"),
            local("2026-01-04 23:00")
        ),
        auto(1, "bureau", &["d1_gov"])
    );
    assert_eq!(
        t.route(
            Some("traffic.parking"),
            Some("d1.s1"),
            local("2026-01-05 23:00")
        ),
        fallback("d1_gov")
    );
    assert_error(
        &edit("window =", "[rules.window]\nfrom = \"22:00\""),
        24,
        "rules[0].window.to",
        "missing key",
    );
}
