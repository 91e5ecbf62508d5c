//! Who may do what in the team workspace: the roles and one policy table.
//!
//! The table is the single source of truth: the web layer asks [`allowed`] in every handler,
//! the OpenAPI document states each operation's roles from [`Action::roles`], and the
//! authorisation-matrix test walks every action × role. Keeping it here, as plain data in the
//! pure core, means a rule is changed in one place and can be tested without a server.

use std::fmt;
use std::str::FromStr;

/// A signed-in user's role. Anonymous visitors have no role (`None` in [`allowed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Manages accounts; can do everything a lead can.
    Admin,
    /// Runs the evaluation: publishes runs, reads the audit trail, later owns campaigns.
    Lead,
    /// Enters values and evidence.
    Evaluator,
    /// Confirms or rejects evaluators' values (never their own).
    Reviewer,
    /// A government's representative, scoped to its own unit codes.
    Unit,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Lead,
        Role::Evaluator,
        Role::Reviewer,
        Role::Unit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Lead => "lead",
            Role::Evaluator => "evaluator",
            Role::Reviewer => "reviewer",
            Role::Unit => "unit",
        }
    }

    /// The evaluation team: everyone but a unit's representative.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Unit)
    }

    /// Display name in Chinese.
    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Lead => "评估负责人",
            Role::Evaluator => "评估员",
            Role::Reviewer => "复核员",
            Role::Unit => "被评估单位",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: use admin, lead, evaluator, reviewer or unit")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.chars().take(40).collect()))
    }
}

/// Everything the workspace lets someone do. Each handler names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read published runs, the dashboard and their downloads.
    ReadPublished,
    /// Log in, log out, see oneself.
    Session,
    /// Create, list and revoke one's own API tokens.
    ManageOwnTokens,
    /// Read every recorded run, published or not, and their diffs and audits.
    ReadAllRuns,
    /// Publish or unpublish a run.
    PublishRun,
    /// Read monitor runs, findings, alerts and archived evidence.
    ReadMonitoring,
    /// Read and export the audit trail.
    ReadAuditLog,
    /// Add, disable and list accounts.
    ManageUsers,
    /// Create campaigns, generate and assign tasks, decide appeals, adjudicate, freeze, compute.
    ManageCampaigns,
    /// Read campaigns, their tasks and progress.
    ReadCampaigns,
    /// Enter values on one's assigned tasks.
    EnterValues,
    /// Confirm or reject others' values.
    ReviewValues,
    /// Appeal a provisional value of one's own unit.
    Appeal,
    /// List a campaign's tasks (a unit's representative: its own, once appeals open).
    ReadTasks,
    /// Download a task spreadsheet (an evaluator's own; leads name the evaluator).
    TaskSheet,
    /// Upload and read evidence files (screenshots, PDFs).
    Evidence,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::ReadPublished,
        Action::Session,
        Action::ManageOwnTokens,
        Action::ReadAllRuns,
        Action::PublishRun,
        Action::ReadMonitoring,
        Action::ReadAuditLog,
        Action::ManageUsers,
        Action::ManageCampaigns,
        Action::ReadCampaigns,
        Action::EnterValues,
        Action::ReviewValues,
        Action::Appeal,
        Action::ReadTasks,
        Action::TaskSheet,
        Action::Evidence,
    ];

    /// The roles allowed; `anonymous` says whether visitors without an account are.
    pub fn roles(self) -> (&'static [Role], bool) {
        use Role::*;
        const EVERYONE: &[Role] = &[Admin, Lead, Evaluator, Reviewer, Unit];
        const STAFF: &[Role] = &[Admin, Lead, Evaluator, Reviewer];
        const LEADS: &[Role] = &[Admin, Lead];
        match self {
            Action::ReadPublished | Action::Session => (EVERYONE, true),
            Action::ManageOwnTokens => (EVERYONE, false),
            Action::ReadAllRuns | Action::ReadMonitoring => (STAFF, false),
            Action::PublishRun | Action::ReadAuditLog | Action::ManageCampaigns => (LEADS, false),
            Action::ManageUsers => (&[Admin], false),
            Action::ReadCampaigns => (STAFF, false),
            Action::EnterValues => (&[Evaluator], false),
            Action::ReviewValues => (&[Admin, Lead, Reviewer], false),
            Action::Appeal => (&[Unit], false),
            Action::ReadTasks => (EVERYONE, false),
            Action::TaskSheet => (&[Admin, Lead, Evaluator], false),
            Action::Evidence => (EVERYONE, false),
        }
    }

    /// "anonymous, admin, lead" and so on, for documents.
    pub fn describe_roles(self) -> String {
        let (roles, anon) = self.roles();
        let mut parts: Vec<&str> = Vec::new();
        if anon {
            parts.push("anonymous");
        }
        parts.extend(roles.iter().map(|r| r.as_str()));
        parts.join(", ")
    }
}

/// Whether `role` (`None` = anonymous) may perform `action`.
pub fn allowed(role: Option<Role>, action: Action) -> bool {
    let (roles, anon) = action.roles();
    match role {
        None => anon,
        Some(r) => roles.contains(&r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_is_refused() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        let e = "root".parse::<Role>().unwrap_err();
        assert!(e.to_string().contains("admin, lead"));
    }

    #[test]
    fn policy_table() {
        assert!(allowed(None, Action::ReadPublished));
        assert!(!allowed(None, Action::ReadAllRuns));
        assert!(!allowed(Some(Role::Unit), Action::ReadAllRuns));
        assert!(allowed(Some(Role::Reviewer), Action::ReadAllRuns));
        assert!(allowed(Some(Role::Lead), Action::PublishRun));
        assert!(!allowed(Some(Role::Evaluator), Action::PublishRun));
        assert!(!allowed(Some(Role::Lead), Action::ManageUsers));
        assert!(allowed(Some(Role::Admin), Action::ManageUsers));
        assert!(!allowed(None, Action::ManageOwnTokens));
        assert_eq!(
            Action::PublishRun.describe_roles(),
            "admin, lead".to_string()
        );
    }
}
