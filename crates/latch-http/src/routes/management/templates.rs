//! Email templates of a workspace project and the default of each type.

use super::WorkspaceAuth;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::reply::Reply;
use crate::AppState;
use axum::extract::{Path, State};
use latch_core::model::email_template::{
    CustomHtmlCustomization, EmailTemplate, PrebuiltCustomization, SenderInformation,
};
use latch_core::service::management::templates as svc;
use serde::Deserialize;
use serde_json::{json, Value};

/// The fields of a template as sent (the id comes from the path on update).
#[derive(Deserialize)]
pub struct TemplateInput {
    template_id: Option<String>,
    name: Option<String>,
    sender_information: Option<SenderInformation>,
    prebuilt_customization: Option<PrebuiltCustomization>,
    custom_html_customization: Option<CustomHtmlCustomization>,
}

impl TemplateInput {
    fn into_template(self, template_id: String) -> EmailTemplate {
        EmailTemplate {
            template_id,
            name: self.name,
            sender_information: self.sender_information,
            prebuilt_customization: self.prebuilt_customization,
            custom_html_customization: self.custom_html_customization,
        }
    }
}

pub async fn create(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path(slug): Path<String>,
    ApiJson(mut input): ApiJson<TemplateInput>,
) -> ApiResult<Reply<Value>> {
    let id = input.template_id.take().unwrap_or_default();
    let t = svc::create(&s.ctx, &slug, input.into_template(id)).await?;
    Ok(Reply(json!({ "email_template": t })))
}

pub async fn list(State(s): State<AppState>, _: WorkspaceAuth, Path(slug): Path<String>) -> ApiResult<Reply<Value>> {
    Ok(Reply(json!({ "email_templates": svc::list(&s.ctx, &slug).await? })))
}

pub async fn get(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Reply<Value>> {
    Ok(Reply(json!({ "email_template": svc::get(&s.ctx, &slug, &id).await? })))
}

pub async fn update(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> ApiResult<Reply<Value>> {
    let t = svc::update(&s.ctx, &slug, input.into_template(id)).await?;
    Ok(Reply(json!({ "email_template": t })))
}

pub async fn delete(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Reply<Value>> {
    svc::delete(&s.ctx, &slug, &id).await?;
    Ok(Reply(json!({})))
}

/// The Python client renders an enum member in a path as `TemplateType.LOGIN`.
fn template_type(raw: &str) -> &str {
    raw.strip_prefix("TemplateType.").unwrap_or(raw)
}

#[derive(Deserialize)]
pub struct SetDefault {
    template_id: Option<String>,
}

pub async fn set_default(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, ty)): Path<(String, String)>,
    ApiJson(input): ApiJson<SetDefault>,
) -> ApiResult<Reply<Value>> {
    let id = input.template_id.unwrap_or_default();
    svc::set_default(&s.ctx, &slug, template_type(&ty), &id).await?;
    Ok(Reply(json!({})))
}

pub async fn get_default(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, ty)): Path<(String, String)>,
) -> ApiResult<Reply<Value>> {
    let id = svc::get_default(&s.ctx, &slug, template_type(&ty)).await?;
    Ok(Reply(json!({ "template_id": id })))
}

pub async fn unset_default(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, ty)): Path<(String, String)>,
) -> ApiResult<Reply<Value>> {
    svc::unset_default(&s.ctx, &slug, template_type(&ty)).await?;
    Ok(Reply(json!({})))
}
