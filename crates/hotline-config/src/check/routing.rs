//! `[routing]`: the ticket routing core's settings. The data files themselves are checked when the engine loads
//! them (hotline-workflow and hotline-calendar name their own lines and keys).

use super::*;
use crate::raw::RawRouting;

pub const SLA_PRESETS: &[&str] = &["laishan", "changchun", "guangdong", "shandong"];
pub const GRADE_SCALES: &[&str] = &["abc", "three_level", "five_level"];

impl Ctx<'_> {
    pub(super) fn routing(&self, raw: RawRouting) -> R<RoutingSettings> {
        let sla = raw.sla.unwrap_or_else(|| "guangdong".into());
        if !SLA_PRESETS.contains(&sla.as_str()) {
            return Err(self.err(
                "routing.sla",
                format!("`{sla}` is not one of {}", SLA_PRESETS.join(", ")),
            ));
        }
        let grade_scale = raw.grade_scale.unwrap_or_else(|| "three_level".into());
        if !GRADE_SCALES.contains(&grade_scale.as_str()) {
            return Err(self.err(
                "routing.grade_scale",
                format!("`{grade_scale}` is not one of {}", GRADE_SCALES.join(", ")),
            ));
        }
        for (key, v) in [
            ("routing.file", &raw.file),
            ("routing.calendar_dir", &raw.calendar_dir),
        ] {
            if v.as_deref().is_some_and(|p| p.trim().is_empty()) {
                return Err(self.err(key, "must not be empty"));
            }
        }
        let repeat = self.non_negative("routing.repeat_window_days", raw.repeat_window_days, 7)?;
        let first = self.non_negative("routing.first_response_mins", raw.first_response_mins, 3)?;
        Ok(RoutingSettings {
            file: raw.file,
            calendar_dir: raw.calendar_dir,
            sla,
            grade_scale,
            repeat_window_days: self.u32("routing.repeat_window_days", repeat)?,
            first_response_mins: self.u32("routing.first_response_mins", first)?,
            sweep_secs: self.positive("routing.sweep_secs", raw.sweep_secs, 30)?,
        })
    }
}
