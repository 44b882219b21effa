//! Start-up of the ticket routing core: its data (categories, areas, units, catalogue — `config/routing.toml`
//! or the sample built into the binary), the working-day calendar (`config/calendar` or the official calendars
//! built in), the SLA preset and grade scale from `[routing]`, and the sweep that fires warnings and automatic
//! supervision (催办/督办/通报) as deadlines pass.

use std::path::Path;
use std::sync::{Arc, RwLock};
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
    ("2024.toml", include_str!("../../../config/calendar/2024.toml")),
    ("2025.toml", include_str!("../../../config/calendar/2025.toml")),
    ("2026.toml", include_str!("../../../config/calendar/2026.toml")),
    ("2027.toml", include_str!("../../../config/calendar/2027.toml")),
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
pub fn setup(
    settings: &RoutingSettings,
    routing: RoutingConfig,
    calendar: Arc<RwLock<Calendar>>,
) -> RoutingSetup {
    RoutingSetup {
        policy: policy(&settings.sla),
        scale: grade_scale(&settings.grade_scale),
        taxonomy: Arc::new(routing.taxonomy),
        calendar,
        repeat_window_days: settings.repeat_window_days,
        first_response_mins: settings.first_response_mins,
    }
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
