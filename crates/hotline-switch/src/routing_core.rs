//! Start-up of the ticket routing core: its data (categories, areas, units, catalogue — `config/routing.toml`
//! or the sample built into the binary), the working-day calendar (`config/calendar` or the official calendars
//! built in), the SLA preset and grade scale from `[routing]`, and the sweep that fires warnings and automatic
//! supervision (催办/督办/通报) as deadlines pass.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hotline_api::RoutingSetup;
use hotline_calendar::Calendar;
use hotline_config::RoutingSettings;
use hotline_tickets::TicketStore;
use hotline_workflow::{GradeScale, RoutingConfig, SlaPolicy};

use crate::SwitchError;

const DEFAULT_FILE: &str = "config/routing.toml";
const DEFAULT_CALENDAR_DIR: &str = "config/calendar";
const EMBEDDED_ROUTING: &str = include_str!("../../../config/routing.toml");
const EMBEDDED_CALENDARS: &[(&str, &str)] = &[
    (
        "2024.toml",
        include_str!("../../../config/calendar/2024.toml"),
    ),
    (
        "2025.toml",
        include_str!("../../../config/calendar/2025.toml"),
    ),
    (
        "2026.toml",
        include_str!("../../../config/calendar/2026.toml"),
    ),
    (
        "2027.toml",
        include_str!("../../../config/calendar/2027.toml"),
    ),
];

/// The routing data: the configured file, else `config/routing.toml`, else the built-in sample.
pub fn load_routing(settings: &RoutingSettings) -> Result<RoutingConfig, SwitchError> {
    let err = |e: hotline_workflow::RoutingError| SwitchError::Config(e.to_string());
    match &settings.file {
        // An unreadable file is the config key's fault: say which key.
        Some(f) => RoutingConfig::from_path(Path::new(f)).map_err(|e| match e.line {
            0 => SwitchError::Config(format!("routing.file = {f:?}: {}", e.message)),
            _ => err(e),
        }),
        None if Path::new(DEFAULT_FILE).exists() => {
            RoutingConfig::from_path(Path::new(DEFAULT_FILE)).map_err(err)
        }
        None => RoutingConfig::parse(EMBEDDED_ROUTING, "(built-in) routing.toml").map_err(err),
    }
}

/// The calendar: the configured directory, else `config/calendar`, else the built-in years.
pub fn load_calendar(settings: &RoutingSettings) -> Result<Calendar, SwitchError> {
    let err = |e: hotline_calendar::CalendarError| SwitchError::Config(e.to_string());
    match &settings.calendar_dir {
        Some(d) => Calendar::from_dir(d).map_err(|e| match e.line {
            0 => SwitchError::Config(format!("routing.calendar_dir = {d:?}: {}", e.message)),
            _ => err(e),
        }),
        None if Path::new(DEFAULT_CALENDAR_DIR).is_dir() => {
            Calendar::from_dir(DEFAULT_CALENDAR_DIR).map_err(err)
        }
        None => Calendar::from_strs(EMBEDDED_CALENDARS.iter().copied()).map_err(err),
    }
}

pub fn policy(name: &str) -> SlaPolicy {
    match name {
        "laishan" => SlaPolicy::laishan(),
        "changchun" => SlaPolicy::changchun(),
        "shandong" => SlaPolicy::shandong(),
        // The config check admits only the four presets.
        _ => SlaPolicy::guangdong(),
    }
}

pub fn grade_scale(name: &str) -> GradeScale {
    match name {
        "abc" => GradeScale::abc(),
        "five_level" => GradeScale::five_level(),
        _ => GradeScale::three_level(),
    }
}

/// Everything the API's routing routes need.
pub fn setup(settings: &RoutingSettings, routing: RoutingConfig) -> RoutingSetup {
    RoutingSetup {
        policy: policy(&settings.sla),
        scale: grade_scale(&settings.grade_scale),
        taxonomy: Arc::new(routing.taxonomy),
        cards: routing.cards,
        ranking: routing.ranking,
        repeat_window_days: settings.repeat_window_days,
        first_response_mins: settings.first_response_mins,
    }
}

/// Puts the units and catalogue of the routing data into the database: units missing by code are added
/// (existing ones, maybe edited through the API, are left alone); the catalogue only when the table is empty.
pub async fn seed(tickets: &TicketStore, routing: &RoutingConfig) -> Result<(), SwitchError> {
    use hotline_tickets::{NewCatalogueRule, UnitInput, UnitKind};
    let err = |what: &str, e: hotline_tickets::TicketError| {
        SwitchError::Config(format!("routing data: seeding {what}: {e}"))
    };
    let units: Vec<UnitInput> = routing
        .taxonomy
        .units()
        .iter()
        .map(|u| UnitInput {
            code: u.code.clone(),
            name: u.name.clone(),
            parent_code: u.parent.clone(),
            kind: match u.kind {
                hotline_workflow::UnitKind::Centre => UnitKind::Centre,
                hotline_workflow::UnitKind::District => UnitKind::District,
                hotline_workflow::UnitKind::Department => UnitKind::Department,
                hotline_workflow::UnitKind::Utility => UnitKind::Utility,
                hotline_workflow::UnitKind::Enterprise => UnitKind::Enterprise,
                hotline_workflow::UnitKind::Street => UnitKind::Street,
                hotline_workflow::UnitKind::Community => UnitKind::Community,
                hotline_workflow::UnitKind::Other => UnitKind::Other,
            },
            area: u.area.clone(),
            partner: u.partner,
        })
        .collect();
    let added = tickets
        .seed_units(&units)
        .await
        .map_err(|e| err("units", e))?;
    let rules: Vec<NewCatalogueRule> = routing
        .taxonomy
        .rules()
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| NewCatalogueRule {
            position: i32::try_from(i + 1).ok(),
            category: r.category.clone(),
            area: r.area.clone(),
            window_from: r
                .window
                .as_ref()
                .map(|w| w.from.format("%H:%M").to_string()),
            window_to: r.window.as_ref().map(|w| w.to.format("%H:%M").to_string()),
            days: r.window.as_ref().filter(|w| !w.days.is_empty()).map(|w| {
                w.days
                    .iter()
                    .map(|d| d.to_string().to_ascii_lowercase())
                    .collect()
            }),
            lead_unit: r.lead.clone(),
            co_units: r.co.clone(),
            note: format!("rule {} of the routing data", r.id),
        })
        .collect();
    let seeded = tickets
        .seed_catalogue(&rules)
        .await
        .map_err(|e| err("catalogue", e))?;
    tracing::info!(
        units_added = added,
        catalogue_seeded = seeded,
        "routing data loaded"
    );
    Ok(())
}

/// Fires due warnings and supervision every `every`, in batches, until the process ends. A failed sweep is
/// logged and retried at the next tick: a deadline passing is never lost, only noticed a little later.
pub fn spawn_sweeper(tickets: TicketStore, top_grade: Option<String>, every: Duration) {
    const BATCH: u32 = 500;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // Bounded: at most 100 batches per tick, so one tick cannot run forever.
            for _ in 0..100 {
                match tickets
                    .fire_due(chrono::Utc::now(), BATCH, top_grade.as_deref())
                    .await
                {
                    Ok(n) if n == BATCH as usize => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!("deadline sweep failed: {e}");
                        break;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_data_loads() {
        let r = RoutingConfig::parse(EMBEDDED_ROUTING, "routing.toml").unwrap();
        assert!(r.taxonomy.categories().len() > 100);
        let c = Calendar::from_strs(EMBEDDED_CALENDARS.iter().copied()).unwrap();
        // 2026-02-14 (Saturday) is a make-up working day in the State Council notice.
        assert!(c.is_working_day(chrono::NaiveDate::from_ymd_opt(2026, 2, 14).unwrap()));
    }

    #[test]
    fn configured_missing_file_names_it() {
        let mut s = hotline_config::Config::embedded_default().unwrap().routing;
        s.file = Some("/nonexistent/routing.toml".into());
        let e = load_routing(&s).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/routing.toml"), "{e}");
    }
}
