//! The desktop app driven headlessly with egui_kittest: the real `App` on the bundled demo, on
//! fixture replicas in a real S3 server (moto), and PNG snapshots of the main screens.

mod breadcrumb;
mod demo_flow;
mod executions_filters;
mod findings;
mod fleet_view;
mod inspector;
pub mod kit;
mod open_file;
mod restore_cancel;
mod restore_failure;
mod restore_points;
mod s3_source;
mod screenshots;
mod source_pane;
mod tenants_table;
mod upgrade_check;
mod v3_restore;
