//! The body of `POST /api/v1/tickets/{id}/actions` and its translation into workflow steps: unit references,
//! the assignment meant when none is named, the stored catalogue, and the steps run in one transaction.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use hotline_tickets::routing::ApplyStep;
use hotline_workflow::{
    Action, Actor, AssignmentId, AssignmentState, CallbackAttempt, ContactMethod, EmergencyService,
    Outcome, Reply, RequestKind, RequestStatus, Role, Routing, SupervisionLevel, Ticket as Flow,
    UnitId,
};
use serde::Deserialize;

use super::{calendar, ticket_id, unprocessable, RoutingSetup};
use crate::{ApiError, ApiState};

/// A unit by id (`7`) or code (`"traffic_bureau"`).
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
pub enum UnitRef {
    Id(u64),
    Code(String),
}

/// The API's actions. Mostly one workflow action each; `dispatch` from `accepted` also queues the ticket (with
/// the centre's SLA policy), and `merge` touches the duplicate and the master.
#[derive(Deserialize, Debug)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionBody {
    Accept,
    CloseAtIntake {
        answer: String,
    },
    QueueForDispatch,
    Dispatch {
        lead: Option<UnitRef>,
        #[serde(default)]
        co: Vec<UnitRef>,
    },
    HandOff {
        to: String,
        #[serde(default)]
        note: String,
    },
    Reject {
        reason: String,
    },
    Sign {
        assignment: Option<AssignmentId>,
    },
    SubDispatch {
        parent: Option<AssignmentId>,
        unit: UnitRef,
        due: Option<DateTime<Utc>>,
    },
    Contact {
        assignment: Option<AssignmentId>,
        at: Option<DateTime<Utc>>,
        method: ContactMethod,
    },
    Reply {
        assignment: Option<AssignmentId>,
        contacted_at: Option<DateTime<Utc>>,
        contact_method: Option<ContactMethod>,
        outcome: Outcome,
        public_text: String,
        #[serde(default)]
        internal_notes: String,
    },
    Review {
        assignment: Option<AssignmentId>,
        approve: bool,
        #[serde(default)]
        note: String,
    },
    Return {
        assignment: Option<AssignmentId>,
        reason: String,
    },
    Extend {
        assignment: Option<AssignmentId>,
        days: u32,
        reason: String,
    },
    CoHandling {
        assignment: Option<AssignmentId>,
        unit: UnitRef,
        reason: String,
    },
    Decide {
        assignment: Option<AssignmentId>,
        request: Option<u32>,
        approve: bool,
        #[serde(default)]
        note: String,
    },
    Callback {
        reached: bool,
        resolved: Option<bool>,
        grade: Option<String>,
        #[serde(default)]
        comment: String,
        #[serde(default)]
        unit_caused: bool,
    },
    Close {
        #[serde(default)]
        note: String,
    },
    Reopen {
        reason: String,
    },
    Urge {
        assignment: Option<AssignmentId>,
        reason: String,
    },
    Supervise {
        assignment: Option<AssignmentId>,
        reason: String,
    },
    Notice {
        assignment: Option<AssignmentId>,
        reason: String,
    },
    Merge {
        into: String,
    },
    Archive,
}

async fn unit_id(st: &ApiState, r: &UnitRef) -> Result<UnitId, ApiError> {
    match r {
        UnitRef::Id(id) => Ok(*id),
        UnitRef::Code(code) => {
            let id = st
                .tickets
                .unit_id_by_code(code)
                .await?
                .ok_or_else(|| unprocessable(format!("unit: unknown code {code:?}")))?;
            u64::try_from(id).map_err(|_| unprocessable(format!("unit: bad id {id}")))
        }
    }
}

/// The assignment an action means when the body names none: a liaison's open assignment of its own unit
/// (the newest), for the centre the lead.
fn default_assignment(
    flow: &Flow,
    actor: &Actor,
    given: Option<AssignmentId>,
) -> Result<AssignmentId, ApiError> {
    if let Some(a) = given {
        return Ok(a);
    }
    let open = |s: AssignmentState| {
        matches!(
            s,
            AssignmentState::Dispatched | AssignmentState::Signed | AssignmentState::Replied
        )
    };
    let found = match actor.role {
        Role::UnitLiaison { unit } => flow
            .assignments
            .iter()
            .rev()
            .find(|a| a.unit == unit && open(a.state))
            .map(|a| a.id),
        _ => flow.lead().map(|a| a.id),
    };
    found.ok_or_else(|| unprocessable("assignment: none open for you on this ticket; name one"))
}

/// The dispatch catalogue as stored (editable through `/api/v1/catalogue`), asked for a category and area now.
/// Rules limited to working days or days off are kept or dropped by today's calendar before matching.
pub(crate) async fn catalogue_route(
    st: &ApiState,
    setup: &RoutingSetup,
    category: Option<&str>,
    area: Option<&str>,
) -> Result<Routing, ApiError> {
    let local = Utc::now()
        .with_timezone(&hotline_calendar::shanghai())
        .naive_local();
    let working_today = calendar(st).is_working_day(local.date());
    let rows = st.tickets.list_catalogue_rules().await?;
    let mut rules = Vec::with_capacity(rows.len());
    for r in rows {
        let days = r.days.clone().unwrap_or_default();
        if (days.iter().any(|d| d == "working") && !working_today)
            || (days.iter().any(|d| d == "rest") && working_today)
        {
            continue;
        }
        let weekdays: Vec<chrono::Weekday> = days.iter().filter_map(|d| d.parse().ok()).collect();
        let time = |s: &str| match s {
            "24:00" => chrono::NaiveTime::from_hms_milli_opt(23, 59, 59, 999),
            other => hotline_workflow::TimeWindow::parse_hhmm(other),
        };
        let window = match (r.window_from.as_deref(), r.window_to.as_deref()) {
            (Some(f), Some(t)) => match (time(f), time(t)) {
                (Some(from), Some(to)) => Some(hotline_workflow::TimeWindow {
                    from,
                    to,
                    days: weekdays,
                }),
                // Stored values are checked on write; a bad one is skipped rather than routing wrongly.
                _ => continue,
            },
            _ if !weekdays.is_empty() => Some(hotline_workflow::TimeWindow {
                from: chrono::NaiveTime::MIN,
                to: chrono::NaiveTime::MIN,
                days: weekdays,
            }),
            _ => None,
        };
        rules.push(hotline_workflow::Rule {
            id: u64::try_from(r.id).unwrap_or(0),
            category: r.category,
            area: r.area,
            window,
            lead: r.lead_unit,
            co: r.co_units,
        });
    }
    Ok(hotline_workflow::Catalogue::new(rules).route(&setup.taxonomy, category, area, local))
}

fn emergency(to: &str) -> Result<EmergencyService, ApiError> {
    Ok(match to {
        "110" | "police_110" => EmergencyService::Police110,
        "119" | "fire_119" => EmergencyService::Fire119,
        "120" | "ambulance_120" => EmergencyService::Ambulance120,
        "122" | "traffic_122" => EmergencyService::Traffic122,
        other => {
            return Err(unprocessable(format!(
                "to: {other:?} is not 110, 119, 120 or 122"
            )))
        }
    })
}

/// Turns the API action into the workflow steps to run in one transaction.
pub(super) async fn steps_for(
    st: &ApiState,
    setup: &RoutingSetup,
    id: i64,
    body: ActionBody,
    actor: &Actor,
) -> Result<Vec<ApplyStep>, ApiError> {
    let one = |action: Action| Ok(vec![ApplyStep { ticket: id, action }]);
    let flow = || async {
        st.tickets.workflow(id).await?.ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "the ticket has not been accepted yet",
            )
        })
    };
    match body {
        ActionBody::Accept => one(Action::Accept),
        ActionBody::CloseAtIntake { answer } => one(Action::CloseAtIntake { answer }),
        ActionBody::QueueForDispatch => one(Action::QueueForDispatch {
            policy: setup.policy.clone(),
        }),
        ActionBody::Dispatch { lead, co } => {
            let detail = st
                .tickets
                .get(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("ticket {id} not found")))?;
            // Refuse an illegal dispatch before asking the catalogue, so the answer is the state's 409.
            let state = detail.ticket.case.state.as_str();
            if !matches!(state, "accepted" | "pending_dispatch") {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("cannot dispatch a ticket in state {state}; allowed in accepted, pending_dispatch"),
                ));
            }
            let mut co_ids = Vec::new();
            for u in &co {
                co_ids.push(unit_id(st, u).await?);
            }
            let lead = match lead {
                Some(u) => unit_id(st, &u).await?,
                None => {
                    let case = &detail.ticket.case;
                    let (code, co_codes) = match catalogue_route(
                        st,
                        setup,
                        case.category.as_deref(),
                        case.area.as_deref(),
                    )
                    .await?
                    {
                        Routing::Automatic { lead, co, .. } => (lead, co),
                        Routing::Fallback { lead } => (lead, Vec::new()),
                        Routing::Manual => {
                            return Err(unprocessable(
                                "lead: no catalogue rule or district government matches this ticket; name the lead unit",
                            ))
                        }
                    };
                    if co.is_empty() {
                        for c in &co_codes {
                            co_ids.push(unit_id(st, &UnitRef::Code(c.clone())).await?);
                        }
                    }
                    unit_id(st, &UnitRef::Code(code)).await?
                }
            };
            let mut steps = Vec::new();
            if detail.ticket.case.state == "accepted" {
                steps.push(ApplyStep {
                    ticket: id,
                    action: Action::QueueForDispatch {
                        policy: setup.policy.clone(),
                    },
                });
            }
            steps.push(ApplyStep {
                ticket: id,
                action: Action::Dispatch { lead, co: co_ids },
            });
            Ok(steps)
        }
        ActionBody::HandOff { to, note } => one(Action::HandOff {
            to: emergency(&to)?,
            note,
        }),
        ActionBody::Reject { reason } => one(Action::Reject { reason }),
        ActionBody::Sign { assignment } => {
            let assignment = default_assignment(&flow().await?, actor, assignment)?;
            one(Action::Sign { assignment })
        }
        ActionBody::SubDispatch { parent, unit, due } => {
            let f = flow().await?;
            let parent = default_assignment(&f, actor, parent)?;
            let unit = unit_id(st, &unit).await?;
            // Work passes down the unit tree (下派): the child must be below the parent unit.
            if let Some(p) = f.assignment(parent) {
                let above = i64::try_from(p.unit).unwrap_or(i64::MAX);
                let mut at = i64::try_from(unit).unwrap_or(i64::MAX);
                let mut below = false;
                // Bounded walk: a tree deeper than this is a data error, not a reason to loop.
                for _ in 0..16 {
                    match st.tickets.unit(at).await?.and_then(|u| u.parent_id) {
                        Some(up) if up == above => {
                            below = true;
                            break;
                        }
                        Some(up) => at = up,
                        None => break,
                    }
                }
                if !below {
                    return Err(unprocessable(format!(
                        "unit: unit {unit} is not below unit {above} in the unit tree"
                    )));
                }
            }
            one(Action::SubDispatch { parent, unit, due })
        }
        ActionBody::Contact {
            assignment,
            at,
            method,
        } => {
            let assignment = default_assignment(&flow().await?, actor, assignment)?;
            one(Action::RecordContact {
                assignment,
                at: at.unwrap_or_else(Utc::now),
                method,
            })
        }
        ActionBody::Reply {
            assignment,
            contacted_at,
            contact_method,
            outcome,
            public_text,
            internal_notes,
        } => {
            let assignment = default_assignment(&flow().await?, actor, assignment)?;
            one(Action::Reply {
                assignment,
                reply: Reply {
                    contacted_at,
                    contact_method,
                    outcome,
                    public_text,
                    internal_notes,
                },
            })
        }
        ActionBody::Review {
            assignment,
            approve,
            note,
        } => {
            let f = flow().await?;
            // A parent unit reviews its child's reply: default to the replied child of the liaison's unit.
            let assignment = match (assignment, actor.role) {
                (Some(a), _) => a,
                (None, Role::UnitLiaison { unit }) => f
                    .assignments
                    .iter()
                    .find(|a| {
                        a.state == AssignmentState::Replied
                            && a.parent
                                .and_then(|p| f.assignment(p))
                                .is_some_and(|p| p.unit == unit)
                    })
                    .map(|a| a.id)
                    // None waiting: the liaison's own assignment, which the workflow then refuses (403)
                    // if it is a top-level reply only the centre may review.
                    .map_or_else(|| default_assignment(&f, actor, None), Ok)?,
                (None, _) => default_assignment(&f, actor, None)?,
            };
            one(Action::Review {
                assignment,
                approve,
                note,
            })
        }
        ActionBody::Return { assignment, reason } => {
            let assignment = default_assignment(&flow().await?, actor, assignment)?;
            one(Action::Request {
                assignment,
                kind: RequestKind::Return,
                reason,
            })
        }
        ActionBody::Extend {
            assignment,
            days,
            reason,
        } => {
            let assignment = default_assignment(&flow().await?, actor, assignment)?;
            one(Action::Request {
                assignment,
                kind: RequestKind::Extension { days },
                reason,
            })
        }
        ActionBody::CoHandling {
            assignment,
            unit,
            reason,
        } => {
            let assignment = default_assignment(&flow().await?, actor, assignment)?;
            let unit = unit_id(st, &unit).await?;
            one(Action::Request {
                assignment,
                kind: RequestKind::CoHandling { unit },
                reason,
            })
        }
        ActionBody::Decide {
            assignment,
            request,
            approve,
            note,
        } => {
            let f = flow().await?;
            // Without names: the only pending request on the ticket.
            let pending: Vec<(AssignmentId, u32)> = f
                .assignments
                .iter()
                .filter(|a| assignment.is_none_or(|x| x == a.id))
                .flat_map(|a| {
                    a.requests
                        .iter()
                        .filter(|r| r.status == RequestStatus::Pending)
                        .map(move |r| (a.id, r.id))
                })
                .filter(|(_, r)| request.is_none_or(|x| x == *r))
                .collect();
            let (assignment, request) = match (assignment, request, pending.as_slice()) {
                (Some(a), Some(r), _) => (a, r),
                (_, _, [one]) => *one,
                (_, _, []) => return Err(unprocessable("request: no pending request to decide")),
                _ => {
                    return Err(unprocessable(
                        "request: several pending requests; name assignment and request",
                    ))
                }
            };
            one(Action::Decide {
                assignment,
                request,
                approve,
                note,
            })
        }
        ActionBody::Callback {
            reached,
            resolved,
            grade,
            comment,
            unit_caused,
        } => {
            let grade = match grade {
                None => None,
                Some(code) => Some(setup.scale.grade(&code).cloned().ok_or_else(|| {
                    let codes: Vec<&str> =
                        setup.scale.grades.iter().map(|g| g.code.as_str()).collect();
                    unprocessable(format!(
                        "grade: {code:?} is not on the scale ({})",
                        codes.join(", ")
                    ))
                })?),
            };
            one(Action::Callback {
                attempt: CallbackAttempt {
                    reached,
                    resolved,
                    grade,
                    comment,
                    unit_caused,
                },
            })
        }
        ActionBody::Close { note } => {
            // Answered at intake when nothing was dispatched; otherwise a close without a satisfied callback.
            let state = st
                .tickets
                .get(id)
                .await?
                .map(|d| d.ticket.case.state)
                .unwrap_or_default();
            if state == "accepted" {
                one(Action::CloseAtIntake { answer: note })
            } else {
                one(Action::Close { note })
            }
        }
        ActionBody::Reopen { reason } => one(Action::Reopen { reason }),
        ActionBody::Urge { assignment, reason } => one(Action::Supervise {
            assignment,
            level: SupervisionLevel::Urge,
            reason,
        }),
        ActionBody::Supervise { assignment, reason } => one(Action::Supervise {
            assignment,
            level: SupervisionLevel::Supervise,
            reason,
        }),
        ActionBody::Notice { assignment, reason } => one(Action::Supervise {
            assignment,
            level: SupervisionLevel::Notice,
            reason,
        }),
        ActionBody::Merge { into } => {
            let master = ticket_id(st, &into).await?;
            if master == id {
                return Err(unprocessable("into: a ticket cannot be merged into itself"));
            }
            let number = |t: i64| async move {
                st.tickets
                    .get(t)
                    .await?
                    .map(|d| d.ticket.number)
                    .ok_or_else(|| ApiError::not_found(format!("ticket {t} not found")))
            };
            let (dup_no, master_no) = (number(id).await?, number(master).await?);
            Ok(vec![
                ApplyStep {
                    ticket: id,
                    action: Action::MergeInto { master: master_no },
                },
                ApplyStep {
                    ticket: master,
                    action: Action::AbsorbDuplicate { duplicate: dup_no },
                },
            ])
        }
        ActionBody::Archive => one(Action::Archive),
    }
}
