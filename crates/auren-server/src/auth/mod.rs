//! Accounts, devices and coach access: password hashing ([`password`]), access and refresh tokens
//! ([`tokens`]) and their revocation ([`revocation`]), the handlers ([`handlers`], [`coach`]) and the checks on what clients send ([`validate`]).

pub mod coach;
pub mod handlers;
pub mod password;
pub mod revocation;
pub mod tokens;
pub mod validate;
