//! Work over a whole fleet of tenant backups: where the tenants are ([`sources`]), what a
//! fleet-wide command runs over ([`subjects`]), and the upgrade check ([`upgrade`], with its
//! JUnit report in [`junit`]). Sits above `rerun/`; the CLI and the app call it.

pub mod index;
pub mod job;
pub mod junit;
pub mod scan;
pub mod sources;
pub mod subjects;
pub mod upgrade;
