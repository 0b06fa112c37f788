//! The working calendar in use: the official seed plus every notice imported since, and deadlines on it.

use std::sync::Arc;

use crate::access::Actor;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::Permission;
use fengqiao_domain::calendar::{DayOverride, WorkingCalendar, WorkingHours};
use fengqiao_domain::case::{DeadlineAt, DeadlineRules, Limit};
use fengqiao_domain::error::FieldError;
use fengqiao_store::CalendarDay;

/// Deadlines on a calendar snapshot.
pub struct CalendarRules {
    pub calendar: Arc<WorkingCalendar>,
    pub hours: WorkingHours,
}

impl DeadlineRules for CalendarRules {
    fn deadline(&self, start: chrono::DateTime<chrono::Utc>, limit: Limit) -> DeadlineAt {
        let d = match limit {
            Limit::WorkingDays(n) => self.calendar.add_working_days(start, n),
            Limit::WorkingHours(n) => self.calendar.add_working_hours(start, n, &self.hours),
            Limit::CalendarDays(n) => self.calendar.add_calendar_days(start, n),
        };
        DeadlineAt {
            at: d.at,
            provisional: d.provisional,
        }
    }
    fn elapsed_working_days(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> u32 {
        u32::try_from(self.calendar.working_days_between(from, to).max(0)).unwrap_or(u32::MAX)
    }
}

/// Builds the calendar: the official seed, then each stored notice year on top.
pub fn load(days: &[CalendarDay], years: &[i32]) -> AppResult<WorkingCalendar> {
    let mut calendar = WorkingCalendar::official();
    for year in years {
        let mut csv = String::from("date,kind,name\n");
        for day in days
            .iter()
            .filter(|d| chrono::Datelike::year(&d.day) == *year)
        {
            csv.push_str(&format!("{},{},{}\n", day.day, day.kind, day.name));
        }
        calendar = calendar
            .with_year_notice(*year, &csv)
            .map_err(|e| AppError::Internal(format!("stored calendar year {year}: {e}")))?;
    }
    Ok(calendar)
}

/// What importing a year's notice did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NoticeOutcome {
    pub year: i32,
    pub days: usize,
    pub version: u32,
    /// Open cases whose provisional deadlines were recomputed.
    pub recomputed_cases: usize,
}

impl App {
    /// The deadline rules on the calendar as it stands.
    pub fn deadline_rules(&self) -> CalendarRules {
        CalendarRules {
            calendar: self.calendar(),
            hours: self.settings.working_hours,
        }
    }

    /// Imports a year's State Council notice (`date,kind,name` CSV, kind `holiday` or `workday`), then
    /// recomputes every open case's provisional deadlines.
    pub async fn import_calendar_notice(
        &self,
        actor: Option<&Actor>,
        year: i32,
        csv: &str,
    ) -> AppResult<NoticeOutcome> {
        if let Some(actor) = actor {
            self.require(actor, Permission::ConfigureOrganisation)
                .await?;
        }
        let current = self.calendar();
        let next = current.with_year_notice(year, csv).map_err(|e| {
            AppError::Validation(vec![FieldError::new(
                "notice",
                "invalid",
                format!("通知无法导入：{e}"),
                format!("the notice cannot be imported: {e}"),
            )])
        })?;
        let days: Vec<CalendarDay> = next
            .overrides()
            .filter(|(date, _)| chrono::Datelike::year(date) == year)
            .map(|(day, o)| CalendarDay {
                day,
                kind: match o {
                    DayOverride::Holiday { .. } => "holiday".into(),
                    DayOverride::Workday { .. } => "workday".into(),
                },
                name: o.name().to_string(),
            })
            .collect();
        let detail = serde_json::json!({ "year": year, "days": days.len() });
        let audit = match actor {
            Some(actor) => actor.audit(
                self.now(),
                "calendar.import",
                format!("calendar:{year}"),
                "ok",
                detail,
            ),
            None => self.system_audit("calendar.import", format!("calendar:{year}"), detail),
        };
        let version = i32::try_from(next.version()).unwrap_or(i32::MAX);
        self.store
            .save_calendar_years(&[year], &days, version, "notice", self.now(), &[audit])
            .await?;
        self.set_calendar(next);
        let recomputed_cases = self.recompute_provisional_deadlines().await?;
        Ok(NoticeOutcome {
            year,
            days: days.len(),
            version: self.calendar().version(),
            recomputed_cases,
        })
    }
}
