//! TLS — transport.

pub mod tls002_redirect_loop;
