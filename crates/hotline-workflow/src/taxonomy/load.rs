//! Loading `routing.toml`: walks the toml_edit tree by hand so that every error names its line and key path.

use super::*;

impl RoutingConfig {
    /// Reads and parses a file; errors name the file by its file name.
    pub fn from_path(path: &Path) -> Result<RoutingConfig, RoutingError> {
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let text = std::fs::read_to_string(path).map_err(|e| RoutingError {
            file: file.clone(),
            line: 0,
            key: "(file)".into(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &file)
    }

    /// Parses and checks a routing file; `file` is only used in error messages.
    pub fn parse(text: &str, file: &str) -> Result<RoutingConfig, RoutingError> {
        let cx = Ctx { text, file };
        let doc = ImDocument::parse(text.to_string()).map_err(|e| {
            let msg = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_string();
            cx.err(e.span(), "(syntax)", msg)
        })?;
        let top = doc.as_table();
        for (k, _) in top.iter() {
            if !TOP_KEYS.contains(&k) {
                return Err(cx.err(
                    key_span(top, k),
                    k,
                    format!("unknown key; expected one of {TOP_KEYS:?}"),
                ));
            }
        }

        let categories = parse_categories(&cx, top)?;
        let areas = parse_areas(&cx, top)?;
        let category_ix = index(categories.iter().map(|c| c.code.as_str()));
        let area_ix = index(areas.iter().map(|a| a.code.as_str()));
        let (units, governor_ix) = parse_units(&cx, top, &area_ix)?;
        let unit_ix = index(units.iter().map(|u| u.code.as_str()));
        let rules = parse_rules(&cx, top, &category_ix, &area_ix, &unit_ix)?;
        let cards = match table_at(&cx, top, "cards")? {
            None => CardRules::default(),
            Some(e) => parse_cards(&cx, &e)?,
        };
        let ranking = match table_at(&cx, top, "ranking")? {
            None => RankingRules::default(),
            Some(e) => parse_ranking(&cx, &e)?,
        };

        let taxonomy = Taxonomy {
            categories,
            areas,
            units,
            rules: Catalogue::new(rules),
            category_ix,
            area_ix,
            unit_ix,
            governor_ix,
        };
        Ok(RoutingConfig {
            taxonomy,
            cards,
            ranking,
        })
    }
}

const TOP_KEYS: &[&str] = &["categories", "areas", "units", "rules", "cards", "ranking"];
const CATEGORY_KEYS: &[&str] = &["code", "name", "parent"];
const AREA_KEYS: &[&str] = &["code", "name", "level", "parent"];
const UNIT_KEYS: &[&str] = &["code", "name", "kind", "parent", "area", "partner"];
const RULE_KEYS: &[&str] = &["id", "category", "area", "window", "lead", "co"];
const WINDOW_KEYS: &[&str] = &["from", "to", "days"];
const CARD_KEYS: &[&str] = &["yellow_at", "red_at", "expel_at", "window", "rolling_days"];
const RANKING_KEYS: &[&str] = &["on_time_weight", "satisfaction_weight", "bottom"];

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn line_at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    fn err(
        &self,
        span: Option<Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> RoutingError {
        RoutingError {
            file: self.file.to_string(),
            line: span.map_or(1, |s| self.line_at(s.start)),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// One table of a list, either `[[x]]` or an inline `{ … }`, with where it starts.
struct Entry<'a> {
    t: &'a dyn TableLike,
    span: Option<Range<usize>>,
    /// Key path of the entry, e.g. `units[4]`.
    at: String,
}

impl Entry<'_> {
    fn path(&self, k: &str) -> String {
        format!("{}.{k}", self.at)
    }

    /// Span of key `k` (the line a person looks for), else of its value, else of the entry.
    fn span_of(&self, k: &str) -> Option<Range<usize>> {
        key_span(self.t, k).or_else(|| self.span.clone())
    }

    fn check_keys(&self, cx: &Ctx, allowed: &[&str]) -> Result<(), RoutingError> {
        for (k, _) in self.t.iter() {
            if !allowed.contains(&k) {
                return Err(cx.err(
                    self.span_of(k),
                    &self.path(k),
                    format!("unknown key; expected one of {allowed:?}"),
                ));
            }
        }
        Ok(())
    }

    fn value(&self, cx: &Ctx, k: &str) -> Result<Option<&Value>, RoutingError> {
        match self.t.get(k) {
            None => Ok(None),
            Some(item) => item.as_value().map(Some).ok_or_else(|| {
                cx.err(
                    self.span_of(k),
                    &self.path(k),
                    "expected a value, not a table",
                )
            }),
        }
    }

    fn opt_str(&self, cx: &Ctx, k: &str) -> Result<Option<String>, RoutingError> {
        let Some(v) = self.value(cx, k)? else {
            return Ok(None);
        };
        v.as_str()
            .filter(|s| !s.trim().is_empty())
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| cx.err(v.span(), &self.path(k), "expected a non-empty string"))
    }

    fn req_str(&self, cx: &Ctx, k: &str) -> Result<String, RoutingError> {
        self.opt_str(cx, k)?
            .ok_or_else(|| cx.err(self.span.clone(), &self.path(k), "missing key"))
    }

    /// A code: lowercase ASCII letters, digits, `.`, `_`, `-`.
    fn req_code(&self, cx: &Ctx, k: &str) -> Result<String, RoutingError> {
        let s = self.req_str(cx, k)?;
        let ok = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !ok {
            return Err(cx.err(
                self.span_of(k),
                &self.path(k),
                format!(
                    "{s:?} is not a code: use lowercase ASCII letters, digits, '.', '_' and '-'"
                ),
            ));
        }
        Ok(s)
    }

    fn opt_int(&self, cx: &Ctx, k: &str, min: i64) -> Result<Option<i64>, RoutingError> {
        let Some(v) = self.value(cx, k)? else {
            return Ok(None);
        };
        v.as_integer()
            .filter(|n| *n >= min)
            .map(Some)
            .ok_or_else(|| {
                cx.err(
                    v.span(),
                    &self.path(k),
                    format!("expected an integer ≥ {min}"),
                )
            })
    }

    fn opt_number(&self, cx: &Ctx, k: &str) -> Result<Option<f64>, RoutingError> {
        let Some(v) = self.value(cx, k)? else {
            return Ok(None);
        };
        // Integers are accepted too so that `weight = 1` reads naturally; they are small, so exact as f64.
        v.as_float()
            .or_else(|| v.as_integer().map(|n| n as f64))
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(Some)
            .ok_or_else(|| cx.err(v.span(), &self.path(k), "expected a number ≥ 0"))
    }
}

fn key_span(t: &dyn TableLike, k: &str) -> Option<Range<usize>> {
    t.key(k)
        .and_then(|k| k.span())
        .or_else(|| t.get(k).and_then(Item::span))
}

fn index<'a>(codes: impl Iterator<Item = &'a str>) -> HashMap<String, usize> {
    codes.enumerate().map(|(i, c)| (c.to_string(), i)).collect()
}

/// The tables of a list: `[[key]]` or `key = [{ … }, …]`.
fn entries<'a>(cx: &Ctx, top: &'a Table, key: &str) -> Result<Vec<Entry<'a>>, RoutingError> {
    let Some(item) = top.get(key) else {
        return Ok(Vec::new());
    };
    if let Some(aot) = item.as_array_of_tables() {
        return Ok(aot
            .iter()
            .enumerate()
            .map(|(i, t)| Entry {
                t,
                span: t
                    .span()
                    .or_else(|| t.iter().next().and_then(|(k, _)| key_span(t, k))),
                at: format!("{key}[{i}]"),
            })
            .collect());
    }
    if let Some(arr) = item.as_array() {
        return arr
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let at = format!("{key}[{i}]");
                match v.as_inline_table() {
                    Some(t) => Ok(Entry {
                        t,
                        span: v.span(),
                        at,
                    }),
                    None => Err(cx.err(v.span(), &at, "expected a table { code = \"…\", … }")),
                }
            })
            .collect();
    }
    Err(cx.err(
        key_span(top, key),
        key,
        format!("expected a list of tables: [[{key}]] or {key} = [{{ … }}, …]"),
    ))
}

/// A single table `[key]` (or an inline one).
fn table_at<'a>(cx: &Ctx, top: &'a Table, key: &str) -> Result<Option<Entry<'a>>, RoutingError> {
    let Some(item) = top.get(key) else {
        return Ok(None);
    };
    match item.as_table_like() {
        Some(t) => Ok(Some(Entry {
            t,
            span: key_span(top, key),
            at: key.to_string(),
        })),
        None => Err(cx.err(key_span(top, key), key, format!("expected a table [{key}]"))),
    }
}

/// Remembers the path of every code seen, to name the first place in a duplicate error.
fn check_unique(
    cx: &Ctx,
    seen: &mut HashMap<String, String>,
    code: &str,
    e: &Entry,
    k: &str,
) -> Result<(), RoutingError> {
    if let Some(first) = seen.get(code) {
        return Err(cx.err(
            e.span_of(k),
            &e.path(k),
            format!("duplicate code {code:?} (also at {first})"),
        ));
    }
    seen.insert(code.to_string(), e.path(k));
    Ok(())
}

fn parse_categories(cx: &Ctx, top: &Table) -> Result<Vec<Category>, RoutingError> {
    let list = entries(cx, top, "categories")?;
    let mut out = Vec::with_capacity(list.len());
    let mut seen = HashMap::new();
    for e in &list {
        e.check_keys(cx, CATEGORY_KEYS)?;
        let code = e.req_code(cx, "code")?;
        check_unique(cx, &mut seen, &code, e, "code")?;
        let name = e.req_str(cx, "name")?;
        let parent = e.opt_str(cx, "parent")?;
        out.push(Category { code, name, parent });
    }
    // Parents may come later in the file, so they are checked once every code is known.
    let ix = index(out.iter().map(|c| c.code.as_str()));
    for (i, e) in list.iter().enumerate() {
        let Some(p) = &out[i].parent else { continue };
        match ix.get(p.as_str()).map(|&j| &out[j]) {
            None => {
                return Err(cx.err(
                    e.span_of("parent"),
                    &e.path("parent"),
                    format!("unknown parent category {p:?}"),
                ))
            }
            Some(parent) if !parent.is_major() => {
                return Err(cx.err(
                    e.span_of("parent"),
                    &e.path("parent"),
                    format!("{p:?} is itself a minor category; categories have only two levels (major → minor)"),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(out)
}

fn parse_areas(cx: &Ctx, top: &Table) -> Result<Vec<Area>, RoutingError> {
    let list = entries(cx, top, "areas")?;
    let mut out = Vec::with_capacity(list.len());
    let mut seen = HashMap::new();
    for e in &list {
        e.check_keys(cx, AREA_KEYS)?;
        let code = e.req_code(cx, "code")?;
        check_unique(cx, &mut seen, &code, e, "code")?;
        let name = e.req_str(cx, "name")?;
        let level_s = e.req_str(cx, "level")?;
        let level = AreaLevel::parse(&level_s).ok_or_else(|| {
            cx.err(
                e.span_of("level"),
                &e.path("level"),
                format!("{level_s:?} is not a level; expected \"district\", \"street\" or \"community\""),
            )
        })?;
        let parent = e.opt_str(cx, "parent")?;
        out.push(Area {
            code,
            name,
            parent,
            level,
        });
    }
    let ix = index(out.iter().map(|a| a.code.as_str()));
    for (i, e) in list.iter().enumerate() {
        let a = &out[i];
        let found = a
            .parent
            .as_deref()
            .map(|p| (p, ix.get(p).map(|&j| &out[j])));
        let message = match (a.level.parent_level(), found) {
            (None, None) => continue,
            (None, Some((p, _))) => format!("a district has no parent area, but {p:?} is given"),
            (Some(want), None) => format!(
                "a {} needs a parent {} (key parent)",
                a.level.as_str(),
                want.as_str()
            ),
            (Some(_), Some((p, None))) => format!("unknown parent area {p:?}"),
            (Some(want), Some((p, Some(parent)))) if parent.level != want => format!(
                "level {} does not match its parent {p:?}, a {}; a {}'s parent must be a {}",
                a.level.as_str(),
                parent.level.as_str(),
                a.level.as_str(),
                want.as_str()
            ),
            (Some(_), Some(_)) => continue,
        };
        let k = if a.parent.is_some() {
            "parent"
        } else {
            "level"
        };
        return Err(cx.err(e.span_of(k), &e.path(k), message));
    }
    Ok(out)
}

fn parse_units(
    cx: &Ctx,
    top: &Table,
    area_ix: &HashMap<String, usize>,
) -> Result<(Vec<UnitSeed>, HashMap<String, usize>), RoutingError> {
    let list = entries(cx, top, "units")?;
    let mut out = Vec::with_capacity(list.len());
    let mut seen = HashMap::new();
    let mut governor_ix: HashMap<String, usize> = HashMap::new();
    for (i, e) in list.iter().enumerate() {
        e.check_keys(cx, UNIT_KEYS)?;
        let code = e.req_code(cx, "code")?;
        check_unique(cx, &mut seen, &code, e, "code")?;
        let name = e.req_str(cx, "name")?;
        let kind_s = e.req_str(cx, "kind")?;
        let kind = UnitKind::parse(&kind_s).ok_or_else(|| {
            cx.err(
                e.span_of("kind"),
                &e.path("kind"),
                format!(
                    "{kind_s:?} is not a unit kind; expected one of {:?}",
                    UnitKind::NAMES
                ),
            )
        })?;
        let parent = e.opt_str(cx, "parent")?;
        let area = e.opt_str(cx, "area")?;
        if let Some(a) = &area {
            if !area_ix.contains_key(a) {
                return Err(cx.err(
                    e.span_of("area"),
                    &e.path("area"),
                    format!("unknown area {a:?}"),
                ));
            }
            // One governing unit per area, so that the fallback (兜底) is never a guess.
            if let Some(&j) = governor_ix.get(a) {
                let other: &UnitSeed = &out[j];
                return Err(cx.err(
                    e.span_of("area"),
                    &e.path("area"),
                    format!("area {a:?} is already governed by unit {:?}", other.code),
                ));
            }
            governor_ix.insert(a.clone(), i);
        }
        let partner = match e.value(cx, "partner")? {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| cx.err(v.span(), &e.path("partner"), "expected true or false"))?,
        };
        out.push(UnitSeed {
            code,
            name,
            parent,
            kind,
            area,
            partner,
        });
    }
    let ix = index(out.iter().map(|u| u.code.as_str()));
    for (i, e) in list.iter().enumerate() {
        let Some(p) = &out[i].parent else { continue };
        if !ix.contains_key(p.as_str()) {
            return Err(cx.err(
                e.span_of("parent"),
                &e.path("parent"),
                format!("unknown parent unit {p:?}"),
            ));
        }
    }
    // A cycle is reported at the first unit (in file order) that lies on one.
    for (i, e) in list.iter().enumerate() {
        let mut chain = vec![out[i].code.as_str()];
        let mut visited = HashSet::from([i]);
        let mut cur = i;
        while let Some(&j) = out[cur].parent.as_deref().and_then(|p| ix.get(p)) {
            chain.push(out[j].code.as_str());
            if j == i {
                return Err(cx.err(
                    e.span_of("parent"),
                    &e.path("parent"),
                    format!("unit parent cycle: {}", chain.join(" → ")),
                ));
            }
            // A cycle further up that does not include this unit is reported at its own first member.
            if !visited.insert(j) {
                break;
            }
            cur = j;
        }
    }
    Ok((out, governor_ix))
}

fn parse_rules(
    cx: &Ctx,
    top: &Table,
    category_ix: &HashMap<String, usize>,
    area_ix: &HashMap<String, usize>,
    unit_ix: &HashMap<String, usize>,
) -> Result<Vec<Rule>, RoutingError> {
    let list = entries(cx, top, "rules")?;
    let mut out = Vec::with_capacity(list.len());
    let mut ids: HashMap<i64, String> = HashMap::new();
    for e in &list {
        e.check_keys(cx, RULE_KEYS)?;
        let id = e
            .opt_int(cx, "id", 1)?
            .ok_or_else(|| cx.err(e.span.clone(), &e.path("id"), "missing key"))?;
        if let Some(first) = ids.get(&id) {
            return Err(cx.err(
                e.span_of("id"),
                &e.path("id"),
                format!("duplicate rule id {id} (also at {first})"),
            ));
        }
        ids.insert(id, e.path("id"));
        let known = |k: &str,
                     what: &str,
                     ix: &HashMap<String, usize>|
         -> Result<Option<String>, RoutingError> {
            let v = e.opt_str(cx, k)?;
            match &v {
                Some(code) if !ix.contains_key(code) => {
                    Err(cx.err(e.span_of(k), &e.path(k), format!("unknown {what} {code:?}")))
                }
                _ => Ok(v),
            }
        };
        let category = known("category", "category", category_ix)?;
        let area = known("area", "area", area_ix)?;
        let lead = known("lead", "unit", unit_ix)?
            .ok_or_else(|| cx.err(e.span.clone(), &e.path("lead"), "missing key"))?;
        let co = parse_co(cx, e, unit_ix, &lead)?;
        let window = match e.t.get("window") {
            None => None,
            Some(item) => {
                let t = item.as_table_like().ok_or_else(|| {
                    cx.err(
                        e.span_of("window"),
                        &e.path("window"),
                        "expected a table { from = \"HH:MM\", to = \"HH:MM\" }",
                    )
                })?;
                let w = Entry {
                    t,
                    span: e.span_of("window"),
                    at: e.path("window"),
                };
                Some(parse_window(cx, &w)?)
            }
        };
        out.push(Rule {
            // ≥ 1 by the check above.
            id: id as u64,
            category,
            area,
            window,
            lead,
            co,
        });
    }
    Ok(out)
}

fn parse_co(
    cx: &Ctx,
    e: &Entry,
    unit_ix: &HashMap<String, usize>,
    lead: &str,
) -> Result<Vec<String>, RoutingError> {
    let Some(v) = e.value(cx, "co")? else {
        return Ok(Vec::new());
    };
    let arr = v
        .as_array()
        .ok_or_else(|| cx.err(v.span(), &e.path("co"), "expected a list of unit codes"))?;
    let mut co: Vec<String> = Vec::with_capacity(arr.len());
    for (j, u) in arr.iter().enumerate() {
        let p = format!("{}[{j}]", e.path("co"));
        let code = u
            .as_str()
            .ok_or_else(|| cx.err(u.span(), &p, "expected a unit code string"))?;
        if !unit_ix.contains_key(code) {
            return Err(cx.err(u.span(), &p, format!("unknown unit {code:?}")));
        }
        if code == lead || co.iter().any(|c| c == code) {
            return Err(cx.err(
                u.span(),
                &p,
                format!("unit {code:?} is listed twice (as lead or co-unit)"),
            ));
        }
        co.push(code.to_string());
    }
    Ok(co)
}

fn parse_window(cx: &Ctx, w: &Entry) -> Result<TimeWindow, RoutingError> {
    w.check_keys(cx, WINDOW_KEYS)?;
    let time = |k: &str| -> Result<NaiveTime, RoutingError> {
        let s = w.req_str(cx, k)?;
        TimeWindow::parse_hhmm(&s).ok_or_else(|| {
            cx.err(
                w.span_of(k),
                &w.path(k),
                format!("{s:?} is not a time of day \"HH:MM\" (00:00–23:59)"),
            )
        })
    };
    let from = time("from")?;
    let to = time("to")?;
    let mut days = Vec::new();
    if let Some(v) = w.value(cx, "days")? {
        let arr = v.as_array().ok_or_else(|| {
            cx.err(
                v.span(),
                &w.path("days"),
                "expected a list such as [\"mon\", \"tue\"]",
            )
        })?;
        if arr.is_empty() {
            return Err(cx.err(
                v.span(),
                &w.path("days"),
                "an empty list never matches; leave `days` out for every day",
            ));
        }
        for (j, d) in arr.iter().enumerate() {
            let p = format!("{}[{j}]", w.path("days"));
            let day = d.as_str().and_then(parse_weekday).ok_or_else(|| {
                cx.err(
                    d.span(),
                    &p,
                    "expected one of \"mon\" \"tue\" \"wed\" \"thu\" \"fri\" \"sat\" \"sun\"",
                )
            })?;
            if days.contains(&day) {
                return Err(cx.err(d.span(), &p, "day listed twice"));
            }
            days.push(day);
        }
    }
    Ok(TimeWindow { from, to, days })
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_cards(cx: &Ctx, e: &Entry) -> Result<CardRules, RoutingError> {
    e.check_keys(cx, CARD_KEYS)?;
    let d = CardRules::default();
    // Counts are small; values above u32::MAX are refused rather than truncated.
    let count = |k: &str, default: u32| -> Result<u32, RoutingError> {
        match e.opt_int(cx, k, 1)? {
            None => Ok(default),
            Some(n) => u32::try_from(n).map_err(|_| cx.err(e.span_of(k), &e.path(k), "too large")),
        }
    };
    let yellow_at = count("yellow_at", d.yellow_at)?;
    let red_at = count("red_at", d.red_at)?;
    let expel_at = count("expel_at", d.expel_at)?;
    if red_at <= yellow_at {
        return Err(cx.err(
            e.span_of("red_at"),
            &e.path("red_at"),
            format!("red_at ({red_at}) must be greater than yellow_at ({yellow_at})"),
        ));
    }
    if expel_at <= red_at {
        return Err(cx.err(
            e.span_of("expel_at"),
            &e.path("expel_at"),
            format!("expel_at ({expel_at}) must be greater than red_at ({red_at})"),
        ));
    }
    let rolling = match e.opt_int(cx, "rolling_days", 1)? {
        None => None,
        Some(_) => Some(count("rolling_days", 0)?),
    };
    let window = match (e.opt_str(cx, "window")?.as_deref(), rolling) {
        (None | Some("calendar_year"), None) => CardWindow::CalendarYear,
        (Some("calendar_year"), Some(_)) => {
            return Err(cx.err(
                e.span_of("rolling_days"),
                &e.path("rolling_days"),
                "rolling_days needs window = \"rolling\"",
            ))
        }
        (None | Some("rolling"), Some(n)) => CardWindow::RollingDays(n),
        (Some("rolling"), None) => {
            return Err(cx.err(
                e.span_of("window"),
                &e.path("window"),
                "window = \"rolling\" needs rolling_days = N",
            ))
        }
        (Some(other), _) => {
            return Err(cx.err(
                e.span_of("window"),
                &e.path("window"),
                format!("{other:?} is not a window; expected \"calendar_year\" or \"rolling\""),
            ))
        }
    };
    Ok(CardRules {
        yellow_at,
        red_at,
        expel_at,
        window,
    })
}

fn parse_ranking(cx: &Ctx, e: &Entry) -> Result<RankingRules, RoutingError> {
    e.check_keys(cx, RANKING_KEYS)?;
    let d = RankingRules::default();
    let on_time_weight = e
        .opt_number(cx, "on_time_weight")?
        .unwrap_or(d.on_time_weight);
    let satisfaction_weight = e
        .opt_number(cx, "satisfaction_weight")?
        .unwrap_or(d.satisfaction_weight);
    if on_time_weight + satisfaction_weight <= 0.0 {
        return Err(cx.err(
            e.span.clone(),
            &e.at,
            "on_time_weight and satisfaction_weight cannot both be 0",
        ));
    }
    let bottom = match e.opt_int(cx, "bottom", 0)? {
        None => d.bottom,
        Some(n) => usize::try_from(n)
            .map_err(|_| cx.err(e.span_of("bottom"), &e.path("bottom"), "too large"))?,
    };
    Ok(RankingRules {
        on_time_weight,
        satisfaction_weight,
        bottom,
    })
}
