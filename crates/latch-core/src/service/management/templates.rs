//! Email templates of a workspace project (shared by its environments) and the default template
//! of each type. A request's `*_template_id` names one; a message sent without one uses its
//! type's default, else the built-in copy (`Ctx::render`).

use super::workspace_project;
use crate::engine::Ctx;
use crate::error::{catalogue, CoreResult};
use crate::model::email_template::{EmailTemplate, FONT_FAMILIES, TEMPLATE_TYPES, TEXT_ALIGNMENTS};

/// Templates per workspace project.
const MAX_TEMPLATES: usize = 100;
/// A template's HTML or text, in bytes.
const MAX_CONTENT: usize = 100 * 1024;

fn decode(text: &str) -> CoreResult<EmailTemplate> {
    serde_json::from_str(text).map_err(|e| crate::error::CoreError::internal(format!("corrupt email template: {e}")))
}

fn check(t: &EmailTemplate) -> CoreResult<()> {
    let id = &t.template_id;
    let id_ok =
        (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(catalogue::INVALID_ARGUMENT
            .field_detail("template_id", "1 to 128 characters: letters, digits, '-' and '_'"));
    }
    if t.name.as_ref().is_some_and(|n| n.chars().count() > 256) {
        return Err(catalogue::INVALID_ARGUMENT.field_detail("name", "at most 256 characters"));
    }
    let invalid = |detail: String| Err(catalogue::INVALID_EMAIL_TEMPLATE_CONTENT.detail(detail));
    match (&t.prebuilt_customization, &t.custom_html_customization) {
        (Some(_), Some(_)) | (None, None) => {
            return invalid("exactly one of prebuilt_customization and custom_html_customization".into())
        }
        (Some(p), None) => {
            if let Some(f) = p.font_family.as_deref().filter(|f| !FONT_FAMILIES.contains(f)) {
                return invalid(format!("font_family {f}"));
            }
            if let Some(a) = p.text_alignment.as_deref().filter(|a| !TEXT_ALIGNMENTS.contains(a)) {
                return invalid(format!("text_alignment {a}"));
            }
            for c in [&p.button_color, &p.button_text_color].into_iter().flatten() {
                let hex = c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
                if !hex {
                    return invalid(format!("color {c}: #rrggbb"));
                }
            }
            if p.button_border_radius.is_some_and(|r| !(0.0..=100.0).contains(&r)) {
                return invalid("button_border_radius between 0 and 100".into());
            }
        }
        (None, Some(h)) => {
            let ty = h.template_type.as_deref().unwrap_or_default();
            if !TEMPLATE_TYPES.contains(&ty) || ty == "PREBUILT" {
                return invalid(format!("custom_html_customization.template_type '{ty}'"));
            }
            if h.html_content.as_deref().unwrap_or_default().trim().is_empty() {
                return invalid("custom_html_customization.html_content is required".into());
            }
            if h.subject.as_deref().unwrap_or_default().trim().is_empty() {
                return invalid("custom_html_customization.subject is required".into());
            }
            let sizes = [&h.html_content, &h.plaintext_content, &h.subject];
            if sizes.into_iter().flatten().any(|s| s.len() > MAX_CONTENT) {
                return invalid(format!("content of at most {MAX_CONTENT} bytes"));
            }
            // Stytch requires a sender for custom HTML.
            if t.sender_information.is_none() {
                return invalid("sender_information is required with custom_html_customization".into());
            }
        }
    }
    Ok(())
}

pub async fn create(ctx: &Ctx, project_slug: &str, t: EmailTemplate) -> CoreResult<EmailTemplate> {
    workspace_project(ctx, project_slug).await?;
    check(&t)?;
    if ctx.store.email_template(project_slug, &t.template_id).await?.is_some() {
        return Err(catalogue::DUPLICATE_EMAIL_TEMPLATE_VANITY_ID.detail(&t.template_id));
    }
    if ctx.store.email_templates(project_slug).await?.len() >= MAX_TEMPLATES {
        return Err(catalogue::TOO_MANY_EMAIL_TEMPLATES.detail(format!("at most {MAX_TEMPLATES}")));
    }
    let json = serde_json::to_string(&t).map_err(crate::error::CoreError::internal)?;
    ctx.store
        .insert_email_template(project_slug, &t.template_id, &json, ctx.now())
        .await?;
    Ok(t)
}

pub async fn list(ctx: &Ctx, project_slug: &str) -> CoreResult<Vec<EmailTemplate>> {
    workspace_project(ctx, project_slug).await?;
    ctx.store
        .email_templates(project_slug)
        .await?
        .iter()
        .map(|t| decode(t))
        .collect()
}

pub async fn get(ctx: &Ctx, project_slug: &str, template_id: &str) -> CoreResult<EmailTemplate> {
    workspace_project(ctx, project_slug).await?;
    match ctx.store.email_template(project_slug, template_id).await? {
        Some(t) => decode(&t),
        None => Err(catalogue::EMAIL_TEMPLATE_NOT_FOUND.detail(template_id)),
    }
}

/// Replaces the template's fields that are given (the id stays).
pub async fn update(ctx: &Ctx, project_slug: &str, change: EmailTemplate) -> CoreResult<EmailTemplate> {
    let mut t = get(ctx, project_slug, &change.template_id).await?;
    if change.name.is_some() {
        t.name = change.name;
    }
    if change.sender_information.is_some() {
        t.sender_information = change.sender_information;
    }
    if change.prebuilt_customization.is_some() {
        t.prebuilt_customization = change.prebuilt_customization;
        t.custom_html_customization = None;
    }
    if change.custom_html_customization.is_some() {
        t.custom_html_customization = change.custom_html_customization;
        t.prebuilt_customization = None;
    }
    check(&t)?;
    // A default must stay of its type.
    for ty in ctx.store.default_types_of(project_slug, &t.template_id).await? {
        let now = t
            .custom_html_customization
            .as_ref()
            .and_then(|h| h.template_type.as_deref());
        if now.is_some_and(|n| n != ty) {
            return Err(catalogue::INVALID_EMAIL_TEMPLATE_CONTENT.detail(format!("the template is the {ty} default")));
        }
    }
    let json = serde_json::to_string(&t).map_err(crate::error::CoreError::internal)?;
    ctx.store
        .update_email_template(project_slug, &t.template_id, &json)
        .await?;
    Ok(t)
}

pub async fn delete(ctx: &Ctx, project_slug: &str, template_id: &str) -> CoreResult<()> {
    get(ctx, project_slug, template_id).await?;
    if !ctx.store.default_types_of(project_slug, template_id).await?.is_empty() {
        return Err(catalogue::CANNOT_DELETE_DEFAULT_EMAIL_TEMPLATE.detail(template_id));
    }
    ctx.store.delete_email_template(project_slug, template_id).await?;
    Ok(())
}

fn check_type(ty: &str) -> CoreResult<()> {
    if TEMPLATE_TYPES.contains(&ty) {
        Ok(())
    } else {
        Err(catalogue::INVALID_ARGUMENT.field_detail(
            "email_template_type",
            format!("'{ty}' is not one of {}", TEMPLATE_TYPES.join(", ")),
        ))
    }
}

pub async fn set_default(ctx: &Ctx, project_slug: &str, ty: &str, template_id: &str) -> CoreResult<()> {
    check_type(ty)?;
    let t = get(ctx, project_slug, template_id).await?;
    let fits = match &t.custom_html_customization {
        Some(h) => h.template_type.as_deref() == Some(ty),
        None => true,
    };
    if !fits {
        return Err(catalogue::INVALID_EMAIL_TEMPLATE_CONTENT.detail(format!("{template_id} is not a {ty} template")));
    }
    ctx.store
        .set_default_email_template(project_slug, ty, template_id)
        .await?;
    Ok(())
}

pub async fn get_default(ctx: &Ctx, project_slug: &str, ty: &str) -> CoreResult<String> {
    check_type(ty)?;
    workspace_project(ctx, project_slug).await?;
    ctx.store
        .default_email_template(project_slug, ty)
        .await?
        .ok_or_else(|| catalogue::EMAIL_TEMPLATE_NOT_FOUND.detail(format!("no {ty} default")))
}

pub async fn unset_default(ctx: &Ctx, project_slug: &str, ty: &str) -> CoreResult<()> {
    check_type(ty)?;
    if ty == "PREBUILT" {
        return Err(catalogue::INVALID_ARGUMENT.field_detail("email_template_type", "PREBUILT cannot be unset"));
    }
    workspace_project(ctx, project_slug).await?;
    if !ctx.store.unset_default_email_template(project_slug, ty).await? {
        return Err(catalogue::EMAIL_TEMPLATE_NOT_FOUND.detail(format!("no {ty} default")));
    }
    Ok(())
}
