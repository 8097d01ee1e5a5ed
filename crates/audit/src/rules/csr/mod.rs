//! CSR — cross-site request forgery.

pub mod csr001_no_csrf;
mod get_writes;
mod hook_check;
