//! The routing data of a centre, from one file (`config/routing.toml`): the two-level category tree (大类 → 小类),
//! the area tree (区县 district → 街道 street → 社区 community), the seed unit tree, the dispatch catalogue
//! ([`Catalogue`]), the partner card rules ([`CardRules`]) and the yearly ranking weights ([`RankingRules`]).
//!
//! [`RoutingConfig::parse`] is a pure function of the text; [`RoutingConfig::from_path`] only reads the file.
//! Like hotline-calendar, the loader walks the toml_edit tree by hand rather than through serde so that every
//! error names its line and key path: `routing.toml:LINE: key.path: why`. Everything is checked when loading
//! (unknown or duplicate codes, three-level categories, area levels, unit cycles, rules naming unknown codes),
//! so the lookups and [`Catalogue::route`] never meet a dangling code from the file.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use toml_edit::{ImDocument, Item, Table, TableLike, Value};

use crate::catalogue::{Catalogue, Routing, Rule, TimeWindow};
use crate::scorecard::{CardRules, CardWindow, RankingRules};

/// A problem in the routing file. `line` is 1-based; 0 when the file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct RoutingError {
    pub file: String,
    pub line: usize,
    /// Path of the offending key, e.g. `categories[3].parent` or `rules[0].window.from`.
    pub key: String,
    pub message: String,
}

/// A category (分类). A major (大类) has no parent; a minor (小类) has a major as its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Category {
    /// Lowercase ASCII, e.g. `traffic` or `traffic.parking`.
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
}

impl Category {
    pub fn is_major(&self) -> bool {
        self.parent.is_none()
    }
}

/// Level of an area; the tree is exactly district → street → community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    /// 区县
    District,
    /// 街道 / 乡镇
    Street,
    /// 社区 / 村
    Community,
}

impl AreaLevel {
    /// 1 for a district, 2 for a street, 3 for a community: deeper is more specific.
    pub fn depth(self) -> u8 {
        match self {
            AreaLevel::District => 1,
            AreaLevel::Street => 2,
            AreaLevel::Community => 3,
        }
    }

    /// The level a parent must have; `None` for a district, which has no parent.
    pub fn parent_level(self) -> Option<AreaLevel> {
        match self {
            AreaLevel::District => None,
            AreaLevel::Street => Some(AreaLevel::District),
            AreaLevel::Community => Some(AreaLevel::Street),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "district" => Some(AreaLevel::District),
            "street" => Some(AreaLevel::Street),
            "community" => Some(AreaLevel::Community),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            AreaLevel::District => "district",
            AreaLevel::Street => "street",
            AreaLevel::Community => "community",
        }
    }
}

/// An area (区域).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Area {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub level: AreaLevel,
}

/// What kind of body a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// The 12345 centre itself.
    Centre,
    /// 区县政府
    District,
    /// 职能部门 (交通运输局, 市场监督管理局 …)
    Department,
    /// 公用事业 (water, power, gas)
    Utility,
    /// 企业
    Enterprise,
    /// 街道办事处
    Street,
    /// 社区居委会
    Community,
    Other,
}

impl UnitKind {
    const NAMES: &'static [&'static str] = &[
        "centre",
        "district",
        "department",
        "utility",
        "enterprise",
        "street",
        "community",
        "other",
    ];

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "centre" => UnitKind::Centre,
            "district" => UnitKind::District,
            "department" => UnitKind::Department,
            "utility" => UnitKind::Utility,
            "enterprise" => UnitKind::Enterprise,
            "street" => UnitKind::Street,
            "community" => UnitKind::Community,
            "other" => UnitKind::Other,
            _ => return None,
        })
    }
}

/// A handling unit (承办单位) as seeded from the file; the database gives it its [`crate::UnitId`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct UnitSeed {
    pub code: String,
    pub name: String,
    /// The parent unit's code (下派 goes from parent to child).
    pub parent: Option<String>,
    pub kind: UnitKind,
    /// The area this unit governs (属地): a district government its district, a street office its street. The
    /// catalogue's fallback (兜底) uses the unit governing the ticket's district.
    pub area: Option<String>,
    /// A partner enterprise (加盟企业), judged by scorecards.
    pub partner: bool,
}

/// Categories, areas, units and the dispatch catalogue, cross-checked. Read-only once loaded: the lookups rely on
/// indexes built at load time.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    categories: Vec<Category>,
    areas: Vec<Area>,
    units: Vec<UnitSeed>,
    rules: Catalogue,
    category_ix: HashMap<String, usize>,
    area_ix: HashMap<String, usize>,
    unit_ix: HashMap<String, usize>,
    /// Area code → index of the unit governing it.
    governor_ix: HashMap<String, usize>,
}

impl Taxonomy {
    /// Parses a routing file and keeps only the taxonomy (with its catalogue).
    pub fn parse(text: &str, file: &str) -> Result<Taxonomy, RoutingError> {
        RoutingConfig::parse(text, file).map(|c| c.taxonomy)
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    pub fn units(&self) -> &[UnitSeed] {
        &self.units
    }

    /// The dispatch catalogue (派单目录).
    pub fn rules(&self) -> &Catalogue {
        &self.rules
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.category_ix.get(code).map(|&i| &self.categories[i])
    }

    /// The major (大类) of a category: a minor's parent, or a major itself.
    pub fn major_of(&self, code: &str) -> Option<&Category> {
        let c = self.category(code)?;
        match &c.parent {
            None => Some(c),
            Some(p) => self.category(p),
        }
    }

    /// The minors of a major, in file order.
    pub fn minors_of<'a>(&'a self, major: &'a str) -> impl Iterator<Item = &'a Category> + 'a {
        self.categories
            .iter()
            .filter(move |c| c.parent.as_deref() == Some(major))
    }

    pub fn area(&self, code: &str) -> Option<&Area> {
        self.area_ix.get(code).map(|&i| &self.areas[i])
    }

    /// The area and its ancestors, district first; empty for an unknown code.
    pub fn area_path(&self, code: &str) -> Vec<&Area> {
        let mut path = Vec::new();
        let mut next = self.area(code);
        // The tree is at most three deep once validated; the bound only guards against a loop.
        while let Some(a) = next {
            if path.len() > self.areas.len() {
                break;
            }
            path.push(a);
            next = a.parent.as_deref().and_then(|p| self.area(p));
        }
        path.reverse();
        path
    }

    /// The district an area lies in (a district is its own).
    pub fn district_of(&self, area_code: &str) -> Option<&Area> {
        self.area_path(area_code)
            .into_iter()
            .next()
            .filter(|a| a.level == AreaLevel::District)
    }

    pub fn unit(&self, code: &str) -> Option<&UnitSeed> {
        self.unit_ix.get(code).map(|&i| &self.units[i])
    }

    /// The unit whose `area` is exactly this area (at most one, checked when loading).
    pub fn governing_unit(&self, area_code: &str) -> Option<&UnitSeed> {
        self.governor_ix.get(area_code).map(|&i| &self.units[i])
    }

    /// Partner enterprises (加盟企业), in file order.
    pub fn partners(&self) -> impl Iterator<Item = &UnitSeed> {
        self.units.iter().filter(|u| u.partner)
    }

    /// [`Catalogue::route`] with this taxonomy's own catalogue.
    pub fn route(
        &self,
        category: Option<&str>,
        area: Option<&str>,
        local_time: chrono::NaiveDateTime,
    ) -> Routing {
        self.rules.route(self, category, area, local_time)
    }
}

/// Everything in `config/routing.toml`.
#[derive(Debug, Clone)]
pub struct RoutingConfig {
    pub taxonomy: Taxonomy,
    /// `[cards]`; defaults when the table is absent.
    pub cards: CardRules,
    /// `[ranking]`; defaults when the table is absent.
    pub ranking: RankingRules,
}

mod load;
