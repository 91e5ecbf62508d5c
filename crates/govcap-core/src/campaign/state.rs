//! A task's state, derived from its events (the UK GDS monitoring platform's rule: a status is
//! computed from what happened, never edited), and the checks that decide whether a write may
//! happen: the assignee enters, someone else confirms (the two-person rule), a confirmed value
//! may be appealed, the lead decides appeals and adjudicates disagreeing double codings.
//!
//! `version` is the number of events: a write names the version it saw, and a write on an
//! older version is refused, so two people editing one task cannot overwrite each other.

use serde::{Deserialize, Serialize};

/// Something that happened to a task. Values are kept as entered (text); the leaf's rule reads
/// them (`engine::score::read_value`) before an `Entered` event is accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// `by` is the lead (or `generate` for the first assignment).
    Assigned {
        by: String,
        to: String,
    },
    Entered {
        by: String,
        value: String,
        /// The evaluator's confidence: `high`, `medium` or `low`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<String>,
    },
    Reviewed {
        by: String,
        confirm: bool,
        note: String,
    },
    /// The lead's value for a double-coded pair that disagreed; it is reviewed like any value.
    Adjudicated {
        by: String,
        value: String,
    },
    Appealed {
        by: String,
        reason: String,
    },
    AppealDecided {
        by: String,
        uphold: bool,
        note: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not yet assigned to anyone.
    Unassigned,
    /// Assigned, no value yet.
    Todo,
    /// A value awaits review.
    Entered,
    /// A reviewer other than the evaluator confirmed it: it counts.
    Confirmed,
    /// A reviewer rejected it with a reason: back to the evaluator.
    Returned,
    /// The unit's representative appealed the confirmed value.
    Appealed,
    /// The lead upheld an appeal: the evaluator enters a changed value, reviewed again.
    Reopened,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unassigned => "unassigned",
            Status::Todo => "todo",
            Status::Entered => "entered",
            Status::Confirmed => "confirmed",
            Status::Returned => "returned",
            Status::Appealed => "appealed",
            Status::Reopened => "reopened",
        }
    }
}

/// What the events add up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskState {
    pub status: Status,
    pub assignee: Option<String>,
    pub value: Option<String>,
    /// Who entered (or adjudicated) the current value.
    pub entered_by: Option<String>,
    /// Who confirmed it.
    pub confirmed_by: Option<String>,
    /// The evaluator's confidence in the current value.
    pub confidence: Option<String>,
    /// The current value is the lead's adjudication of a disagreeing double-coded pair.
    pub adjudicated: bool,
    /// The last reviewer's or decider's note (e.g. why a value was returned).
    pub note: Option<String>,
    /// Number of events so far.
    pub version: u64,
    /// Who wrote the last event, for "changed by … since you loaded the page".
    pub last_actor: Option<String>,
}

/// Folds the events in order.
pub fn fold(events: &[Event]) -> TaskState {
    let mut s = TaskState {
        status: Status::Unassigned,
        assignee: None,
        value: None,
        entered_by: None,
        confirmed_by: None,
        confidence: None,
        adjudicated: false,
        note: None,
        version: 0,
        last_actor: None,
    };
    for e in events {
        s.version += 1;
        match e {
            Event::Assigned { by, to } => {
                s.assignee = Some(to.clone());
                s.last_actor = Some(by.clone());
                if s.status == Status::Unassigned {
                    s.status = Status::Todo;
                }
            }
            Event::Entered { by, value, .. } | Event::Adjudicated { by, value } => {
                s.adjudicated = matches!(e, Event::Adjudicated { .. });
                s.confidence = match e {
                    Event::Entered { confidence, .. } => confidence.clone(),
                    _ => None,
                };
                s.value = Some(value.clone());
                s.entered_by = Some(by.clone());
                s.confirmed_by = None;
                s.status = Status::Entered;
                s.last_actor = Some(by.clone());
            }
            Event::Reviewed { by, confirm, note } => {
                s.note = (!note.is_empty()).then(|| note.clone());
                s.last_actor = Some(by.clone());
                if *confirm {
                    s.status = Status::Confirmed;
                    s.confirmed_by = Some(by.clone());
                } else {
                    s.status = Status::Returned;
                }
            }
            Event::Appealed { by, reason } => {
                s.status = Status::Appealed;
                s.note = Some(reason.clone());
                s.last_actor = Some(by.clone());
            }
            Event::AppealDecided { by, uphold, note } => {
                s.note = (!note.is_empty()).then(|| note.clone());
                s.last_actor = Some(by.clone());
                s.status = if *uphold {
                    s.confirmed_by = None;
                    Status::Reopened
                } else {
                    Status::Confirmed
                };
            }
        }
    }
    s
}

/// Why a write is refused, in words for the person who tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the task changed since you loaded it (now version {current}, last changed by {by})")]
    Stale { current: u64, by: String },
    #[error("only the assigned evaluator ({assignee}) may enter this value")]
    NotAssignee { assignee: String },
    #[error("you entered this value; a different reviewer must confirm it (two-person rule)")]
    OwnValue,
    #[error("the task is {0}: {1}")]
    WrongStatus(&'static str, &'static str),
}

fn check_version(s: &TaskState, seen: u64) -> Result<(), Refusal> {
    if seen != s.version {
        return Err(Refusal::Stale {
            current: s.version,
            by: s.last_actor.clone().unwrap_or_else(|| "-".into()),
        });
    }
    Ok(())
}

/// May `who` enter a value on a task they saw at version `seen`?
pub fn may_enter(s: &TaskState, who: &str, seen: u64) -> Result<(), Refusal> {
    check_version(s, seen)?;
    match &s.assignee {
        Some(a) if a == who => {}
        Some(a) => {
            return Err(Refusal::NotAssignee {
                assignee: a.clone(),
            })
        }
        None => {
            return Err(Refusal::WrongStatus(
                "unassigned",
                "a lead assigns it first",
            ))
        }
    }
    match s.status {
        Status::Todo | Status::Entered | Status::Returned | Status::Reopened => Ok(()),
        Status::Confirmed => Err(Refusal::WrongStatus(
            "confirmed",
            "a confirmed value changes only through an appeal",
        )),
        Status::Appealed => Err(Refusal::WrongStatus(
            "appealed",
            "wait for the lead's decision on the appeal",
        )),
        Status::Unassigned => Err(Refusal::WrongStatus(
            "unassigned",
            "a lead assigns it first",
        )),
    }
}

/// May `who` confirm or reject the current value?
pub fn may_review(s: &TaskState, who: &str) -> Result<(), Refusal> {
    if s.status != Status::Entered {
        return Err(Refusal::WrongStatus(
            s.status.as_str(),
            "only an entered value awaits review",
        ));
    }
    if s.entered_by.as_deref() == Some(who) {
        return Err(Refusal::OwnValue);
    }
    Ok(())
}

/// May the unit's representative appeal the value?
pub fn may_appeal(s: &TaskState) -> Result<(), Refusal> {
    if s.status != Status::Confirmed {
        return Err(Refusal::WrongStatus(
            s.status.as_str(),
            "only a confirmed value can be appealed",
        ));
    }
    Ok(())
}

/// May the lead decide the appeal?
pub fn may_decide(s: &TaskState) -> Result<(), Refusal> {
    if s.status != Status::Appealed {
        return Err(Refusal::WrongStatus(
            s.status.as_str(),
            "there is no open appeal",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entered(by: &str, v: &str) -> Event {
        Event::Entered {
            by: by.into(),
            value: v.into(),
            confidence: Some("high".into()),
        }
    }

    #[test]
    fn the_life_of_a_task() {
        let mut ev = vec![Event::Assigned {
            by: "lead".into(),
            to: "ev1".into(),
        }];
        let s = fold(&ev);
        assert_eq!((s.status, s.version), (Status::Todo, 1));
        assert!(may_enter(&s, "ev2", 1).is_err(), "not the assignee");
        assert!(may_enter(&s, "ev1", 0).is_err(), "stale");
        may_enter(&s, "ev1", 1).unwrap();
        ev.push(entered("ev1", "是"));
        let s = fold(&ev);
        assert_eq!(s.status, Status::Entered);
        assert_eq!(may_review(&s, "ev1"), Err(Refusal::OwnValue));
        may_review(&s, "rv1").unwrap();
        ev.push(Event::Reviewed {
            by: "rv1".into(),
            confirm: false,
            note: "截图不是该市门户".into(),
        });
        let s = fold(&ev);
        assert_eq!(s.status, Status::Returned);
        assert_eq!(s.note.as_deref(), Some("截图不是该市门户"));
        may_enter(&s, "ev1", 3).unwrap();
        ev.push(entered("ev1", "否"));
        ev.push(Event::Reviewed {
            by: "rv1".into(),
            confirm: true,
            note: String::new(),
        });
        let s = fold(&ev);
        assert_eq!(s.status, Status::Confirmed);
        assert_eq!(s.confirmed_by.as_deref(), Some("rv1"));
        assert!(
            may_enter(&s, "ev1", s.version).is_err(),
            "confirmed is final"
        );
        may_appeal(&s).unwrap();
        ev.push(Event::Appealed {
            by: "unit-110000".into(),
            reason: "栏目已开通".into(),
        });
        let s = fold(&ev);
        assert_eq!(s.status, Status::Appealed);
        may_decide(&s).unwrap();
        ev.push(Event::AppealDecided {
            by: "lead".into(),
            uphold: true,
            note: "证据成立".into(),
        });
        let s = fold(&ev);
        assert_eq!(s.status, Status::Reopened);
        assert_eq!(
            s.value.as_deref(),
            Some("否"),
            "the old value stays until changed"
        );
        may_enter(&s, "ev1", s.version).unwrap();
        ev.push(entered("ev1", "是"));
        assert_eq!(
            fold(&ev).status,
            Status::Entered,
            "the changed value is reviewed again"
        );
    }

    #[test]
    fn stale_writes_name_who_changed_the_task() {
        let ev = vec![
            Event::Assigned {
                by: "lead".into(),
                to: "ev1".into(),
            },
            entered("ev1", "1"),
        ];
        let s = fold(&ev);
        assert_eq!(
            may_enter(&s, "ev1", 1),
            Err(Refusal::Stale {
                current: 2,
                by: "ev1".into()
            })
        );
    }

    #[test]
    fn a_rejected_appeal_restores_the_confirmed_value() {
        let ev = vec![
            Event::Assigned {
                by: "lead".into(),
                to: "ev1".into(),
            },
            entered("ev1", "0.5"),
            Event::Reviewed {
                by: "rv".into(),
                confirm: true,
                note: String::new(),
            },
            Event::Appealed {
                by: "u".into(),
                reason: "r".into(),
            },
            Event::AppealDecided {
                by: "lead".into(),
                uphold: false,
                note: "证据不足".into(),
            },
        ];
        let s = fold(&ev);
        assert_eq!(s.status, Status::Confirmed);
        assert_eq!(s.confirmed_by.as_deref(), Some("rv"));
    }
}
