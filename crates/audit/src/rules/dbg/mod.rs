//! DBG — debug mode and debug tooling.

pub mod dbg001_debug_in_deploy;
pub mod dbg001_debug_mode;
pub mod dbg002_debug_toolbar;
pub mod dbg003_dev_server;
pub mod dbg004_testing_flags;
