//! The citizen's page (扫码点单) beyond submitting: photos on a public submission, the citizen's own
//! satisfaction rating of a resolved case, the place a printed QR code names, and the limit on public writes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;

use crate::cases::{
    AttachmentKinds, PublicCaseView, case_error, columns_of, dispatch_change, invalid,
};
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::Role;
use fengqiao_domain::case::{Case, CaseActor, Command, FollowUpOutcome, Status};
use fengqiao_domain::codes::RegionCode;
use fengqiao_store::{AuditDraft, CaseTransition, EventDraft, NewNotification};

/// The department kind whose service hall a QR code may name.
pub const HALL_KIND: &str = "comprehensive_governance_center";

/// How the public page shows that a request is the citizen's own.
pub enum CitizenProof<'a> {
    /// The secret printed on the receipt.
    Secret(&'a str),
    /// The device that submitted the case, with the Idempotency-Key of that submission (a page that lost the
    /// answer, and so the secret, can still add its photos).
    Submission { device_id: &'a str, key: &'a str },
}

/// An attachment as the public page sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicAttachment {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

/// What a printed QR code's place is: a village (or town) by region code, or a service hall.
#[derive(Debug, Clone, Serialize)]
pub struct PublicPlace {
    /// `region` or `hall`.
    pub kind: String,
    pub name: String,
    /// Where a submission made there is placed when it gives no point.
    pub region_code: String,
    /// The region's full name from the province down (e.g. 邹城市 太平镇 鲍店社区).
    pub full_name: String,
}

/// Fixed one-window counters of public writes per device and per source address, in this process.
/// Several app servers each keep their own, so the effective limit is per server; the public page is light
/// enough that this is the honest trade (no database write for every anonymous request).
#[derive(Default)]
pub struct PublicLimiter {
    windows: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

impl PublicLimiter {
    /// Counts one write under every key; refuses (with the seconds until the window ends) when any key is over.
    fn hit(
        &self,
        keys: &[(String, u32)],
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<(), i64> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > 50_000 {
            windows.retain(|_, (start, _)| now - *start < window);
        }
        let mut wait = 0;
        for (key, _) in keys {
            let entry = windows.entry(key.clone()).or_insert((now, 0));
            if now - entry.0 >= window {
                *entry = (now, 0);
            }
        }
        for (key, limit) in keys {
            if let Some((start, count)) = windows.get(key)
                && *count >= *limit
            {
                wait = wait.max((*start + window - now).num_seconds().max(1));
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        for (key, _) in keys {
            if let Some(entry) = windows.get_mut(key) {
                entry.1 += 1;
            }
        }
        Ok(())
    }
}

impl PublicLimiter {
    /// The seconds to wait when `key` has reached `limit` in its window; None when it may go on.
    fn over(
        &self,
        key: &str,
        limit: u32,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Option<i64> {
        let windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match windows.get(key) {
            Some((start, count)) if now - *start < window && *count >= limit => {
                Some((*start + window - now).num_seconds().max(1))
            }
            _ => None,
        }
    }

    /// Counts one event under `key` without refusing anything.
    fn count(&self, key: &str, now: DateTime<Utc>, window: chrono::Duration) {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now - entry.0 >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

impl App {
    /// Looks a case up by number and secret on behalf of the public page, refusing a source address that has
    /// given too many wrong pairs in the window (secrets are short: guessing them must not be cheap). Every
    /// "not found" counts against the address.
    pub async fn guard_public_lookup<T>(
        &self,
        source: &str,
        lookup: impl std::future::Future<Output = AppResult<T>>,
    ) -> AppResult<T> {
        let key = format!("miss:{source}");
        let window = self.settings.public_write_window;
        if let Some(retry_after_secs) = self.public_limiter.over(
            &key,
            self.settings.public_misses_per_source,
            self.now(),
            window,
        ) {
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let result = lookup.await;
        if matches!(result, Err(AppError::NotFound)) {
            self.public_limiter.count(&key, self.now(), window);
        }
        result
    }

    /// Counts a write from the public page (submission, photo, rating) against its device and its source
    /// address; over the limit answers `RateLimited`.
    pub fn check_public_write(&self, device_id: Option<&str>, source: &str) -> AppResult<()> {
        let mut keys = vec![(
            format!("source:{source}"),
            self.settings.public_writes_per_source,
        )];
        if let Some(device) = device_id.filter(|d| !d.is_empty()) {
            keys.push((
                format!("device:{device}"),
                self.settings.public_writes_per_device,
            ));
        }
        self.public_limiter
            .hit(&keys, self.now(), self.settings.public_write_window)
            .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })
    }

    /// The place a QR code names: a region by code or a service hall by department id.
    pub async fn public_place(
        &self,
        region: Option<&str>,
        hall: Option<i64>,
    ) -> AppResult<PublicPlace> {
        let (kind, name, code) = match (region.filter(|r| !r.trim().is_empty()), hall) {
            (Some(code), None) => {
                let code = RegionCode::parse(code.trim())?;
                let record = self
                    .store
                    .get_region(code.as_str())
                    .await?
                    .ok_or(AppError::NotFound)?;
                ("region", record.name, record.code)
            }
            (None, Some(id)) => {
                let dept = self
                    .store
                    .get_department(id)
                    .await?
                    .filter(|d| d.kind == HALL_KIND)
                    .ok_or(AppError::NotFound)?;
                ("hall", dept.name, dept.region_code)
            }
            _ => {
                return Err(AppError::Validation(vec![invalid(
                    "region",
                    "required",
                    "请给出村（社区）代码 region 或服务大厅编号 hall 之一",
                    "give either a region code (region) or a service hall id (hall)",
                )]));
            }
        };
        let mut names = Vec::new();
        let mut next = Some(code.clone());
        while let Some(c) = next {
            match self.store.get_region(&c).await? {
                Some(r) => {
                    names.push(r.name);
                    next = r.parent_code;
                }
                None => break,
            }
        }
        names.reverse();
        // The province and city are the same for everyone who scans; show from the county down.
        let full_name = names
            .iter()
            .skip(names.len().saturating_sub(3))
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(PublicPlace {
            kind: kind.into(),
            name,
            region_code: code,
            full_name,
        })
    }

    /// Adds a photo to the citizen's own case (proved by the receipt's secret or by the submitting device and
    /// its Idempotency-Key). Photos only, size bounded, at most nine; the same photo twice is stored once
    /// (`false`).
    pub async fn public_add_photo(
        &self,
        number: &str,
        proof: CitizenProof<'_>,
        file_name: &str,
        bytes: &[u8],
        source: &str,
    ) -> AppResult<(PublicAttachment, bool)> {
        let (record, who) = match proof {
            CitizenProof::Secret(secret) => {
                (self.tracked_case(number, secret).await?, "citizen".into())
            }
            CitizenProof::Submission { device_id, key } => {
                let scope = format!("device:{device_id}");
                let Some((_, Some(case_id))) = self.store.idempotency_key(&scope, key).await?
                else {
                    return Err(AppError::NotFound);
                };
                let record = self
                    .store
                    .get_case(case_id)
                    .await?
                    .filter(|r| r.number == number.trim())
                    .ok_or(AppError::NotFound)?;
                (record, format!("citizen:{device_id}"))
            }
        };
        let audit = AuditDraft {
            at: self.now(),
            actor: who.clone(),
            action: "case.attachment".into(),
            object: format!("case:{}", record.number),
            result: "ok".into(),
            source: source.to_string(),
            detail: serde_json::json!({ "file_name": file_name.trim(), "size": bytes.len(), "public": true }),
        };
        let (attachment, created) = self
            .put_attachment(
                &record,
                file_name,
                bytes,
                who,
                audit,
                AttachmentKinds::Photos,
            )
            .await?;
        Ok((
            PublicAttachment {
                id: attachment.id,
                file_name: attachment.file_name,
                content_type: attachment.content_type,
                size: attachment.size,
            },
            created,
        ))
    }

    /// The citizen rates a resolved (and reviewed) case by number and secret: recorded as the case's
    /// follow-up (回访) with `by: citizen`, so the satisfaction rate counts it exactly as it counts the
    /// follow-up desk's answer, and the case closes. Once: the same rating sent again answers the case as it
    /// is; another rating afterwards is refused (409).
    pub async fn citizen_rate(
        &self,
        number: &str,
        secret: &str,
        outcome: &str,
        comment: &str,
        source: &str,
    ) -> AppResult<PublicCaseView> {
        let mut errors = Vec::new();
        let parsed = FollowUpOutcome::parse(outcome).filter(|o| {
            matches!(
                o,
                FollowUpOutcome::Satisfied
                    | FollowUpOutcome::BasicallySatisfied
                    | FollowUpOutcome::Dissatisfied
            )
        });
        if parsed.is_none() {
            errors.push(invalid(
                "outcome",
                "unknown",
                "评价应为 satisfied（满意）、basically_satisfied（基本满意）或 dissatisfied（不满意）",
                "outcome is satisfied, basically_satisfied or dissatisfied",
            ));
        }
        if comment.chars().count() > 500 {
            errors.push(invalid(
                "comment",
                "too_long",
                "评价意见不能超过 500 字",
                "the comment is at most 500 characters",
            ));
        }
        // A wrong pair is "not found" even when the body is bad too: nothing about the case leaks.
        let record = self.tracked_case(number, secret).await?;
        let Some(outcome) = parsed.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let status = Status::parse(&record.status).unwrap_or(Status::Registered);
        if status != Status::AwaitingFollowUp {
            let events = self.store.case_events(record.id).await?;
            let rated_by_citizen = events
                .iter()
                .rev()
                .find(|e| e.name == "followed_up")
                .is_some_and(|e| {
                    e.actor == "citizen"
                        && e.detail.get("outcome").and_then(|o| o.as_str())
                            == Some(outcome.as_str())
                });
            if rated_by_citizen && record.satisfaction.as_deref() == Some(outcome.as_str()) {
                // A retry of the rating already recorded.
                return self.public_view(record).await;
            }
            return Err(AppError::Transition {
                code: "illegal_transition",
                zh: if record.satisfaction.is_some() {
                    "此诉求已评价过，不能再次评价".into()
                } else {
                    "此诉求尚未办结审核，暂不能评价".into()
                },
                en: if record.satisfaction.is_some() {
                    "this case has already been rated".into()
                } else {
                    "this case cannot be rated until it is resolved and reviewed".into()
                },
            });
        }
        let state: Case = serde_json::from_str(&record.state)
            .map_err(|e| AppError::Internal(format!("case state: {e}")))?;
        let command = Command::FollowUp {
            outcome,
            note: comment.trim().to_string(),
        };
        // The number and secret authorised the citizen; the lifecycle records the answer as the follow-up
        // desk would (it checks roles, so the citizen acts under the follow-up desk's role, with no units).
        let citizen = CaseActor {
            user_id: 0,
            roles: vec![Role::Dispatcher],
            units: Vec::new(),
        };
        let now = self.now();
        let (next, event) = state
            .apply(&command, &citizen, now, &self.deadline_rules())
            .map_err(case_error)?;
        let columns = columns_of(&next, &record.owner_path, Some(outcome.as_str().into()))?;
        let mut detail = event.detail.clone();
        if let Some(map) = detail.as_object_mut() {
            map.insert("by".into(), serde_json::json!("citizen"));
        }
        let transition = CaseTransition {
            case_id: record.id,
            expected_version: record.version,
            columns,
            updated_at: now,
            event: EventDraft {
                name: event.name.into(),
                from_status: event.from.as_str().into(),
                to_status: event.to.as_str().into(),
                actor: "citizen".into(),
                at: now,
                detail,
            },
            supervision: None,
            notifications: vec![NewNotification {
                recipient: format!("region:{}", next.owner_region),
                kind: "citizen_rated".into(),
                message: format!("群众评价：{} {}", record.number, outcome.zh()),
            }],
            dispatch: dispatch_change(&command, &state, &next),
        };
        let audit = AuditDraft {
            at: now,
            actor: "citizen".into(),
            action: "case.followed_up".into(),
            object: format!("case:{}", record.number),
            result: "ok".into(),
            source: source.to_string(),
            detail: serde_json::json!({ "outcome": outcome.as_str(), "by": "citizen" }),
        };
        match self.store.transition_case(&transition, &[audit]).await {
            Ok(_) => {}
            Err(fengqiao_store::StoreError::Conflict(_)) => {
                return Err(AppError::Transition {
                    code: "conflict",
                    zh: "此诉求刚刚被更新，请刷新后再评价".into(),
                    en: "the case changed at the same moment; reload and rate again".into(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let fresh = self
            .store
            .get_case(record.id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.public_view(fresh).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_limiter_counts_every_key_and_resets_with_the_window() {
        let limiter = PublicLimiter::default();
        let t0 = Utc
            .with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
            .single()
            .expect("time");
        let hour = chrono::Duration::hours(1);
        let keys = |d: &str| vec![("source:ip".to_string(), 5), (format!("device:{d}"), 2)];
        assert_eq!(limiter.hit(&keys("a"), t0, hour), Ok(()));
        assert_eq!(limiter.hit(&keys("a"), t0, hour), Ok(()));
        assert_eq!(
            limiter.hit(&keys("a"), t0, hour),
            Err(3600),
            "the device is over"
        );
        assert_eq!(limiter.hit(&keys("b"), t0, hour), Ok(()), "another device");
        assert_eq!(limiter.hit(&keys("c"), t0, hour), Ok(()));
        assert_eq!(limiter.hit(&keys("d"), t0, hour), Ok(()));
        assert!(
            limiter.hit(&keys("e"), t0, hour).is_err(),
            "the address is over"
        );
        let later = t0 + hour;
        assert_eq!(limiter.hit(&keys("a"), later, hour), Ok(()), "a new window");
    }

    #[test]
    fn misses_are_counted_apart_and_refused_over_the_limit() {
        let limiter = PublicLimiter::default();
        let t0 = Utc
            .with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
            .single()
            .expect("time");
        let hour = chrono::Duration::hours(1);
        assert_eq!(limiter.over("miss:ip", 2, t0, hour), None);
        limiter.count("miss:ip", t0, hour);
        assert_eq!(limiter.over("miss:ip", 2, t0, hour), None);
        limiter.count("miss:ip", t0, hour);
        assert_eq!(
            limiter.over("miss:ip", 2, t0 + chrono::Duration::minutes(30), hour),
            Some(1800)
        );
        assert_eq!(
            limiter.over("miss:ip", 2, t0 + hour, hour),
            None,
            "the window passed"
        );
    }
}
