//! Integration tests: one test binary (`cargo test --test it`), one module per area.
mod support;

mod cache_refresh;
mod corruption;
mod db_cmds;
mod fleet_index;
mod interop_v3;
mod interop_v5;
mod interrupt;
mod options;
mod real_window;
mod replay;
mod rerun;
mod restore_fixtures;
mod s3_faults;
mod s3_fixtures;
mod s3_fleet;
mod ui;
mod upgrade_check;
