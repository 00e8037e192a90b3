//! JSON values (params, results, persisted values) as collapsible trees.

use serde_json::Value;

/// Draw `value` under `name`; objects and arrays fold, scalars show inline.
pub fn ui(ui: &mut egui::Ui, name: &str, value: &Value, id: egui::Id) {
    node(ui, name, value, id, 0);
}

fn node(ui: &mut egui::Ui, name: &str, value: &Value, id: egui::Id, depth: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            egui::CollapsingHeader::new(format!("{name}: {{{} fields}}", map.len()))
                .id_salt(id)
                .default_open(depth < 2)
                .show(ui, |ui| {
                    for (k, v) in map {
                        node(ui, k, v, id.with(k), depth + 1);
                    }
                });
        }
        Value::Array(items) if !items.is_empty() => {
            egui::CollapsingHeader::new(format!("{name}: [{} items]", items.len()))
                .id_salt(id)
                .default_open(depth < 2 && items.len() <= 20)
                .show(ui, |ui| {
                    for (i, v) in items.iter().enumerate() {
                        node(ui, &i.to_string(), v, id.with(i), depth + 1);
                    }
                });
        }
        other => {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("{name}:"));
                ui.monospace(other.to_string());
            });
        }
    }
}
