//! Password strength: zxcvbn (valid at score >= 3, the email's parts counted as user input) or
//! LUDS (minimum length in characters and a number of character classes), plus an offline breach
//! check against the common-password list zxcvbn ships (passwords seen in real leaks).

use serde::{Deserialize, Serialize};
use zxcvbn::matching::patterns::MatchPattern;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "strength_policy")]
pub enum Strength {
    Zxcvbn,
    Luds { min_length: usize, min_complexity: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    pub strength: Strength,
    pub breach_detection_on_create: bool,
    pub breach_detection_on_authenticate: bool,
    /// Refuse logins whose (correct) password no longer meets the policy, forcing a reset.
    pub validate_on_authenticate: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            strength: Strength::Zxcvbn,
            breach_detection_on_create: true,
            breach_detection_on_authenticate: false,
            validate_on_authenticate: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LudsFeedback {
    pub has_lower_case: bool,
    pub has_upper_case: bool,
    pub has_digit: bool,
    pub has_symbol: bool,
    pub missing_complexity: i64,
    pub missing_characters: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZxcvbnFeedback {
    pub warning: String,
    pub suggestions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrengthReport {
    pub valid_password: bool,
    pub score: u8,
    pub breached_password: bool,
    pub strength_policy: &'static str,
    pub breach_detection_on_create: bool,
    pub luds_feedback: Option<LudsFeedback>,
    pub zxcvbn_feedback: Option<ZxcvbnFeedback>,
}

/// The email's local part and domain labels, split into words.
fn user_inputs(email: Option<&str>) -> Vec<String> {
    let Some(email) = email else { return vec![] };
    let email = email.to_lowercase();
    let mut out = vec![email.clone()];
    if let Some((local, domain)) = email.split_once('@') {
        out.push(local.to_string());
        out.push(domain.to_string());
    }
    out.extend(
        email
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3)
            .map(str::to_string),
    );
    out
}

/// Whether the whole password is one of the leaked passwords zxcvbn knows.
fn is_breached(entropy: &zxcvbn::Entropy, password: &str) -> bool {
    let len = password.chars().count();
    entropy.sequence().iter().any(|m| {
        m.i == 0
            && m.j + 1 == len
            && matches!(&m.pattern, MatchPattern::Dictionary(d) if d.dictionary_name == Default::default() && !d.reversed)
    })
}

fn luds(password: &str, min_length: usize, min_complexity: usize) -> LudsFeedback {
    let has_lower_case = password.chars().any(char::is_lowercase);
    let has_upper_case = password.chars().any(char::is_uppercase);
    let has_digit = password.chars().any(|c| c.is_numeric());
    let has_symbol = password.chars().any(|c| !c.is_alphanumeric());
    let classes = [has_lower_case, has_upper_case, has_digit, has_symbol]
        .iter()
        .filter(|b| **b)
        .count();
    LudsFeedback {
        has_lower_case,
        has_upper_case,
        has_digit,
        has_symbol,
        missing_complexity: min_complexity.saturating_sub(classes) as i64,
        missing_characters: min_length.saturating_sub(password.chars().count()) as i64,
    }
}

/// Measures `password` under `policy`. CPU-bound (zxcvbn): fine for one request, keep off hot loops.
pub fn check(policy: &PasswordPolicy, password: &str, email: Option<&str>) -> StrengthReport {
    let inputs = user_inputs(email);
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let entropy = zxcvbn::zxcvbn(password, &refs);
    let score: u8 = entropy.score().into();
    let breached = policy.breach_detection_on_create && !password.is_empty() && is_breached(&entropy, password);
    let (passes, strength_policy, luds_feedback, zxcvbn_feedback) = match policy.strength {
        Strength::Zxcvbn => {
            let feedback = entropy.feedback();
            let z = ZxcvbnFeedback {
                warning: feedback
                    .and_then(|f| f.warning())
                    .map(|w| w.to_string())
                    .unwrap_or_default(),
                suggestions: feedback
                    .map(|f| f.suggestions().iter().map(|s| s.to_string()).collect())
                    .unwrap_or_default(),
            };
            (score >= 3, "zxcvbn", None, Some(z))
        }
        Strength::Luds {
            min_length,
            min_complexity,
        } => {
            let f = luds(password, min_length, min_complexity);
            (
                f.missing_characters == 0 && f.missing_complexity == 0,
                "luds",
                Some(f),
                None,
            )
        }
    };
    StrengthReport {
        valid_password: passes && !breached,
        score,
        breached_password: breached,
        strength_policy,
        breach_detection_on_create: policy.breach_detection_on_create,
        luds_feedback,
        zxcvbn_feedback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zxcvbn_policy() {
        let p = PasswordPolicy::default();
        let weak = check(&p, "password", None);
        assert!(!weak.valid_password);
        assert!(weak.breached_password);
        assert!(!weak.zxcvbn_feedback.unwrap().warning.is_empty());
        let strong = check(&p, "correct horse battery staple 42!", None);
        assert!(strong.valid_password, "{strong:?}");
        assert!(strong.score >= 3);
        // The email's parts count as user input: a password made of them is weak.
        let own = check(&p, "ronaldo.mcfarland", Some("ronaldo.mcfarland@acme.test"));
        assert!(!own.valid_password, "{own:?}");
    }

    #[test]
    fn luds_counts_characters_not_bytes() {
        let p = PasswordPolicy {
            strength: Strength::Luds {
                min_length: 8,
                min_complexity: 3,
            },
            breach_detection_on_create: false,
            ..Default::default()
        };
        let r = check(&p, "ñandú😀A1", None);
        let f = r.luds_feedback.unwrap();
        assert!(f.has_lower_case && f.has_upper_case && f.has_digit && f.has_symbol);
        assert_eq!(f.missing_characters, 0, "8 characters, more bytes");
        assert!(r.valid_password);
        let short = check(&p, "aB1", None).luds_feedback.unwrap();
        assert_eq!(short.missing_characters, 5);
        assert_eq!(short.missing_complexity, 0);
        let plain = check(&p, "abcdefghij", None).luds_feedback.unwrap();
        assert_eq!(plain.missing_complexity, 2);
    }
}
