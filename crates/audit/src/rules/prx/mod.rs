//! PRX — proxies and hosts.

pub mod prx001_no_proxy_fix;
