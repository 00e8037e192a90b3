//! The breadcrumb `tenant › restore point › execution › … › step` on a restored demo tenant:
//! *Copy* (the button and the command) puts the line on the clipboard through egui's platform
//! output and says so in the status bar; each segment goes back (to the parent execution, to the
//! executions, to the tenants).

use chronoscope::ui::command::Command;
use chronoscope::ui::{App, Screen};
use egui::OutputCommand;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::kit::{harness, options, select_tenant, wait_for};

const PARENT: &str = "E_01M86FEWCGVEWKA4MWX3D41J75";
const CHILD: &str = "E_01M86FEWCGVEWKA4MWX3D41J75.o:1-serial_1";

/// Texts put on the clipboard by the last frame.
fn copied(h: &Harness<'_, App>) -> Vec<String> {
    h.output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            OutputCommand::CopyText(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn breadcrumb_copies_and_each_segment_goes_back() {
    let cache = tempfile::tempdir().unwrap();
    let mut h = harness(options(cache.path()));
    select_tenant(&mut h, "tenant-alpha");
    h.get_by_label("Restore latest").click();
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    h.get_by_label(PARENT).click();
    wait_for(&mut h, "the replay", |a| a.timetravel.is_some());
    let child: chronoscope::obelisk::ExecutionId = CHILD.parse().unwrap();
    h.state_mut().push(Command::StepInto(child));
    h.run_steps(2);
    h.key_press(egui::Key::End);
    h.run_steps(2);
    let len = h.state().timetravel.as_ref().unwrap().len();
    let line = format!("tenant-alpha › latest › {PARENT} › {CHILD} › step {}/{}", len - 1, len - 1);
    assert_eq!(h.state().breadcrumb_text(), line);

    // The Copy button: the line goes to the clipboard in the frame of the click.
    h.get_by_label("Copy").click();
    h.step();
    assert_eq!(copied(&h), std::slice::from_ref(&line));
    let message = h.state().message.clone().unwrap();
    assert!(!message.error && message.text == format!("copied: {line}"), "{message:?}");
    h.run_steps(2);
    h.get_by_label(&format!("copied: {line}"));
    assert_eq!(copied(&h), Vec::<String>::new(), "copied once");

    // The command (as a shortcut or the menu would send it).
    h.state_mut().push(Command::DismissMessage);
    h.run_steps(2);
    assert!(h.query_by_label_contains("copied:").is_none());
    h.state_mut().push(Command::CopyBreadcrumb);
    h.step();
    assert_eq!(copied(&h), std::slice::from_ref(&line));

    // The parent's segment steps out of the child.
    h.get_by_role_and_label(Role::Link, PARENT).click();
    h.run_steps(3);
    let tt = h.state().timetravel.as_ref().unwrap();
    assert_eq!((tt.stack().len(), tt.current().id.to_string()), (1, PARENT.to_owned()));
    assert_eq!(h.state().screen, Screen::TimeTravel);
    assert!(h.state().breadcrumb_text().starts_with(&format!("tenant-alpha › latest › {PARENT} › step ")));

    // The restore point's segment goes back to the executions, the tenant's to the tenants.
    h.get_by_role_and_label(Role::Link, "latest").click();
    h.run_steps(3);
    assert_eq!(h.state().screen, Screen::Executions);
    assert_eq!(h.state().breadcrumb_text(), "tenant-alpha › latest");
    h.get_by_label("28 shown of 61");
    h.get_by_role_and_label(Role::Link, "tenant-alpha").click();
    h.run_steps(3);
    assert_eq!(h.state().screen, Screen::Fleet);
    h.get_by_label("Restore points of tenant-alpha");
    // The execution is still open: the Time travel tab goes back to it.
    assert!(h.state().timetravel.is_some());
}
