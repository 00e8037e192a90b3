//! The tenants table on the three v0.5 fleet tenants (a local folder source): clicking a header
//! sorts the rows (a second click reverses), the Age header sorts by how far behind each backup
//! is, and typing into "Filter tenants" narrows the visible rows.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use chronoscope::ui::App;
use chronoscope::ui::model::tenants::TenantSort;

use super::kit::{harness, options, wait_for};
use crate::restore_fixtures::fixtures;

const TENANTS: [&str; 3] = ["tenant-alpha", "tenant-beta", "tenant-zeta"];

/// Tenant names in the model's display order.
fn view(h: &Harness<'_, App>) -> Vec<String> {
    let t = &h.state().tenants;
    t.view().iter().map(|&i| t.row(i).unwrap().name.clone()).collect()
}

/// Tenant names as drawn, top to bottom (only the labels on screen).
fn visible(h: &Harness<'_, App>) -> Vec<String> {
    let mut rows: Vec<(f32, String)> =
        TENANTS.iter().filter_map(|name| h.query_by_label(name).map(|n| (n.rect().min.y, name.to_string()))).collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    rows.into_iter().map(|(_, n)| n).collect()
}

fn click(h: &mut Harness<'_, App>, label: &str) {
    h.get_by_label(label).click();
    h.run_steps(3);
}

#[test]
fn sort_headers_and_the_filter_change_the_visible_rows() {
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.open = Some(fixtures().join("fleet/v0.5").display().to_string());
    let mut h = harness(opts);
    wait_for(&mut h, "tenants", |a| a.tenants.loading.is_none() && a.tenants.rows().len() == 3);
    assert_eq!(h.state().tenants.error, None);
    assert_eq!(visible(&h), TENANTS);
    h.get_by_label("3 of 3");

    // Objects, then Size: 2.1 MB (alpha) < 4.9 MB (beta) < 9.0 MB (zeta); a second click reverses.
    click(&mut h, "Objects");
    assert_eq!(h.state().tenants.sort(), Some((TenantSort::Objects, true)));
    assert_eq!(visible(&h), ["tenant-zeta", "tenant-alpha", "tenant-beta"], "32, 70, 96 objects");
    click(&mut h, "Size");
    assert_eq!(h.state().tenants.sort(), Some((TenantSort::Size, true)));
    assert_eq!(visible(&h), ["tenant-alpha", "tenant-beta", "tenant-zeta"]);
    h.get_by_label("Size ⬆");
    click(&mut h, "Size ⬆");
    assert_eq!(h.state().tenants.sort(), Some((TenantSort::Size, false)));
    assert_eq!(visible(&h), ["tenant-zeta", "tenant-beta", "tenant-alpha"]);
    h.get_by_label("Size ⬇");

    // Age: the newest backup (zeta, 10:06) is the least behind; a second click: the oldest first.
    click(&mut h, "Age");
    assert_eq!(h.state().tenants.sort(), Some((TenantSort::Age, true)));
    h.get_by_label("Age ⬆");
    h.get_by_label("Size");
    assert_eq!(visible(&h), ["tenant-zeta", "tenant-beta", "tenant-alpha"]);
    click(&mut h, "Age ⬆");
    assert_eq!(visible(&h), ["tenant-alpha", "tenant-beta", "tenant-zeta"]);
    assert_eq!(view(&h), visible(&h));

    // The filter keeps the sort: "eta" matches beta and zeta.
    h.get_by_label("Filter tenants").focus();
    h.get_by_label("Filter tenants").type_text("eta");
    h.run_steps(3);
    assert_eq!(h.state().tenants.filter(), "eta");
    assert_eq!(visible(&h), ["tenant-beta", "tenant-zeta"]);
    assert_eq!(view(&h), visible(&h));
    h.get_by_label("2 of 3");
    h.get_by_label("Filter tenants").focus();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Filter tenants").type_text("zeta");
    h.run_steps(3);
    assert_eq!(visible(&h), ["tenant-zeta"]);
    h.get_by_label("1 of 3");
    h.get_by_label("Filter tenants").type_text("x");
    h.run_steps(3);
    assert_eq!(visible(&h), Vec::<String>::new());
    h.get_by_label("0 of 3");
}
