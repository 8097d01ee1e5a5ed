pub mod audit;
pub mod checklist;
pub mod explain;
pub mod scan;
pub mod session;
pub mod shield;
