//! Checks on the values clients send, each failing with a 422 that names the field and the problem.

use crate::error::ApiError;

/// A normalised (trimmed, lower-case) email address.
pub fn email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let valid = (3..=254).contains(&email.len())
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(ApiError::Invalid(format!(
            "email {:?} is not an email address (name@domain, at most 254 characters)",
            truncate(raw)
        )))
    }
}

/// A password long enough to resist guessing and short enough to hash cheaply.
pub fn password(raw: &str) -> Result<(), ApiError> {
    let chars = raw.chars().count();
    if !(8..=1024).contains(&chars) {
        return Err(ApiError::Invalid(format!(
            "password must be 8 to 1024 characters long (it has {chars})"
        )));
    }
    if raw.contains('\0') {
        return Err(ApiError::Invalid(
            "password must not contain a NUL character".to_owned(),
        ));
    }
    Ok(())
}

/// A display name (device name): 1–200 characters, no control characters; trimmed.
pub fn name(field: &str, raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if !(1..=200).contains(&chars) || name.chars().any(char::is_control) {
        return Err(ApiError::Invalid(format!(
            "{field} must be 1 to 200 characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

/// The protocol version a request speaks must be this server's.
pub fn protocol_version(version: u32) -> Result<(), ApiError> {
    if version == auren_protocol::PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(ApiError::UnsupportedVersion(version))
    }
}

fn truncate(raw: &str) -> String {
    raw.chars().take(60).collect()
}
