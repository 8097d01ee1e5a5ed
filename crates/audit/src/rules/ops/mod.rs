//! OPS — deployment.

pub mod ops001_container_runs_as_root;
pub mod ops002_dev_server_all_interfaces;
