//! DEP — dependencies.

pub mod dep001_unpinned_dependencies;
pub mod dep002_vulnerable_dependencies;
pub mod installs;

pub use installs::pinned_version;
