//! RL — rate limiting.

pub mod custom_limiter;
pub mod rl001_no_rate_limiting;
pub mod rl002_memory_storage;
pub mod rl003_auth_route_limits;
pub mod rl004_mutation_route_limits;
pub mod rl005_proxy_address_key;
pub mod route_limits;
pub mod storage;
