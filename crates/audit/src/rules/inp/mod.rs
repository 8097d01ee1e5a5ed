//! INP — input handling: JSON errors, schemas, body size, uploads, paths,
//! deserialisation.

pub mod inp001_json_errors_as_html;
pub mod inp002_no_schema;
pub mod inp003_no_max_content_length;
pub mod inp004_unsafe_upload;
pub mod inp005_path_traversal;
pub mod inp006_unsafe_deserialization;
