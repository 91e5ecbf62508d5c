//! The JSON API under `/api/v1`, and its OpenAPI 3.1 document at `/api/openapi.json`.
//!
//! Handlers are thin: extract, authorise against the policy table (`govcap_core::access`),
//! call a plain function, serialise. [`OPERATIONS`] pairs every route with the action it
//! needs; the OpenAPI document states each operation's roles from it, and the
//! authorisation-matrix test walks it, so the documented and the enforced rules are one table.

pub mod appeals;
pub mod audit_log;
pub mod campaigns;
pub mod monitor;
pub mod runs;
pub mod session;
pub mod tokens;
pub mod users;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use govcap_core::access::Action;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::OpenApi;

use crate::problem::Problem;
use crate::state::AppState;

/// One operation of the API and the action it is authorised by.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub action: Action,
}

/// Every API operation. Keep in step with [`router`] (a test checks both directions).
pub const OPERATIONS: &[Op] = &[
    Op {
        method: "post",
        path: "/api/v1/session",
        action: Action::Session,
    },
    Op {
        method: "get",
        path: "/api/v1/session",
        action: Action::ManageOwnTokens,
    },
    Op {
        method: "delete",
        path: "/api/v1/session",
        action: Action::Session,
    },
    Op {
        method: "get",
        path: "/api/v1/tokens",
        action: Action::ManageOwnTokens,
    },
    Op {
        method: "post",
        path: "/api/v1/tokens",
        action: Action::ManageOwnTokens,
    },
    Op {
        method: "delete",
        path: "/api/v1/tokens/{id}",
        action: Action::ManageOwnTokens,
    },
    Op {
        method: "get",
        path: "/api/v1/runs",
        action: Action::ReadPublished,
    },
    Op {
        method: "get",
        path: "/api/v1/runs/{id}",
        action: Action::ReadPublished,
    },
    Op {
        method: "get",
        path: "/api/v1/runs/{id}/units",
        action: Action::ReadPublished,
    },
    Op {
        method: "get",
        path: "/api/v1/runs/{id}/units/{code}",
        action: Action::ReadPublished,
    },
    Op {
        method: "post",
        path: "/api/v1/runs/{id}/publish",
        action: Action::PublishRun,
    },
    Op {
        method: "post",
        path: "/api/v1/runs/{id}/unpublish",
        action: Action::PublishRun,
    },
    Op {
        method: "get",
        path: "/api/v1/audit-log",
        action: Action::ReadAuditLog,
    },
    Op {
        method: "get",
        path: "/api/v1/audit-log/verify",
        action: Action::ReadAuditLog,
    },
    Op {
        method: "get",
        path: "/api/v1/monitor/runs",
        action: Action::ReadMonitoring,
    },
    Op {
        method: "get",
        path: "/api/v1/monitor/alerts",
        action: Action::ReadMonitoring,
    },
    Op {
        method: "get",
        path: "/api/v1/users",
        action: Action::ManageUsers,
    },
    Op {
        method: "post",
        path: "/api/v1/users",
        action: Action::ManageUsers,
    },
    Op {
        method: "post",
        path: "/api/v1/users/{name}/disable",
        action: Action::ManageUsers,
    },
    Op {
        method: "post",
        path: "/api/v1/campaigns",
        action: Action::ManageCampaigns,
    },
    Op {
        method: "get",
        path: "/api/v1/campaigns",
        action: Action::ReadCampaigns,
    },
    Op {
        method: "get",
        path: "/api/v1/campaigns/{id}",
        action: Action::ReadCampaigns,
    },
    Op {
        method: "post",
        path: "/api/v1/campaigns/{id}/tasks:generate",
        action: Action::ManageCampaigns,
    },
    Op {
        method: "get",
        path: "/api/v1/campaigns/{id}/tasks",
        action: Action::ReadTasks,
    },
    Op {
        method: "post",
        path: "/api/v1/campaigns/{id}/appeals:open",
        action: Action::ManageCampaigns,
    },
    Op {
        method: "post",
        path: "/api/v1/campaigns/{id}/freeze",
        action: Action::ManageCampaigns,
    },
    Op {
        method: "post",
        path: "/api/v1/campaigns/{id}/runs",
        action: Action::ManageCampaigns,
    },
    Op {
        method: "get",
        path: "/api/v1/campaigns/{id}/observations.csv",
        action: Action::ReadCampaigns,
    },
    Op {
        method: "post",
        path: "/api/v1/tasks/{id}/assign",
        action: Action::ManageCampaigns,
    },
    Op {
        method: "put",
        path: "/api/v1/tasks/{id}/value",
        action: Action::EnterValues,
    },
    Op {
        method: "post",
        path: "/api/v1/tasks/{id}/review",
        action: Action::ReviewValues,
    },
    Op {
        method: "post",
        path: "/api/v1/tasks/{id}/adjudicate",
        action: Action::ManageCampaigns,
    },
    Op {
        method: "post",
        path: "/api/v1/appeals",
        action: Action::Appeal,
    },
    Op {
        method: "post",
        path: "/api/v1/appeals/{id}/decision",
        action: Action::ManageCampaigns,
    },
    Op {
        method: "get",
        path: "/api/v1/campaigns/{id}/sheet.xlsx",
        action: Action::TaskSheet,
    },
    Op {
        method: "put",
        path: "/api/v1/campaigns/{id}/sheet",
        action: Action::EnterValues,
    },
    Op {
        method: "post",
        path: "/api/v1/evidence",
        action: Action::Evidence,
    },
    Op {
        method: "post",
        path: "/api/v1/tasks/{id}/capture",
        action: Action::EnterValues,
    },
    Op {
        method: "get",
        path: "/api/v1/campaigns/{id}/agreement.csv",
        action: Action::ReadCampaigns,
    },
    Op {
        method: "get",
        path: "/api/v1/campaigns/{id}/provisional",
        action: Action::ReadTasks,
    },
    Op {
        method: "get",
        path: "/api/v1/campaigns/{id}/appeals",
        action: Action::ReadTasks,
    },
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/session",
            post(session::create)
                .get(session::current)
                .delete(session::remove),
        )
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route("/api/v1/runs", get(runs::list))
        .route("/api/v1/runs/{id}", get(runs::one))
        .route("/api/v1/runs/{id}/units", get(runs::units))
        .route("/api/v1/runs/{id}/units/{code}", get(runs::unit))
        .route("/api/v1/runs/{id}/publish", post(runs::publish))
        .route("/api/v1/runs/{id}/unpublish", post(runs::unpublish))
        .route("/api/v1/audit-log", get(audit_log::list))
        .route("/api/v1/audit-log/verify", get(audit_log::verify))
        .route("/api/v1/monitor/runs", get(monitor::runs))
        .route("/api/v1/monitor/alerts", get(monitor::alerts))
        .route("/api/v1/users", get(users::list).post(users::create))
        .route("/api/v1/users/{name}/disable", post(users::disable))
        .route(
            "/api/v1/campaigns",
            post(campaigns::create).get(campaigns::list),
        )
        .route("/api/v1/campaigns/{id}", get(campaigns::one))
        .route(
            "/api/v1/campaigns/{id}/tasks:generate",
            post(campaigns::generate),
        )
        .route("/api/v1/campaigns/{id}/tasks", get(campaigns::tasks))
        .route(
            "/api/v1/campaigns/{id}/appeals:open",
            post(campaigns::open_appeals),
        )
        .route("/api/v1/campaigns/{id}/freeze", post(campaigns::freeze))
        .route("/api/v1/campaigns/{id}/runs", post(campaigns::run))
        .route(
            "/api/v1/campaigns/{id}/observations.csv",
            get(campaigns::observations),
        )
        .route("/api/v1/campaigns/{id}/sheet.xlsx", get(campaigns::sheet))
        .route("/api/v1/tasks/{id}/capture", post(campaigns::capture))
        .route(
            "/api/v1/campaigns/{id}/agreement.csv",
            get(campaigns::agreement_csv),
        )
        .route(
            "/api/v1/evidence",
            post(campaigns::upload_evidence).layer(axum::extract::DefaultBodyLimit::max(
                crate::evidence::MAX_BYTES + 1,
            )),
        )
        .route(
            "/api/v1/campaigns/{id}/sheet",
            axum::routing::put(campaigns::put_sheet),
        )
        .route("/api/v1/tasks/{id}/assign", post(campaigns::assign))
        .route(
            "/api/v1/tasks/{id}/value",
            axum::routing::put(campaigns::put_value),
        )
        .route("/api/v1/tasks/{id}/review", post(campaigns::review))
        .route("/api/v1/tasks/{id}/adjudicate", post(campaigns::adjudicate))
        .route(
            "/api/v1/campaigns/{id}/provisional",
            get(appeals::provisional),
        )
        .route("/api/v1/campaigns/{id}/appeals", get(appeals::list))
        .route("/api/v1/appeals", post(campaigns::appeal))
        .route("/api/v1/appeals/{id}/decision", post(campaigns::decide))
        .route("/api/openapi.json", get(openapi_json))
}

/// A JSON body whose problems are reported as problem+json (400/415/422) naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(match e {
                JsonRejection::MissingJsonContentType(_) => Problem::new(
                    axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "send the body as JSON with `Content-Type: application/json`",
                ),
                JsonRejection::JsonDataError(e) => Problem::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "the JSON body does not have the expected fields: {}",
                        clip(&e.body_text())
                    ),
                ),
                JsonRejection::JsonSyntaxError(e) => Problem::bad_request(format!(
                    "the body is not valid JSON: {}",
                    clip(&e.body_text())
                )),
                JsonRejection::BytesRejection(_) => Problem::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large or could not be read",
                ),
                other => Problem::bad_request(clip(&other.body_text())),
            }),
        }
    }
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(300).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Page parameters of list endpoints.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u32>,
}

impl PageQuery {
    pub fn bounds(self) -> Result<(usize, usize), Problem> {
        let page = self.page.unwrap_or(1);
        let per = self.per_page.unwrap_or(50);
        if page == 0 || per == 0 || per > 500 {
            return Err(Problem::bad_request(
                "page must be at least 1 and per_page between 1 and 500",
            ));
        }
        Ok((page as usize, per as usize))
    }

    /// One page of `items` in the common envelope.
    pub fn slice<T: Clone>(self, items: &[T]) -> Result<Paged<T>, Problem> {
        let (page, per) = self.bounds()?;
        let start = (page - 1).saturating_mul(per).min(items.len());
        let end = start.saturating_add(per).min(items.len());
        Ok(Paged {
            items: items[start..end].to_vec(),
            page: page as u64,
            per_page: per as u64,
            total: items.len() as u64,
        })
    }
}

/// The envelope of every paginated list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "govcap workspace API",
        description = "Evaluation runs, their publication, accounts, tokens and the audit trail of a govcap team workspace. Each operation states the roles it needs (`x-required-roles`). Errors are `application/problem+json`.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        session::create, session::current, session::remove,
        tokens::list, tokens::create, tokens::revoke,
        runs::list, runs::one, runs::units, runs::unit, runs::publish, runs::unpublish,
        audit_log::list, audit_log::verify,
        monitor::runs, monitor::alerts,
        users::list, users::create, users::disable,
        campaigns::create, campaigns::list, campaigns::one, campaigns::generate, campaigns::tasks,
        campaigns::open_appeals, campaigns::freeze, campaigns::run, campaigns::observations,
        campaigns::assign, campaigns::put_value, campaigns::review, campaigns::adjudicate,
        campaigns::appeal, campaigns::decide, campaigns::sheet, campaigns::put_sheet,
        campaigns::upload_evidence, campaigns::capture, campaigns::agreement_csv,
        appeals::provisional, appeals::list,
    ),
    components(schemas(Problem)),
    modifiers(&Security),
    tags(
        (name = "session", description = "Logging in and out"),
        (name = "tokens", description = "API tokens for scripts"),
        (name = "runs", description = "Recorded evaluation runs"),
        (name = "audit", description = "The audit trail"),
        (name = "monitor", description = "Portal monitoring"),
        (name = "users", description = "Accounts"),
        (name = "campaigns", description = "Evaluation campaigns: tasks, values, review, appeals"),
    )
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::COOKIE,
                "Session cookie from POST /api/v1/session; unsafe methods also need the X-CSRF-Token header",
            ))),
        );
    }
}

/// The document, with each operation's roles from [`OPERATIONS`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for op in OPERATIONS {
        let Some(item) = doc.paths.paths.get_mut(op.path) else {
            continue;
        };
        let operation = match op.method {
            "get" => item.get.as_mut(),
            "post" => item.post.as_mut(),
            "delete" => item.delete.as_mut(),
            "put" => item.put.as_mut(),
            _ => None,
        };
        let Some(operation) = operation else { continue };
        let (roles, anon) = op.action.roles();
        let mut list: Vec<&str> = Vec::new();
        if anon {
            list.push("anonymous");
        }
        list.extend(roles.iter().map(|r| r.as_str()));
        let ext = ExtensionsBuilder::new()
            .add("x-required-roles", serde_json::json!(list))
            .build();
        match operation.extensions.as_mut() {
            Some(e) => e.merge(ext),
            None => operation.extensions = Some(ext),
        }
        let note = format!("Required role: {}.", op.action.describe_roles());
        operation.description = Some(match operation.description.take() {
            Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
            _ => note,
        });
        if !anon {
            use utoipa::openapi::security::SecurityRequirement;
            operation.security = Some(vec![
                SecurityRequirement::new("bearer", Vec::<String>::new()),
                SecurityRequirement::new("session", Vec::<String>::new()),
            ]);
        }
    }
    doc
}

async fn openapi_json() -> axum::response::Response {
    use axum::response::IntoResponse;
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| openapi().to_pretty_json().unwrap_or_default());
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.clone(),
    )
        .into_response()
}
