//! Reopen (重办) and the requests a unit raises on its assignment — return (退单), extension (延期),
//! co-handling (协办) — with the decision of the parent unit or the centre.

use chrono::{DateTime, Utc};

use super::*;

impl Ticket {
    /// 重办: the lead unit gets the ticket back with a fresh resolve deadline and must sign again.
    pub(super) fn reopen(
        &mut self,
        reason: String,
        now: DateTime<Utc>,
        clock: &dyn Clock,
        ev: &mut Vec<Event>,
    ) -> Result<(), WorkflowError> {
        let lead = self
            .lead()
            .map(|l| l.id)
            .ok_or_else(|| conflict("the ticket has no lead unit to reopen to"))?;
        let policy = self.policy()?.clone();
        self.stop_clock(ClockKind::Callback, None, now, ev);
        let count = {
            let a = &mut self.assignments[lead as usize];
            a.reopen_count += 1;
            a.reply = None;
            a.dispatched_at = now;
            a.reopen_count
        };
        ev.push(Event::Reopened {
            assignment: lead,
            count,
            reason,
        });
        self.set_assignment(lead, AssignmentState::Dispatched, ev);
        self.start_clock(
            ClockKind::Sign,
            Some(lead),
            now,
            clock.due(now, policy.sign),
            clock,
            ev,
        );
        let due = clock.due(now, policy.resolve.get(self.ticket_type));
        self.start_clock(ClockKind::Resolve, Some(lead), now, due, clock, ev);
        self.set_state(TicketState::Dispatched, ev);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn request(
        &mut self,
        assignment: AssignmentId,
        kind: RequestKind,
        reason: String,
        actor: &Actor,
        now: DateTime<Utc>,
        clock: &dyn Clock,
        ev: &mut Vec<Event>,
    ) -> Result<(), WorkflowError> {
        self.expect_state("request", WORKING)?;
        let a = self.get(assignment)?.clone();
        require_unit(actor, a.unit, "raise a request")?;
        let policy = self.policy()?.clone();
        if reason.trim().is_empty() {
            return Err(invalid("a request needs a reason"));
        }
        if a.requests
            .iter()
            .any(|r| r.status == RequestStatus::Pending)
        {
            return Err(conflict(format!(
                "assignment {assignment} already has a pending request"
            )));
        }
        match &kind {
            RequestKind::Return => {
                if !matches!(
                    a.state,
                    AssignmentState::Dispatched | AssignmentState::Signed
                ) {
                    return Err(conflict(format!(
                        "assignment {assignment} is {:?}; only dispatched or signed work can be returned",
                        a.state
                    )));
                }
                let window = clock.due(a.dispatched_at, policy.return_window);
                if now > window {
                    return Err(conflict(format!("the return window closed at {window}")));
                }
                if self
                    .assignments
                    .iter()
                    .any(|c| c.parent == Some(assignment) && c.state.is_open())
                {
                    return Err(conflict(
                        "work passed down is still open; it cannot be returned",
                    ));
                }
            }
            RequestKind::Extension { days } => {
                if a.state != AssignmentState::Signed {
                    return Err(conflict(format!(
                        "assignment {assignment} is {:?}; only signed work can be extended",
                        a.state
                    )));
                }
                if a.extensions_granted >= policy.max_extensions {
                    return Err(conflict(format!(
                        "assignment {assignment} already had {} of {} extensions",
                        a.extensions_granted, policy.max_extensions
                    )));
                }
                if *days == 0 || *days > policy.max_extension_days {
                    return Err(invalid(format!(
                        "an extension is 1 to {} working days",
                        policy.max_extension_days
                    )));
                }
                let due = self
                    .clock(ClockKind::Resolve, Some(assignment))
                    .map(|c| c.due)
                    .ok_or_else(|| conflict("no running resolve clock to extend"))?;
                if now >= due {
                    return Err(conflict(format!(
                        "an extension must be asked before the due time {due}"
                    )));
                }
                // Work passed down must still come back in time for the parent to reply up.
                if let Some(p) = a.parent {
                    if let Some(pdue) = self.clock(ClockKind::Resolve, Some(p)).map(|c| c.due) {
                        let to = clock.extend(due, Sla::WorkingDays(*days));
                        if to > pdue {
                            return Err(invalid(format!(
                                "the extended due {to} would pass the parent unit's due {pdue}"
                            )));
                        }
                    }
                }
            }
            RequestKind::CoHandling { unit } => {
                if !matches!(
                    a.state,
                    AssignmentState::Dispatched | AssignmentState::Signed
                ) {
                    return Err(conflict(format!(
                        "assignment {assignment} is {:?}; co-handling needs open work",
                        a.state
                    )));
                }
                if self
                    .assignments
                    .iter()
                    .any(|x| x.unit == *unit && x.parent == a.parent && x.state.is_open())
                {
                    return Err(invalid(format!("unit {unit} is already on this level")));
                }
            }
        }
        let id = a.requests.len() as u32;
        self.assignments[assignment as usize]
            .requests
            .push(Request {
                id,
                kind: kind.clone(),
                reason: reason.clone(),
                opened_at: now,
                status: RequestStatus::Pending,
                decision_note: None,
            });
        ev.push(Event::RequestOpened {
            assignment,
            request: id,
            kind,
            reason,
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide(
        &mut self,
        assignment: AssignmentId,
        request: u32,
        approve: bool,
        note: String,
        actor: &Actor,
        now: DateTime<Utc>,
        clock: &dyn Clock,
        ev: &mut Vec<Event>,
    ) -> Result<(), WorkflowError> {
        self.expect_state("decide", WORKING)?;
        let a = self.get(assignment)?.clone();
        match a.parent {
            Some(p) => require_unit(actor, self.get(p)?.unit, "decide this request")?,
            None => require_centre(actor, "decide a top-level request")?,
        }
        let r = a
            .requests
            .get(request as usize)
            .ok_or_else(|| {
                WorkflowError::NotFound(format!("no request {request} on assignment {assignment}"))
            })?
            .clone();
        if r.status != RequestStatus::Pending {
            return Err(conflict(format!(
                "request {request} was already {:?}",
                r.status
            )));
        }
        {
            let x = &mut self.assignments[assignment as usize].requests[request as usize];
            x.status = if approve {
                RequestStatus::Approved
            } else {
                RequestStatus::Rejected
            };
            x.decision_note = Some(note.clone());
        }
        ev.push(Event::RequestDecided {
            assignment,
            request,
            kind: r.kind.clone(),
            approved: approve,
            note,
        });
        if !approve {
            return Ok(());
        }
        match r.kind {
            RequestKind::Return => {
                let is_lead = self.lead().map(|l| l.id) == Some(assignment);
                self.set_assignment(assignment, AssignmentState::Returned, ev);
                self.stop_clocks(|c| c.assignment == Some(assignment), now, ev);
                // A returned lead leaves the ticket without an owner: back to the dispatch desk, co-units and
                // all, so the next dispatch starts clean.
                if is_lead {
                    let open: Vec<AssignmentId> = self
                        .assignments
                        .iter()
                        .filter(|x| x.state.is_open())
                        .map(|x| x.id)
                        .collect();
                    for id in open {
                        self.set_assignment(id, AssignmentState::Returned, ev);
                        self.stop_clocks(|c| c.assignment == Some(id), now, ev);
                    }
                    let due = clock.due(now, self.policy()?.dispatch(self.urgency));
                    self.set_state(TicketState::PendingDispatch, ev);
                    self.start_clock(ClockKind::Dispatch, None, now, due, clock, ev);
                }
            }
            RequestKind::Extension { days } => {
                let (cid, from) = self
                    .clock(ClockKind::Resolve, Some(assignment))
                    .map(|c| (c.id, c.due))
                    .ok_or_else(|| conflict("no running resolve clock to extend"))?;
                let to = clock.extend(from, Sla::WorkingDays(days));
                let notice_at = self.notice_at(ClockKind::Resolve, to, clock);
                let policy = self.policy()?.clone();
                if let Some(c) = self.clocks.get_mut(cid as usize) {
                    c.due = to;
                    c.notice_at = notice_at;
                    // The new deadline re-arms the rungs still ahead of now; none fires retroactively.
                    c.fired = stages(c, Some(&policy))
                        .iter()
                        .filter(|(t, _)| *t <= now)
                        .count();
                }
                self.assignments[assignment as usize].extensions_granted += 1;
                ev.push(Event::DueMoved {
                    clock: cid,
                    assignment: Some(assignment),
                    from,
                    to,
                });
            }
            RequestKind::CoHandling { unit } => {
                let due = self
                    .clock(ClockKind::Resolve, Some(assignment))
                    .map(|c| c.due)
                    .ok_or_else(|| {
                        conflict("no running resolve clock to share with the co-unit")
                    })?;
                self.new_assignment(unit, a.parent, UnitRole::Co, now, due, clock, ev)?;
            }
        }
        Ok(())
    }
}
