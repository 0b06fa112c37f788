//! Property tests for the mediation and petition state machines: random sequences of commands by random actors
//! at random times never break the invariants the statutes and the four-step path set.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use fengqiao_domain::access::Role;
use fengqiao_domain::codes::RegionCode;
use fengqiao_domain::mediation::{
    Mediation, MediationActor, MediationCommand, MediationKind, MediationParty, MediationStatus,
    NextPath, Opening, Term, calendar_days_after,
};
use fengqiao_domain::petition::{
    MAX_EXTENSION_DAYS, Petition, PetitionActor, PetitionChannel, PetitionCommand, PetitionFacts,
    PetitionFlags, PetitionStatus, compute_flags,
};
use proptest::prelude::*;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn mediation_command() -> impl Strategy<Value = MediationCommand> {
    prop_oneof![
        Just(MediationCommand::RecordSession {
            held_at: start(),
            place: Some("调解室".into()),
            online: false,
            attendees: vec!["甲".into()],
            minutes: "记录".into(),
            positions: String::new(),
        }),
        Just(MediationCommand::HoldHearing {
            held_at: start(),
            place: "听证室".into(),
            public: true,
            panel: vec!["乙".into()],
            statements: "陈述".into(),
        }),
        (0i64..1_000_000).prop_map(|fen| MediationCommand::ConcludeAgreement {
            facts: "事实".into(),
            terms: vec![Term {
                text: "条款".into(),
                amount_fen: Some(fen),
            }],
            performance_deadline: NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
        }),
        Just(MediationCommand::ConcludeFailure {
            reason: "分歧".into(),
            next: NextPath::LeaderOwnership { leader_user_id: 9 },
        }),
        Just(MediationCommand::ApplyJudicialConfirmation {
            court: "法院".into()
        }),
        any::<bool>().prop_map(|confirmed| MediationCommand::RecordJudicialResult {
            confirmed,
            note: String::new(),
        }),
        any::<bool>().prop_map(|performed| MediationCommand::FollowUp {
            performed,
            settled: performed,
            note: String::new(),
        }),
    ]
}

fn rank(status: MediationStatus) -> u8 {
    match status {
        MediationStatus::Accepted => 0,
        MediationStatus::InProgress => 1,
        MediationStatus::Agreed | MediationStatus::Failed => 2,
        MediationStatus::FollowedUp => 3,
    }
}

proptest! {
    #[test]
    fn a_mediation_moves_only_forward_and_keeps_its_follow_up_clock(
        steps in prop::collection::vec((mediation_command(), 0i64..100, any::<bool>()), 0..25)
    ) {
        let mediator = MediationActor { user_id: 1, roles: vec![Role::Mediator], committees: vec![1] };
        let outsider = MediationActor { user_id: 2, roles: vec![Role::Mediator], committees: vec![2] };
        let opening = Opening {
            committee_id: 1,
            mediator_user_id: Some(1),
            kind: MediationKind::People,
            linkage: None,
            parties: vec![MediationParty { role: "applicant".into(), name: "甲".into() }],
            previous: None,
            departments: vec![],
        };
        let (mut m, _) = Mediation::open(opening, &mediator, start()).unwrap();
        let mut now = start();
        for (command, hours, by_outsider) in steps {
            now += Duration::hours(hours);
            let actor = if by_outsider { &outsider } else { &mediator };
            if let Ok((next, event)) = m.apply(&command, actor, now) {
                prop_assert!(!by_outsider, "an outsider acted");
                prop_assert!(rank(next.status) >= rank(m.status));
                prop_assert_eq!(event.from, m.status.as_str());
                prop_assert_eq!(event.to, next.status.as_str());
                if next.status == MediationStatus::Agreed && m.status != MediationStatus::Agreed {
                    prop_assert!(!m.sessions.is_empty(), "agreement without a session");
                    prop_assert_eq!(next.follow_up_due, Some(calendar_days_after(now, 30)));
                }
                if m.judicial.as_ref().is_some_and(|j| j.confirmed.is_some()) {
                    prop_assert_eq!(&next.judicial, &m.judicial, "a judicial result changed");
                }
                m = next;
            }
            prop_assert!(m.agreement.is_none() || m.failure.is_none());
        }
    }
}

fn petition_command() -> impl Strategy<Value = PetitionCommand> {
    prop_oneof![
        Just(PetitionCommand::Accept),
        Just(PetitionCommand::NotAccept {
            reason: "不属于受理范围".into()
        }),
        (0u32..40).prop_map(|days| PetitionCommand::RequestExtension {
            days,
            reason: "复杂".into()
        }),
        any::<bool>().prop_map(|approve| PetitionCommand::DecideExtension {
            approve,
            note: String::new()
        }),
        Just(PetitionCommand::Answer {
            opinion: "意见".into()
        }),
        Just(PetitionCommand::RequestReview {
            note: String::new()
        }),
        Just(PetitionCommand::AnswerReview {
            opinion: "复查意见".into()
        }),
        Just(PetitionCommand::RequestReReview {
            note: String::new()
        }),
        Just(PetitionCommand::AnswerReReview {
            opinion: "复核意见".into()
        }),
    ]
}

proptest! {
    #[test]
    fn petition_clocks_follow_the_regulations(
        steps in prop::collection::vec((petition_command(), 0i64..50, any::<bool>()), 0..30)
    ) {
        let clerk = PetitionActor { user_id: 1, roles: vec![Role::IntakeClerk] };
        let leader = PetitionActor { user_id: 2, roles: vec![Role::Leader] };
        let mut p = Petition::register(PetitionFlags::default(), start());
        let mut now = start();
        for (command, days, by_leader) in steps {
            now += Duration::days(days);
            let actor = if by_leader { &leader } else { &clerk };
            let before = p.clone();
            match p.apply(&command, actor, now) {
                Ok((next, _)) => {
                    if let (Some(decided), Some(due)) = (next.decided_at, next.handle_due) {
                        let max = calendar_days_after(decided, 60) + Duration::days(i64::from(MAX_EXTENSION_DAYS));
                        prop_assert!(due <= max, "handling beyond 60 + 30 days");
                    }
                    prop_assert!(next.extended_days <= MAX_EXTENSION_DAYS);
                    if before.extended_days > 0 {
                        prop_assert_eq!(next.extended_days, before.extended_days, "extended twice");
                    }
                    if matches!(command, PetitionCommand::RequestReview { .. } | PetitionCommand::RequestReReview { .. }) {
                        prop_assert!(before.request_until.is_some_and(|until| now <= until));
                        prop_assert_eq!(next.review_due, Some(calendar_days_after(now, 30)));
                    }
                    prop_assert!(
                        !matches!(before.status, PetitionStatus::ReReviewed | PetitionStatus::NotAccepted),
                        "a final petition changed"
                    );
                    p = next;
                }
                Err(_) => prop_assert_eq!(&p, &before),
            }
        }
    }

    #[test]
    fn a_wider_window_never_loses_a_repeat(
        gaps in prop::collection::vec(0i64..400, 1..6),
        window in 1u32..400,
        extra in 0u32..400,
        head_count in 1u32..20,
    ) {
        let region = |c: &str| RegionCode::parse(c).unwrap();
        let mut at = start();
        let mut earlier = Vec::new();
        for gap in &gaps {
            earlier.push(PetitionFacts {
                at,
                petitioner_key: Some("p".into()),
                matter_key: None,
                matter_region: region("370883107001"),
                received_region: region("370883107"),
                channel: PetitionChannel::Letter,
                head_count: 1,
            });
            at += Duration::days(*gap);
        }
        let new = PetitionFacts {
            at,
            petitioner_key: Some("p".into()),
            matter_key: None,
            matter_region: region("370883107001"),
            received_region: region("370883"),
            channel: PetitionChannel::Visit,
            head_count,
        };
        let narrow = compute_flags(&new, &earlier, window);
        let wide = compute_flags(&new, &earlier, window + extra);
        prop_assert!(!narrow.repeat || wide.repeat);
        prop_assert_eq!(narrow.group, head_count >= 5);
        // The town was tried first, so going to the county is not skipping a level.
        prop_assert!(!narrow.skip_level);
    }
}
