//! An environment's settings as the Management API sets them: the password strength policy,
//! redirect URLs, the RBAC policy and the SMS countries. Each change is checked whole, then
//! stored as the project's new settings document (`project_settings`); bad input changes nothing.

use super::environment;
use crate::engine::Ctx;
use crate::error::{catalogue, CoreResult};
use crate::model::project::Project;
use crate::password::policy::{PasswordPolicy, Strength};
use crate::project_settings::ProjectSettings;
use crate::rbac::Policy;
use crate::settings::{RedirectType, RedirectUrl};

async fn load(ctx: &Ctx, project_slug: &str, environment_slug: &str) -> CoreResult<(Project, ProjectSettings)> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    let settings = ctx.project_config(&env.project_id).await?.settings.clone();
    Ok((env, settings))
}

async fn save(ctx: &Ctx, env: &Project, settings: ProjectSettings) -> CoreResult<ProjectSettings> {
    Ok(ctx
        .save_project_settings(&env.project_id, settings)
        .await?
        .settings
        .clone())
}

pub async fn settings(ctx: &Ctx, project_slug: &str, environment_slug: &str) -> CoreResult<ProjectSettings> {
    Ok(load(ctx, project_slug, environment_slug).await?.1)
}

// --- password strength ---

pub struct StrengthConfig {
    pub check_breach_on_creation: bool,
    pub check_breach_on_authentication: bool,
    pub validate_on_authentication: bool,
    /// `ZXCVBN` or `LUDS`; absent keeps the current one.
    pub validation_policy: Option<String>,
    pub luds_min_password_length: Option<i64>,
    pub luds_min_password_complexity: Option<i64>,
}

/// Stytch's LUDS bounds.
const LUDS_LENGTH: std::ops::RangeInclusive<i64> = 8..=32;
const LUDS_COMPLEXITY: std::ops::RangeInclusive<i64> = 1..=4;

pub async fn set_password_strength(
    ctx: &Ctx,
    project_slug: &str,
    environment_slug: &str,
    c: StrengthConfig,
) -> CoreResult<PasswordPolicy> {
    let (env, mut settings) = load(ctx, project_slug, environment_slug).await?;
    let policy = c.validation_policy.as_deref().filter(|p| !p.is_empty());
    let strength = match policy {
        Some("ZXCVBN") => Strength::Zxcvbn,
        Some("LUDS") => {
            let length = c.luds_min_password_length.unwrap_or(8);
            let complexity = c.luds_min_password_complexity.unwrap_or(3);
            if !LUDS_LENGTH.contains(&length) {
                return Err(catalogue::INVALID_PASSWORD_STRENGTH_LUDS_LENGTH.detail("between 8 and 32"));
            }
            if !LUDS_COMPLEXITY.contains(&complexity) {
                return Err(catalogue::INVALID_PASSWORD_STRENGTH_LUDS_COMPLEXITY.detail("between 1 and 4"));
            }
            Strength::Luds {
                min_length: length as usize,
                min_complexity: complexity as usize,
            }
        }
        Some(other) => {
            return Err(catalogue::INVALID_ARGUMENT
                .field_detail("validation_policy", format!("'{other}' is not one of ZXCVBN, LUDS")))
        }
        None => settings.password.strength,
    };
    if matches!(strength, Strength::Zxcvbn)
        && (c.luds_min_password_length.is_some() || c.luds_min_password_complexity.is_some())
    {
        return Err(catalogue::INVALID_ARGUMENT.detail("luds_min_password_* apply only to the LUDS policy"));
    }
    settings.password = PasswordPolicy {
        strength,
        breach_detection_on_create: c.check_breach_on_creation,
        breach_detection_on_authenticate: c.check_breach_on_authentication,
        validate_on_authenticate: c.validate_on_authentication,
    };
    Ok(save(ctx, &env, settings).await?.password)
}

// --- redirect URLs ---

/// One `URLType` of a request: a type and whether the URL is its default.
#[derive(Debug, Clone, Copy)]
pub struct UrlType {
    pub kind: RedirectType,
    pub is_default: bool,
}

/// Stytch's `RedirectURLType` spelling.
pub fn parse_url_type(s: &str) -> CoreResult<RedirectType> {
    RedirectType::parse(s)
        .filter(|_| s.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .ok_or_else(|| catalogue::INVALID_REDIRECT_URL_TYPE.detail(s))
}

/// Sets `url`'s types, and makes it the default of those marked so, or (unless `no_promote`) of
/// those that have no default yet.
fn place(urls: &mut [RedirectUrl], url: &str, types: &[UrlType], no_promote: bool) {
    for t in types {
        let has_default = urls.iter().any(|u| u.url != url && u.default_types.contains(&t.kind));
        let default = t.is_default || (!no_promote && !has_default);
        if default {
            for u in urls.iter_mut() {
                u.default_types.retain(|k| *k != t.kind);
            }
        }
        let entry = urls.iter_mut().find(|u| u.url == url).expect("placed after insert");
        if !entry.types.contains(&t.kind) {
            entry.types.push(t.kind);
        }
        if default {
            entry.default_types.push(t.kind);
        }
    }
}

/// Gives every type that lost its default to another URL of that type.
fn promote(urls: &mut [RedirectUrl], kinds: &[RedirectType]) {
    for kind in kinds {
        if urls.iter().any(|u| u.default_types.contains(kind)) {
            continue;
        }
        if let Some(u) = urls.iter_mut().find(|u| u.types.contains(kind)) {
            u.default_types.push(*kind);
        }
    }
}

fn check_types(types: &[UrlType]) -> CoreResult<()> {
    for (i, t) in types.iter().enumerate() {
        if types[..i].iter().any(|x| x.kind == t.kind) {
            return Err(catalogue::INVALID_REDIRECT_URL_TYPE.detail(format!("{} given twice", t.kind.as_str())));
        }
    }
    Ok(())
}

/// At most this many URLs per environment.
const MAX_REDIRECT_URLS: usize = 100;

pub async fn create_redirect_url(
    ctx: &Ctx,
    project_slug: &str,
    environment_slug: &str,
    url: &str,
    types: &[UrlType],
    no_promote: bool,
) -> CoreResult<RedirectUrl> {
    let (env, mut settings) = load(ctx, project_slug, environment_slug).await?;
    crate::validate::redirect_url("url", url)?;
    if url.contains('*') {
        return Err(catalogue::INVALID_ARGUMENT.field_detail("url", "wildcards are not supported"));
    }
    check_types(types)?;
    if settings.redirect_urls.iter().any(|u| u.url == url) {
        return Err(catalogue::DUPLICATE_REDIRECT_URL.detail(url));
    }
    if settings.redirect_urls.len() >= MAX_REDIRECT_URLS {
        return Err(catalogue::TOO_MANY_REDIRECT_URLS.detail(format!("at most {MAX_REDIRECT_URLS}")));
    }
    settings.redirect_urls.push(RedirectUrl {
        project_id: None,
        url: url.to_string(),
        types: vec![],
        default_types: vec![],
    });
    place(&mut settings.redirect_urls, url, types, no_promote);
    let saved = save(ctx, &env, settings).await?;
    Ok(find_url(&saved, url)?.clone())
}

fn find_url<'a>(settings: &'a ProjectSettings, url: &str) -> CoreResult<&'a RedirectUrl> {
    settings
        .redirect_urls
        .iter()
        .find(|u| u.url == url)
        .ok_or_else(|| catalogue::REDIRECT_URL_NOT_FOUND.detail(url))
}

pub async fn redirect_url(ctx: &Ctx, project_slug: &str, environment_slug: &str, url: &str) -> CoreResult<RedirectUrl> {
    let (_, settings) = load(ctx, project_slug, environment_slug).await?;
    Ok(find_url(&settings, url)?.clone())
}

/// Replaces the URL's types.
pub async fn update_redirect_url(
    ctx: &Ctx,
    project_slug: &str,
    environment_slug: &str,
    url: &str,
    types: &[UrlType],
    no_promote: bool,
) -> CoreResult<RedirectUrl> {
    let (env, mut settings) = load(ctx, project_slug, environment_slug).await?;
    check_types(types)?;
    let entry = settings
        .redirect_urls
        .iter_mut()
        .find(|u| u.url == url)
        .ok_or_else(|| catalogue::REDIRECT_URL_NOT_FOUND.detail(url))?;
    let lost: Vec<RedirectType> = entry.default_types.clone();
    entry.types.clear();
    entry.default_types.clear();
    place(&mut settings.redirect_urls, url, types, no_promote);
    if !no_promote {
        promote(&mut settings.redirect_urls, &lost);
    }
    let saved = save(ctx, &env, settings).await?;
    Ok(find_url(&saved, url)?.clone())
}

pub async fn delete_redirect_url(
    ctx: &Ctx,
    project_slug: &str,
    environment_slug: &str,
    url: &str,
    no_promote: bool,
) -> CoreResult<()> {
    let (env, mut settings) = load(ctx, project_slug, environment_slug).await?;
    let at = settings
        .redirect_urls
        .iter()
        .position(|u| u.url == url)
        .ok_or_else(|| catalogue::REDIRECT_URL_NOT_FOUND.detail(url))?;
    let removed = settings.redirect_urls.remove(at);
    if !no_promote {
        promote(&mut settings.redirect_urls, &removed.default_types);
    }
    save(ctx, &env, settings).await?;
    Ok(())
}

// --- RBAC ---

/// Replaces the parts of the environment's RBAC policy that are given (`None` keeps a part).
pub struct PolicyChange {
    pub stytch_member: Option<Vec<crate::rbac::Permission>>,
    pub stytch_admin: Option<Vec<crate::rbac::Permission>>,
    pub custom_roles: Option<Vec<crate::rbac::PolicyRole>>,
    pub custom_resources: Option<Vec<crate::rbac::PolicyResource>>,
    pub custom_scopes: Option<Vec<crate::rbac::PolicyScope>>,
}

pub async fn set_rbac_policy(
    ctx: &Ctx,
    project_slug: &str,
    environment_slug: &str,
    change: PolicyChange,
) -> CoreResult<Policy> {
    use crate::model::member::{ROLE_ADMIN, ROLE_MEMBER};
    let (env, mut settings) = load(ctx, project_slug, environment_slug).await?;
    let current = settings.rbac.clone();
    let extra = |role: &str| -> Vec<crate::rbac::Permission> {
        current
            .roles
            .iter()
            .filter(|r| r.role_id == role)
            .flat_map(|r| r.permissions.clone())
            .collect()
    };
    let member = change.stytch_member.unwrap_or_else(|| extra(ROLE_MEMBER));
    let admin = change.stytch_admin.unwrap_or_else(|| extra(ROLE_ADMIN));
    let mut custom_roles = change.custom_roles.unwrap_or_else(|| {
        current
            .roles
            .iter()
            .filter(|r| r.role_id != ROLE_MEMBER && r.role_id != ROLE_ADMIN)
            .cloned()
            .collect()
    });
    if let Some(r) = custom_roles
        .iter()
        .find(|r| r.role_id == ROLE_MEMBER || r.role_id == ROLE_ADMIN)
    {
        return Err(catalogue::RBAC_ROLE_DUPLICATE.detail(format!(
            "{} is a default role: set its permissions with {}",
            r.role_id, r.role_id
        )));
    }
    let defaults = crate::rbac::default_policy();
    for (role, perms) in [(ROLE_MEMBER, member), (ROLE_ADMIN, admin)] {
        // A default role's permissions as given (the defaults included, as GET answers them):
        // what it holds beyond the defaults is stored.
        let base = defaults.roles.iter().find(|r| r.role_id == role).expect("default role");
        let added: Vec<_> = perms.into_iter().filter(|p| !base.permissions.contains(p)).collect();
        if !added.is_empty() {
            custom_roles.push(crate::rbac::PolicyRole {
                role_id: role.into(),
                description: String::new(),
                permissions: added,
            });
        }
    }
    let custom = Policy {
        roles: custom_roles,
        resources: change.custom_resources.unwrap_or_else(|| current.resources.clone()),
        scopes: change.custom_scopes.unwrap_or_else(|| current.scopes.clone()),
    };
    crate::rbac::validate_project_policy(&custom)?;
    settings.rbac = custom;
    save(ctx, &env, settings).await?;
    Ok(ctx.project_config(&env.project_id).await?.policy.clone())
}

// --- SMS countries ---

pub async fn set_sms_countries(
    ctx: &Ctx,
    project_slug: &str,
    environment_slug: &str,
    codes: &[String],
) -> CoreResult<Vec<String>> {
    let (env, mut settings) = load(ctx, project_slug, environment_slug).await?;
    if codes.is_empty() {
        return Err(catalogue::COUNTRY_CODE_ALLOWLIST_EMPTY.err());
    }
    let mut out: Vec<String> = Vec::new();
    for code in codes {
        let known = code.len() == 2
            && code.chars().all(|c| c.is_ascii_uppercase())
            && code.parse::<phonenumber::country::Id>().is_ok();
        if !known {
            return Err(catalogue::COUNTRY_CODE_ALLOWLIST_INVALID_COUNTRY_CODES.detail(code));
        }
        if !out.contains(code) {
            out.push(code.clone());
        }
    }
    settings.sms_allowed_countries = out;
    Ok(save(ctx, &env, settings).await?.sms_allowed_countries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str, types: &[RedirectType], defaults: &[RedirectType]) -> RedirectUrl {
        RedirectUrl {
            project_id: None,
            url: u.into(),
            types: types.to_vec(),
            default_types: defaults.to_vec(),
        }
    }

    #[test]
    fn first_url_of_a_type_becomes_its_default_unless_told_not_to() {
        use RedirectType::*;
        let mut urls = vec![url("a", &[], &[])];
        place(
            &mut urls,
            "a",
            &[UrlType {
                kind: Login,
                is_default: false,
            }],
            false,
        );
        assert_eq!(urls[0].default_types, vec![Login]);

        urls.push(url("b", &[], &[]));
        place(
            &mut urls,
            "b",
            &[UrlType {
                kind: Login,
                is_default: false,
            }],
            false,
        );
        assert_eq!(urls[1].default_types, vec![], "a already is the default");
        place(
            &mut urls,
            "b",
            &[UrlType {
                kind: Login,
                is_default: true,
            }],
            false,
        );
        assert_eq!(
            (urls[0].default_types.clone(), urls[1].default_types.clone()),
            (vec![], vec![Login])
        );

        let mut urls = vec![url("c", &[], &[])];
        place(
            &mut urls,
            "c",
            &[UrlType {
                kind: Invite,
                is_default: false,
            }],
            true,
        );
        assert!(urls[0].default_types.is_empty(), "do_not_promote_defaults");

        let mut urls = vec![url("a", &[Login], &[]), url("b", &[Login], &[])];
        promote(&mut urls, &[Login]);
        assert_eq!(urls[0].default_types, vec![Login]);
    }

    #[test]
    fn url_types_use_stytch_spelling() {
        assert_eq!(parse_url_type("RESET_PASSWORD").unwrap(), RedirectType::ResetPassword);
        assert!(parse_url_type("reset_password").is_err());
        assert!(parse_url_type("UNKNOWN_REDIRECT_TYPE").is_err());
    }
}
