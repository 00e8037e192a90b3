//! Commands: what views ask for. Views push them while drawing; the app applies them after the
//! frame is drawn (and from keyboard shortcuts in `logic`).

use std::path::PathBuf;

use crate::litestream::plan::RestoreTarget;
use crate::obelisk::ExecutionId;

use super::app::Screen;
use super::dialogs::DialogPurpose;
use super::theme::ThemeChoice;
use crate::fleet::sources::SourceConfig;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Show a source's tenants (discovered in the background).
    SelectSource(SourceConfig),
    /// Remember a source and show it.
    AddSource(SourceConfig),
    RemoveSource(SourceConfig),
    /// Discover the current source's tenants again.
    Refresh,
    /// Select a tenant (by index into the tenant rows) and load its restore points.
    SelectTenant(usize),
    /// Restore the selected tenant at this point into the cache, then open it.
    Restore(RestoreTarget),
    CancelRestore,
    /// Open a SQLite database file (or an export JSON) directly.
    OpenFile(PathBuf),
    /// Open an execution of the open database in time travel.
    OpenExecution(ExecutionId),
    Show(Screen),
    /// Move the cursor of the current execution to this step.
    SetStep(usize),
    /// Move by this many visible steps (negative: back).
    StepBy(isize),
    StepFirst,
    StepLast,
    /// Step into a child (or scheduled) execution of the current one.
    StepInto(ExecutionId),
    /// Step into the child whose request, result or receipt is at the cursor (Enter).
    StepIntoCursor,
    /// Back to the parent, at the same moment.
    StepOut,
    /// Back out to the `depth`-th execution of the breadcrumb (0: the root).
    StepOutTo(usize),
    /// Stop the running re-execution.
    CancelRerun,
    /// Re-execute the open tree again (e.g. after a cancel).
    Rerun,
    /// Show the Fleet screen of the current source (its index).
    ShowFleet,
    /// Scan every tenant of the source into the fleet index.
    ScanFleet,
    CancelFleetScan,
    /// Run the Fleet screen's search.
    SearchFleet,
    /// Open an indexed execution of `tenant` (restored at `database`) in time travel.
    OpenIndexed {
        tenant: String,
        database: PathBuf,
        execution: ExecutionId,
    },
    /// Stop the running upgrade check.
    CancelUpgradeCheck,
    /// Open execution `execution` of the upgrade check's tenant `tenant` in time travel.
    OpenChecked {
        tenant: usize,
        execution: usize,
    },
    /// Show this line in the source pane until the cursor moves (a trap frame, a log line).
    ShowSource(crate::rerun::SourceLine),
    /// Focus the filter field of the current screen.
    FocusFilter,
    CopyBreadcrumb,
    /// Ask for a path, then do what the purpose says.
    Dialog(DialogPurpose),
    SetTheme(ThemeChoice),
    DismissMessage,
}
