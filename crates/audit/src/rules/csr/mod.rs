//! CSR — cross-site request forgery.

mod bookkeeping;
pub mod csr001_no_csrf;
mod get_writes;
mod hook_check;
mod orm_writes;
