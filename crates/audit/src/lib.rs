//! flaskguard audit: static analysis of Flask and FastAPI projects.

pub mod discover;
pub mod python;
pub mod settings;
pub mod source;
pub mod deploy;
