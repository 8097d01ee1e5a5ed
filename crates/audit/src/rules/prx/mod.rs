//! PRX — proxies and hosts.

pub mod forwarded;
pub mod prx001_no_proxy_fix;
pub mod prx002_host_not_restricted;
pub mod versions;
