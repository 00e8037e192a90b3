//! The sources panel: the demo, remembered sources, and forms to add an S3 prefix or a folder.

use crate::fleet::sources::SourceConfig;
use crate::ui::app::App;
use crate::ui::command::Command;
use crate::ui::dialogs::DialogPurpose;

/// The "add a source" forms (kept between frames; never saved: no secrets ever typed here).
#[derive(Debug, Clone, Default)]
pub struct SourceForms {
    pub s3_url: String,
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_path_style: bool,
    pub s3_profile: String,
    pub folder: String,
}

impl SourceForms {
    /// The S3 source the form describes.
    pub fn s3_source(&self) -> Option<SourceConfig> {
        let url = self.s3_url.trim();
        let url = if url.starts_with("s3://") {
            url.to_owned()
        } else if url.is_empty() {
            return None;
        } else {
            format!("s3://{url}")
        };
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Some(SourceConfig::S3 {
            url,
            endpoint: opt(&self.s3_endpoint),
            region: opt(&self.s3_region),
            path_style: self.s3_path_style,
            profile: opt(&self.s3_profile),
        })
    }
}

pub fn ui(app: &mut App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    super::heading(ui, "Sources");
    let mut all = vec![app.demo_source()];
    all.extend(app.settings.sources.iter().cloned());
    for source in all {
        ui.horizontal(|ui| {
            let selected = app.source == source;
            let r = ui.selectable_label(selected, source.label()).on_hover_text(source.kind());
            if r.clicked() && !selected {
                commands.push(Command::SelectSource(source.clone()));
            }
            if !matches!(source, SourceConfig::Demo { .. })
                && ui.small_button("Remove").on_hover_text("Forget this source").clicked()
            {
                commands.push(Command::RemoveSource(source.clone()));
            }
        });
    }
    if ui.button("Refresh").clicked() {
        commands.push(Command::Refresh);
    }
    ui.separator();
    egui::CollapsingHeader::new("Add S3 source").default_open(false).show(ui, |ui| {
        let f = &mut app.forms;
        egui::Grid::new("s3-form").num_columns(2).show(ui, |ui| {
            super::labelled_field(ui, "Bucket/prefix", &mut f.s3_url, "s3-url", 140.0);
            ui.end_row();
            super::labelled_field(ui, "Endpoint", &mut f.s3_endpoint, "s3-endpoint", 140.0);
            ui.end_row();
            super::labelled_field(ui, "Region", &mut f.s3_region, "s3-region", 140.0);
            ui.end_row();
            super::labelled_field(ui, "Profile", &mut f.s3_profile, "s3-profile", 140.0);
            ui.end_row();
        });
        ui.checkbox(&mut f.s3_path_style, "Path-style addressing");
        ui.weak("Credentials come from the environment (AWS_* or LITESTREAM_*) or the profile; they are never saved.");
        if ui.add_enabled(f.s3_source().is_some(), egui::Button::new("Add S3 source")).clicked()
            && let Some(s) = f.s3_source()
        {
            commands.push(Command::AddSource(s));
        }
    });
    egui::CollapsingHeader::new("Add folder or file").default_open(false).show(ui, |ui| {
        ui.horizontal(|ui| {
            super::labelled_field(ui, "Path", &mut app.forms.folder, "folder-path", 140.0);
        });
        let path = app.forms.folder.trim().to_owned();
        if ui.add_enabled(!path.is_empty(), egui::Button::new("Add path")).clicked() {
            let p = std::path::PathBuf::from(&path);
            if crate::obelisk::is_sqlite_file(&p) {
                commands.push(Command::OpenFile(p));
            } else {
                commands.push(Command::AddSource(SourceConfig::from_argument(&path)));
            }
        }
        ui.horizontal(|ui| {
            if ui.button("Browse folder…").clicked() {
                commands.push(Command::Dialog(DialogPurpose::AddFolder));
            }
            if ui.button("Import litestream.yml…").clicked() {
                commands.push(Command::Dialog(DialogPurpose::ImportConfig));
            }
        });
    });
}
