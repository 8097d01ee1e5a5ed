//! Gathers what each linked engine implements into one coverage map. Each engine
//! derives its list from its own registry of rules, checks or layers.

use checklist::Coverage;

pub fn gather() -> anyhow::Result<Coverage> {
    #[allow(unused_mut)]
    let mut coverage = Coverage::new();
    coverage.register(audit::implementations())?;
    coverage.register(scan::implementations())?;
    coverage.register(shield::implementations())?;
    Ok(coverage)
}
