//! INP — input handling: schemas, uploads, paths, deserialisation.

pub mod inp002_no_schema;
pub mod inp004_unsafe_upload;
pub mod inp005_path_traversal;
pub mod inp006_unsafe_deserialization;
