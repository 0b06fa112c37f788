//! The case lifecycle (`Case::apply`) tested from outside: table tests for the paths DESIGN.md §3 names,
//! and property tests over random sequences of (actor, command, time step) starting from a registered case.
//!
//! The expectations here (which status moves each command may make, which permission each command needs)
//! are written independently of `case.rs`, from DESIGN.md ("What the platform does" §3, the glossary, "Roles
//! and what they may do") and the doc comments; permissions are read through `Role::may` only, never by
//! listing roles.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};
use fengqiao_domain::access::{Permission, Role};
use fengqiao_domain::case::{
    Case, CaseActor, CaseError, CaseEvent, CaseKind, CaseLimits, Command, DeadlineAt,
    DeadlineRules, FollowUpOutcome, Limit, ReturnRuling, Status, Unit,
};
use fengqiao_domain::codes::{GridCode, RegionCode};
use proptest::prelude::*;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::{TestCaseError, TestRunner};

// ---------------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------------

/// Deadlines on a plain clock: working days and calendar days are 24 hours, working hours are hours.
struct PlainRules;

impl DeadlineRules for PlainRules {
    fn deadline(&self, start: DateTime<Utc>, limit: Limit) -> DeadlineAt {
        let at = match limit {
            Limit::WorkingDays(n) | Limit::CalendarDays(n) => start + Duration::days(i64::from(n)),
            Limit::WorkingHours(n) => start + Duration::hours(i64::from(n)),
        };
        DeadlineAt {
            at,
            provisional: false,
        }
    }
}

/// Like [`PlainRules`], but any deadline that lands in 2026 or later rests on a provisional year.
struct ProvisionalFrom2026;

impl DeadlineRules for ProvisionalFrom2026 {
    fn deadline(&self, start: DateTime<Utc>, limit: Limit) -> DeadlineAt {
        let plain = PlainRules.deadline(start, limit);
        DeadlineAt {
            provisional: plain.at
                >= Utc
                    .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                    .single()
                    .expect("date"),
            ..plain
        }
    }
}

/// A calendar with the weekends off: working days skip Saturdays and Sundays, both when a deadline is counted
/// and when the days a paused clock stood still are counted back (each day that ends on a weekday counts).
struct Weekdays;

fn is_workday(at: DateTime<Utc>) -> bool {
    !matches!(at.weekday(), Weekday::Sat | Weekday::Sun)
}

impl DeadlineRules for Weekdays {
    fn deadline(&self, start: DateTime<Utc>, limit: Limit) -> DeadlineAt {
        let Limit::WorkingDays(n) = limit else {
            return PlainRules.deadline(start, limit);
        };
        let mut at = start;
        let mut left = n;
        while left > 0 {
            at += Duration::days(1);
            if is_workday(at) {
                left -= 1;
            }
        }
        DeadlineAt {
            at,
            provisional: false,
        }
    }

    fn elapsed_working_days(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
        let mut days = 0;
        let mut day = from + Duration::days(1);
        while day <= to {
            if is_workday(day) {
                days += 1;
            }
            day += Duration::days(1);
        }
        days
    }
}

/// The town whose center owns new cases.
const OWNER: &str = "370883107";

/// Codes around the owner: ancestors, siblings, cousins, a child, in-between areas.
const REGION_POOL: &[&str] = &[
    "37",
    "3708",
    "370883",
    "370884",
    "370883107",
    "370883108",
    "370883107001",
    "370883107002",
    "370884101",
    "370883-A1",
    "370883107-B2",
];

/// The chain from the province down to a village through the owner, for steering escalation and delegation.
const CHAIN: &[&str] = &["37", "3708", "370883", "370883107", "370883107001"];

const GRID_A: &str = "370883107001001";
const GRID_B: &str = "370883107001002";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 1, 0, 0)
        .single()
        .expect("a valid instant")
}

fn region(code: &str) -> RegionCode {
    RegionCode::parse(code).expect("a valid region code")
}

fn grid(code: &str) -> Unit {
    Unit::Grid(GridCode::parse(code).expect("a valid grid code"))
}

fn dept(id: i64) -> Unit {
    Unit::Department(id)
}

fn unit_pool() -> Vec<Unit> {
    vec![dept(1), dept(2), dept(3), grid(GRID_A), grid(GRID_B)]
}

fn actor(user_id: i64, roles: &[Role], units: &[Unit]) -> CaseActor {
    CaseActor {
        user_id,
        roles: roles.to_vec(),
        units: units.to_vec(),
    }
}

fn clerk() -> CaseActor {
    actor(1, &[Role::IntakeClerk], &[])
}

fn dispatcher() -> CaseActor {
    actor(2, &[Role::Dispatcher], &[])
}

fn handler(user_id: i64, unit: Unit) -> CaseActor {
    actor(user_id, &[Role::Handler], &[unit])
}

fn leader() -> CaseActor {
    actor(9, &[Role::Leader], &[])
}

fn registered() -> Case {
    Case::register(CaseKind::Dispute, None, region(OWNER), t0())
}

fn s(text: &str) -> String {
    text.to_string()
}

fn accept() -> Command {
    Command::Accept {
        category: s("邻里纠纷"),
        limits: CaseLimits::default(),
    }
}

/// Acceptance into a category whose handling clock may be paused while waiting on the citizen.
fn accept_pausable() -> Command {
    Command::Accept {
        category: s("劳动保障"),
        limits: CaseLimits {
            pausable: true,
            ..CaseLimits::default()
        },
    }
}

fn dispatch(lead: Unit, assisting: &[Unit]) -> Command {
    Command::Dispatch {
        lead,
        assisting: assisting.to_vec(),
    }
}

fn hours(n: i64) -> Duration {
    Duration::hours(n)
}

fn ok(case: &Case, command: &Command, actor: &CaseActor, now: DateTime<Utc>) -> (Case, CaseEvent) {
    match case.apply(command, actor, now, &PlainRules) {
        Ok(done) => done,
        Err(e) => panic!(
            "{command:?} by {actor:?} on a {:?} case was refused: {e}",
            case.status
        ),
    }
}

fn refused(case: &Case, command: &Command, actor: &CaseActor, now: DateTime<Utc>) -> CaseError {
    match case.apply(command, actor, now, &PlainRules) {
        Ok((next, _)) => panic!(
            "{command:?} by {actor:?} on a {:?} case moved it to {:?}",
            case.status, next.status
        ),
        Err(e) => e,
    }
}

/// A case in a category whose clock may pause, accepted, dispatched to department 1 and claimed there by
/// handler 3, an hour a step from `start`.
fn drive_pausable_from(start: DateTime<Utc>, rules: &dyn DeadlineRules) -> (Case, DateTime<Utc>) {
    let mut case = Case::register(CaseKind::Request, None, region(OWNER), start);
    let mut now = start;
    for (command, who) in [
        (accept_pausable(), clerk()),
        (dispatch(dept(1), &[]), dispatcher()),
        (Command::Claim, handler(3, dept(1))),
    ] {
        now += hours(1);
        case = case.apply(&command, &who, now, rules).expect("applies").0;
    }
    assert_eq!(
        (case.status, case.claimed_by, case.limits.pausable),
        (Status::InProgress, Some(3), true)
    );
    (case, now)
}

/// Drives a fresh case along the happy path to `target` (any status but `Returned`, `Rejected`, `Merged`
/// is reached this way; those three have their own branches). Time advances an hour per step.
fn drive(target: Status) -> (Case, DateTime<Utc>) {
    let lead = dept(1);
    let path: Vec<(Command, CaseActor)> = vec![
        (accept(), clerk()),
        (dispatch(lead.clone(), &[dept(2)]), dispatcher()),
        (Command::Claim, handler(3, lead.clone())),
        (
            Command::Resolve {
                result: s("已调解，双方和解"),
            },
            handler(3, lead.clone()),
        ),
        (Command::ApproveReview, dispatcher()),
        (
            Command::FollowUp {
                outcome: FollowUpOutcome::Satisfied,
                note: s(""),
            },
            dispatcher(),
        ),
        (Command::Archive, dispatcher()),
    ];
    let branch: Option<(Status, Command, CaseActor)> = match target {
        Status::Rejected => Some((
            Status::Registered,
            Command::Reject {
                reason: s("不属于受理范围"),
                missing: vec![s("身份证明")],
            },
            clerk(),
        )),
        Status::Merged => Some((
            Status::Registered,
            Command::MergeInto {
                target_number: s("3708831072025030300001"),
            },
            clerk(),
        )),
        Status::Returned => Some((
            Status::InProgress,
            Command::Return {
                reason: s("不属于本单位职责"),
            },
            handler(3, lead),
        )),
        _ => None,
    };
    let mut case = registered();
    let mut now = t0();
    let stop = branch.as_ref().map_or(target, |(at, _, _)| *at);
    for (command, who) in &path {
        if case.status == stop {
            break;
        }
        now += hours(1);
        case = ok(&case, command, who, now).0;
    }
    if let Some((_, command, who)) = branch {
        now += hours(1);
        case = ok(&case, &command, &who, now).0;
    }
    assert_eq!(case.status, target, "drive({target:?})");
    (case, now)
}

// ---------------------------------------------------------------------------------------------------------
// The reference tables (independent of case.rs)
// ---------------------------------------------------------------------------------------------------------

/// Statuses in which a case is still being worked.
const OPEN: &[Status] = &[
    Status::Registered,
    Status::Accepted,
    Status::Dispatched,
    Status::InProgress,
    Status::Returned,
    Status::Resolved,
    Status::AwaitingFollowUp,
];

/// Every (from → to) move a command may make.
fn legal_moves(command: &Command) -> Vec<(Status, Status)> {
    use Status::*;
    let to = |from: &[Status], to: Status| from.iter().map(|f| (*f, to)).collect::<Vec<_>>();
    let stay = |states: &[Status]| states.iter().map(|f| (*f, *f)).collect::<Vec<_>>();
    match command {
        Command::Accept { .. } => to(&[Registered], Accepted),
        Command::Reject { .. } => to(&[Registered], Rejected),
        Command::HandleOnSpot { .. } => to(&[Accepted], AwaitingFollowUp),
        Command::Dispatch { .. } => to(&[Accepted], Dispatched),
        Command::Claim => to(&[Dispatched], InProgress),
        Command::Return { .. } => to(&[Dispatched, InProgress], Returned),
        // Upheld or redispatched, the case waits to be claimed again.
        Command::RuleOnReturn { .. } => to(&[Returned], Dispatched),
        Command::Reassign { .. } => to(&[Dispatched, InProgress, Returned], Dispatched),
        Command::RequestExtension { .. } | Command::DecideExtension { .. } => stay(&[InProgress]),
        // Escalated, the center above must dispatch again.
        Command::Escalate { .. } => to(&[Accepted, Dispatched, InProgress, Returned], Accepted),
        Command::Delegate { .. } => stay(&[Accepted]),
        Command::RecordAssistPart { .. } => stay(&[Dispatched, InProgress]),
        Command::Resolve { .. } => to(&[InProgress], Resolved),
        Command::ApproveReview => to(&[Resolved], AwaitingFollowUp),
        Command::SendBack { .. } => to(&[Resolved], InProgress),
        Command::FollowUp { .. } => to(&[AwaitingFollowUp], Closed),
        Command::Reopen { .. } => to(&[Closed, Archived, AwaitingFollowUp], Accepted),
        Command::Archive => to(&[Closed], Archived),
        Command::Supervise { .. } | Command::AssignLeader { .. } | Command::AddNote { .. } => {
            stay(OPEN)
        }
        Command::ChangeCategory { .. } => {
            stay(&[Accepted, Dispatched, InProgress, Returned, Resolved])
        }
        Command::MergeInto { .. } => to(&[Registered, Accepted], Merged),
        // The handling clock stands still only while the case is being handled.
        Command::PauseClock { .. } | Command::ResumeClock { .. } => stay(&[InProgress]),
        // The visitor hears back whatever stage the case is at, until it is final.
        Command::GiveFeedback { .. } => stay(OPEN),
    }
}

/// Commands that look at the state before the actor: given to a case in a state they do not start from,
/// they are refused for that state whoever gives them (a finished case answers with its state, not with
/// "someone else claimed it").
fn checks_state_first(command: &Command) -> bool {
    matches!(
        command,
        Command::Return { .. }
            | Command::RequestExtension { .. }
            | Command::Resolve { .. }
            | Command::PauseClock { .. }
            | Command::ResumeClock { .. }
    )
}

fn holds(actor: &CaseActor, permission: Permission) -> bool {
    actor.roles.iter().any(|role| role.may(permission))
}

/// A handler (by role) who acts for the case's lead unit.
fn is_lead_handler(case: &Case, actor: &CaseActor) -> bool {
    holds(actor, Permission::HandleCases)
        && case
            .lead
            .as_ref()
            .is_some_and(|unit| actor.units.contains(unit))
}

/// The lead unit's handler commands that the claimant carries once the case is claimed: returning,
/// asking for more time, resolving, pausing and resuming the clock, and escalating what the unit holds.
fn carried_by_the_claimant(command: &Command, case: &Case) -> bool {
    match command {
        Command::Return { .. }
        | Command::RequestExtension { .. }
        | Command::Resolve { .. }
        | Command::PauseClock { .. }
        | Command::ResumeClock { .. } => true,
        Command::Escalate { .. } => matches!(case.status, Status::Dispatched | Status::InProgress),
        _ => false,
    }
}

/// The actor is a handler of the lead unit, but a colleague claimed the case and carries the command (the
/// center may restart a paused clock whoever claimed the case).
fn claimed_by_another(command: &Command, case: &Case, actor: &CaseActor) -> bool {
    let center_resumes =
        matches!(command, Command::ResumeClock { .. }) && holds(actor, Permission::DispatchCases);
    carried_by_the_claimant(command, case)
        && !center_resumes
        && is_lead_handler(case, actor)
        && case.claimed_by.is_some_and(|user| user != actor.user_id)
}

/// Whether the actor may give the command to this case (roles through `Role::may`, units through the case,
/// and the claimant through `claimed_by`).
fn permitted(command: &Command, case: &Case, actor: &CaseActor) -> bool {
    use Permission::*;
    let acts_for = |unit: &Unit| actor.units.contains(unit);
    let lead_handler = is_lead_handler(case, actor);
    // Before the claim any handler of the lead unit; after it, the claimant alone.
    let carrier = lead_handler && case.claimed_by.is_none_or(|user| user == actor.user_id);
    match command {
        Command::Accept { .. } | Command::Reject { .. } | Command::HandleOnSpot { .. } => {
            holds(actor, AcceptCases)
        }
        Command::Dispatch { .. }
        | Command::RuleOnReturn { .. }
        | Command::Reassign { .. }
        | Command::DecideExtension { .. }
        | Command::ApproveReview
        | Command::SendBack { .. }
        | Command::FollowUp { .. }
        | Command::Archive
        | Command::Delegate { .. } => holds(actor, DispatchCases),
        Command::Claim => lead_handler,
        Command::Return { .. } | Command::Resolve { .. } | Command::RequestExtension { .. } => {
            carrier
        }
        // The handler escalates what their unit holds (the claimant, once claimed); the center escalates
        // what it has not sent out.
        Command::Escalate { .. } => match case.status {
            Status::Dispatched | Status::InProgress => carrier,
            _ => holds(actor, DispatchCases),
        },
        Command::RecordAssistPart { unit, .. } => {
            holds(actor, HandleCases)
                && acts_for(unit)
                && case.assisting.iter().any(|a| &a.unit == unit)
        }
        Command::Reopen { .. } => holds(actor, DispatchCases) || holds(actor, SuperviseCases),
        Command::Supervise { .. } => holds(actor, SuperviseCases),
        Command::AssignLeader { .. } => {
            holds(actor, SuperviseCases) || holds(actor, ReceivePetitioners)
        }
        Command::AddNote { .. } => {
            holds(actor, AcceptCases)
                || holds(actor, DispatchCases)
                || holds(actor, SuperviseCases)
                || (holds(actor, HandleCases)
                    && (case.lead.as_ref().is_some_and(acts_for)
                        || case.assisting.iter().any(|a| acts_for(&a.unit))))
        }
        Command::ChangeCategory { .. } | Command::MergeInto { .. } => {
            holds(actor, AcceptCases) || holds(actor, DispatchCases)
        }
        Command::PauseClock { .. } => carrier,
        // The center may restart a clock a handler left paused.
        Command::ResumeClock { .. } => holds(actor, DispatchCases) || carrier,
        // The window or the center, or the lead unit's handler, tells the visitor how it stands.
        Command::GiveFeedback { .. } => {
            holds(actor, AcceptCases)
                || holds(actor, DispatchCases)
                || (holds(actor, HandleCases) && case.lead.as_ref().is_some_and(acts_for))
        }
    }
}

fn is_final(status: Status) -> bool {
    !OPEN.contains(&status)
}

/// Whether a text field of 1..=`max` characters (after trimming) takes this value.
fn fits(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.trim().chars().count())
}

/// The first rule an assisting list breaks, in the order they are checked: the lead among the assisting
/// units, more than 20 of them, one unit listed twice.
fn assisting_problem(lead: &Unit, assisting: &[Unit]) -> Option<&'static str> {
    if assisting.contains(lead) {
        Some("same_unit")
    } else if assisting.len() > 20 {
        Some("range")
    } else if assisting
        .iter()
        .enumerate()
        .any(|(i, unit)| assisting[i + 1..].contains(unit))
    {
        Some("duplicate_unit")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------

fn any_unit() -> impl Strategy<Value = Unit> {
    proptest::sample::select(unit_pool())
}

fn any_region() -> impl Strategy<Value = RegionCode> {
    proptest::sample::select(REGION_POOL).prop_map(region)
}

fn any_actor() -> impl Strategy<Value = CaseActor> {
    (
        1i64..=5,
        proptest::sample::subsequence(Role::ALL.to_vec(), 1..=Role::ALL.len()),
        proptest::sample::subsequence(unit_pool(), 0..=3),
    )
        .prop_map(|(user_id, roles, units)| CaseActor {
            user_id,
            roles,
            units,
        })
}

/// Text for a field that takes 1..=`max` characters after trimming: mostly fine, sometimes empty, blank,
/// exactly at the limit, padded to the limit, or one over.
fn text_up_to(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z办理调解纠纷 ]{0,6}[a-z办理调解纠纷]",
        1 => Just(String::new()),
        1 => Just(s(" \t ")),
        1 => Just("理".repeat(max)),
        1 => Just(format!("  {}  ", "理".repeat(max))),
        1 => Just("理".repeat(max + 1)),
    ]
}

fn any_limit() -> impl Strategy<Value = Limit> {
    prop_oneof![
        (0u32..=10).prop_map(Limit::WorkingDays),
        (0u32..=24).prop_map(Limit::WorkingHours),
        (0u32..=60).prop_map(Limit::CalendarDays),
    ]
}

fn any_limits() -> impl Strategy<Value = CaseLimits> {
    (any_limit(), any_limit(), any_limit(), any::<bool>()).prop_map(
        |(response, handling, follow_up, pausable)| CaseLimits {
            response,
            handling,
            follow_up,
            pausable,
        },
    )
}

/// A lead unit and its assisting list: usually a few pool units (which may repeat or contain the lead),
/// sometimes too many (with the lead among them, or without it so that only the count is wrong).
fn any_assignment() -> impl Strategy<Value = (Unit, Vec<Unit>)> {
    any_unit().prop_flat_map(|lead| {
        let others: Vec<Unit> = unit_pool().into_iter().filter(|u| u != &lead).collect();
        let assisting = prop_oneof![
            6 => proptest::collection::vec(any_unit(), 0..=3),
            1 => proptest::collection::vec(any_unit(), 21..=22),
            1 => proptest::collection::vec(proptest::sample::select(others), 21..=22),
        ];
        (Just(lead), assisting)
    })
}

fn any_working_days() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 1u32..=60, 1 => Just(0u32), 1 => 61u32..=400, 1 => Just(u32::MAX)]
}

fn any_missing() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        6 => proptest::collection::vec("[a-z证明材料]{0,8}", 0..=3),
        1 => Just(vec![s("材料"); 31]),
        1 => Just(vec!["料".repeat(201)]),
    ]
}

fn any_outcome() -> impl Strategy<Value = FollowUpOutcome> {
    proptest::sample::select(FollowUpOutcome::ALL)
}

/// Every `Command` variant, with valid and invalid fields. `Supervise.due` is a placeholder: the step's
/// `due_offset_secs` places it relative to the time the command is given.
fn any_command() -> impl Strategy<Value = Command> {
    let arms: Vec<BoxedStrategy<Command>> = vec![
        (text_up_to(64), any_limits()).prop_map(|(category, limits)| Command::Accept { category, limits }).boxed(),
        (text_up_to(500), any_missing()).prop_map(|(reason, missing)| Command::Reject { reason, missing }).boxed(),
        text_up_to(2000).prop_map(|result| Command::HandleOnSpot { result }).boxed(),
        any_assignment().prop_map(|(lead, assisting)| Command::Dispatch { lead, assisting }).boxed(),
        Just(Command::Claim).boxed(),
        text_up_to(500).prop_map(|reason| Command::Return { reason }).boxed(),
        (
            prop_oneof![
                Just(ReturnRuling::Uphold),
                any_assignment().prop_map(|(lead, assisting)| ReturnRuling::Redispatch { lead, assisting }),
            ],
            text_up_to(500),
        )
            .prop_map(|(ruling, note)| Command::RuleOnReturn { ruling, note })
            .boxed(),
        (any_assignment(), text_up_to(500))
            .prop_map(|((lead, assisting), reason)| Command::Reassign { lead, assisting, reason })
            .boxed(),
        (any_working_days(), text_up_to(500))
            .prop_map(|(working_days, reason)| Command::RequestExtension { working_days, reason })
            .boxed(),
        (any::<bool>(), prop_oneof![Just(String::new()), text_up_to(500)])
            .prop_map(|(approve, note)| Command::DecideExtension { approve, note })
            .boxed(),
        (any_region(), text_up_to(500)).prop_map(|(to_region, reason)| Command::Escalate { to_region, reason }).boxed(),
        (any_region(), text_up_to(500)).prop_map(|(to_region, reason)| Command::Delegate { to_region, reason }).boxed(),
        (any_unit(), text_up_to(2000)).prop_map(|(unit, part)| Command::RecordAssistPart { unit, part }).boxed(),
        text_up_to(4000).prop_map(|result| Command::Resolve { result }).boxed(),
        Just(Command::ApproveReview).boxed(),
        text_up_to(500).prop_map(|reason| Command::SendBack { reason }).boxed(),
        (
            any_outcome(),
            prop_oneof![4 => "[a-z满意 ]{0,8}", 1 => Just("意".repeat(2000)), 1 => Just("意".repeat(2001))],
        )
            .prop_map(|(outcome, note)| Command::FollowUp { outcome, note })
            .boxed(),
        text_up_to(500).prop_map(|reason| Command::Reopen { reason }).boxed(),
        Just(Command::Archive).boxed(),
        text_up_to(2000).prop_map(|note| Command::Supervise { due: t0(), note }).boxed(),
        (-2i64..=12).prop_map(|leader_user_id| Command::AssignLeader { leader_user_id }).boxed(),
        text_up_to(4000).prop_map(|text| Command::AddNote { text }).boxed(),
        (text_up_to(64), text_up_to(500))
            .prop_map(|(category, reason)| Command::ChangeCategory { category, reason })
            .boxed(),
        text_up_to(64).prop_map(|target_number| Command::MergeInto { target_number }).boxed(),
        text_up_to(500).prop_map(|reason| Command::PauseClock { reason }).boxed(),
        // The note may be empty or blank; it is counted as given, untrimmed.
        prop_oneof![1 => Just(String::new()), 4 => text_up_to(500)]
            .prop_map(|note| Command::ResumeClock { note })
            .boxed(),
        text_up_to(2000).prop_map(|note| Command::GiveFeedback { note }).boxed(),
    ];
    Union::new(arms)
}

/// How a step picks its command: as generated, or steered toward something that fits the case's status.
#[derive(Debug, Clone, Copy)]
struct Steer {
    /// Which of the fitting commands (and which fitting role) to take.
    pick: usize,
    /// Give the steered command with the step's random actor instead of a fitting one.
    own_actor: bool,
}

#[derive(Debug, Clone)]
struct Step {
    actor: CaseActor,
    command: Command,
    dt_secs: i64,
    due_offset_secs: i64,
    steer: Option<Steer>,
}

fn any_step() -> impl Strategy<Value = Step> {
    (
        any_actor(),
        any_command(),
        prop_oneof![2 => Just(0i64), 3 => 1i64..=3_600, 2 => 3_600i64..=3 * 86_400],
        prop_oneof![Just(0i64), -86_400i64..0, 1i64..=30 * 86_400],
        prop_oneof![
            2 => Just(None),
            3 => (any::<usize>(), proptest::bool::weighted(0.2)).prop_map(|(pick, own_actor)| Some(Steer { pick, own_actor })),
        ],
    )
        .prop_map(|(actor, command, dt_secs, due_offset_secs, steer)| Step { actor, command, dt_secs, due_offset_secs, steer })
}

fn any_steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(any_step(), 1..=40)
}

/// A fresh case of any kind, registered at a time in 2025; about half of them owe the visitor feedback (the
/// application sets that deadline at registration for walk-ins), now and then on a provisional year.
fn any_start() -> impl Strategy<Value = Case> {
    (
        proptest::sample::select(CaseKind::ALL),
        0i64..=300 * 86_400,
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(kind, offset, feedback)| {
            let created = t0() + Duration::seconds(offset);
            let mut case = Case::register(kind, None, region(OWNER), created);
            case.deadlines.feedback = feedback.map(|provisional| DeadlineAt {
                at: created + Duration::days(2),
                provisional,
            });
            case
        })
}

/// What a steered command needs of its actor.
struct Need {
    permission: Permission,
    unit: Option<Unit>,
    /// The one user who may give it: the claimant, for the commands a claimed case's claimant carries.
    user: Option<i64>,
}

fn needs(permission: Permission) -> Need {
    Need {
        permission,
        unit: None,
        user: None,
    }
}

fn needs_unit(unit: Option<Unit>) -> Need {
    Need {
        permission: Permission::HandleCases,
        unit,
        user: None,
    }
}

/// A handler of the lead unit, and once the case is claimed, the claimant.
fn needs_claimant(case: &Case) -> Need {
    Need {
        user: case.claimed_by,
        ..needs_unit(case.lead.clone())
    }
}

/// A command that fits the case's status (valid fields, valid targets), and what its actor needs.
fn steered(case: &Case, pick: usize) -> (Command, Need) {
    use Permission::*;
    let pool = unit_pool();
    let lead = case.lead.clone();
    let other = pool[pick % pool.len()].clone();
    let second = pool[(pick / 7 + 1 + pick % pool.len()) % pool.len()].clone();
    let assisting: Vec<Unit> = if pick.is_multiple_of(3) || second == other {
        vec![]
    } else {
        vec![second]
    };
    let first_assist = case.assisting.first().map(|a| a.unit.clone());
    // Escalation goes to the center directly above; now and then the steering aims one level higher still
    // (refused: level by level only). With nothing above, a neighbour (refused too).
    let above = case.owner_region.parent_statistical();
    let parent = match above {
        Some(parent) if (pick >> 16).is_multiple_of(6) => parent
            .parent_statistical()
            .unwrap_or_else(|| region("370884")),
        Some(parent) => parent,
        None => region("370884"),
    };
    let child = CHAIN
        .iter()
        .map(|c| region(c))
        .find(|c| c.parent_statistical().as_ref() == Some(&case.owner_region))
        .unwrap_or_else(|| region("370884101"));
    let escalate = Command::Escalate {
        to_region: parent,
        reason: s("超出本级处置能力"),
    };
    let escalate_need = match case.status {
        Status::Dispatched | Status::InProgress => needs_claimant(case),
        _ => needs(DispatchCases),
    };
    // The visitor is owed feedback: now and then it is given, at the window or by the lead unit (or
    // tried by an assisting unit, which may not).
    if case.deadlines.feedback.is_some() && case.status.is_open() && (pick >> 27).is_multiple_of(8)
    {
        let need = match (pick >> 30) % 5 {
            0 | 1 => needs(AcceptCases),
            2 | 3 => needs_unit(lead),
            _ => needs_unit(case.assisting.first().map(|a| a.unit.clone())),
        };
        let feedback = Command::GiveFeedback {
            note: s("已电话告知办理进展"),
        };
        return (feedback, need);
    }
    // A paused clock is restarted by the claimant, or now and then by the center.
    let resume_need = if (pick >> 23).is_multiple_of(3) {
        needs(DispatchCases)
    } else {
        needs_claimant(case)
    };
    let mut options: Vec<(Command, Need)> = match case.status {
        Status::Registered => vec![
            (accept(), needs(AcceptCases)),
            (
                Command::Accept {
                    category: s("劳动争议"),
                    limits: CaseLimits {
                        response: Limit::WorkingHours((pick % 8) as u32),
                        handling: Limit::WorkingDays((pick % 15) as u32),
                        follow_up: Limit::CalendarDays((pick % 5) as u32),
                        pausable: !(pick >> 20).is_multiple_of(2),
                    },
                },
                needs(AcceptCases),
            ),
            (accept_pausable(), needs(AcceptCases)),
            (accept(), needs(AcceptCases)),
            (accept_pausable(), needs(AcceptCases)),
            (accept(), needs(AcceptCases)),
            (
                Command::Reject {
                    reason: s("材料不全"),
                    missing: vec![s("身份证明")],
                },
                needs(AcceptCases),
            ),
            (
                Command::MergeInto {
                    target_number: s("3708831072025030300007"),
                },
                needs(DispatchCases),
            ),
        ],
        Status::Accepted => vec![
            (
                Command::Dispatch {
                    lead: other.clone(),
                    assisting: assisting.clone(),
                },
                needs(DispatchCases),
            ),
            (
                Command::Dispatch {
                    lead: other.clone(),
                    assisting: assisting.clone(),
                },
                needs(DispatchCases),
            ),
            (
                Command::Dispatch {
                    lead: other.clone(),
                    assisting: assisting.clone(),
                },
                needs(DispatchCases),
            ),
            (
                Command::HandleOnSpot {
                    result: s("当场答复"),
                },
                needs(AcceptCases),
            ),
            (escalate, escalate_need),
            (
                Command::Delegate {
                    to_region: child,
                    reason: s("属地办理"),
                },
                needs(DispatchCases),
            ),
            (
                Command::ChangeCategory {
                    category: s("物业纠纷"),
                    reason: s("研判更正"),
                },
                needs(AcceptCases),
            ),
        ],
        Status::Dispatched => vec![
            (Command::Claim, needs_unit(lead.clone())),
            (Command::Claim, needs_unit(lead.clone())),
            (Command::Claim, needs_unit(lead.clone())),
            (
                Command::Return {
                    reason: s("不属于本单位职责"),
                },
                needs_claimant(case),
            ),
            (
                Command::Reassign {
                    lead: other.clone(),
                    assisting: assisting.clone(),
                    reason: s("改派"),
                },
                needs(DispatchCases),
            ),
            (
                Command::RecordAssistPart {
                    unit: first_assist.clone().unwrap_or(other.clone()),
                    part: s("已配合走访"),
                },
                needs_unit(first_assist.clone()),
            ),
            (escalate, escalate_need),
        ],
        Status::InProgress => {
            // Where the category allows it, the clock is often paused; a paused case mostly waits (a note,
            // a second pause) so that days pass before the clock is restarted.
            match (case.paused_at, (pick >> 21) % 4) {
                (Some(_), 0) => {
                    // The note counts as given: 500 characters with blanks around them is too long.
                    let note = match (pick >> 32) % 8 {
                        0 => "理".repeat(500),
                        1 => format!(" {} ", "理".repeat(500)),
                        _ => s("材料已补齐"),
                    };
                    return (Command::ResumeClock { note }, resume_need);
                }
                (Some(_), 1) => {
                    let note = Command::AddNote {
                        text: s("仍在等待当事人"),
                    };
                    return (note, needs_unit(lead));
                }
                (Some(_), 2) => {
                    let pause = Command::PauseClock {
                        reason: s("继续等待"),
                    };
                    return (pause, needs_claimant(case));
                }
                (None, 1 | 3) if case.limits.pausable => {
                    let pause = Command::PauseClock {
                        reason: s("等待当事人提供证明"),
                    };
                    return (pause, needs_claimant(case));
                }
                _ => {}
            }
            let options = vec![
                (
                    Command::PauseClock {
                        reason: s("等待当事人补充材料"),
                    },
                    needs_claimant(case),
                ),
                (Command::ResumeClock { note: s("") }, resume_need),
                (
                    Command::Resolve {
                        result: s("已办结"),
                    },
                    needs_claimant(case),
                ),
                (
                    Command::Resolve {
                        result: s("已办结"),
                    },
                    needs_claimant(case),
                ),
                (
                    Command::Return {
                        reason: s("不属于本单位职责"),
                    },
                    needs_claimant(case),
                ),
                (
                    Command::Reassign {
                        lead: other.clone(),
                        assisting: assisting.clone(),
                        reason: s("改派"),
                    },
                    needs(DispatchCases),
                ),
                (escalate, escalate_need),
                (
                    Command::RecordAssistPart {
                        unit: first_assist.clone().unwrap_or(other.clone()),
                        part: s("已配合调解"),
                    },
                    needs_unit(first_assist),
                ),
                (
                    Command::RequestExtension {
                        working_days: (pick % 10 + 1) as u32,
                        reason: s("需要现场勘验"),
                    },
                    needs_claimant(case),
                ),
                // Sometimes out of range (0, 61..=69).
                (
                    Command::RequestExtension {
                        working_days: (pick % 70) as u32,
                        reason: s("需要鉴定"),
                    },
                    needs_claimant(case),
                ),
                (
                    Command::DecideExtension {
                        approve: pick.is_multiple_of(2),
                        note: s(""),
                    },
                    needs(DispatchCases),
                ),
            ];
            if case.pending_extension.is_some() {
                // A pending request is usually decided next; sometimes asked for again.
                match pick % 5 {
                    0 => {
                        let again = Command::RequestExtension {
                            working_days: 2,
                            reason: s("再次申请"),
                        };
                        return (again, needs_claimant(case));
                    }
                    1..=3 => {
                        let decide = Command::DecideExtension {
                            approve: pick % 5 != 3,
                            note: s("同意"),
                        };
                        return (decide, needs(DispatchCases));
                    }
                    _ => {}
                }
            }
            options
        }
        Status::Returned => vec![
            (
                Command::RuleOnReturn {
                    ruling: ReturnRuling::Uphold,
                    note: s("属于本单位职责"),
                },
                needs(DispatchCases),
            ),
            (
                Command::RuleOnReturn {
                    ruling: ReturnRuling::Redispatch {
                        lead: other.clone(),
                        assisting: assisting.clone(),
                    },
                    note: s("退回成立"),
                },
                needs(DispatchCases),
            ),
            (
                Command::Reassign {
                    lead: other,
                    assisting,
                    reason: s("改派"),
                },
                needs(DispatchCases),
            ),
            (escalate, escalate_need),
        ],
        Status::Resolved => vec![
            (Command::ApproveReview, needs(DispatchCases)),
            (Command::ApproveReview, needs(DispatchCases)),
            (
                Command::SendBack {
                    reason: s("办理不到位"),
                },
                needs(DispatchCases),
            ),
        ],
        Status::AwaitingFollowUp => vec![
            (
                Command::FollowUp {
                    outcome: FollowUpOutcome::ALL[pick % FollowUpOutcome::ALL.len()],
                    note: s("电话回访"),
                },
                needs(DispatchCases),
            ),
            (
                Command::FollowUp {
                    outcome: FollowUpOutcome::Satisfied,
                    note: s(""),
                },
                needs(DispatchCases),
            ),
            (
                Command::Reopen {
                    reason: s("群众不满意"),
                },
                needs(DispatchCases),
            ),
        ],
        Status::Closed => vec![
            (Command::Archive, needs(DispatchCases)),
            (Command::Archive, needs(DispatchCases)),
            (
                Command::Reopen {
                    reason: s("群众再次反映"),
                },
                needs(SuperviseCases),
            ),
        ],
        Status::Archived => vec![(
            Command::Reopen {
                reason: s("上级督办重办"),
            },
            needs(DispatchCases),
        )],
        Status::Rejected | Status::Merged => vec![],
    };
    options.extend([
        (
            Command::AddNote {
                text: s("已电话联系当事人"),
            },
            needs(AcceptCases),
        ),
        (
            Command::Supervise {
                due: t0(),
                note: s("限期办结"),
            },
            needs(SuperviseCases),
        ),
        (
            Command::AssignLeader { leader_user_id: 9 },
            needs(ReceivePetitioners),
        ),
        (
            Command::GiveFeedback {
                note: s("已当面答复"),
            },
            needs(AcceptCases),
        ),
    ]);
    // The everyday commands come first and are favoured; the four extras are rarer.
    let lifecycle = options.len() - 4;
    let index = if lifecycle > 0 && !pick.is_multiple_of(8) {
        (pick / 8) % lifecycle
    } else {
        (pick / 8) % options.len()
    };
    options.swap_remove(index)
}

/// Someone who holds the permission (a role chosen among those that carry it) and acts for the unit: the
/// user the command needs if it needs one (the claimant), save one time in eight, when a colleague of the
/// same unit gives it in the claimant's stead.
fn fitting_actor(user_id: i64, need: Need, pick: usize) -> CaseActor {
    let roles: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|role| role.may(need.permission))
        .collect();
    let role = roles[(pick / 64) % roles.len()];
    let user_id = match need.user {
        Some(claimant) if (pick >> 24).is_multiple_of(8) => {
            if claimant == 1 {
                2
            } else {
                1
            }
        }
        Some(claimant) => claimant,
        None => user_id,
    };
    CaseActor {
        user_id,
        roles: vec![role],
        units: need.unit.into_iter().collect(),
    }
}

fn with_due(command: Command, now: DateTime<Utc>, offset: i64) -> Command {
    match command {
        Command::Supervise { note, .. } => Command::Supervise {
            due: now + Duration::seconds(offset),
            note,
        },
        other => other,
    }
}

fn materialise(step: &Step, case: &Case, now: DateTime<Utc>) -> (CaseActor, Command) {
    let (actor, command) = match step.steer {
        Some(steer) => {
            let (command, need) = steered(case, steer.pick);
            let actor = if steer.own_actor {
                step.actor.clone()
            } else {
                fitting_actor(step.actor.user_id, need, steer.pick)
            };
            (actor, command)
        }
        None => (step.actor.clone(), step.command.clone()),
    };
    (actor, with_due(command, now, step.due_offset_secs))
}

// ---------------------------------------------------------------------------------------------------------
// Running a sequence
// ---------------------------------------------------------------------------------------------------------

/// One command given to a case, and what came of it.
struct Applied<'a> {
    before: &'a Case,
    actor: &'a CaseActor,
    command: &'a Command,
    now: DateTime<Utc>,
    result: &'a Result<(Case, CaseEvent), CaseError>,
}

/// Applies the steps in turn from `start`, keeping the new case after each success and the old one after
/// each refusal, and calls `check` after every step. Returns the last case.
fn run(
    start: Case,
    steps: &[Step],
    mut check: impl FnMut(&Applied<'_>) -> Result<(), TestCaseError>,
) -> Result<Case, TestCaseError> {
    let mut case = start;
    let mut now = case.created_at;
    for step in steps {
        now += Duration::seconds(step.dt_secs);
        let (actor, command) = materialise(step, &case, now);
        let result = case.apply(&command, &actor, now, &PlainRules);
        check(&Applied {
            before: &case,
            actor: &actor,
            command: &command,
            now,
            result: &result,
        })?;
        if let Ok((next, _)) = result {
            case = next;
        }
    }
    Ok(case)
}

// ---------------------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------------------

/// Property 1: a success makes a move in the table; a refusal for the state happens only outside the table's
/// starting states, and outside them a command that checks the state first is refused for the state whoever
/// gives it; `apply` is a pure function of its inputs and leaves the case it was given alone.
fn check_legal_transition(step: &Applied<'_>) -> Result<(), TestCaseError> {
    let kept = step.before.clone();
    let again = step
        .before
        .apply(step.command, step.actor, step.now, &PlainRules);
    prop_assert_eq!(
        &again,
        step.result,
        "the same command on the same case gave another result"
    );
    prop_assert_eq!(&kept, step.before, "apply changed the case it was given");
    let moves = legal_moves(step.command);
    let from_states: BTreeSet<&str> = moves.iter().map(|(from, _)| from.as_str()).collect();
    if checks_state_first(step.command) && !from_states.contains(step.before.status.as_str()) {
        prop_assert_eq!(
            step.result.as_ref().err(),
            Some(&CaseError::IllegalInState {
                action: step.command.event_name(),
                status: step.before.status,
            }),
            "{} by {:?} on a {:?} case claimed by {:?} was not refused for the state",
            step.command.event_name(),
            step.actor,
            step.before.status,
            step.before.claimed_by
        );
    }
    match step.result {
        Ok((next, _)) => prop_assert!(
            moves.contains(&(step.before.status, next.status)),
            "{} moved a case {:?} -> {:?}, not in the table",
            step.command.event_name(),
            step.before.status,
            next.status
        ),
        Err(CaseError::IllegalInState { action, status }) => {
            prop_assert_eq!(*status, step.before.status);
            prop_assert_eq!(*action, step.command.event_name());
            prop_assert!(
                !from_states.contains(status.as_str()),
                "{} was refused as illegal in {:?}, which the table allows",
                action,
                status
            );
        }
        Err(_) => {}
    }
    Ok(())
}

/// Property 2: each success returns one event describing exactly that move.
fn check_event(step: &Applied<'_>) -> Result<(), TestCaseError> {
    if let Ok((next, event)) = step.result {
        prop_assert_eq!(event.from, step.before.status);
        prop_assert_eq!(event.to, next.status);
        prop_assert_eq!(event.name, step.command.event_name());
        prop_assert_eq!(event.actor_user_id, step.actor.user_id);
        prop_assert_eq!(event.at, step.now);
        let detail =
            serde_json::to_value(step.command).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(
            &event.detail,
            &detail,
            "the event's detail is the command as given"
        );
    }
    Ok(())
}

/// Property 3: a closed, archived, rejected or merged case only moves by Reopen (closed/archived) or Archive
/// (closed).
fn check_final_immutable(step: &Applied<'_>) -> Result<(), TestCaseError> {
    let status = step.before.status;
    if is_final(status) {
        let may = match step.command {
            Command::Reopen { .. } => matches!(status, Status::Closed | Status::Archived),
            Command::Archive => status == Status::Closed,
            _ => false,
        };
        if !may {
            prop_assert!(
                step.result.is_err(),
                "{} succeeded on a {:?} case",
                step.command.event_name(),
                status
            );
        }
    }
    Ok(())
}

/// Whether the step is a success that restarts a paused clock, which gives back the days it stood still:
/// `ResumeClock`, or any command that takes a paused case out of `InProgress` (resolving, returning,
/// reassigning, escalating it).
fn restarts_clock(step: &Applied<'_>) -> bool {
    match step.result {
        Ok((next, _)) => {
            step.before.paused_at.is_some()
                && (matches!(step.command, Command::ResumeClock { .. })
                    || next.status != Status::InProgress)
        }
        Err(_) => false,
    }
}

/// Property 4: deadlines and milestones never precede creation; a deadline set now is not before now (an
/// approved extension, or restarting a clock that stood still for days, by resuming it or by taking the
/// paused case out of `InProgress`, moves the handling deadline later than it was); a milestone set now is
/// now (pausing the clock is one).
fn check_times(step: &Applied<'_>) -> Result<(), TestCaseError> {
    let Ok((next, _)) = step.result else {
        return Ok(());
    };
    let created = next.created_at;
    prop_assert_eq!(created, step.before.created_at, "created_at changed");
    let d = next.deadlines;
    let b = step.before.deadlines;
    for (name, now_set, was) in [
        ("response", d.response, b.response),
        ("handling", d.handling, b.handling),
        ("follow_up", d.follow_up, b.follow_up),
        ("feedback", d.feedback, b.feedback),
    ] {
        let Some(deadline) = now_set else { continue };
        prop_assert!(
            deadline.at >= created,
            "{} deadline {} before creation {}",
            name,
            deadline.at,
            created
        );
        if now_set != was {
            let extension = name == "handling"
                && (matches!(step.command, Command::DecideExtension { approve: true, .. })
                    || restarts_clock(step));
            match (extension, was) {
                (true, Some(old)) => prop_assert!(
                    deadline.at > old.at,
                    "{} did not move the deadline later",
                    step.command.event_name()
                ),
                _ => prop_assert!(
                    deadline.at >= step.now,
                    "{} deadline {} set at {}",
                    name,
                    deadline.at,
                    step.now
                ),
            }
        }
    }
    let milestones = [
        ("accepted_at", next.accepted_at, step.before.accepted_at),
        (
            "dispatched_at",
            next.dispatched_at,
            step.before.dispatched_at,
        ),
        ("claimed_at", next.claimed_at, step.before.claimed_at),
        ("resolved_at", next.resolved_at, step.before.resolved_at),
        ("closed_at", next.closed_at, step.before.closed_at),
        ("paused_at", next.paused_at, step.before.paused_at),
    ];
    for (name, at, was) in milestones {
        let Some(at) = at else { continue };
        prop_assert!(at >= created, "{} {} before creation {}", name, at, created);
        prop_assert!(at <= step.now, "{} {} after now {}", name, at, step.now);
        if Some(at) != was {
            prop_assert_eq!(at, step.now, "{} set to another time than now", name);
        }
    }
    Ok(())
}

/// Property 5: a success means the actor may; a refusal for lack of rights means the actor may not, and it
/// blames the claim exactly when a colleague of the lead unit claimed the case.
fn check_permission(step: &Applied<'_>) -> Result<(), TestCaseError> {
    let may = permitted(step.command, step.before, step.actor);
    match step.result {
        Ok(_) => prop_assert!(
            may,
            "{} succeeded for {:?} on a {:?} case led by {:?}",
            step.command.event_name(),
            step.actor,
            step.before.status,
            step.before.lead
        ),
        Err(CaseError::NotAllowed { action, why }) => {
            prop_assert_eq!(*action, step.command.event_name());
            prop_assert!(
                !may,
                "{} refused as not allowed for {:?}, who may",
                action,
                step.actor
            );
            let another = claimed_by_another(step.command, step.before, step.actor);
            prop_assert_eq!(
                *why == "not_claimed_by_you",
                another,
                "{} refused for {} to {:?} on a {:?} case claimed by {:?}",
                action,
                why,
                step.actor,
                step.before.status,
                step.before.claimed_by
            );
        }
        Err(_) => {}
    }
    Ok(())
}

/// Invariants that tie the fields to the status.
fn check_shape(step: &Applied<'_>) -> Result<(), TestCaseError> {
    use Status::*;
    let Ok((case, _)) = step.result else {
        return Ok(());
    };
    let st = case.status;
    if matches!(st, Registered | Accepted) {
        prop_assert!(
            case.lead.is_none() && case.assisting.is_empty(),
            "{:?} case with units",
            st
        );
    }
    if matches!(st, Dispatched | InProgress | Returned | Resolved) {
        prop_assert!(case.lead.is_some(), "{:?} case without a lead unit", st);
    }
    if matches!(st, Registered | Accepted | Dispatched | Returned) {
        prop_assert!(case.claimed_by.is_none(), "{:?} case claimed", st);
    }
    if matches!(st, InProgress | Resolved) {
        prop_assert!(case.claimed_by.is_some(), "{:?} case not claimed", st);
    }
    if case.pending_extension.is_some() {
        prop_assert_eq!(st, InProgress, "a pending extension outside in_progress");
    }
    if let Some(lead) = &case.lead {
        prop_assert!(
            !case.assisting.iter().any(|a| &a.unit == lead),
            "the lead unit also assists"
        );
    }
    for (i, assist) in case.assisting.iter().enumerate() {
        prop_assert!(
            !case.assisting[..i].iter().any(|a| a.unit == assist.unit),
            "{:?} assists twice",
            assist.unit
        );
    }
    prop_assert_eq!(case.merged_into.is_some(), st == Merged);
    prop_assert_eq!(case.follow_up.is_some(), matches!(st, Closed | Archived));
    prop_assert_eq!(
        case.closed_at.is_some(),
        is_final(st),
        "closed_at on a {:?} case",
        st
    );
    prop_assert_eq!(
        case.resolved_at.is_some(),
        matches!(st, Resolved | AwaitingFollowUp | Closed | Archived)
    );
    prop_assert_eq!(
        case.deadlines.handling.is_some(),
        !matches!(st, Registered | Rejected | Merged)
    );
    // The clock stands still only while the case is in progress, in a category that allows it, and not
    // before the claim.
    if let Some(paused_at) = case.paused_at {
        prop_assert_eq!(st, InProgress, "the clock paused on a {:?} case", st);
        prop_assert!(
            case.limits.pausable,
            "the clock paused in a category that does not allow it"
        );
        prop_assert!(
            case.claimed_at.is_some_and(|claimed| claimed <= paused_at),
            "paused at {} before the claim {:?}",
            paused_at,
            case.claimed_at
        );
    }
    // A final case owes the visitor no feedback: rejecting and merging drop it, closing (the follow-up with
    // the citizen) makes it moot, and an archived case was closed first.
    if is_final(st) {
        prop_assert_eq!(
            case.deadlines.feedback,
            None,
            "feedback still due on a {:?} case",
            st
        );
    }
    Ok(())
}

/// Pausing, resuming and feedback, step by step: only `PauseClock` stops the clock (at now, on a pausable
/// in-progress case that is not paused) and only `ResumeClock` or leaving `InProgress` restarts it; either
/// way, restarting moves the handling deadline by the whole days it stood still (on this calendar a working
/// day is a day) and counts them as extended. The extended days change only by that, by an approved
/// extension (its days) and by acceptance and reopening (back to none). The feedback deadline is never set
/// by a command; it is cleared only by `GiveFeedback` (when due, on an open case), by rejecting and merging
/// (which reset all deadlines) and by the case reaching `Closed` or `Archived`; reopening keeps what is
/// still owed. Each text rule holds; and on this calendar, recomputing the deadlines from their starts
/// gives the deadlines the case carries.
fn check_clock_and_feedback(step: &Applied<'_>) -> Result<(), TestCaseError> {
    let before = step.before;
    match (step.command, step.result) {
        (Command::PauseClock { reason }, Ok(_)) => {
            prop_assert!(fits(reason, 500), "paused with the reason {:?}", reason)
        }
        (Command::GiveFeedback { note }, Ok(_)) => {
            prop_assert!(fits(note, 2000), "feedback with the note {:?}", note)
        }
        (Command::ResumeClock { note }, Ok(_)) => prop_assert!(
            note.chars().count() <= 500,
            "resumed with a note of {} characters",
            note.chars().count()
        ),
        (Command::ResumeClock { note }, Err(CaseError::Invalid { field: "note", why })) => {
            prop_assert_eq!(*why, "too_long");
            prop_assert!(
                note.chars().count() > 500,
                "a note of {} characters refused",
                note.chars().count()
            );
        }
        (
            Command::PauseClock { .. },
            Err(CaseError::Invalid {
                field: "action",
                why,
            }),
        ) => {
            let expected = if before.limits.pausable {
                "already_paused"
            } else {
                "not_pausable"
            };
            prop_assert_eq!(*why, expected);
            prop_assert_eq!(*why == "already_paused", before.paused_at.is_some());
        }
        (
            Command::ResumeClock { .. },
            Err(CaseError::Invalid {
                field: "action",
                why,
            }),
        ) => {
            prop_assert_eq!(*why, "not_paused");
            prop_assert_eq!(before.paused_at, None);
        }
        (
            Command::GiveFeedback { .. },
            Err(CaseError::Invalid {
                field: "action",
                why,
            }),
        ) => {
            prop_assert_eq!(*why, "no_feedback_due");
            prop_assert_eq!(before.deadlines.feedback, None);
        }
        (Command::GiveFeedback { .. }, Err(CaseError::NotAllowed { why, .. })) => {
            prop_assert_eq!(*why, "not_your_unit")
        }
        _ => {}
    }
    let Ok((next, _)) = step.result else {
        return Ok(());
    };
    let (was, now_due) = (before.deadlines, next.deadlines);
    match step.command {
        Command::PauseClock { .. } => {
            prop_assert_eq!(before.status, Status::InProgress);
            prop_assert!(before.limits.pausable, "paused a clock that may not pause");
            prop_assert_eq!(before.paused_at, None, "paused a paused clock");
            prop_assert_eq!(next.paused_at, Some(step.now));
            prop_assert_eq!(now_due, was, "pausing changed a deadline");
            prop_assert_eq!(next.extended_working_days, before.extended_working_days);
        }
        Command::ResumeClock { .. } => {
            prop_assert!(
                before.paused_at.is_some(),
                "resumed a clock that was not paused"
            );
            prop_assert_eq!(
                (now_due.response, now_due.follow_up, now_due.feedback),
                (was.response, was.follow_up, was.feedback)
            );
        }
        _ => {
            let kept = if next.status == Status::InProgress {
                before.paused_at
            } else {
                None
            };
            prop_assert_eq!(
                next.paused_at,
                kept,
                "{} moved a case {:?} -> {:?} and left the clock paused at {:?}",
                step.command.event_name(),
                before.status,
                next.status,
                next.paused_at
            );
        }
    }
    // Restarting the clock, by resuming it or by taking the case out of `InProgress`, gives back the whole
    // days it stood still: the handling deadline moves by them (its provisional flag kept) and they count as
    // extended.
    let mut extended = before.extended_working_days;
    if let (true, Some(paused_at)) = (restarts_clock(step), before.paused_at) {
        prop_assert_eq!(
            next.paused_at,
            None,
            "still paused after the clock restarted"
        );
        let stood = u32::try_from((step.now - paused_at).num_days())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let moved = was.handling.map(|d| DeadlineAt {
            at: d.at + Duration::days(i64::from(stood)),
            ..d
        });
        prop_assert_eq!(
            now_due.handling,
            moved,
            "paused at {}, restarted at {} by {} ({:?} -> {:?})",
            paused_at,
            step.now,
            step.command.event_name(),
            before.status,
            next.status
        );
        if was.handling.is_some() {
            extended += stood;
        }
    }
    match step.command {
        Command::Accept { .. } | Command::Reopen { .. } => extended = 0,
        Command::DecideExtension { approve: true, .. } => {
            let Some(request) = &before.pending_extension else {
                return Err(TestCaseError::fail(
                    "approved an extension nobody asked for",
                ));
            };
            extended += request.working_days;
        }
        _ => {}
    }
    prop_assert_eq!(
        next.extended_working_days,
        extended,
        "{} moved a case {:?} -> {:?} with {} extended days",
        step.command.event_name(),
        before.status,
        next.status,
        before.extended_working_days
    );
    match step.command {
        Command::GiveFeedback { .. } => {
            prop_assert!(was.feedback.is_some(), "feedback given when none was due");
            prop_assert!(
                before.status.is_open(),
                "feedback given on a {:?} case",
                before.status
            );
            prop_assert_eq!(now_due.feedback, None, "feedback still due once given");
            prop_assert_eq!(
                (now_due.response, now_due.handling, now_due.follow_up),
                (was.response, was.handling, was.follow_up),
                "feedback moved another deadline"
            );
            prop_assert_eq!(next.status, before.status);
        }
        Command::Reject { .. } | Command::MergeInto { .. } => {
            prop_assert_eq!(now_due.feedback, None)
        }
        // Closed with the citizen (the follow-up; an archived case was closed), feedback is moot.
        _ if matches!(next.status, Status::Closed | Status::Archived) => prop_assert_eq!(
            now_due.feedback,
            None,
            "feedback still due after {} ({:?} -> {:?})",
            step.command.event_name(),
            before.status,
            next.status
        ),
        // Everything else, reopening included, leaves what is owed as it was.
        _ => prop_assert_eq!(
            now_due.feedback,
            was.feedback,
            "{} changed the feedback deadline",
            step.command.event_name()
        ),
    }
    prop_assert_eq!(
        next.recompute_deadlines(&PlainRules),
        now_due,
        "after {}, recomputing gives other deadlines",
        step.command.event_name()
    );
    Ok(())
}

/// Property 6: a dispatch, a reassignment or a redispatching ruling sets exactly the units it names; its
/// assisting list is refused for the first rule it breaks (the lead among them, more than 20, a unit
/// listed twice) and never otherwise. Escalation and reopening clear the units; nothing else changes them.
fn check_assignment(step: &Applied<'_>) -> Result<(), TestCaseError> {
    let named = match step.command {
        Command::Dispatch { lead, assisting }
        | Command::Reassign {
            lead, assisting, ..
        }
        | Command::RuleOnReturn {
            ruling: ReturnRuling::Redispatch { lead, assisting },
            ..
        } => Some((lead, assisting)),
        _ => None,
    };
    let problem = named.and_then(|(lead, assisting)| assisting_problem(lead, assisting));
    let units = |case: &Case| -> (Option<Unit>, Vec<Unit>) {
        (
            case.lead.clone(),
            case.assisting.iter().map(|a| a.unit.clone()).collect(),
        )
    };
    match (named, step.result) {
        (Some((lead, assisting)), Ok((next, _))) => {
            prop_assert_eq!(
                problem,
                None,
                "{} took the assisting list {:?} with lead {:?}",
                step.command.event_name(),
                assisting,
                lead
            );
            prop_assert_eq!(units(next), (Some(lead.clone()), assisting.clone()));
            prop_assert!(
                next.assisting.iter().all(|a| a.part.is_none()),
                "a new assisting unit already has its part"
            );
        }
        (
            _,
            Err(CaseError::Invalid {
                field: "assisting",
                why,
            }),
        ) => prop_assert_eq!(
            Some(*why),
            problem,
            "{} refused the assisting list of {:?}",
            step.command.event_name(),
            step.command
        ),
        (None, Ok((next, _))) => match step.command {
            Command::Escalate { .. } | Command::Reopen { .. } => {
                prop_assert_eq!(units(next), (None, vec![]));
            }
            _ => prop_assert_eq!(
                units(next),
                units(step.before),
                "{} changed the units",
                step.command.event_name()
            ),
        },
        _ => {}
    }
    Ok(())
}

/// Property 7: escalation goes level by level, to the center directly above and nowhere else, and a
/// permitted escalation there with a usable reason from a state that allows it is not refused; delegation
/// goes strictly below. Nothing else moves the case between centers.
fn check_regions(step: &Applied<'_>) -> Result<(), TestCaseError> {
    let from = &step.before.owner_region;
    let above = from.parent_statistical();
    match (step.command, step.result) {
        (Command::Escalate { to_region, reason }, result) => {
            let direct = above.as_ref() == Some(to_region);
            let fitting = direct
                && fits(reason, 500)
                && permitted(step.command, step.before, step.actor)
                && legal_moves(step.command)
                    .iter()
                    .any(|(state, _)| *state == step.before.status);
            match result {
                Ok((next, _)) => {
                    prop_assert!(
                        direct,
                        "escalated from {} to {}, not the level directly above",
                        from,
                        to_region
                    );
                    prop_assert_eq!(&next.owner_region, to_region);
                }
                Err(CaseError::Invalid {
                    field: "to_region",
                    why,
                }) => {
                    prop_assert_eq!(*why, "not_above");
                    prop_assert!(
                        !direct,
                        "refused to escalate from {} to {}",
                        from,
                        to_region
                    );
                }
                Err(e) => prop_assert!(
                    !fitting,
                    "escalating from {} to {} by {:?} refused: {:?}",
                    from,
                    to_region,
                    step.actor,
                    e
                ),
            }
        }
        (Command::Delegate { to_region, .. }, result) => {
            let below = to_region != from && from.is_ancestor_of(to_region);
            match result {
                Ok((next, _)) => {
                    prop_assert!(below, "delegated from {} to {}", from, to_region);
                    prop_assert_eq!(&next.owner_region, to_region);
                }
                Err(CaseError::Invalid {
                    field: "to_region",
                    why,
                }) => {
                    prop_assert_eq!(*why, "not_below");
                    prop_assert!(!below, "refused to delegate from {} to {}", from, to_region);
                }
                Err(_) => {}
            }
        }
        (_, Ok((next, _))) => prop_assert_eq!(
            &next.owner_region,
            from,
            "{} moved the case to another center",
            step.command.event_name()
        ),
        _ => {}
    }
    Ok(())
}

/// Every refusal explains itself in Chinese, naming the action and the reason in words of its own.
fn check_message(error: &CaseError) -> Result<(), String> {
    let zh = error.message_zh();
    if zh.trim().is_empty() {
        return Err(format!("{error:?}: empty message"));
    }
    if zh.contains("“操作”") || zh.ends_with("不允许") {
        return Err(format!("{error:?}: falls back to a generic word: {zh}"));
    }
    if let CaseError::IllegalInState { status, .. } = error
        && !zh.contains(status.zh())
    {
        return Err(format!("{error:?}: does not name the status: {zh}"));
    }
    Ok(())
}

fn check_error_message(step: &Applied<'_>) -> Result<(), TestCaseError> {
    if let Err(error) = step.result {
        check_message(error).map_err(TestCaseError::fail)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------

proptest! {
    // `ProptestConfig::default()` honours PROPTEST_CASES (256 unless set).
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn only_legal_transitions_and_refusals_change_nothing(start in any_start(), steps in any_steps()) {
        run(start, &steps, check_legal_transition)?;
    }

    #[test]
    fn each_success_is_one_event_for_that_move(start in any_start(), steps in any_steps()) {
        run(start, &steps, check_event)?;
    }

    #[test]
    fn closed_cases_only_reopen_or_archive(start in any_start(), steps in any_steps()) {
        run(start, &steps, check_final_immutable)?;
    }

    #[test]
    fn final_cases_refuse_every_other_command(
        target in proptest::sample::select(vec![Status::Closed, Status::Archived, Status::Rejected, Status::Merged]),
        steps in proptest::collection::vec(any_step(), 1..=10),
    ) {
        let (case, now) = drive(target);
        for step in &steps {
            let (actor, command) = materialise(step, &case, now);
            let result = case.apply(&command, &actor, now, &PlainRules);
            check_final_immutable(&Applied { before: &case, actor: &actor, command: &command, now, result: &result })?;
        }
    }

    #[test]
    fn deadlines_and_milestones_never_precede_creation(start in any_start(), steps in any_steps()) {
        run(start, &steps, check_times)?;
    }

    #[test]
    fn successes_need_the_permission(start in any_start(), steps in any_steps()) {
        run(start, &steps, check_permission)?;
    }

    #[test]
    fn reopen_count_counts_successful_reopens(start in any_start(), steps in any_steps()) {
        let mut reopens = 0u32;
        let last = run(start, &steps, |step| {
            if matches!(step.command, Command::Reopen { .. }) && step.result.is_ok() {
                reopens += 1;
            }
            if let Ok((next, _)) = step.result {
                prop_assert_eq!(next.reopen_count, reopens);
            }
            Ok(())
        })?;
        prop_assert_eq!(last.reopen_count, reopens);
    }

    #[test]
    fn fields_agree_with_the_status(start in any_start(), steps in any_steps()) {
        run(start, &steps, |step| {
            check_shape(step)?;
            check_clock_and_feedback(step)
        })?;
    }

    #[test]
    fn units_are_set_as_named_each_once(start in any_start(), steps in any_steps()) {
        run(start, &steps, check_assignment)?;
    }

    #[test]
    fn escalation_goes_one_level_up(start in any_start(), steps in any_steps()) {
        run(start, &steps, check_regions)?;
    }

    #[test]
    fn every_refusal_has_a_chinese_message(start in any_start(), steps in any_steps()) {
        run(start, &steps, check_error_message)?;
    }
}

/// The generators are not vacuous: over a deterministic batch of sequences every status is reached and every
/// command (and both extension decisions) succeeds somewhere, every error kind and every reason is seen (and
/// no other), and the field rules the properties single out are each hit: a resumed clock moves the deadline
/// and sometimes does not (under a day), the center resumes a clock, a paused case leaves `InProgress`
/// (moving the deadline, and within a day of the pause not), a state-first command meets a claimed case in
/// another state, feedback is given before and after dispatch, and a case owing feedback is reopened and
/// is closed by the follow-up.
#[test]
fn generated_sequences_cover_the_lifecycle() {
    let mut runner = TestRunner::deterministic();
    let strategy = (any_start(), any_steps());
    let mut statuses = BTreeSet::new();
    let mut succeeded = BTreeSet::new();
    let mut refused_why = BTreeSet::new();
    let mut invalid_fields = BTreeSet::new();
    let mut moves = BTreeSet::new();
    let mut escalated_to = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for _ in 0..256 {
        let (start, steps) = strategy
            .new_tree(&mut runner)
            .expect("a value tree")
            .current();
        run(start, &steps, |step| {
            match step.result {
                Ok((next, event)) => {
                    statuses.insert(next.status.as_str());
                    succeeded.insert(event.name);
                    moves.insert((event.name, event.from.as_str()));
                    if event.name == "escalated" {
                        escalated_to.insert(next.owner_region.as_str().to_string());
                    }
                    if event.name == "clock_resumed" {
                        seen.insert(
                            if next.deadlines.handling == step.before.deadlines.handling {
                                "resumed within a day"
                            } else {
                                "resumed and moved the deadline"
                            },
                        );
                        if step.before.claimed_by != Some(step.actor.user_id) {
                            seen.insert("resumed by the center");
                        }
                    }
                    if step.before.paused_at.is_some() && next.status != Status::InProgress {
                        seen.insert(
                            if next.deadlines.handling == step.before.deadlines.handling {
                                "left in_progress within a day of the pause"
                            } else {
                                "left in_progress while paused and moved the deadline"
                            },
                        );
                    }
                    if step.before.deadlines.feedback.is_some() {
                        match event.name {
                            "reopened" => seen.insert("reopened owing feedback"),
                            "followed_up" => seen.insert("closed owing feedback"),
                            _ => false,
                        };
                    }
                    if event.name == "feedback_given" && step.before.lead.is_some() {
                        seen.insert("feedback given on a dispatched case");
                    }
                }
                Err(CaseError::IllegalInState { .. }) => {
                    refused_why.insert("illegal_in_state");
                    if checks_state_first(step.command)
                        && step
                            .before
                            .claimed_by
                            .is_some_and(|user| user != step.actor.user_id)
                        && is_lead_handler(step.before, step.actor)
                    {
                        seen.insert("a colleague refused for the state");
                    }
                }
                Err(CaseError::NotAllowed { why, .. }) => {
                    refused_why.insert(why);
                }
                Err(CaseError::Invalid { field, why }) => {
                    refused_why.insert(why);
                    invalid_fields.insert((*field, *why));
                }
            }
            Ok(())
        })
        .expect("no checks");
    }
    let all_statuses: BTreeSet<&str> = Status::ALL.iter().map(|st| st.as_str()).collect();
    let missing: Vec<_> = all_statuses.difference(&statuses).collect();
    assert!(missing.is_empty(), "never reached: {missing:?}");
    let every_event = [
        "accepted",
        "rejected",
        "handled_on_spot",
        "dispatched",
        "claimed",
        "returned",
        "return_ruled",
        "reassigned",
        "extension_requested",
        "extension_approved",
        "extension_denied",
        "escalated",
        "delegated",
        "assist_part_recorded",
        "resolved",
        "review_approved",
        "sent_back",
        "followed_up",
        "reopened",
        "archived",
        "supervised",
        "leader_assigned",
        "note_added",
        "category_changed",
        "merged",
        "clock_paused",
        "clock_resumed",
        "feedback_given",
    ];
    let never: Vec<_> = every_event
        .iter()
        .filter(|e| !succeeded.contains(*e))
        .collect();
    assert!(never.is_empty(), "never succeeded: {never:?}");
    // The lead unit's handler acts before the claim, and the claimant after it; the center escalates what
    // it holds; escalation climbs more than one level over successive steps.
    for (name, from) in [
        ("returned", "dispatched"),
        ("returned", "in_progress"),
        ("escalated", "accepted"),
        ("escalated", "dispatched"),
        ("escalated", "in_progress"),
        ("escalated", "returned"),
        ("extension_requested", "in_progress"),
        ("feedback_given", "registered"),
    ] {
        assert!(
            moves.contains(&(name, from)),
            "{name} never succeeded from {from}: {moves:?}"
        );
    }
    for to in ["370883", "3708"] {
        assert!(
            escalated_to.contains(to),
            "never escalated to {to}: {escalated_to:?}"
        );
    }
    let every_why = [
        "illegal_in_state",
        "role",
        "not_your_unit",
        "not_claimed_by_you",
        "required",
        "too_long",
        "extension_pending",
        "no_extension_pending",
        "not_above",
        "not_below",
        "same_unit",
        "duplicate_unit",
        "not_assisting",
        "range",
        "past",
        "not_pausable",
        "already_paused",
        "not_paused",
        "no_feedback_due",
    ];
    for why in every_why {
        assert!(
            refused_why.contains(why),
            "no refusal for {why} seen: {refused_why:?}"
        );
    }
    let unknown: Vec<_> = refused_why
        .iter()
        .filter(|why| !every_why.contains(why))
        .collect();
    assert!(
        unknown.is_empty(),
        "refusals for unlisted reasons: {unknown:?}"
    );
    for field_why in [
        ("assisting", "same_unit"),
        ("assisting", "range"),
        ("assisting", "duplicate_unit"),
        ("working_days", "range"),
        ("to_region", "not_above"),
        ("to_region", "not_below"),
        ("action", "not_pausable"),
        ("action", "already_paused"),
        ("action", "not_paused"),
        ("action", "no_feedback_due"),
        ("note", "too_long"),
        ("reason", "required"),
    ] {
        assert!(
            invalid_fields.contains(&field_why),
            "no refusal for {field_why:?} seen: {invalid_fields:?}"
        );
    }
    for what in [
        "resumed within a day",
        "resumed and moved the deadline",
        "resumed by the center",
        "left in_progress within a day of the pause",
        "left in_progress while paused and moved the deadline",
        "reopened owing feedback",
        "closed owing feedback",
        "feedback given on a dispatched case",
        "a colleague refused for the state",
    ] {
        assert!(seen.contains(what), "never {what}: {seen:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Table tests
// ---------------------------------------------------------------------------------------------------------

/// register → accept → dispatch (with an assisting unit) → claim → assist part → extension requested and
/// approved → resolve → review → follow-up dissatisfied → reopen → dispatch → claim → resolve → review →
/// follow-up satisfied → archive.
#[test]
fn happy_path_with_a_reopen() {
    let lead = dept(1);
    let helper = grid(GRID_A);
    let lead_handler = handler(3, lead.clone());
    let helper_worker = actor(4, &[Role::GridWorker], std::slice::from_ref(&helper));
    let mut case = registered();
    let mut now = t0();
    let mut step =
        |case: &mut Case, command: Command, who: &CaseActor, expect: Status| -> CaseEvent {
            now += hours(2);
            let before = case.status;
            let (next, event) = ok(case, &command, who, now);
            assert_eq!(next.status, expect, "{}", command.event_name());
            assert_eq!(
                (event.from, event.to, event.name, event.at),
                (before, expect, command.event_name(), now)
            );
            *case = next;
            event
        };

    step(&mut case, accept(), &clerk(), Status::Accepted);
    assert_eq!(case.category.as_deref(), Some("邻里纠纷"));
    assert_eq!(
        case.deadlines.handling.map(|d| d.at),
        Some(t0() + hours(2) + Duration::days(5))
    );
    step(
        &mut case,
        dispatch(lead.clone(), std::slice::from_ref(&helper)),
        &dispatcher(),
        Status::Dispatched,
    );
    assert_eq!(case.lead.as_ref(), Some(&lead));
    assert_eq!(case.assisting.len(), 1);
    assert_eq!(
        case.deadlines.response.map(|d| d.at),
        Some(t0() + hours(4) + hours(4))
    );
    step(&mut case, Command::Claim, &lead_handler, Status::InProgress);
    assert_eq!(case.claimed_by, Some(3));
    step(
        &mut case,
        Command::RecordAssistPart {
            unit: helper.clone(),
            part: s(" 已入户走访 "),
        },
        &helper_worker,
        Status::InProgress,
    );
    assert_eq!(case.assisting[0].part.as_deref(), Some("已入户走访"));
    step(
        &mut case,
        Command::RequestExtension {
            working_days: 3,
            reason: s("需鉴定"),
        },
        &lead_handler,
        Status::InProgress,
    );
    assert_eq!(
        case.pending_extension
            .as_ref()
            .map(|r| (r.working_days, r.requested_by)),
        Some((3, 3))
    );
    let before = case.deadlines.handling.expect("a handling deadline").at;
    let event = step(
        &mut case,
        Command::DecideExtension {
            approve: true,
            note: s("同意"),
        },
        &dispatcher(),
        Status::InProgress,
    );
    assert_eq!(event.name, "extension_approved");
    assert_eq!(
        case.deadlines.handling.map(|d| d.at),
        Some(before + Duration::days(3))
    );
    assert!(case.pending_extension.is_none());
    step(
        &mut case,
        Command::Resolve {
            result: s("双方达成和解"),
        },
        &lead_handler,
        Status::Resolved,
    );
    step(
        &mut case,
        Command::ApproveReview,
        &dispatcher(),
        Status::AwaitingFollowUp,
    );
    assert!(case.deadlines.follow_up.is_some());
    step(
        &mut case,
        Command::FollowUp {
            outcome: FollowUpOutcome::Dissatisfied,
            note: s("认为赔偿不足"),
        },
        &dispatcher(),
        Status::Closed,
    );
    assert_eq!(case.follow_up, Some(FollowUpOutcome::Dissatisfied));
    assert!(case.closed_at.is_some());
    step(
        &mut case,
        Command::Reopen {
            reason: s("群众不满意，重办"),
        },
        &dispatcher(),
        Status::Accepted,
    );
    assert_eq!(case.reopen_count, 1);
    assert!(case.lead.is_none() && case.assisting.is_empty() && case.claimed_by.is_none());
    assert!(case.follow_up.is_none() && case.closed_at.is_none() && case.resolved_at.is_none());
    assert_eq!(case.deadlines.response, None);
    assert_eq!(case.deadlines.follow_up, None);
    step(
        &mut case,
        dispatch(lead.clone(), &[]),
        &dispatcher(),
        Status::Dispatched,
    );
    step(&mut case, Command::Claim, &lead_handler, Status::InProgress);
    step(
        &mut case,
        Command::Resolve {
            result: s("追加赔偿到位"),
        },
        &lead_handler,
        Status::Resolved,
    );
    step(
        &mut case,
        Command::ApproveReview,
        &dispatcher(),
        Status::AwaitingFollowUp,
    );
    step(
        &mut case,
        Command::FollowUp {
            outcome: FollowUpOutcome::Satisfied,
            note: s(""),
        },
        &dispatcher(),
        Status::Closed,
    );
    step(&mut case, Command::Archive, &dispatcher(), Status::Archived);
    assert_eq!(case.reopen_count, 1);
    assert_eq!(case.follow_up, Some(FollowUpOutcome::Satisfied));
}

#[test]
fn a_return_is_upheld_then_redispatched() {
    let (returned, now) = drive(Status::Returned);
    assert!(returned.claimed_by.is_none());
    let lead = dept(1);

    // Upheld: the same unit has it again and must claim it again.
    let upheld = ok(
        &returned,
        &Command::RuleOnReturn {
            ruling: ReturnRuling::Uphold,
            note: s("属本单位职责"),
        },
        &dispatcher(),
        now + hours(1),
    )
    .0;
    assert_eq!(upheld.status, Status::Dispatched);
    assert_eq!(upheld.lead.as_ref(), Some(&lead));
    assert_eq!(upheld.dispatched_at, Some(now + hours(1)));
    assert_eq!(
        upheld.deadlines.response.map(|d| d.at),
        Some(now + hours(1) + hours(4))
    );
    let reclaimed = ok(
        &upheld,
        &Command::Claim,
        &handler(5, lead.clone()),
        now + hours(2),
    )
    .0;
    assert_eq!(
        (reclaimed.status, reclaimed.claimed_by),
        (Status::InProgress, Some(5))
    );

    // Returned again, and this time the return stands: another unit, with its own assisting unit.
    let returned_again = ok(
        &reclaimed,
        &Command::Return {
            reason: s("确非本单位职责"),
        },
        &handler(5, lead.clone()),
        now + hours(3),
    )
    .0;
    let redispatch = Command::RuleOnReturn {
        ruling: ReturnRuling::Redispatch {
            lead: grid(GRID_B),
            assisting: vec![dept(3)],
        },
        note: s("退回理由成立"),
    };
    let moved = ok(&returned_again, &redispatch, &dispatcher(), now + hours(4)).0;
    assert_eq!(moved.status, Status::Dispatched);
    assert_eq!(moved.lead, Some(grid(GRID_B)));
    assert_eq!(
        moved
            .assisting
            .iter()
            .map(|a| a.unit.clone())
            .collect::<Vec<_>>(),
        vec![dept(3)]
    );
    // The old unit no longer acts on it; the new one does.
    assert!(matches!(
        refused(&moved, &Command::Claim, &handler(5, lead), now + hours(5)),
        CaseError::NotAllowed {
            why: "not_your_unit",
            ..
        }
    ));
    let worker = actor(6, &[Role::GridWorker], &[grid(GRID_B)]);
    assert_eq!(
        ok(&moved, &Command::Claim, &worker, now + hours(5))
            .0
            .status,
        Status::InProgress
    );

    // Ruling is the center's: a handler may not, and the note is required.
    let uphold = Command::RuleOnReturn {
        ruling: ReturnRuling::Uphold,
        note: s("x"),
    };
    assert!(matches!(
        refused(&returned, &uphold, &handler(3, dept(1)), now),
        CaseError::NotAllowed { why: "role", .. }
    ));
    let blank = Command::RuleOnReturn {
        ruling: ReturnRuling::Uphold,
        note: s("  "),
    };
    assert_eq!(
        refused(&returned, &blank, &dispatcher(), now),
        CaseError::Invalid {
            field: "note",
            why: "required"
        }
    );
    let onto_itself = Command::RuleOnReturn {
        ruling: ReturnRuling::Redispatch {
            lead: dept(2),
            assisting: vec![dept(2)],
        },
        note: s("x"),
    };
    assert_eq!(
        refused(&returned, &onto_itself, &dispatcher(), now),
        CaseError::Invalid {
            field: "assisting",
            why: "same_unit"
        }
    );
}

#[test]
fn the_lead_handler_escalates_an_in_progress_case() {
    let (case, now) = drive(Status::InProgress);
    let lead_handler = handler(3, dept(1));
    let extension = Command::RequestExtension {
        working_days: 5,
        reason: s("需协调"),
    };
    let case = ok(&case, &extension, &lead_handler, now).0;
    let up = Command::Escalate {
        to_region: region("370883"),
        reason: s("涉及多个乡镇"),
    };
    let (escalated, event) = ok(&case, &up, &lead_handler, now + hours(1));
    assert_eq!(escalated.owner_region, region("370883"));
    assert_eq!(escalated.status, Status::Accepted);
    assert_eq!(
        (event.from, event.to, event.name),
        (Status::InProgress, Status::Accepted, "escalated")
    );
    assert!(escalated.lead.is_none() && escalated.assisting.is_empty());
    assert!(escalated.claimed_by.is_none() && escalated.pending_extension.is_none());
    assert!(escalated.deadlines.response.is_none());
    assert_eq!(
        escalated.deadlines.handling, case.deadlines.handling,
        "the handling clock keeps running"
    );

    // The county center then dispatches it again.
    let redispatched = ok(
        &escalated,
        &dispatch(dept(2), &[]),
        &dispatcher(),
        now + hours(2),
    )
    .0;
    assert_eq!(
        (redispatched.status, redispatched.lead.clone()),
        (Status::Dispatched, Some(dept(2)))
    );

    // Only upward, to the center directly above (not further up, not sideways or down), and only by the
    // lead unit's handler who claimed it (not a colleague, not another unit, not the center).
    let cases: Vec<(&str, CaseActor, CaseError)> = vec![
        (
            "3708",
            lead_handler.clone(),
            CaseError::Invalid {
                field: "to_region",
                why: "not_above",
            },
        ),
        (
            "37",
            lead_handler.clone(),
            CaseError::Invalid {
                field: "to_region",
                why: "not_above",
            },
        ),
        (
            "370884",
            lead_handler.clone(),
            CaseError::Invalid {
                field: "to_region",
                why: "not_above",
            },
        ),
        (
            "370883108",
            lead_handler.clone(),
            CaseError::Invalid {
                field: "to_region",
                why: "not_above",
            },
        ),
        (
            OWNER,
            lead_handler.clone(),
            CaseError::Invalid {
                field: "to_region",
                why: "not_above",
            },
        ),
        (
            "370883107001",
            lead_handler.clone(),
            CaseError::Invalid {
                field: "to_region",
                why: "not_above",
            },
        ),
        (
            "370883-A1",
            lead_handler.clone(),
            CaseError::Invalid {
                field: "to_region",
                why: "not_above",
            },
        ),
        (
            "370883",
            handler(7, dept(1)),
            CaseError::NotAllowed {
                action: "escalated",
                why: "not_claimed_by_you",
            },
        ),
        (
            "370883",
            handler(7, dept(2)),
            CaseError::NotAllowed {
                action: "escalated",
                why: "not_your_unit",
            },
        ),
        (
            "370883",
            actor(3, &[Role::Mediator], &[dept(1)]),
            CaseError::NotAllowed {
                action: "escalated",
                why: "role",
            },
        ),
        (
            "370883",
            dispatcher(),
            CaseError::NotAllowed {
                action: "escalated",
                why: "role",
            },
        ),
    ];
    for (to, who, expected) in cases {
        let command = Command::Escalate {
            to_region: region(to),
            reason: s("上报"),
        };
        assert_eq!(
            refused(&case, &command, &who, now),
            expected,
            "escalate to {to} by {who:?}"
        );
    }
    // From the accepted state the center escalates, one level at a time up to the province and no further,
    // and delegates down to a village it covers.
    let (accepted, now) = drive(Status::Accepted);
    let escalate = |to: &str| Command::Escalate {
        to_region: region(to),
        reason: s("重大"),
    };
    let skip = CaseError::Invalid {
        field: "to_region",
        why: "not_above",
    };
    for to in ["3708", "37"] {
        assert_eq!(
            refused(&accepted, &escalate(to), &dispatcher(), now),
            skip,
            "from {OWNER} to {to}"
        );
    }
    let mut climbing = accepted.clone();
    for (to, higher) in [("370883", "37"), ("3708", "370884"), ("37", "37")] {
        climbing = ok(&climbing, &escalate(to), &dispatcher(), now).0;
        assert_eq!(
            (climbing.status, climbing.owner_region.clone()),
            (Status::Accepted, region(to))
        );
        assert_eq!(
            refused(&climbing, &escalate(higher), &dispatcher(), now),
            skip,
            "from {to} to {higher}"
        );
    }
    let down = Command::Delegate {
        to_region: region("370883107001"),
        reason: s("属地处理"),
    };
    assert_eq!(
        ok(&accepted, &down, &dispatcher(), now).0.owner_region,
        region("370883107001")
    );
    let sideways = Command::Delegate {
        to_region: region("370884"),
        reason: s("属地处理"),
    };
    assert_eq!(
        refused(&accepted, &sideways, &dispatcher(), now),
        CaseError::Invalid {
            field: "to_region",
            why: "not_below"
        }
    );
}

/// Each field rule, one row each: the state, the actor, the command, and the refusal expected.
#[test]
fn invalid_fields_are_refused_with_their_reason() {
    let lead = handler(3, dept(1));
    let helper = actor(4, &[Role::GridWorker], &[dept(2)]);
    let stranger = actor(8, &[Role::GridWorker], &[grid(GRID_B)]);
    let long = |n: usize| "字".repeat(n);
    let in_progress_with_request = {
        let (case, now) = drive(Status::InProgress);
        ok(
            &case,
            &Command::RequestExtension {
                working_days: 2,
                reason: s("x"),
            },
            &lead,
            now,
        )
        .0
    };
    type Row = (Status, CaseActor, Command, CaseError);
    let rows: Vec<Row> = vec![
        (
            Status::Registered,
            clerk(),
            Command::Accept {
                category: s(" "),
                limits: CaseLimits::default(),
            },
            CaseError::Invalid {
                field: "category",
                why: "required",
            },
        ),
        (
            Status::Registered,
            clerk(),
            Command::Accept {
                category: long(65),
                limits: CaseLimits::default(),
            },
            CaseError::Invalid {
                field: "category",
                why: "too_long",
            },
        ),
        (
            Status::Registered,
            clerk(),
            Command::Reject {
                reason: s(""),
                missing: vec![],
            },
            CaseError::Invalid {
                field: "reason",
                why: "required",
            },
        ),
        (
            Status::Registered,
            clerk(),
            Command::Reject {
                reason: s("x"),
                missing: vec![s("x"); 31],
            },
            CaseError::Invalid {
                field: "missing",
                why: "too_long",
            },
        ),
        (
            Status::Registered,
            clerk(),
            Command::Reject {
                reason: s("x"),
                missing: vec![long(201)],
            },
            CaseError::Invalid {
                field: "missing",
                why: "too_long",
            },
        ),
        (
            Status::Accepted,
            clerk(),
            Command::HandleOnSpot { result: long(2001) },
            CaseError::Invalid {
                field: "result",
                why: "too_long",
            },
        ),
        (
            Status::Accepted,
            dispatcher(),
            dispatch(dept(1), &[dept(2), dept(1)]),
            CaseError::Invalid {
                field: "assisting",
                why: "same_unit",
            },
        ),
        (
            Status::Accepted,
            dispatcher(),
            dispatch(dept(1), &vec![dept(2); 21]),
            CaseError::Invalid {
                field: "assisting",
                why: "range",
            },
        ),
        (
            Status::Accepted,
            dispatcher(),
            dispatch(dept(1), &[dept(2), dept(3), dept(2)]),
            CaseError::Invalid {
                field: "assisting",
                why: "duplicate_unit",
            },
        ),
        // The lead among the assisting units is named before a repeated one.
        (
            Status::Accepted,
            dispatcher(),
            dispatch(dept(1), &[dept(2), dept(2), dept(1)]),
            CaseError::Invalid {
                field: "assisting",
                why: "same_unit",
            },
        ),
        (
            Status::InProgress,
            dispatcher(),
            Command::Reassign {
                lead: dept(3),
                assisting: vec![grid(GRID_A), grid(GRID_A)],
                reason: s("改派"),
            },
            CaseError::Invalid {
                field: "assisting",
                why: "duplicate_unit",
            },
        ),
        (
            Status::Returned,
            dispatcher(),
            Command::RuleOnReturn {
                ruling: ReturnRuling::Redispatch {
                    lead: dept(3),
                    assisting: vec![dept(1), grid(GRID_B), dept(1)],
                },
                note: s("退回成立"),
            },
            CaseError::Invalid {
                field: "assisting",
                why: "duplicate_unit",
            },
        ),
        (
            Status::Dispatched,
            lead.clone(),
            Command::Return { reason: long(501) },
            CaseError::Invalid {
                field: "reason",
                why: "too_long",
            },
        ),
        (
            Status::Dispatched,
            dispatcher(),
            Command::Reassign {
                lead: dept(3),
                assisting: vec![],
                reason: s(""),
            },
            CaseError::Invalid {
                field: "reason",
                why: "required",
            },
        ),
        (
            Status::InProgress,
            lead.clone(),
            Command::RequestExtension {
                working_days: 0,
                reason: s("x"),
            },
            CaseError::Invalid {
                field: "working_days",
                why: "range",
            },
        ),
        (
            Status::InProgress,
            lead.clone(),
            Command::RequestExtension {
                working_days: 61,
                reason: s("x"),
            },
            CaseError::Invalid {
                field: "working_days",
                why: "range",
            },
        ),
        (
            Status::InProgress,
            dispatcher(),
            Command::DecideExtension {
                approve: true,
                note: s(""),
            },
            CaseError::Invalid {
                field: "approve",
                why: "no_extension_pending",
            },
        ),
        (
            Status::Dispatched,
            helper.clone(),
            Command::RecordAssistPart {
                unit: dept(2),
                part: s(" "),
            },
            CaseError::Invalid {
                field: "part",
                why: "required",
            },
        ),
        (
            Status::Dispatched,
            lead.clone(),
            Command::RecordAssistPart {
                unit: dept(1),
                part: s("x"),
            },
            CaseError::Invalid {
                field: "unit",
                why: "not_assisting",
            },
        ),
        (
            Status::Dispatched,
            stranger.clone(),
            Command::RecordAssistPart {
                unit: dept(2),
                part: s("x"),
            },
            CaseError::NotAllowed {
                action: "assist_part_recorded",
                why: "not_your_unit",
            },
        ),
        (
            Status::InProgress,
            lead.clone(),
            Command::Resolve { result: long(4001) },
            CaseError::Invalid {
                field: "result",
                why: "too_long",
            },
        ),
        (
            Status::Resolved,
            dispatcher(),
            Command::SendBack { reason: s("") },
            CaseError::Invalid {
                field: "reason",
                why: "required",
            },
        ),
        (
            Status::AwaitingFollowUp,
            dispatcher(),
            Command::FollowUp {
                outcome: FollowUpOutcome::Satisfied,
                note: long(2001),
            },
            CaseError::Invalid {
                field: "note",
                why: "too_long",
            },
        ),
        (
            Status::Closed,
            dispatcher(),
            Command::Reopen { reason: s("") },
            CaseError::Invalid {
                field: "reason",
                why: "required",
            },
        ),
        (
            Status::InProgress,
            leader(),
            Command::Supervise {
                due: t0(),
                note: s("限期"),
            },
            CaseError::Invalid {
                field: "due",
                why: "past",
            },
        ),
        (
            Status::InProgress,
            leader(),
            Command::Supervise {
                due: t0() + Duration::days(900),
                note: s(""),
            },
            CaseError::Invalid {
                field: "note",
                why: "required",
            },
        ),
        (
            Status::InProgress,
            stranger,
            Command::AddNote { text: s("x") },
            CaseError::NotAllowed {
                action: "note_added",
                why: "not_your_unit",
            },
        ),
        (
            Status::InProgress,
            helper,
            Command::AddNote { text: long(4001) },
            CaseError::Invalid {
                field: "text",
                why: "too_long",
            },
        ),
        (
            Status::InProgress,
            dispatcher(),
            Command::ChangeCategory {
                category: s("治安"),
                reason: s(" "),
            },
            CaseError::Invalid {
                field: "reason",
                why: "required",
            },
        ),
        (
            Status::Accepted,
            clerk(),
            Command::MergeInto {
                target_number: long(65),
            },
            CaseError::Invalid {
                field: "target_number",
                why: "too_long",
            },
        ),
        (
            Status::Accepted,
            handler(3, dept(1)),
            Command::MergeInto {
                target_number: s("x"),
            },
            CaseError::NotAllowed {
                action: "merged",
                why: "role",
            },
        ),
        (
            Status::Closed,
            actor(3, &[Role::Handler], &[dept(1)]),
            Command::Reopen { reason: s("x") },
            CaseError::NotAllowed {
                action: "reopened",
                why: "role",
            },
        ),
        // The driven case's category does not pause; the reason is looked at first.
        (
            Status::InProgress,
            lead.clone(),
            Command::PauseClock { reason: s(" ") },
            CaseError::Invalid {
                field: "reason",
                why: "required",
            },
        ),
        (
            Status::InProgress,
            lead.clone(),
            Command::PauseClock { reason: long(501) },
            CaseError::Invalid {
                field: "reason",
                why: "too_long",
            },
        ),
        (
            Status::InProgress,
            lead.clone(),
            Command::PauseClock {
                reason: s("等材料"),
            },
            CaseError::Invalid {
                field: "action",
                why: "not_pausable",
            },
        ),
        // The resume note may be empty but not over 500 characters, counted as given (untrimmed).
        (
            Status::InProgress,
            lead.clone(),
            Command::ResumeClock {
                note: format!(" {} ", long(499)),
            },
            CaseError::Invalid {
                field: "note",
                why: "too_long",
            },
        ),
        (
            Status::InProgress,
            dispatcher(),
            Command::ResumeClock { note: s("") },
            CaseError::Invalid {
                field: "action",
                why: "not_paused",
            },
        ),
        (
            Status::InProgress,
            handler(7, dept(2)),
            Command::ResumeClock { note: s("") },
            CaseError::NotAllowed {
                action: "clock_resumed",
                why: "not_your_unit",
            },
        ),
        // The note is looked at before whether feedback is due.
        (
            Status::Dispatched,
            lead.clone(),
            Command::GiveFeedback { note: s("  ") },
            CaseError::Invalid {
                field: "note",
                why: "required",
            },
        ),
        (
            Status::Dispatched,
            lead.clone(),
            Command::GiveFeedback { note: long(2001) },
            CaseError::Invalid {
                field: "note",
                why: "too_long",
            },
        ),
        (
            Status::Dispatched,
            clerk(),
            Command::GiveFeedback {
                note: s("已告知")
            },
            CaseError::Invalid {
                field: "action",
                why: "no_feedback_due",
            },
        ),
        (
            Status::Dispatched,
            actor(4, &[Role::GridWorker], &[dept(2)]),
            Command::GiveFeedback {
                note: s("已告知")
            },
            CaseError::NotAllowed {
                action: "feedback_given",
                why: "not_your_unit",
            },
        ),
    ];
    for (status, who, command, expected) in rows {
        let (case, now) = drive(status);
        assert_eq!(
            refused(&case, &command, &who, now),
            expected,
            "{command:?} on a {status:?} case"
        );
    }
    let again = Command::RequestExtension {
        working_days: 1,
        reason: s("y"),
    };
    assert_eq!(
        refused(
            &in_progress_with_request,
            &again,
            &lead,
            t0() + Duration::days(2)
        ),
        CaseError::Invalid {
            field: "working_days",
            why: "extension_pending"
        }
    );
    // At the limits, after trimming, the fields are fine.
    let (registered, now) = drive(Status::Registered);
    let exact = Command::Accept {
        category: format!("  {}  ", long(64)),
        limits: CaseLimits::default(),
    };
    assert_eq!(
        ok(&registered, &exact, &clerk(), now).0.category,
        Some(long(64))
    );
}

#[test]
fn an_approved_extension_keeps_a_provisional_deadline_provisional() {
    // Handling deadline in 2026 (provisional); the extension on top of it is provisional too.
    let late = Utc
        .with_ymd_and_hms(2025, 12, 29, 1, 0, 0)
        .single()
        .expect("date");
    let case = Case::register(CaseKind::Request, None, region(OWNER), late);
    let steps: Vec<(Command, CaseActor)> = vec![
        (accept(), clerk()),
        (dispatch(dept(1), &[]), dispatcher()),
        (Command::Claim, handler(3, dept(1))),
        (
            Command::RequestExtension {
                working_days: 2,
                reason: s("x"),
            },
            handler(3, dept(1)),
        ),
        (
            Command::DecideExtension {
                approve: true,
                note: s(""),
            },
            dispatcher(),
        ),
    ];
    let mut case = case;
    for (command, who) in &steps {
        case = case
            .apply(command, who, late, &ProvisionalFrom2026)
            .expect("applies")
            .0;
    }
    let handling = case.deadlines.handling.expect("a handling deadline");
    assert_eq!(handling.at, late + Duration::days(7));
    assert!(handling.provisional && case.deadlines.provisional());
    // A denied extension leaves the deadline alone.
    let (case, now) = drive(Status::InProgress);
    let asked = ok(
        &case,
        &Command::RequestExtension {
            working_days: 9,
            reason: s("x"),
        },
        &handler(3, dept(1)),
        now,
    )
    .0;
    let (denied, event) = ok(
        &asked,
        &Command::DecideExtension {
            approve: false,
            note: s("理由不充分"),
        },
        &dispatcher(),
        now,
    );
    assert_eq!(event.name, "extension_denied");
    assert_eq!(denied.deadlines, case.deadlines);
    assert!(denied.pending_extension.is_none());
}

/// Each error kind (and each reason) reads in Chinese: non-empty, naming the action, the status or the reason
/// in words of its own rather than the generic fallback.
#[test]
fn every_error_kind_has_a_chinese_message() {
    let (registered, now) = drive(Status::Registered);
    let (accepted, later) = drive(Status::Accepted);
    let illegal = refused(&accepted, &accept(), &clerk(), later);
    assert!(matches!(illegal, CaseError::IllegalInState { .. }));
    let zh = illegal.message_zh();
    assert!(zh.contains("已受理待分派") && zh.contains("“受理”"), "{zh}");

    let not_allowed = refused(&registered, &accept(), &handler(3, dept(1)), now);
    assert!(matches!(not_allowed, CaseError::NotAllowed { .. }));
    let zh = not_allowed.message_zh();
    assert!(zh.contains("受理") && zh.contains("权限"), "{zh}");

    let invalid = refused(
        &registered,
        &Command::Reject {
            reason: s(""),
            missing: vec![],
        },
        &clerk(),
        now,
    );
    assert!(matches!(invalid, CaseError::Invalid { .. }));
    assert!(
        invalid.message_zh().contains("不能为空"),
        "{}",
        invalid.message_zh()
    );

    // Every command, refused in a state where it is illegal, names its action in Chinese.
    let (archived, now) = drive(Status::Archived);
    let (registered, _) = drive(Status::Registered);
    let everything = vec![
        accept(),
        Command::Reject {
            reason: s("x"),
            missing: vec![],
        },
        Command::HandleOnSpot { result: s("x") },
        dispatch(dept(1), &[]),
        Command::Claim,
        Command::Return { reason: s("x") },
        Command::RuleOnReturn {
            ruling: ReturnRuling::Uphold,
            note: s("x"),
        },
        Command::Reassign {
            lead: dept(1),
            assisting: vec![],
            reason: s("x"),
        },
        Command::RequestExtension {
            working_days: 1,
            reason: s("x"),
        },
        Command::DecideExtension {
            approve: true,
            note: s(""),
        },
        Command::DecideExtension {
            approve: false,
            note: s(""),
        },
        Command::Escalate {
            to_region: region("370883"),
            reason: s("x"),
        },
        Command::Delegate {
            to_region: region("370883107001"),
            reason: s("x"),
        },
        Command::RecordAssistPart {
            unit: dept(2),
            part: s("x"),
        },
        Command::Resolve { result: s("x") },
        Command::ApproveReview,
        Command::SendBack { reason: s("x") },
        Command::FollowUp {
            outcome: FollowUpOutcome::Declined,
            note: s(""),
        },
        Command::Supervise {
            due: now + Duration::days(1),
            note: s("x"),
        },
        Command::AssignLeader { leader_user_id: 9 },
        Command::AddNote { text: s("x") },
        Command::ChangeCategory {
            category: s("x"),
            reason: s("x"),
        },
        Command::MergeInto {
            target_number: s("x"),
        },
        Command::PauseClock { reason: s("x") },
        Command::ResumeClock { note: s("") },
        Command::GiveFeedback { note: s("x") },
    ];
    // Every role, every unit, and the claimant of the driven case (user 3), so that only the state refuses.
    let superuser = actor(3, &Role::ALL, &unit_pool());
    assert_eq!(archived.claimed_by, Some(superuser.user_id));
    for command in everything {
        let error = refused(&archived, &command, &superuser, now);
        assert!(
            matches!(error, CaseError::IllegalInState { .. }),
            "{command:?}: {error:?}"
        );
        check_message(&error).expect("a Chinese message");
    }
    for command in [Command::Reopen { reason: s("x") }, Command::Archive] {
        let error = refused(&registered, &command, &superuser, now);
        check_message(&error).expect("a Chinese message");
    }

    // Every reason, as the lifecycle gives it, reads in words of its own.
    let (accepted, now) = drive(Status::Accepted);
    let (dispatched, _) = drive(Status::Dispatched);
    let (in_progress, _) = drive(Status::InProgress);
    let lead = handler(3, dept(1));
    let asked = ok(
        &in_progress,
        &Command::RequestExtension {
            working_days: 2,
            reason: s("x"),
        },
        &lead,
        now,
    )
    .0;
    let extension = |working_days| Command::RequestExtension {
        working_days,
        reason: s("x"),
    };
    let pause = Command::PauseClock { reason: s("x") };
    let (pausable, _) = drive_pausable_from(t0(), &PlainRules);
    let paused = ok(&pausable, &pause, &lead, now).0;
    let errors = [
        refused(&registered, &accept(), &lead, now),
        refused(&dispatched, &Command::Claim, &handler(7, dept(2)), now),
        refused(
            &in_progress,
            &Command::Resolve { result: s("x") },
            &handler(7, dept(1)),
            now,
        ),
        refused(
            &registered,
            &Command::Reject {
                reason: s(" "),
                missing: vec![],
            },
            &clerk(),
            now,
        ),
        refused(
            &registered,
            &Command::Reject {
                reason: "字".repeat(501),
                missing: vec![],
            },
            &clerk(),
            now,
        ),
        refused(&asked, &extension(1), &lead, now),
        refused(
            &in_progress,
            &Command::DecideExtension {
                approve: false,
                note: s(""),
            },
            &dispatcher(),
            now,
        ),
        refused(
            &accepted,
            &Command::Escalate {
                to_region: region("3708"),
                reason: s("x"),
            },
            &dispatcher(),
            now,
        ),
        refused(
            &accepted,
            &Command::Delegate {
                to_region: region("370884"),
                reason: s("x"),
            },
            &dispatcher(),
            now,
        ),
        refused(
            &accepted,
            &dispatch(dept(1), &[dept(1)]),
            &dispatcher(),
            now,
        ),
        refused(
            &accepted,
            &dispatch(dept(1), &[dept(2), dept(2)]),
            &dispatcher(),
            now,
        ),
        refused(
            &dispatched,
            &Command::RecordAssistPart {
                unit: dept(1),
                part: s("x"),
            },
            &lead,
            now,
        ),
        refused(&in_progress, &extension(61), &lead, now),
        refused(
            &in_progress,
            &Command::Supervise {
                due: now,
                note: s("x"),
            },
            &leader(),
            now,
        ),
        refused(&in_progress, &pause, &lead, now),
        refused(&paused, &pause, &lead, now),
        refused(
            &in_progress,
            &Command::ResumeClock { note: s("") },
            &lead,
            now,
        ),
        refused(
            &registered,
            &Command::GiveFeedback { note: s("x") },
            &clerk(),
            now,
        ),
    ];
    let whys: Vec<&str> = errors
        .iter()
        .map(|error| match error {
            CaseError::NotAllowed { why, .. } | CaseError::Invalid { why, .. } => *why,
            CaseError::IllegalInState { .. } => "illegal_in_state",
        })
        .collect();
    assert_eq!(
        whys,
        [
            "role",
            "not_your_unit",
            "not_claimed_by_you",
            "required",
            "too_long",
            "extension_pending",
            "no_extension_pending",
            "not_above",
            "not_below",
            "same_unit",
            "duplicate_unit",
            "not_assisting",
            "range",
            "past",
            "not_pausable",
            "already_paused",
            "not_paused",
            "no_feedback_due",
        ]
    );
    for error in &errors {
        check_message(error).expect("a Chinese message");
    }
    // Reasons that could be mistaken for one another read differently for the same action or field.
    let refusals = ["role", "not_your_unit", "not_claimed_by_you"].map(|why| {
        CaseError::NotAllowed {
            action: "resolved",
            why,
        }
        .message_zh()
    });
    let units = ["same_unit", "duplicate_unit", "not_assisting", "range"].map(|why| {
        CaseError::Invalid {
            field: "assisting",
            why,
        }
        .message_zh()
    });
    let regions = ["not_above", "not_below"].map(|why| {
        CaseError::Invalid {
            field: "to_region",
            why,
        }
        .message_zh()
    });
    let actions = [
        "not_pausable",
        "already_paused",
        "not_paused",
        "no_feedback_due",
    ]
    .map(|why| {
        CaseError::Invalid {
            field: "action",
            why,
        }
        .message_zh()
    });
    for messages in [&refusals[..], &units[..], &regions[..], &actions[..]] {
        let distinct: BTreeSet<&String> = messages.iter().collect();
        assert_eq!(distinct.len(), messages.len(), "{messages:?}");
    }
    assert!(refusals[2].contains("“办结”"), "{}", refusals[2]);
}

/// The reopen rights: the center and the leader may reopen a closed, archived or awaiting case; the leader
/// may not archive.
#[test]
fn reopen_and_archive_from_final_states() {
    for status in [Status::Closed, Status::Archived, Status::AwaitingFollowUp] {
        let (case, now) = drive(status);
        for who in [dispatcher(), leader()] {
            let reopened = ok(
                &case,
                &Command::Reopen {
                    reason: s("重办")
                },
                &who,
                now,
            )
            .0;
            assert_eq!(
                (reopened.status, reopened.reopen_count),
                (Status::Accepted, 1)
            );
            assert_eq!(
                reopened.deadlines.handling.map(|d| d.at),
                Some(now + Duration::days(5))
            );
        }
    }
    for status in [Status::Rejected, Status::Merged] {
        let (case, now) = drive(status);
        let error = refused(
            &case,
            &Command::Reopen {
                reason: s("重办")
            },
            &dispatcher(),
            now,
        );
        assert_eq!(
            error,
            CaseError::IllegalInState {
                action: "reopened",
                status
            }
        );
    }
    let (closed, now) = drive(Status::Closed);
    assert!(matches!(
        refused(&closed, &Command::Archive, &leader(), now),
        CaseError::NotAllowed { why: "role", .. }
    ));
}

/// An assisting unit is listed once: `Dispatch`, `Reassign` and a redispatching `RuleOnReturn` refuse a list
/// that names a unit twice (a case carrying two `Assist` entries for one unit would have `RecordAssistPart`
/// fill only the first).
#[test]
fn an_assisting_unit_is_listed_once() {
    let twice = CaseError::Invalid {
        field: "assisting",
        why: "duplicate_unit",
    };
    let (accepted, now) = drive(Status::Accepted);
    let doubled = dispatch(dept(1), &[dept(2), dept(2)]);
    assert_eq!(refused(&accepted, &doubled, &dispatcher(), now), twice);
    let (in_progress, now) = drive(Status::InProgress);
    let reassign = Command::Reassign {
        lead: dept(3),
        assisting: vec![dept(2), grid(GRID_A), dept(2)],
        reason: s("改派"),
    };
    assert_eq!(refused(&in_progress, &reassign, &dispatcher(), now), twice);
    let (returned, now) = drive(Status::Returned);
    let redispatch = Command::RuleOnReturn {
        ruling: ReturnRuling::Redispatch {
            lead: grid(GRID_B),
            assisting: vec![dept(3), dept(3)],
        },
        note: s("退回成立"),
    };
    assert_eq!(refused(&returned, &redispatch, &dispatcher(), now), twice);
    // Each named once, every unit gets its own entry, in the order given.
    let once = dispatch(dept(1), &[grid(GRID_A), dept(2)]);
    let dispatched = ok(&accepted, &once, &dispatcher(), now).0;
    assert_eq!(
        dispatched
            .assisting
            .iter()
            .map(|a| a.unit.clone())
            .collect::<Vec<_>>(),
        vec![grid(GRID_A), dept(2)]
    );
}

/// Once claimed, the claimant carries the case: a colleague of the same unit may not return it, ask for more
/// time, resolve or escalate it in the claimant's stead (the center reassigns it instead). Before the claim,
/// any handler of the lead unit may return or escalate it.
#[test]
fn the_claimant_carries_the_case() {
    let (dispatched, now) = drive(Status::Dispatched);
    assert_eq!(dispatched.claimed_by, None);
    let up = Command::Escalate {
        to_region: region("370883"),
        reason: s("涉及多个乡镇"),
    };
    let back = Command::Return {
        reason: s("不属于本单位职责"),
    };
    let returned = ok(&dispatched, &back, &handler(7, dept(1)), now).0;
    assert_eq!(returned.status, Status::Returned);
    let escalated = ok(&dispatched, &up, &handler(8, dept(1)), now).0;
    assert_eq!(
        (escalated.status, escalated.owner_region),
        (Status::Accepted, region("370883"))
    );

    let claimant = handler(5, dept(1));
    let colleague = handler(7, dept(1));
    let claimed = ok(&dispatched, &Command::Claim, &claimant, now + hours(1)).0;
    assert_eq!(claimed.claimed_by, Some(5));
    let later = now + hours(2);
    let resolve = Command::Resolve {
        result: s("已办结"),
    };
    let carried = [
        back,
        Command::RequestExtension {
            working_days: 3,
            reason: s("需要鉴定"),
        },
        resolve.clone(),
        up,
    ];
    let not_claimed_by_you = |command: &Command| CaseError::NotAllowed {
        action: command.event_name(),
        why: "not_claimed_by_you",
    };
    for command in &carried {
        assert_eq!(
            refused(&claimed, command, &colleague, later),
            not_claimed_by_you(command)
        );
        // Another unit's handler, and a colleague without the handler's role, are refused as before.
        assert_eq!(
            refused(&claimed, command, &handler(7, dept(2)), later),
            CaseError::NotAllowed {
                action: command.event_name(),
                why: "not_your_unit",
            }
        );
        assert_eq!(
            refused(
                &claimed,
                command,
                &actor(5, &[Role::Mediator], &[dept(1)]),
                later
            ),
            CaseError::NotAllowed {
                action: command.event_name(),
                why: "role",
            }
        );
        let (next, event) = ok(&claimed, command, &claimant, later);
        assert_eq!(event.actor_user_id, 5);
        assert_ne!(next, claimed);
    }
    // The colleague cannot claim it over, but still works alongside (notes).
    assert_eq!(
        refused(&claimed, &Command::Claim, &colleague, later),
        CaseError::IllegalInState {
            action: "claimed",
            status: Status::InProgress,
        }
    );
    let note = Command::AddNote {
        text: s("已协助走访"),
    };
    assert_eq!(
        ok(&claimed, &note, &colleague, later).0.status,
        Status::InProgress
    );

    // Sent back after review, it is still the claimant's.
    let resolved = ok(&claimed, &resolve, &claimant, later).0;
    // Once resolved, whoever asks is told the case's state, not who claimed it.
    for command in &carried[..3] {
        for who in [
            &colleague,
            &claimant,
            &handler(7, dept(2)),
            &actor(5, &[Role::Mediator], &[dept(1)]),
        ] {
            assert_eq!(
                refused(&resolved, command, who, later),
                CaseError::IllegalInState {
                    action: command.event_name(),
                    status: Status::Resolved,
                },
                "{command:?} by {who:?}"
            );
        }
    }
    let send_back = Command::SendBack {
        reason: s("办理不到位"),
    };
    let sent_back = ok(&resolved, &send_back, &dispatcher(), later + hours(1)).0;
    assert_eq!(
        (sent_back.status, sent_back.claimed_by),
        (Status::InProgress, Some(5))
    );
    assert_eq!(
        refused(&sent_back, &resolve, &colleague, later + hours(2)),
        not_claimed_by_you(&resolve)
    );

    // With the claimant away, the center reassigns it (even to the same unit): unclaimed, a colleague claims
    // it and carries it from then on.
    let reassign = Command::Reassign {
        lead: dept(1),
        assisting: vec![],
        reason: s("承办人出差"),
    };
    let reassigned = ok(&sent_back, &reassign, &dispatcher(), later + hours(2)).0;
    assert_eq!(
        (reassigned.status, reassigned.claimed_by),
        (Status::Dispatched, None)
    );
    let taken = ok(&reassigned, &Command::Claim, &colleague, later + hours(3)).0;
    assert_eq!(taken.claimed_by, Some(7));
    assert_eq!(
        refused(&taken, &resolve, &claimant, later + hours(4)),
        not_claimed_by_you(&resolve)
    );
    assert_eq!(
        ok(&taken, &resolve, &colleague, later + hours(4)).0.status,
        Status::Resolved
    );
}

/// In a category that allows it, the claimant pauses the handling clock while waiting on the citizen; when
/// it is resumed (by the claimant or the center) the handling deadline moves later by the working days it
/// stood still, and those days count as extended. Less than a working day moves nothing. Leaving
/// `InProgress` while paused (resolved, returned, reassigned, escalated) restarts the clock the same way: the
/// days it stood are given back as a resume would.
#[test]
fn pausing_moves_the_handling_deadline_by_the_days_it_stood() {
    let (case, now) = drive_pausable_from(t0(), &PlainRules);
    let claimant = handler(3, dept(1));
    let colleague = handler(7, dept(1));
    let handling = case.deadlines.handling.expect("a handling deadline");
    assert_eq!(handling.at, t0() + hours(1) + Duration::days(5));
    let pause = Command::PauseClock {
        reason: s("等待当事人补充证据"),
    };
    let resume = Command::ResumeClock { note: s("") };

    let (paused, event) = ok(&case, &pause, &claimant, now);
    assert_eq!(
        (event.name, event.from, event.to),
        ("clock_paused", Status::InProgress, Status::InProgress)
    );
    assert_eq!(paused.paused_at, Some(now));
    assert_eq!(paused.deadlines, case.deadlines);
    let mut unpaused = paused.clone();
    unpaused.paused_at = None;
    assert_eq!(unpaused, case, "pausing changed something else");

    // Paused once only, by the claimant only; restarted by the claimant or the center only.
    let later = now + Duration::days(3) + hours(5);
    assert_eq!(
        refused(&paused, &pause, &claimant, later),
        CaseError::Invalid {
            field: "action",
            why: "already_paused"
        }
    );
    assert_eq!(
        refused(&case, &pause, &colleague, now),
        CaseError::NotAllowed {
            action: "clock_paused",
            why: "not_claimed_by_you"
        }
    );
    for (who, why) in [
        (&colleague, "not_claimed_by_you"),
        (&handler(7, dept(2)), "not_your_unit"),
        (&leader(), "role"),
        (&clerk(), "role"),
    ] {
        assert_eq!(
            refused(&paused, &resume, who, later),
            CaseError::NotAllowed {
                action: "clock_resumed",
                why
            },
            "{who:?}"
        );
    }

    // Three days and five hours later: three whole days.
    let (resumed, event) = ok(&paused, &resume, &claimant, later);
    assert_eq!(
        (event.name, event.from, event.to),
        ("clock_resumed", Status::InProgress, Status::InProgress)
    );
    assert_eq!(resumed.paused_at, None);
    assert_eq!(
        resumed.deadlines.handling,
        Some(DeadlineAt {
            at: handling.at + Duration::days(3),
            provisional: false,
        })
    );
    assert_eq!(resumed.extended_working_days, 3);
    assert_eq!(
        (resumed.deadlines.response, resumed.deadlines.follow_up),
        (case.deadlines.response, case.deadlines.follow_up)
    );
    assert_eq!(resumed.recompute_deadlines(&PlainRules), resumed.deadlines);
    assert_eq!(
        refused(&resumed, &resume, &claimant, later),
        CaseError::Invalid {
            field: "action",
            why: "not_paused"
        }
    );
    // The center restarts it to the same effect, with a note.
    let by_center = ok(
        &paused,
        &Command::ResumeClock {
            note: s("当事人已到场"),
        },
        &dispatcher(),
        later,
    )
    .0;
    assert_eq!(
        (by_center.deadlines, by_center.extended_working_days),
        (resumed.deadlines, 3)
    );
    // Under a day: the clock runs again, the deadline stays.
    let brief = ok(&paused, &resume, &claimant, now + hours(23)).0;
    assert_eq!(brief, case);
    // Paused again, the days add up; an approved extension adds on top.
    let again = ok(&resumed, &pause, &claimant, later + hours(1)).0;
    let twice = ok(
        &again,
        &resume,
        &claimant,
        later + hours(1) + Duration::days(2),
    )
    .0;
    assert_eq!(
        twice.deadlines.handling.map(|d| d.at),
        Some(handling.at + Duration::days(5))
    );
    assert_eq!(twice.extended_working_days, 5);
    let asked = ok(
        &twice,
        &Command::RequestExtension {
            working_days: 4,
            reason: s("需鉴定"),
        },
        &claimant,
        later + Duration::days(3),
    )
    .0;
    let extended = ok(
        &asked,
        &Command::DecideExtension {
            approve: true,
            note: s(""),
        },
        &dispatcher(),
        later + Duration::days(3),
    )
    .0;
    assert_eq!(extended.extended_working_days, 9);
    assert_eq!(
        extended.recompute_deadlines(&PlainRules),
        extended.deadlines
    );

    // Leaving `InProgress` restarts the clock as a resume would: resolved three days and five hours into
    // the pause, the deadline moves by the three whole days and they count as extended.
    let resolve = Command::Resolve {
        result: s("已办结"),
    };
    let (resolved, event) = ok(&paused, &resolve, &claimant, later);
    assert_eq!(
        (event.name, event.from, event.to),
        ("resolved", Status::InProgress, Status::Resolved)
    );
    assert_eq!(
        (resolved.status, resolved.paused_at),
        (Status::Resolved, None)
    );
    assert_eq!(resolved.deadlines, resumed.deadlines);
    assert_eq!(resolved.extended_working_days, 3);
    assert_eq!(
        resolved.recompute_deadlines(&PlainRules),
        resolved.deadlines
    );
    // Exactly what resuming first and then resolving gives.
    let resumed_then_resolved = ok(&resumed, &resolve, &claimant, later).0;
    assert_eq!(resolved, resumed_then_resolved);
    // Sent back, the clock runs and the days are not given back twice.
    let sent_back = ok(
        &resolved,
        &Command::SendBack {
            reason: s("办理不到位"),
        },
        &dispatcher(),
        later + Duration::days(2),
    )
    .0;
    assert_eq!(
        (sent_back.status, sent_back.paused_at),
        (Status::InProgress, None)
    );
    assert_eq!(
        (
            sent_back.deadlines.handling,
            sent_back.extended_working_days
        ),
        (resumed.deadlines.handling, 3)
    );
    assert_eq!(
        refused(&sent_back, &resume, &claimant, later + Duration::days(2)),
        CaseError::Invalid {
            field: "action",
            why: "not_paused"
        }
    );
    // Resolved within a day of the pause: nothing stood long enough to be given back.
    let soon = ok(&paused, &resolve, &claimant, now + hours(23)).0;
    assert_eq!(
        (
            soon.paused_at,
            soon.deadlines.handling,
            soon.extended_working_days
        ),
        (None, Some(handling), 0)
    );
    // Paused a second time after the first three days were given back, then resolved two days later: the
    // days add up.
    let resolved_again = ok(
        &again,
        &resolve,
        &claimant,
        later + hours(1) + Duration::days(2),
    )
    .0;
    assert_eq!(
        (
            resolved_again.deadlines.handling,
            resolved_again.extended_working_days
        ),
        (twice.deadlines.handling, 5)
    );
    let leaving: [(Command, CaseActor, Status); 3] = [
        (
            Command::Return {
                reason: s("不属于本单位职责"),
            },
            claimant.clone(),
            Status::Returned,
        ),
        (
            Command::Reassign {
                lead: dept(2),
                assisting: vec![],
                reason: s("改派"),
            },
            dispatcher(),
            Status::Dispatched,
        ),
        (
            Command::Escalate {
                to_region: region("370883"),
                reason: s("上报"),
            },
            claimant.clone(),
            Status::Accepted,
        ),
    ];
    for (command, who, status) in &leaving {
        let next = ok(&paused, command, who, later).0;
        assert_eq!(next.status, *status, "{command:?}");
        assert_eq!(next.paused_at, None, "{command:?}");
        assert_eq!(
            next.deadlines.handling,
            Some(DeadlineAt {
                at: handling.at + Duration::days(3),
                provisional: false,
            }),
            "{command:?}"
        );
        assert_eq!(next.extended_working_days, 3, "{command:?}");
        assert_eq!(
            next.recompute_deadlines(&PlainRules),
            next.deadlines,
            "{command:?}"
        );
        // Within a day of the pause, leaving gives back nothing.
        let quick = ok(&paused, command, who, now + hours(23)).0;
        assert_eq!(
            (
                quick.paused_at,
                quick.deadlines.handling,
                quick.extended_working_days
            ),
            (None, Some(handling), 0),
            "{command:?}"
        );
    }
    // Other commands in progress leave the clock paused.
    let noted = ok(
        &paused,
        &Command::AddNote {
            text: s("已联系当事人"),
        },
        &colleague,
        later,
    )
    .0;
    assert_eq!(noted.paused_at, Some(now));
}

/// The calendar counts the days the clock stood still: over a weekend only working days count, and the
/// deadline moves by as many working days on that calendar; a deadline moved into a provisional year is
/// provisional.
#[test]
fn the_calendar_counts_the_days_the_clock_stood_still() {
    // Monday 3 March 2025: five working days from the acceptance is Monday 10 March.
    assert_eq!(t0().weekday(), Weekday::Mon);
    let (case, now) = drive_pausable_from(t0(), &Weekdays);
    let accepted_at = t0() + hours(1);
    assert_eq!(
        case.deadlines.handling.map(|d| d.at),
        Some(accepted_at + Duration::days(7))
    );
    let claimant = handler(3, dept(1));
    let pause = Command::PauseClock {
        reason: s("等待鉴定结论"),
    };
    let resume = Command::ResumeClock { note: s("") };
    // Paused on Thursday, resumed on Tuesday: Friday, Monday and Tuesday are working days, the weekend not.
    let thursday = now + Duration::days(3);
    let tuesday = thursday + Duration::days(5);
    assert_eq!(
        (thursday.weekday(), tuesday.weekday()),
        (Weekday::Thu, Weekday::Tue)
    );
    let paused = case
        .apply(&pause, &claimant, thursday, &Weekdays)
        .expect("paused")
        .0;
    let resumed = paused
        .apply(&resume, &claimant, tuesday, &Weekdays)
        .expect("resumed")
        .0;
    assert_eq!(resumed.extended_working_days, 3);
    // Monday 10 March plus three working days: Thursday 13 March.
    assert_eq!(
        resumed.deadlines.handling.map(|d| d.at),
        Some(accepted_at + Duration::days(10))
    );
    assert_eq!(resumed.recompute_deadlines(&Weekdays), resumed.deadlines);
    // The default count would have taken the five calendar days.
    let plain = paused
        .apply(&resume, &claimant, tuesday, &PlainRules)
        .expect("resumed")
        .0;
    assert_eq!(plain.extended_working_days, 5);
    // Resolved on Tuesday instead of resumed, the same three working days are given back.
    let resolve = Command::Resolve {
        result: s("已办结"),
    };
    let resolved = paused
        .apply(&resolve, &claimant, tuesday, &Weekdays)
        .expect("resolved")
        .0;
    assert_eq!(
        (
            resolved.status,
            resolved.paused_at,
            resolved.extended_working_days
        ),
        (Status::Resolved, None, 3)
    );
    assert_eq!(resolved.deadlines.handling, resumed.deadlines.handling);
    assert_eq!(resolved.recompute_deadlines(&Weekdays), resolved.deadlines);
    // Paused on Friday evening and escalated on Sunday: the weekend gives back nothing.
    let friday = thursday + Duration::days(1);
    let sunday = friday + Duration::days(2);
    assert_eq!(
        (friday.weekday(), sunday.weekday()),
        (Weekday::Fri, Weekday::Sun)
    );
    let escalated = case
        .apply(&pause, &claimant, friday, &Weekdays)
        .expect("paused")
        .0
        .apply(
            &Command::Escalate {
                to_region: region("370883"),
                reason: s("上报"),
            },
            &claimant,
            sunday,
            &Weekdays,
        )
        .expect("escalated")
        .0;
    assert_eq!(
        (
            escalated.status,
            escalated.paused_at,
            escalated.extended_working_days
        ),
        (Status::Accepted, None, 0)
    );
    assert_eq!(escalated.deadlines.handling, case.deadlines.handling);

    // Near the year's end: the handling deadline (25 December) is final, the moved one (4 January) is not.
    let december = Utc
        .with_ymd_and_hms(2025, 12, 19, 23, 0, 0)
        .single()
        .expect("date");
    let (case, now) = drive_pausable_from(december, &ProvisionalFrom2026);
    let handling = case.deadlines.handling.expect("a handling deadline");
    assert!(!handling.provisional && !case.deadlines.provisional());
    let paused = case
        .apply(&pause, &claimant, now, &ProvisionalFrom2026)
        .expect("paused")
        .0;
    let resumed = paused
        .apply(
            &resume,
            &claimant,
            now + Duration::days(10),
            &ProvisionalFrom2026,
        )
        .expect("resumed")
        .0;
    assert_eq!(
        resumed.deadlines.handling,
        Some(DeadlineAt {
            at: handling.at + Duration::days(10),
            provisional: true,
        })
    );
    assert!(resumed.deadlines.provisional());
    // Returned instead of resumed, the moved deadline is provisional too.
    let returned = paused
        .apply(
            &Command::Return {
                reason: s("不属于本单位职责"),
            },
            &claimant,
            now + Duration::days(10),
            &ProvisionalFrom2026,
        )
        .expect("returned")
        .0;
    assert_eq!(
        (returned.status, returned.extended_working_days),
        (Status::Returned, 10)
    );
    assert_eq!(returned.deadlines.handling, resumed.deadlines.handling);
    // A deadline that rested on a provisional year still does once moved, whatever the calendar says now.
    let mut provisional = paused.clone();
    provisional.deadlines.handling = Some(DeadlineAt {
        provisional: true,
        ..handling
    });
    let resumed = provisional
        .apply(&resume, &claimant, now + Duration::days(2), &PlainRules)
        .expect("resumed")
        .0;
    assert_eq!(
        resumed.deadlines.handling,
        Some(DeadlineAt {
            at: handling.at + Duration::days(2),
            provisional: true,
        })
    );
    let reassigned = provisional
        .apply(
            &Command::Reassign {
                lead: dept(2),
                assisting: vec![],
                reason: s("改派"),
            },
            &dispatcher(),
            now + Duration::days(2),
            &PlainRules,
        )
        .expect("reassigned")
        .0;
    assert_eq!(reassigned.deadlines.handling, resumed.deadlines.handling);
}

/// A category that does not allow it refuses to pause the clock, whoever asks (changing the category does
/// not change the limits accepted with it); and the clock commands answer for the state before the actor.
#[test]
fn a_non_pausable_category_refuses_to_pause() {
    let (case, now) = drive(Status::InProgress);
    assert!(!case.limits.pausable);
    let claimant = handler(3, dept(1));
    let pause = Command::PauseClock {
        reason: s("等待当事人补充材料"),
    };
    let not_pausable = CaseError::Invalid {
        field: "action",
        why: "not_pausable",
    };
    assert_eq!(refused(&case, &pause, &claimant, now), not_pausable);
    // A colleague or another unit is refused for who they are first.
    assert_eq!(
        refused(&case, &pause, &handler(7, dept(1)), now),
        CaseError::NotAllowed {
            action: "clock_paused",
            why: "not_claimed_by_you"
        }
    );
    assert_eq!(
        refused(&case, &pause, &dispatcher(), now),
        CaseError::NotAllowed {
            action: "clock_paused",
            why: "role"
        }
    );
    let recategorised = ok(
        &case,
        &Command::ChangeCategory {
            category: s("劳动保障"),
            reason: s("研判更正"),
        },
        &dispatcher(),
        now,
    )
    .0;
    assert_eq!(recategorised.limits, case.limits);
    assert_eq!(
        refused(&recategorised, &pause, &claimant, now),
        not_pausable
    );
    // Nothing paused, nothing to resume.
    for who in [&claimant, &dispatcher()] {
        assert_eq!(
            refused(&case, &Command::ResumeClock { note: s("") }, who, now),
            CaseError::Invalid {
                field: "action",
                why: "not_paused"
            }
        );
    }
    // Out of progress, even in a pausable category, the state answers whoever asks.
    let (pausable, now) = drive_pausable_from(t0(), &PlainRules);
    let paused = ok(&pausable, &pause, &claimant, now).0;
    let resolved = ok(
        &paused,
        &Command::Resolve {
            result: s("已办结"),
        },
        &claimant,
        now,
    )
    .0;
    for command in [pause.clone(), Command::ResumeClock { note: s("") }] {
        for who in [
            &claimant,
            &handler(7, dept(1)),
            &handler(7, dept(2)),
            &dispatcher(),
            &leader(),
        ] {
            assert_eq!(
                refused(&resolved, &command, who, now),
                CaseError::IllegalInState {
                    action: command.event_name(),
                    status: Status::Resolved,
                },
                "{command:?} by {who:?}"
            );
        }
    }
    // Limits stored before the rule read back as not pausable.
    let limits: CaseLimits = serde_json::from_value(serde_json::json!({
        "response": { "unit": "working_hours", "amount": 4 },
        "handling": { "unit": "working_days", "amount": 5 },
        "follow_up": { "unit": "working_days", "amount": 3 },
    }))
    .expect("limits without `pausable`");
    assert_eq!(limits, CaseLimits::default());
}

/// Feedback to a visitor is given once: by the window, the center or the lead unit's handler, while the
/// case is open; then no more is due. Cases stored before the rule read back owing none and not paused.
#[test]
fn feedback_is_given_once_then_refused() {
    let due = DeadlineAt {
        at: t0() + Duration::days(2),
        provisional: true,
    };
    let mut case = registered();
    case.deadlines.feedback = Some(due);
    assert!(case.deadlines.provisional());
    let feedback = Command::GiveFeedback {
        note: s("已告知受理情况"),
    };
    let now = t0() + hours(3);
    // Before dispatch no handler acts for the lead unit; a leader or a mediator is not the window.
    for who in [
        handler(3, dept(1)),
        leader(),
        actor(4, &[Role::Mediator], &[dept(1)]),
    ] {
        assert_eq!(
            refused(&case, &feedback, &who, now),
            CaseError::NotAllowed {
                action: "feedback_given",
                why: "not_your_unit"
            },
            "{who:?}"
        );
    }
    assert_eq!(
        refused(
            &case,
            &Command::GiveFeedback { note: s(" ") },
            &clerk(),
            now
        ),
        CaseError::Invalid {
            field: "note",
            why: "required"
        }
    );
    let (given, event) = ok(&case, &feedback, &clerk(), now);
    assert_eq!(
        (event.name, event.from, event.to, event.at),
        (
            "feedback_given",
            Status::Registered,
            Status::Registered,
            now
        )
    );
    assert_eq!(given.deadlines.feedback, None);
    assert!(!given.deadlines.provisional());
    let mut owed = given.clone();
    owed.deadlines.feedback = Some(due);
    assert_eq!(owed, case, "giving feedback changed something else");
    let none_due = CaseError::Invalid {
        field: "action",
        why: "no_feedback_due",
    };
    for who in [clerk(), dispatcher()] {
        assert_eq!(refused(&given, &feedback, &who, now), none_due);
    }

    // Still owed after dispatch: the lead unit's handler gives it, another unit's may not.
    let mut dispatched = case.clone();
    for (command, who) in [
        (accept(), clerk()),
        (dispatch(dept(1), &[dept(2)]), dispatcher()),
    ] {
        dispatched = ok(&dispatched, &command, &who, now).0;
    }
    assert_eq!(dispatched.deadlines.feedback, Some(due));
    assert_eq!(
        refused(&dispatched, &feedback, &handler(7, dept(2)), now),
        CaseError::NotAllowed {
            action: "feedback_given",
            why: "not_your_unit"
        }
    );
    let (handled, event) = ok(&dispatched, &feedback, &handler(7, dept(1)), now);
    assert_eq!(
        (event.from, event.to),
        (Status::Dispatched, Status::Dispatched)
    );
    assert_eq!(handled.deadlines.feedback, None);
    assert_eq!(
        refused(&handled, &feedback, &handler(7, dept(1)), now),
        none_due
    );

    // A final case is past feedback: refused for its state (a rejected or closed one owes none any more).
    let rejected = ok(
        &case,
        &Command::Reject {
            reason: s("不属于受理范围"),
            missing: vec![],
        },
        &clerk(),
        now,
    )
    .0;
    assert_eq!(rejected.deadlines.feedback, None);
    let mut closed = case.clone();
    for (command, who) in [
        (accept(), clerk()),
        (
            Command::HandleOnSpot {
                result: s("当场答复"),
            },
            clerk(),
        ),
        (
            Command::FollowUp {
                outcome: FollowUpOutcome::Satisfied,
                note: s(""),
            },
            dispatcher(),
        ),
    ] {
        closed = ok(&closed, &command, &who, now).0;
    }
    assert_eq!(
        (closed.status, closed.deadlines.feedback),
        (Status::Closed, None)
    );
    for final_case in [&rejected, &closed] {
        assert_eq!(
            refused(final_case, &feedback, &dispatcher(), now),
            CaseError::IllegalInState {
                action: "feedback_given",
                status: final_case.status,
            }
        );
    }

    // Stored before the rule: no `feedback` deadline, no `paused_at`.
    let mut stored = serde_json::to_value(drive(Status::InProgress).0).expect("a case as JSON");
    let object = stored.as_object_mut().expect("an object");
    assert!(object.remove("paused_at").is_some());
    let deadlines = object
        .get_mut("deadlines")
        .and_then(|d| d.as_object_mut())
        .expect("deadlines");
    assert!(deadlines.remove("feedback").is_some());
    let read: Case = serde_json::from_value(stored).expect("an older case");
    assert_eq!(read, drive(Status::InProgress).0);
}

/// Feedback still owed to a visitor survives a reopening from `AwaitingFollowUp` (the other clocks start
/// over), and is moot once the follow-up closes the case: a closed or archived case owes none, nor does a
/// case reopened from there.
#[test]
fn owed_feedback_survives_a_reopen_and_ends_with_the_follow_up() {
    let due = DeadlineAt {
        at: t0() + Duration::days(2),
        provisional: true,
    };
    let mut case = registered();
    case.deadlines.feedback = Some(due);
    let mut now = t0();
    let mut step = |case: &Case, command: Command, who: CaseActor| {
        now += hours(1);
        (ok(case, &command, &who, now).0, now)
    };
    let (accepted, _) = step(&case, accept(), clerk());
    let (awaiting, _) = step(
        &accepted,
        Command::HandleOnSpot {
            result: s("当场答复"),
        },
        clerk(),
    );
    assert_eq!(
        (awaiting.status, awaiting.deadlines.feedback),
        (Status::AwaitingFollowUp, Some(due))
    );
    let reopen = Command::Reopen {
        reason: s("群众不满意"),
    };
    let (reopened, at) = step(&awaiting, reopen.clone(), dispatcher());
    assert_eq!(reopened.status, Status::Accepted);
    assert_eq!(
        reopened.deadlines.feedback,
        Some(due),
        "owed feedback dropped"
    );
    assert_eq!(
        reopened.deadlines.handling,
        Some(DeadlineAt {
            at: at + Duration::days(5),
            provisional: false,
        })
    );
    assert_eq!(
        (reopened.deadlines.response, reopened.deadlines.follow_up),
        (None, None)
    );
    assert!(reopened.deadlines.provisional());
    // Given now, it is given; otherwise it stays owed along the way back to the follow-up.
    let feedback = Command::GiveFeedback {
        note: s("已告知重办"),
    };
    let given = ok(&reopened, &feedback, &clerk(), at).0;
    assert_eq!(given.deadlines.feedback, None);
    let mut again = reopened.clone();
    for (command, who) in [
        (dispatch(dept(1), &[]), dispatcher()),
        (Command::Claim, handler(3, dept(1))),
        (
            Command::Resolve {
                result: s("已重新调解"),
            },
            handler(3, dept(1)),
        ),
        (Command::ApproveReview, dispatcher()),
    ] {
        again = step(&again, command, who).0;
        assert_eq!(again.deadlines.feedback, Some(due), "{:?}", again.status);
    }
    assert_eq!(again.status, Status::AwaitingFollowUp);
    // The follow-up closes the case with the citizen: nothing more is owed, whatever the outcome.
    for outcome in FollowUpOutcome::ALL {
        let (closed, event) = ok(
            &again,
            &Command::FollowUp {
                outcome: *outcome,
                note: s(""),
            },
            &dispatcher(),
            now,
        );
        assert_eq!(
            (event.from, event.to),
            (Status::AwaitingFollowUp, Status::Closed)
        );
        assert_eq!(closed.deadlines.feedback, None, "{outcome:?}");
        assert!(!closed.deadlines.provisional());
        let mut owed = closed.clone();
        owed.deadlines.feedback = Some(due);
        owed.status = Status::AwaitingFollowUp;
        owed.follow_up = None;
        owed.closed_at = None;
        assert_eq!(owed, again, "closing changed something else");
        let archived = ok(&closed, &Command::Archive, &dispatcher(), now).0;
        assert_eq!(archived.deadlines.feedback, None);
        for final_case in [&closed, &archived] {
            let reopened = ok(final_case, &reopen, &leader(), now).0;
            assert_eq!(
                (reopened.status, reopened.deadlines.feedback),
                (Status::Accepted, None)
            );
        }
    }
}
