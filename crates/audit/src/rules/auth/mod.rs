//! AUTH — authentication: password storage, JWTs, unauthenticated routes.

pub mod auth001_weak_password_hash;
pub mod auth002_jwt;
pub mod auth003_unauthenticated_mutation;
mod password;
