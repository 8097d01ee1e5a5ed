pub mod checklist;
pub mod explain;
