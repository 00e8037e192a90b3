//! The tenants of the current source: rows as discovered, and the filtered, sorted view.

use chrono::{DateTime, Utc};

use crate::fleet::sources::TenantRow;
use crate::ui::tasks::Running;

/// Columns the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantSort {
    Name,
    Format,
    Latest,
    /// How far behind the backup may be: now − latest restore point (unknown counts as oldest).
    Age,
    Size,
    Objects,
    Problems,
}

/// Tenants of one source.
#[derive(Default)]
pub struct TenantsModel {
    rows: Vec<TenantRow>,
    filter: String,
    sort: Option<(TenantSort, bool)>,
    /// Indexes into `rows`, filtered and sorted (rebuilt when rows, filter or sort change).
    view: Vec<usize>,
    /// Index into `rows`.
    pub selected: Option<usize>,
    /// Discovery in progress.
    pub loading: Option<Running>,
    /// What discovery is doing (`listing`, `12 replicas found`).
    pub progress: String,
    pub error: Option<String>,
}

impl TenantsModel {
    /// Replace the rows (a discovery finished).
    pub fn set_rows(&mut self, rows: Vec<TenantRow>) {
        self.rows = rows;
        self.selected = None;
        self.rebuild();
    }

    /// Forget everything (another source is being listed).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.view.clear();
        self.selected = None;
        self.error = None;
        self.progress.clear();
    }

    pub fn rows(&self) -> &[TenantRow] {
        &self.rows
    }

    pub fn row(&self, index: usize) -> Option<&TenantRow> {
        self.rows.get(index)
    }

    /// Row indexes in display order.
    pub fn view(&self) -> &[usize] {
        &self.view
    }

    /// The index of the tenant named `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.name == name)
    }

    pub fn selected_row(&self) -> Option<&TenantRow> {
        self.selected.and_then(|i| self.rows.get(i))
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    pub fn set_filter(&mut self, filter: &str) {
        if filter != self.filter {
            self.filter = filter.to_owned();
            self.rebuild();
        }
    }

    pub fn sort(&self) -> Option<(TenantSort, bool)> {
        self.sort
    }

    /// Sort by `key`; a second click on the same column reverses the order.
    pub fn sort_by(&mut self, key: TenantSort) {
        self.sort = match self.sort {
            Some((k, asc)) if k == key => Some((key, !asc)),
            _ => Some((key, true)),
        };
        self.rebuild();
    }

    fn rebuild(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut view: Vec<usize> = (0..self.rows.len())
            .filter(|&i| {
                let r = &self.rows[i];
                super::matches(&r.name, &needle) || super::matches(&r.tenant.path, &needle)
            })
            .collect();
        if let Some((key, asc)) = self.sort {
            let rows = &self.rows;
            view.sort_by(|&a, &b| {
                let (a, b) = (&rows[a], &rows[b]);
                let o = match key {
                    TenantSort::Name => a.name.cmp(&b.name),
                    TenantSort::Format => format!("{:?}", a.tenant.format).cmp(&format!("{:?}", b.tenant.format)),
                    TenantSort::Latest => a.tenant.latest.cmp(&b.tenant.latest),
                    TenantSort::Age => b.tenant.latest.cmp(&a.tenant.latest),
                    TenantSort::Size => a.tenant.bytes.cmp(&b.tenant.bytes),
                    TenantSort::Objects => a.tenant.objects.cmp(&b.tenant.objects),
                    TenantSort::Problems => a.tenant.problems.len().cmp(&b.tenant.problems.len()),
                };
                if asc { o } else { o.reverse() }
            });
        }
        self.view = view;
    }
}

/// `v0.5`, `v0.3`, `mixed (v0.5 newer)`.
pub fn format_name(f: &crate::litestream::catalog::Format) -> String {
    use crate::litestream::catalog::{Format, NewerFormat};
    match f {
        Format::V5 => "v0.5".into(),
        Format::V3 => "v0.3".into(),
        Format::Mixed { newer: NewerFormat::V5 } => "mixed (v0.5 newer)".into(),
        Format::Mixed { newer: NewerFormat::V3 } => "mixed (v0.3 newer)".into(),
    }
}

/// How long ago `t` was, relative to `now` (`3m`, `2h`, `5d`).
pub fn age(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    t.map(|t| crate::format::age(now - t)).unwrap_or_else(|| "-".into())
}
