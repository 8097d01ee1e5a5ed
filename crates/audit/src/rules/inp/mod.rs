//! INP — input.

pub mod inp001_json_errors_as_html;
pub mod inp003_no_max_content_length;
