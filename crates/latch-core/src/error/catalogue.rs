//! Every Stytch `error_type` Latch answers with, each with its one HTTP status and one message.
//!
//! Sites build errors only from here (`NAME.err()`), so the same type never says two things. What
//! a site knows beyond the type goes in one of two structured places, rendered the same way
//! everywhere: a request `field` before the message (`"name: Invalid argument."`, which SDK
//! tests and callers match on) and a `detail` inside it before the final period
//! (`"… not supported (fr-ca)."`).
//!
//! One type has two entries on purpose: `session_not_found` is 401 when the session in the
//! member-session headers fails (the caller's credentials failed) and 404 when a session named in
//! a request body is missing (what `sessions.get`/`authenticate` answer in Stytch).
//! `CONTEXT_DEPENDENT` lists it; a test refuses any other type listed twice.

use super::{CoreError, Fault};
use std::borrow::Cow;

/// One entry: Stytch's `error_type`, the HTTP status it is sent with, and its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind {
    pub status: u16,
    pub error_type: &'static str,
    pub message: &'static str,
}

/// Types with more than one entry, each for a stated reason (see the module doc).
pub const CONTEXT_DEPENDENT: &[&str] = &["session_not_found"];

macro_rules! catalogue {
    ($($(#[$doc:meta])* $name:ident = ($status:literal, $type:literal, $message:literal);)*) => {
        $($(#[$doc])* pub const $name: ErrorKind = ErrorKind { status: $status, error_type: $type, message: $message };)*
        /// Every entry, for the tests below.
        pub const ALL: &[ErrorKind] = &[$($name),*];
    };
}

catalogue! {
    ACTION_AVAILABLE_ONLY_FOR_ACTIVE_MEMBERS = (400, "action_available_only_for_active_members", "Only an active member with a verified email address can update it.");
    ACTIVE_TOTP_EXISTS = (400, "active_totp_exists", "The member already has a TOTP registration; delete it first.");
    BAD_REQUEST = (400, "bad_request", "The request body is not well-formed JSON.");
    BREACHED_PASSWORD = (400, "breached_password", "This password appears in breach data; choose another one.");
    CROSS_ORG_PASSWORDS_NOT_ENABLED = (400, "cross_org_passwords_not_enabled", "Cross-organization passwords are not enabled for this project (setting cross_org_passwords).");
    CUSTOM_CLAIMS_TOO_LARGE = (400, "custom_claims_too_large", "session_custom_claims may not exceed 4 KB.");
    DUPLICATE_MEMBER_EMAIL = (400, "duplicate_member_email", "A member of the organization already has, or is moving to, this email_address.");
    DUPLICATE_MEMBER_EXTERNAL_ID = (400, "duplicate_member_external_id", "A member with this external_id already exists in the organization.");
    DUPLICATE_MEMBER_PHONE_NUMBER = (400, "duplicate_member_phone_number", "A member of the organization already uses this mfa_phone_number.");
    DUPLICATE_ORGANIZATION = (400, "duplicate_organization", "The organization conflicts with an existing one.");
    EMAIL_UNVERIFIED_FOR_REACTIVATION = (400, "email_unverified_for_reactivation", "The member's email address was never verified, so it cannot be reactivated.");
    INSUFFICIENT_FACTORS = (400, "insufficient_factors", "The authentication factors presented so far are not enough for this step.");
    INVALID_ARGUMENT = (400, "invalid_argument", "Invalid argument.");
    INVALID_BCRYPT_HASH = (400, "invalid_bcrypt_hash", "The hash is not a bcrypt hash.");
    INVALID_EMAIL = (400, "invalid_email", "email_address is not a valid email address.");
    INVALID_EXPIRATION = (400, "invalid_expiration", "The expiration must be between 5 and 10080 minutes.");
    INVALID_EXPIRATION_OTP = (400, "invalid_expiration_otp", "OTP expiration must be between 2 and 15 minutes.");
    INVALID_EXTERNAL_ID = (400, "invalid_external_id", "external_id must be 1 to 128 characters of letters, digits, '.', '_', '-' or '|'.");
    INVALID_HASH_TYPE = (400, "invalid_hash_type", "hash_type must be one of bcrypt, md_5, argon_2i, argon_2id, sha_1, sha_512, scrypt, phpass, pbkdf_2.");
    INVALID_INTERMEDIATE_SESSION_TOKEN_FOR_ORGANIZATION = (400, "invalid_intermediate_session_token_for_organization", "The intermediate_session_token cannot be used with this organization or member.");
    INVALID_LOCALE = (400, "invalid_locale", "The locale is not supported.");
    INVALID_ORGANIZATION_EXTERNAL_ID = (400, "invalid_organization_external_id", "organization_external_id must be 1 to 128 characters of letters, digits, '.', '_', '-' or '|'.");
    INVALID_ORGANIZATION_MFA_POLICY = (400, "invalid_organization_mfa_policy", "The MFA policy must be OPTIONAL or REQUIRED_FOR_ALL.");
    INVALID_ORGANIZATION_NAME = (400, "invalid_organization_name", "organization_name must be 1 to 128 characters, without control characters or line breaks.");
    INVALID_ORGANIZATION_SLUG = (400, "invalid_organization_slug", "organization_slug must be 2 to 128 characters of letters, digits, '-', '.', '_' or '~'.");
    INVALID_PHONE_NUMBER = (400, "invalid_phone_number", "mfa_phone_number must be a valid E.164 number (e.g. +12025550123), and the member's own if the member has one.");
    INVALID_PHONE_NUMBER_COUNTRY_CODE = (400, "invalid_phone_number_country_code", "SMS to this country is not enabled.");
    INVALID_PHPASS_HASH = (400, "invalid_phpass_hash", "The hash is not a phpass portable hash.");
    INVALID_RBAC_ROLE_ASSIGNMENT = (400, "invalid_rbac_role_assignment", "stytch_member is granted to every member implicitly and cannot be assigned.");
    INVALID_RBAC_ROLE_ID = (400, "invalid_rbac_role_id", "role_id must be 1 to 128 characters.");
    INVALID_SESSION_DURATION_MINUTES = (400, "invalid_session_duration_minutes", "session_duration_minutes must be between 5 and 527040.");
    INVALID_STYTCH_PREFIXED_RESOURCE = (400, "invalid_stytch_prefixed_resource", "A custom resource_id may not start with 'stytch'.");
    INVALID_TEMPLATE_ID = (400, "invalid_template_id", "The template_id names no custom template of this kind.");
    MEMBER_PHONE_NUMBER_ALREADY_EXISTS = (400, "member_phone_number_already_exists", "The member already has an mfa_phone_number; delete it before setting another.");
    MEMBER_RESET_PASSWORD = (400, "member_reset_password", "The member must reset the password before logging in with it again.");
    METADATA_TOO_LARGE = (400, "metadata_too_large", "The metadata exceeds 4096 bytes.");
    NO_DELETED_MEMBER_FOUND_FOR_REACTIVATION = (400, "no_deleted_member_found_for_reactivation", "Only a deleted member can be reactivated.");
    NO_SESSION_ARGUMENTS = (400, "no_session_arguments", "Pass a session_token or session_jwt (or an intermediate_session_token where the endpoint accepts one).");
    NO_SESSION_REVOKE_ARGUMENTS = (400, "no_session_revoke_arguments", "Pass one of member_session_id, session_token, session_jwt or member_id.");
    OPERATION_RESTRICTED_BY_ORGANIZATION_MFA_METHODS = (400, "operation_restricted_by_organization_mfa_methods", "The organization does not allow this MFA method.");
    ORGANIZATION_EXTERNAL_ID_ALREADY_USED = (400, "organization_external_id_already_used", "This organization_external_id is already used by another organization (as its external id, id or slug).");
    ORGANIZATION_SETTINGS_DOMAIN_TOO_COMMON = (400, "organization_settings_domain_too_common", "A common email domain cannot be used.");
    ORGANIZATION_SETTINGS_INVALID_DOMAIN = (400, "organization_settings_invalid_domain", "A domain is not valid.");
    ORGANIZATION_SLUG_ALREADY_USED = (400, "organization_slug_already_used", "This organization_slug is already used by another organization (as its slug, id or external id).");
    PKCE_DID_NOT_EXPECT_CODE_VERIFIER = (400, "pkce_did_not_expect_code_verifier", "This link was started without a code challenge.");
    PKCE_EXPECTED_CODE_VERIFIER = (400, "pkce_expected_code_verifier", "This link was started with a code challenge: pass its code verifier.");
    PKCE_MISMATCH = (400, "pkce_mismatch", "The code verifier does not match the code challenge.");
    RBAC_RESOURCE_DUPLICATE = (400, "rbac_resource_duplicate", "A resource is defined twice.");
    RBAC_ROLE_DUPLICATE = (400, "rbac_role_duplicate", "A role is defined twice.");
    REACTIVATION_EMAIL_BELONGS_TO_ANOTHER_MEMBER = (400, "reactivation_email_belongs_to_another_member", "Another member of the organization now uses this email address.");
    RETIRED_MEMBER_EMAIL = (400, "retired_member_email", "This email_address is retired by another member of the organization.");
    SESSION_ORGANIZATION_MISMATCH = (400, "session_organization_mismatch", "The session belongs to another organization.");
    SESSION_TOO_OLD_TO_RESET_PASSWORD = (400, "session_too_old_to_reset_password", "The session has no factor authenticated in the last 5 minutes.");
    STYTCH_CLAIMS_IN_CUSTOM_CLAIMS = (400, "stytch_claims_in_custom_claims", "session_custom_claims may not set Stytch's own claims.");
    TOO_MANY_SESSION_ARGUMENTS = (400, "too_many_session_arguments", "Pass either session_token or session_jwt, not both.");
    TOO_MANY_SESSION_REVOKE_ARGUMENTS = (400, "too_many_session_revoke_arguments", "Pass only one of member_session_id, session_token, session_jwt or member_id.");
    UNABLE_TO_PARSE_SESSION_JWT = (400, "unable_to_parse_session_jwt", "The session_jwt could not be parsed.");
    WEAK_PASSWORD = (400, "weak_password", "The password does not meet the strength policy; see passwords.strength_check.");
    INVALID_RECOVERY_CODE = (401, "invalid_recovery_code", "The recovery code is incorrect or was already used.");
    INVALID_SESSION_JWT = (401, "invalid_session_jwt", "The session_jwt is not a valid JWT of this project.");
    INVALID_TOTP_CODE = (401, "invalid_totp_code", "The TOTP code is incorrect or was already used.");
    /// The member session in the `X-Stytch-Member-Session*` headers: 401, because the caller's
    /// credentials are what failed, not a lookup the request asked for (Stytch answers so).
    SESSION_HEADER_NOT_FOUND = (401, "session_not_found", "The member session in the authorization headers was not found or has expired.");
    UNABLE_TO_AUTH_MAGIC_LINK = (401, "unable_to_auth_magic_link", "The magic link was already used or has expired.");
    UNABLE_TO_AUTH_OTP_CODE = (401, "unable_to_auth_otp_code", "The code is incorrect.");
    UNAUTHORIZED_CREDENTIALS = (401, "unauthorized_credentials", "Unauthorized credentials.");
    CANNOT_UPDATE_TRUSTED_METADATA = (403, "cannot_update_trusted_metadata", "trusted_metadata cannot be set with a member session.");
    EMAIL_JIT_PROVISIONING_NOT_ALLOWED = (403, "email_jit_provisioning_not_allowed", "This email has no member in the organization, and the organization does not allow it to join.");
    INVALID_EMAIL_FOR_INVITES = (403, "invalid_email_for_invites", "The organization's email_invites setting does not allow inviting this email address.");
    MEMBER_CANNOT_UPDATE_THEIR_EMAIL_ADDRESS = (403, "member_cannot_update_their_email_address", "A member cannot change its own email address with its session.");
    SESSION_AUTHORIZATION_ERROR = (403, "session_authorization_error", "The member session lacks permission for this action.");
    SESSION_AUTHORIZATION_TENANCY_ERROR = (403, "session_authorization_tenancy_error", "The member session belongs to another organization.");
    CONNECTED_APP_NOT_FOUND = (404, "connected_app_not_found", "No Connected App with this id.");
    EMAIL_UPDATE_NOT_FOUND = (404, "email_update_not_found", "The member has no pending update to this email address; it expired or was replaced.");
    INTERMEDIATE_SESSION_NOT_FOUND = (404, "intermediate_session_not_found", "Intermediate session not found, expired or already used.");
    MAGIC_LINK_NOT_FOUND = (404, "magic_link_not_found", "No magic link matches this token.");
    MEMBER_NOT_FOUND = (404, "member_not_found", "Member not found.");
    MEMBER_PASSWORD_NOT_FOUND = (404, "member_password_not_found", "No member password with this id.");
    MEMBER_PHONE_NUMBER_NOT_FOUND = (404, "member_phone_number_not_found", "The member has no mfa_phone_number; pass one.");
    OAUTH_REGISTRATION_NOT_FOUND = (404, "oauth_registration_not_found", "The member has no registration with this OAuth provider.");
    ORGANIZATION_NOT_FOUND = (404, "organization_not_found", "Organization not found.");
    OTP_CODE_NOT_FOUND = (404, "otp_code_not_found", "No valid code: it expired, was used, or a newer one was sent.");
    PROJECT_NOT_FOUND = (404, "project_not_found", "No project with this id.");
    RECOVERY_CODES_NOT_FOUND = (404, "recovery_codes_not_found", "The member has no recovery codes.");
    RETIRED_EMAIL_NOT_FOUND = (404, "retired_email_not_found", "The member has no such retired email.");
    ROUTE_NOT_FOUND = (404, "route_not_found", "No such route.");
    /// A session named in a request body (sessions.get, authenticate, revoke): 404, as Stytch answers.
    SESSION_NOT_FOUND = (404, "session_not_found", "Session not found, expired or revoked.");
    SIGNING_KEY_NOT_FOUND = (404, "signing_key_not_found", "No unrevoked signing key of this project has that kid.");
    TOTP_NOT_FOUND = (404, "totp_not_found", "The member has no TOTP registration (or it expired before its first use).");
    UNABLE_TO_AUTH_PASSWORD_RESET_TOKEN = (404, "unable_to_auth_password_reset_token", "The password reset token is invalid, expired or already used.");
    METHOD_NOT_ALLOWED = (405, "method_not_allowed", "This route does not accept this HTTP method.");
    CONFLICT = (409, "conflict", "The record was changed by another request at the same time. Please retry.");
    REQUEST_TOO_LARGE = (413, "request_too_large", "The request body is too large.");
    TOO_MANY_REQUESTS = (429, "too_many_requests", "Too many requests.");
    // The Management API's (`service::management`).
    CANNOT_DELETE_DEFAULT_EMAIL_TEMPLATE = (400, "cannot_delete_default_email_template", "The template is the default of a type; set another default or unset it first.");
    COUNTRY_CODE_ALLOWLIST_B2B_WHATSAPP_NOT_SUPPORTED = (400, "country_code_allowlist_b2b_whatsapp_not_supported", "WhatsApp one-time passcodes do not exist in B2B projects.");
    COUNTRY_CODE_ALLOWLIST_EMPTY = (400, "country_code_allowlist_empty", "country_codes must name at least one country.");
    COUNTRY_CODE_ALLOWLIST_INVALID_COUNTRY_CODES = (400, "country_code_allowlist_invalid_country_codes", "Country codes are ISO 3166-1 alpha-2 codes in capitals, such as US.");
    DUPLICATE_EMAIL_TEMPLATE_VANITY_ID = (400, "duplicate_email_template_vanity_id", "The project already has a template with this template_id.");
    DUPLICATE_ENVIRONMENT_SLUG = (400, "duplicate_environment_slug", "The project already has an environment with this environment_slug.");
    DUPLICATE_PROJECT_SLUG = (400, "duplicate_project_slug", "A project with this project_slug already exists.");
    DUPLICATE_REDIRECT_URL = (400, "duplicate_redirect_url", "The redirect URL is already registered; update it instead.");
    INVALID_EMAIL_TEMPLATE_CONTENT = (400, "invalid_email_template_content", "The email template is not valid.");
    INVALID_PASSWORD_STRENGTH_LUDS_COMPLEXITY = (400, "invalid_password_strength_luds_complexity", "luds_min_password_complexity must be between 1 and 4.");
    INVALID_PASSWORD_STRENGTH_LUDS_LENGTH = (400, "invalid_password_strength_luds_length", "luds_min_password_length must be between 8 and 32.");
    INVALID_PROJECT_NAME = (400, "invalid_project_name", "name must be 1 to 256 characters.");
    INVALID_REDIRECT_URL_TYPE = (400, "invalid_redirect_url_type", "A redirect URL type must be one of LOGIN, SIGNUP, INVITE, RESET_PASSWORD, DISCOVERY, each at most once.");
    INVALID_USER_LOCK_THRESHOLD = (400, "invalid_user_lock_threshold", "user_lock_threshold must be between 1 and 1000.");
    INVALID_USER_LOCK_TTL = (400, "invalid_user_lock_ttl", "user_lock_ttl must be between 60 and 86400 seconds.");
    TOO_MANY_EMAIL_TEMPLATES = (400, "too_many_email_templates", "The project has as many email templates as it may.");
    TOO_MANY_PUBLIC_TOKENS = (400, "too_many_public_tokens", "The environment has as many public tokens as it may.");
    TOO_MANY_REDIRECT_URLS = (400, "too_many_redirect_urls", "The environment has as many redirect URLs as it may.");
    TOO_MANY_SECRETS = (400, "too_many_secrets", "The environment has as many secrets as it may; delete one first.");
    UNABLE_TO_DELETE_LAST_PUBLIC_TOKEN = (400, "unable_to_delete_last_public_token", "An environment keeps at least one public token.");
    EMAIL_TEMPLATE_NOT_FOUND = (404, "email_template_not_found", "No email template with this id.");
    ENVIRONMENT_NOT_FOUND = (404, "environment_not_found", "The project has no environment with this slug.");
    PUBLIC_TOKEN_NOT_FOUND = (404, "public_token_not_found", "The environment has no such public token.");
    REDIRECT_URL_NOT_FOUND = (404, "redirect_url_not_found", "The environment has no such redirect URL.");
    SECRET_NOT_FOUND = (404, "secret_not_found", "The environment has no secret with this id.");
    INTERNAL_SERVER_ERROR = (500, "internal_server_error", "An internal error occurred. The request_id identifies it in the server's logs.");
    ENDPOINT_NOT_SUPPORTED = (501, "endpoint_not_supported", "This endpoint is not supported by this version of Latch yet.");
    BREACH_DETECTION_UNAVAILABLE = (503, "breach_detection_unavailable", "The breached-password check is unavailable; try again later.");
    EMAIL_DELIVERY_FAILED = (503, "email_delivery_failed", "The message could not be delivered; try again later.");
    SERVER_UNAVAILABLE = (503, "server_unavailable", "The server cannot complete the request right now (its database is unreachable or slow). Please retry the request.");
    SMS_DELIVERY_FAILED = (503, "sms_delivery_failed", "The message could not be delivered; try again later.");
    INVALID_LOGIN_REDIRECT_URL = (400, "invalid_login_redirect_url", "The redirect URL is not one of the project's allowed URLs of this type.");
    NO_LOGIN_REDIRECT_URL = (400, "no_login_redirect_url", "Pass a redirect URL or configure a default one of this type.");
    INVALID_SIGNUP_REDIRECT_URL = (400, "invalid_signup_redirect_url", "The redirect URL is not one of the project's allowed URLs of this type.");
    NO_SIGNUP_REDIRECT_URL = (400, "no_signup_redirect_url", "Pass a redirect URL or configure a default one of this type.");
    INVALID_INVITE_REDIRECT_URL = (400, "invalid_invite_redirect_url", "The redirect URL is not one of the project's allowed URLs of this type.");
    NO_INVITE_REDIRECT_URL = (400, "no_invite_redirect_url", "Pass a redirect URL or configure a default one of this type.");
    INVALID_RESET_PASSWORD_REDIRECT_URL = (400, "invalid_reset_password_redirect_url", "The redirect URL is not one of the project's allowed URLs of this type.");
    NO_RESET_PASSWORD_REDIRECT_URL = (400, "no_reset_password_redirect_url", "Pass a redirect URL or configure a default one of this type.");
    INVALID_DISCOVERY_REDIRECT_URL = (400, "invalid_discovery_redirect_url", "The redirect URL is not one of the project's allowed URLs of this type.");
    NO_DISCOVERY_REDIRECT_URL = (400, "no_discovery_redirect_url", "Pass a redirect URL or configure a default one of this type.");
    INVALID_MFA_DEFAULT_METHOD = (400, "invalid_mfa_default_method", "The value is not one of those allowed.");
    INVALID_ORGANIZATION_AUTH_METHOD_SETTINGS = (400, "invalid_organization_auth_method_settings", "The value is not one of those allowed.");
    INVALID_ORGANIZATION_ALLOWED_AUTH_METHODS = (400, "invalid_organization_allowed_auth_methods", "The value is not one of those allowed.");
    INVALID_ORGANIZATION_ALLOWED_MFA_METHODS = (400, "invalid_organization_allowed_mfa_methods", "The value is not one of those allowed.");
    INVALID_PERMISSION_RESOURCE = (400, "invalid_permission_resource", "A permission names a resource the project's RBAC policy does not define.");
    INVALID_PERMISSION_ACTION = (400, "invalid_permission_action", "A permission's actions are missing, empty or not defined on its resource.");
    INVALID_WILDCARD_ACTION = (400, "invalid_wildcard_action", "A wildcard action must be the only action for a role and resource.");
    INVALID_ARGON_2_HASH = (400, "invalid_argon_2_hash", "The argon2 hash or its argon_2_config is invalid.");
    INVALID_SCRYPT_PARAMETERS = (400, "invalid_scrypt_parameters", "The scrypt hash or its scrypt_config is invalid.");
    INVALID_PBKDF_2_HASH = (400, "invalid_pbkdf_2_hash", "The PBKDF2 hash or its pbkdf_2_config is invalid.");
    INVALID_MD_5_HASH = (400, "invalid_md_5_hash", "The hash is not a hex digest of the right length.");
    INVALID_SHA_1_HASH = (400, "invalid_sha_1_hash", "The hash is not a hex digest of the right length.");
    INVALID_SHA_512_HASH = (400, "invalid_sha_512_hash", "The hash is not a hex digest of the right length.");
    // SCIM connections (scim.md#error-types).
    ACTIVE_SCIM_CONNECTION_EXISTS = (400, "active_scim_connection_exists", "The organization already has a SCIM connection.");
    NO_ACTIVE_SCIM_CONNECTION = (404, "no_active_scim_connection", "No SCIM connection with this connection_id in the organization.");
    INVALID_SCIM_IDP = (400, "invalid_scim_idp", "identity_provider is not one of the SCIM identity providers.");
    SCIM_CONNECTION_NOT_ROTATING_TOKEN = (400, "scim_connection_not_rotating_token", "The SCIM connection has no token rotation in progress.");
    SCIM_CONNECTION_ALREADY_ROTATING_TOKEN = (400, "scim_connection_already_rotating_token", "The SCIM connection already has a token rotation in progress; complete or cancel it first.");
    SCIM_GROUP_ROLE_ASSIGNMENT_DOES_NOT_CONTAIN_GROUP_ID = (400, "scim_group_role_assignment_does_not_contain_group_id", "Each SCIM group role assignment needs a group_id and a role_id.");
    SCIM_GROUP_ROLE_ASSIGNMENT_GROUP_DOES_NOT_EXIST = (400, "scim_group_role_assignment_group_does_not_exist", "A SCIM group role assignment names a group the connection has not received.");
    // Enterprise SSO (SAML): connections (sso.md#error-types).
    INVALID_IDP_ENTITY_ID = (400, "invalid_idp_entity_id", "idp_entity_id must be 1 to 2048 characters, without control characters.");
    SAML_CONNECTION_IDP_SSO_URL_INVALID_FORMAT = (400, "saml_connection_idp_sso_url_invalid_format", "idp_sso_url must be an https URL (http only on localhost).");
    SAML_CONNECTION_NO_NESTED_KEYS_IN_ATTRIBUTE_MAPPING = (400, "saml_connection_no_nested_keys_in_attribute_mapping", "attribute_mapping must map each name to an attribute name (a string), without nested objects.");
    SAML_CONNECTION_ATTRIBUTE_MAPPING_MISSING_GROUPS_KEY = (400, "saml_connection_attribute_mapping_missing_groups_key", "Group role assignments need a \"groups\" key in the connection's attribute_mapping.");
    INVALID_X509_CERTIFICATE = (400, "invalid_x509_certificate", "x509_certificate must be an X.509 certificate in PEM format.");
    TOO_MANY_SSO_VERIFICATION_CERTIFICATES = (400, "too_many_sso_verification_certificates", "A SAML connection holds at most 5 verification certificates; delete one first.");
    CANNOT_DELETE_LAST_SSO_VERIFICATION_KEY = (400, "cannot_delete_last_sso_verification_key", "An active SAML connection must keep at least one verification certificate.");
    SSO_VERIFICATION_KEY_NOT_FOUND = (404, "sso_verification_key_not_found", "The SAML connection has no verification certificate with this certificate_id.");
    SSO_ENCRYPTION_PRIVATE_KEY_NOT_FOUND = (404, "sso_encryption_private_key_not_found", "The SAML connection has no encryption private key with this private_key_id.");
    SAML_SIGNING_PRIVATE_KEY_FORMAT_NOT_SUPPORTED = (400, "saml_signing_private_key_format_not_supported", "Only PKCS#1 RSA private keys (\"-----BEGIN RSA PRIVATE KEY-----\") are supported.");
    SAML_SIGNING_PRIVATE_KEY_INVALID = (400, "saml_signing_private_key_invalid", "The private key is not a valid RSA key of at least 2048 bits.");
    INVALID_SAML_METADATA_URL = (400, "invalid_saml_metadata_url", "metadata_url must be an https URL (http only on localhost) that answers.");
    INVALID_XML_FROM_SAML_METADATA_URL = (400, "invalid_xml_from_saml_metadata_url", "The metadata URL did not answer with an identity provider's SAML metadata.");
    // Enterprise SSO (SAML): the assertion consumer service.
    INVALID_SAML_RESPONSE = (400, "invalid_saml_response", "The SAML response is malformed or does not match this connection.");
    MISSING_SIGNATURE_SAML_RESPONSE = (400, "missing_signature_saml_response", "The SAML response is not signed.");
    INVALID_SIGNATURE_SAML_RESPONSE = (400, "invalid_signature_saml_response", "The SAML response's signature does not verify with the connection's certificates.");
    INVALID_AUDIENCE_SAML_RESPONSE = (400, "invalid_audience_saml_response", "The SAML assertion is not meant for this connection's audience.");
    EXPIRED_SAML_RESPONSE = (400, "expired_saml_response", "The SAML response has expired.");
    NOT_YET_VALID_SAML_RESPONSE = (400, "not_yet_valid_saml_response", "The SAML response is not valid yet.");
    DUPLICATE_SAML_RESPONSE = (400, "duplicate_saml_response", "This SAML assertion was already used.");
    UNSOLICITED_SAML_RESPONSE = (400, "unsolicited_saml_response", "The SAML response answers a sign-in that was not started here, was already finished, or expired.");
    SAML_IDP_INITIATED_AUTH_DISABLED = (403, "saml_idp_initiated_auth_disabled", "This SAML connection does not accept sign-ins started at the identity provider.");
    INVALID_SAML_RESPONSE_EMAIL = (400, "invalid_saml_response_email", "The SAML response carries no valid email address for the mapped attribute or NameID.");
    SAML_CSRF_COOKIE_MISMATCH = (400, "saml_csrf_cookie_mismatch", "The SAML response arrived in another browser than the one that started the sign-in.");
    // Enterprise SSO (OIDC).
    SSO_CONNECTION_NOT_FOUND = (404, "sso_connection_not_found", "No SSO connection with this connection_id in the organization.");
    INVALID_SSO_DEFAULT_CONNECTION_ID = (400, "invalid_sso_default_connection_id", "The SSO setting names a connection the organization does not have.");
    SSO_CONNECTION_NOT_ACTIVE = (400, "sso_connection_not_active", "The SSO connection is not active: its identity provider settings are incomplete.");
    INVALID_SSO_IDP = (400, "invalid_sso_idp", "The connection's identity provider settings are not valid.");
    INVALID_DISPLAY_NAME = (400, "invalid_display_name", "display_name must be at most 256 characters, without control characters.");
    OIDC_CONNECTION_ISSUER_INVALID_FORMAT = (400, "oidc_connection_issuer_invalid_format", "issuer must be an https URL (http only on localhost).");
    OIDC_CONNECTION_AUTHORIZATION_URL_INVALID_FORMAT = (400, "oidc_connection_authorization_url_invalid_format", "authorization_url must be an https URL (http only on localhost).");
    OIDC_CONNECTION_TOKEN_URL_INVALID_FORMAT = (400, "oidc_connection_token_url_invalid_format", "token_url must be an https URL (http only on localhost).");
    OIDC_CONNECTION_USERINFO_URL_INVALID_FORMAT = (400, "oidc_connection_userinfo_url_invalid_format", "userinfo_url must be an https URL (http only on localhost).");
    OIDC_CONNECTION_JWKS_URL_INVALID_FORMAT = (400, "oidc_connection_jwks_url_invalid_format", "jwks_url must be an https URL (http only on localhost).");
    INVALID_PUBLIC_TOKEN = (401, "invalid_public_token", "The public_token is missing or names no project.");
    MISSING_SSO_CONNECTION_LOCATOR = (400, "missing_sso_connection_locator", "Pass connection_id or organization_id.");
    TOO_MANY_SSO_CONNECTION_LOCATORS = (400, "too_many_sso_connection_locators", "Pass connection_id or organization_id, not both.");
    NO_SSO_CONNECTION_EXISTS_FOR_ORGANIZATION = (400, "no_sso_connection_exists_for_organization", "The organization has no SSO connection.");
    UNSOLICITED_OIDC_RESPONSE = (400, "unsolicited_oidc_response", "This sign-in was not started here, was already finished, or expired; start it again.");
    OIDC_PROVIDER_ERROR = (400, "oidc_provider_error", "The identity provider refused the sign-in.");
    INVALID_OIDC_RESPONSE = (401, "invalid_oidc_response", "The identity provider's answer is incomplete.");
    OIDC_JWKS_UNAVAILABLE = (401, "oidc_jwks_unavailable", "The identity provider's signing keys could not be read.");
    OIDC_CODE_EXCHANGE_FAILED = (401, "oidc_code_exchange_failed", "The identity provider did not exchange the code.");
    INVALID_OIDC_ID_TOKEN = (401, "invalid_oidc_id_token", "The identity provider's ID token was refused.");
    OIDC_INVALID_USERINFO = (401, "oidc_invalid_userinfo", "The identity provider's userinfo answer was refused.");
    SSO_TOKEN_NOT_FOUND = (404, "sso_token_not_found", "The SSO token is invalid, expired or already used.");
    INVALID_CONNECTION_FOR_JIT_PROVISIONING = (403, "invalid_connection_for_jit_provisioning", "The organization does not let this SSO connection provision new members.");
    OIDC_RESPONSE_UNVERIFIED_EMAIL = (400, "oidc_response_unverified_email", "The identity provider has not verified this user's email address.");
    OIDC_RESPONSE_EMAIL_MISSING = (400, "oidc_response_email_missing", "The identity provider sent no email address for this user.");
    // OAuth sign-in (Google, Microsoft).
    INVALID_OAUTH_PROVIDER = (400, "invalid_oauth_provider", "Latch signs in with google or microsoft.");
    OAUTH_CONFIG_NOT_FOUND = (400, "oauth_config_not_found", "OAuth sign-in with this provider is not configured for the project.");
    MISSING_OAUTH_ORGANIZATION_LOCATOR = (400, "missing_oauth_organization_locator", "Pass organization_id or slug.");
    TOO_MANY_OAUTH_ORGANIZATION_LOCATORS = (400, "too_many_oauth_organization_locators", "Pass organization_id or slug, not both.");
    OAUTH_INVALID_STATE = (400, "oauth_invalid_state", "This sign-in was not started here, was already finished, or expired; start it again.");
    OAUTH_AUTH_CODE_ERROR = (401, "oauth_auth_code_error", "The OAuth provider did not exchange the code.");
    OAUTH_FLOW_CALLBACK_ERROR = (401, "oauth_flow_callback_error", "The OAuth provider's answer was refused.");
    OAUTH_UNVERIFIED_EMAIL = (400, "oauth_unverified_email", "The OAuth provider has not verified this user's email address.");
    OAUTH_TOKEN_NOT_FOUND = (404, "oauth_token_not_found", "The OAuth token is invalid, expired or already used.");
    UNABLE_TO_REFRESH_OAUTH_TOKEN = (400, "unable_to_refresh_oauth_token", "The OAuth provider did not refresh the access token.");
}

impl ErrorKind {
    /// The error with the catalogue message alone.
    pub fn err(self) -> CoreError {
        self.build(self.message.into())
    }

    /// The error naming the request field it is about.
    pub fn field(self, field: &str) -> CoreError {
        self.build(self.render(Some(field), None).into())
    }

    /// The error with a detail (a value, an id) inside its message.
    pub fn detail(self, detail: impl std::fmt::Display) -> CoreError {
        self.build(self.render(None, Some(&detail.to_string())).into())
    }

    /// The error naming its field, with a detail.
    pub fn field_detail(self, field: &str, detail: impl std::fmt::Display) -> CoreError {
        self.build(self.render(Some(field), Some(&detail.to_string())).into())
    }

    /// A 429 saying which limit refused it and when to retry.
    pub fn retry_after(self, detail: &str, secs: u64) -> CoreError {
        CoreError::RateLimited {
            fault: self.fault(self.render(None, Some(detail)).into()),
            retry_after_secs: secs,
        }
    }

    /// The message with `field` and `detail` in their places: `field: message (detail).`
    pub fn render(self, field: Option<&str>, detail: Option<&str>) -> String {
        let mut out = String::new();
        if let Some(f) = field {
            out.push_str(f);
            out.push_str(": ");
        }
        match detail {
            Some(d) => {
                let (body, end) = match self.message.strip_suffix('.') {
                    Some(body) => (body, "."),
                    None => (self.message, ""),
                };
                out.push_str(&format!("{body} ({d}){end}"));
            }
            None => out.push_str(self.message),
        }
        out
    }

    pub fn fault(self, message: Cow<'static, str>) -> Fault {
        Fault {
            error_type: self.error_type,
            message,
        }
    }

    fn build(self, message: Cow<'static, str>) -> CoreError {
        let f = self.fault(message);
        match self.status {
            400 => CoreError::Invalid(f),
            401 => CoreError::Unauthorized(f),
            403 => CoreError::Forbidden(f),
            404 => CoreError::NotFound(f),
            409 => CoreError::Conflict(f),
            429 => CoreError::RateLimited {
                fault: f,
                retry_after_secs: 1,
            },
            503 => CoreError::Unavailable(f),
            // Protocol-level entries (405, 413, 500, 501) are sent by the HTTP layer itself,
            // never raised by a use case.
            _ => CoreError::Internal(format!("{} raised outside the HTTP layer", self.error_type)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn each_error_type_has_one_status_and_one_message() {
        let mut by_type: BTreeMap<&str, Vec<ErrorKind>> = BTreeMap::new();
        for k in ALL {
            by_type.entry(k.error_type).or_default().push(*k);
        }
        for (t, kinds) in by_type {
            if CONTEXT_DEPENDENT.contains(&t) {
                assert_eq!(kinds.len(), 2, "{t}: one entry per context");
                assert_ne!(kinds[0].status, kinds[1].status, "{t}: the contexts differ by status");
                continue;
            }
            assert!(
                kinds.windows(2).all(|w| w[0] == w[1]),
                "{t} has several statuses or messages: {kinds:?}"
            );
        }
    }

    #[test]
    fn messages_are_sentences() {
        for k in ALL {
            assert!(k.message.ends_with('.'), "{}: {}", k.error_type, k.message);
            assert!(
                k.error_type
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                k.error_type
            );
        }
    }

    #[test]
    fn field_and_detail_have_one_place_each() {
        assert_eq!(INVALID_ARGUMENT.render(Some("name"), None), "name: Invalid argument.");
        assert_eq!(
            INVALID_ARGUMENT.render(Some("name"), Some("at most 1024 characters")),
            "name: Invalid argument (at most 1024 characters)."
        );
        assert_eq!(
            INVALID_LOCALE.render(None, Some("xx")),
            "The locale is not supported (xx)."
        );
    }

    /// Errors are built from the catalogue only: no `error_type` literal or `Fault` outside it.
    #[test]
    fn no_error_type_is_spelled_outside_the_catalogue() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut offenders = vec![];
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if path.file_name().is_some_and(|n| n != "target" && n != "tests") {
                        stack.push(path);
                    }
                    continue;
                }
                let text = match path.extension() {
                    Some(e) if e == "rs" => std::fs::read_to_string(&path).unwrap(),
                    _ => continue,
                };
                if path.ends_with("error/catalogue.rs") {
                    continue;
                }
                for needle in [
                    "error_type: \"",
                    "::invalid(\"",
                    "::not_found(\"",
                    "::unauthorized(\"",
                    "::forbidden(\"",
                ] {
                    if text.contains(needle) {
                        offenders.push(format!("{}: {needle}", path.display()));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "build errors from error::catalogue: {offenders:#?}"
        );
    }
}
