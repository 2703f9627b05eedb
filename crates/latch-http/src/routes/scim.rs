//! `/v1/b2b/scim…` (scim.md): the SDK's `scim.connection` endpoints (project credentials, Stytch's
//! envelope), and the SCIM 2.0 service an identity provider calls at a connection's base URL
//! (`/v1/b2b/scim/{connection_id}/Users…`, the connection's bearer token, SCIM's own JSON and
//! errors, `application/scim+json`).
//!
//! Both live under `/v1/b2b/scim/{x}/…`, where `x` is an organization for the management routes
//! and a connection for the service; the router needs one parameter name per position, so the
//! service routes' `{organization_id}` is the connection id.

use crate::client_addr::ResolvedClient;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, AuthProject, MemberAuthorization};
use crate::reply::Reply;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use latch_core::engine::scim_provisioning::ListQuery;
use latch_core::model::scim::{ScimConnection, ScimGroupView};
use latch_core::scim::{ScimError, ScimResult};
use latch_core::service::scim::{self, CreateInput, GroupsQuery, Resource, Service, UpdateInput};
use serde::Serialize;
use serde_json::Value;

// ---------------------------------------------------------------- management (the SDK's)

#[derive(Serialize)]
struct WithToken {
    #[serde(flatten)]
    connection: ScimConnection,
    bearer_token: String,
}

#[derive(Serialize)]
struct WithNextToken {
    #[serde(flatten)]
    connection: ScimConnection,
    next_bearer_token: String,
}

#[derive(Serialize)]
struct Body<T> {
    #[serde(skip_serializing_if = "Option::is_none")]
    connection: Option<T>,
}

pub async fn create(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
    ApiJson(input): ApiJson<CreateInput>,
) -> ApiResult<Response> {
    let (c, token) = scim::create(&s.ctx, p.id(), &org, input, who.caller()).await?;
    Ok(Reply(Body {
        connection: Some(WithToken {
            connection: c.view(&s.ctx),
            bearer_token: token,
        }),
    })
    .into_response())
}

pub async fn get(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    let c = scim::get(&s.ctx, p.id(), &org, who.caller()).await?;
    Ok(Reply(Body {
        connection: c.map(|c| c.view(&s.ctx)),
    })
    .into_response())
}

pub async fn update(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<UpdateInput>,
) -> ApiResult<Response> {
    let c = scim::update(&s.ctx, p.id(), &org, &connection_id, input, who.caller()).await?;
    Ok(Reply(Body {
        connection: Some(c.view(&s.ctx)),
    })
    .into_response())
}

pub async fn delete(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    scim::delete(&s.ctx, p.id(), &org, &connection_id, who.caller()).await?;
    #[derive(Serialize)]
    struct Deleted {
        connection_id: String,
    }
    Ok(Reply(Deleted { connection_id }).into_response())
}

pub async fn rotate_start(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (c, token) = scim::rotate_start(&s.ctx, p.id(), &org, &connection_id, who.caller()).await?;
    Ok(Reply(Body {
        connection: Some(WithNextToken {
            connection: c.view(&s.ctx),
            next_bearer_token: token,
        }),
    })
    .into_response())
}

pub async fn rotate_complete(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let c = scim::rotate_finish(&s.ctx, p.id(), &org, &connection_id, true, who.caller()).await?;
    Ok(Reply(Body {
        connection: Some(c.view(&s.ctx)),
    })
    .into_response())
}

pub async fn rotate_cancel(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let c = scim::rotate_finish(&s.ctx, p.id(), &org, &connection_id, false, who.caller()).await?;
    Ok(Reply(Body {
        connection: Some(c.view(&s.ctx)),
    })
    .into_response())
}

pub async fn get_groups(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<GroupsQuery>,
) -> ApiResult<Response> {
    let (groups, next_cursor) = scim::get_groups(&s.ctx, p.id(), &org, &connection_id, q, who.caller()).await?;
    #[derive(Serialize)]
    struct Groups<'a> {
        scim_groups: Vec<ScimGroupView<'a>>,
        next_cursor: Option<String>,
    }
    Ok(Reply(Groups {
        scim_groups: groups.iter().map(|g| g.view()).collect(),
        next_cursor,
    })
    .into_response())
}

// ---------------------------------------------------------------- the SCIM 2.0 service

const SCIM_JSON: &str = "application/scim+json";

fn scim_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    r
}

fn error_response(e: ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = scim_response(status, &e.body());
    if let Some(secs) = e.retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if e.status == 401 {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"SCIM\""),
        );
    }
    let reason = format!(
        "scim_{}",
        e.scim_type.unwrap_or(match e.status {
            401 => "unauthorized",
            404 => "not_found",
            429 => "rate_limited",
            _ => "error",
        })
    );
    r.extensions_mut().insert(crate::audit::ErrorType(reason));
    r
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn json_body(bytes: &[u8]) -> ScimResult<Value> {
    serde_json::from_slice(bytes).map_err(|_| ScimError::invalid_syntax("the body is not valid JSON"))
}

fn query(uri: &axum::http::Uri) -> ScimResult<ListQuery> {
    let q = uri.query().unwrap_or("");
    serde_urlencoded::from_str(q).map_err(|_| ScimError::invalid_value("the query string is not valid"))
}

/// Every request under a connection's base URL: `rest` is the path after it.
pub async fn service(
    State(s): State<AppState>,
    Path((connection_id, rest)): Path<(String, String)>,
    req: Request,
) -> Response {
    match serve(&s, &connection_id, &rest, req).await {
        Ok(r) => r,
        Err(e) => error_response(e),
    }
}

async fn serve(s: &AppState, connection_id: &str, rest: &str, req: Request) -> ScimResult<Response> {
    let client = req
        .extensions()
        .get::<ResolvedClient>()
        .map(|c| c.addr.0.to_string())
        .unwrap_or_default();
    let svc: Service = scim::open(&s.ctx, connection_id, bearer(req.headers()), &client).await?;
    latch_core::engine::audit::detail("scim_path", rest);
    let method = req.method().clone();
    let uri = req.uri().clone();
    let bytes: Bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .map_err(|_| ScimError::invalid_syntax("the body could not be read"))?;
    let ctx = &s.ctx;
    let segments: Vec<&str> = rest.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
    let not_found = || ScimError::missing(format!("no SCIM endpoint at /{rest}"));
    let resource = |name: &str| {
        if name.eq_ignore_ascii_case("Users") {
            Some(Resource::Users)
        } else if name.eq_ignore_ascii_case("Groups") {
            Some(Resource::Groups)
        } else {
            None
        }
    };
    let ok = |v: Value| Ok(scim_response(StatusCode::OK, &v));
    match (&method, segments.as_slice()) {
        (&Method::GET, ["ServiceProviderConfig"]) => ok(svc.service_provider_config()),
        (&Method::GET, ["ResourceTypes"]) => ok(svc.resource_types(None)?),
        (&Method::GET, ["ResourceTypes", id]) => ok(svc.resource_types(Some(id))?),
        (&Method::GET, ["Schemas"]) => ok(svc.schemas(None)?),
        (&Method::GET, ["Schemas", id]) => ok(svc.schemas(Some(id))?),
        (m, [d, ..]) if *m != Method::GET && matches!(*d, "ServiceProviderConfig" | "ResourceTypes" | "Schemas") => {
            Err(ScimError::new(
                405,
                None,
                format!("{m} is not allowed on the discovery endpoints"),
            ))
        }
        (&Method::POST, [".search"]) => {
            let q = search_query(&json_body(&bytes)?)?;
            ok(svc.search_all(ctx, &q).await?)
        }
        (m, [name, tail @ ..]) if resource(name).is_some() => {
            let r = resource(name).expect("checked");
            match (m, tail) {
                (&Method::GET, []) => ok(svc.list(ctx, r, &query(&uri)?).await?),
                (&Method::POST, [".search"]) => {
                    let body = json_body(&bytes)?;
                    let q = search_query(&body)?;
                    ok(svc.list(ctx, r, &q).await?)
                }
                (&Method::POST, []) => {
                    let created = svc.create(ctx, r, &json_body(&bytes)?).await?;
                    let mut resp = scim_response(StatusCode::CREATED, &created);
                    if let Some(loc) = created["meta"]["location"]
                        .as_str()
                        .and_then(|l| HeaderValue::from_str(l).ok())
                    {
                        resp.headers_mut().insert(header::LOCATION, loc);
                    }
                    Ok(resp)
                }
                (&Method::GET, [id]) => ok(svc.get(ctx, r, id, &query(&uri)?).await?),
                (&Method::PUT, [id]) => ok(svc.replace(ctx, r, id, &json_body(&bytes)?).await?),
                (&Method::PATCH, [id]) => ok(svc.modify(ctx, r, id, &json_body(&bytes)?).await?),
                (&Method::DELETE, [id]) => {
                    svc.delete(ctx, r, id).await?;
                    Ok(StatusCode::NO_CONTENT.into_response())
                }
                (_, [] | [_]) => Err(ScimError::new(405, None, format!("{m} is not allowed here"))),
                _ => Err(not_found()),
            }
        }
        _ => Err(not_found()),
    }
}

/// A `/.search` body (RFC 7644 §3.4.3) as a list query.
fn search_query(body: &Value) -> ScimResult<ListQuery> {
    let Some(o) = body.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a SearchRequest object"));
    };
    let text = |k: &str| -> Option<String> {
        match latch_core::scim::get_ci(o, k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Array(a) => Some(a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")),
            _ => None,
        }
    };
    Ok(ListQuery {
        filter: text("filter"),
        start_index: text("startIndex"),
        count: text("count"),
        attributes: text("attributes"),
        excluded_attributes: text("excludedAttributes"),
    })
}
