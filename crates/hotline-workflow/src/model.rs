//! Plain data of a ticket: types, roles, replies, callbacks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A handling unit (承办单位) id, from the unit tree kept by hotline-tickets.
pub type UnitId = u64;
/// An assignment's index within its ticket.
pub type AssignmentId = u32;

/// Ticket state (工单状态). Returns, extensions and supervision are overlays on assignments, not states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// 草稿: being written by the agent.
    Draft,
    /// 受理: accepted at intake.
    Accepted,
    /// 待派: waiting for dispatch (also after an approved return).
    PendingDispatch,
    /// 已派: dispatched, not yet signed by the lead unit.
    Dispatched,
    /// 办理中: signed by the lead unit.
    InProgress,
    /// 已反馈: the lead unit replied; the centre reviews.
    Replied,
    /// 待回访: reply approved; waiting for the callback.
    PendingCallback,
    /// 办结.
    Closed,
    /// 并单: merged into a master ticket.
    Merged,
    /// 转警: handed off to 110/119/120/122.
    HandedOff,
    /// 不予受理: out of scope.
    Rejected,
    /// 归档.
    Archived,
}

impl TicketState {
    /// No clock runs and only archiving is left.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TicketState::Closed
                | TicketState::Merged
                | TicketState::HandedOff
                | TicketState::Rejected
                | TicketState::Archived
        )
    }
}

/// 工单类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketType {
    /// 咨询
    Consult,
    /// 求助
    Help,
    /// 投诉
    Complaint,
    /// 举报
    Report,
    /// 建议
    Suggestion,
    /// 表扬
    Praise,
    /// 其他
    Other,
}

/// 紧急程度.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 一般
    Normal,
    /// 紧急
    Urgent,
    /// 特急
    Critical,
}

/// Where the contact came from (渠道).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Voice,
    Sms,
    Web,
    Wechat,
    App,
    Mailbox,
    Transfer110,
    Other,
}

/// Emergency services a ticket can be handed off to (转警/转120…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyService {
    /// 110 police
    Police110,
    /// 119 fire
    Fire119,
    /// 120 ambulance
    Ambulance120,
    /// 122 traffic police
    Traffic122,
}

/// Who acts. Centre roles act on the whole ticket; a unit liaison (联络员) only on its unit's assignments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    /// 话务员
    Agent,
    /// 班长
    Supervisor,
    /// 承办单位联络员
    UnitLiaison {
        unit: UnitId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Actor {
    pub user: String,
    pub role: Role,
}

impl Actor {
    pub fn new(user: impl Into<String>, role: Role) -> Self {
        Actor {
            user: user.into(),
            role,
        }
    }
}

/// 主办 lead or 协办 co-unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitRole {
    Lead,
    Co,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactMethod {
    Phone,
    Visit,
    Sms,
    Other,
}

/// 办理结果.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 已解决
    Resolved,
    /// 部分解决
    Partly,
    /// 未解决
    Unresolved,
    /// 已解释说明
    Explained,
}

/// A unit's reply (反馈).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Reply {
    /// When the unit reached the caller, if it did.
    pub contacted_at: Option<DateTime<Utc>>,
    pub contact_method: Option<ContactMethod>,
    pub outcome: Outcome,
    /// Text the caller (and the public portal) may see.
    pub public_text: String,
    pub internal_notes: String,
}

/// A grade on the centre's scale; `satisfied` decides whether the callback closes the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Grade {
    pub code: String,
    pub label: String,
    pub satisfied: bool,
}

/// A configurable satisfaction scale (满意度).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct GradeScale {
    pub grades: Vec<Grade>,
}

impl GradeScale {
    fn of(items: &[(&str, &str, bool)]) -> Self {
        GradeScale {
            grades: items
                .iter()
                .map(|(c, l, s)| Grade {
                    code: (*c).into(),
                    label: (*l).into(),
                    satisfied: *s,
                })
                .collect(),
        }
    }

    /// A/B/C as in Yantai.
    pub fn abc() -> Self {
        Self::of(&[("a", "A", true), ("b", "B", true), ("c", "C", false)])
    }

    /// 满意 / 基本满意 / 不满意.
    pub fn three_level() -> Self {
        Self::of(&[
            ("satisfied", "满意", true),
            ("basically_satisfied", "基本满意", true),
            ("unsatisfied", "不满意", false),
        ])
    }

    /// The national five-level 好差评.
    pub fn five_level() -> Self {
        Self::of(&[
            ("very_good", "非常满意", true),
            ("good", "满意", true),
            ("fair", "基本满意", true),
            ("poor", "不满意", false),
            ("very_poor", "非常不满意", false),
        ])
    }

    pub fn grade(&self, code: &str) -> Option<&Grade> {
        self.grades.iter().find(|g| g.code == code)
    }
}

/// One callback attempt (回访).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct CallbackAttempt {
    pub reached: bool,
    /// The caller says the problem is solved.
    pub resolved: Option<bool>,
    /// Required when reached.
    pub grade: Option<Grade>,
    pub comment: String,
    /// The dissatisfaction is the unit's fault (not, say, an unreasonable demand): only then is it reopened.
    pub unit_caused: bool,
}

/// 催办 / 督办 / 通报, in rising order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionLevel {
    /// 催办
    Urge,
    /// 督办
    Supervise,
    /// 通报
    Notice,
}

/// A supervision record overlaid on an assignment (or the ticket when `assignment` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Supervision {
    pub assignment: Option<AssignmentId>,
    pub level: SupervisionLevel,
    pub automatic: bool,
    pub reason: String,
    pub at: DateTime<Utc>,
}
