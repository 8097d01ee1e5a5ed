pub mod checklist;
pub mod explain;
pub mod shield;
