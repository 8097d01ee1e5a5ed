//! CSR — cross-site request forgery.

pub mod csr001_no_csrf;
mod hook_check;
