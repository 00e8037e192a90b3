//! Deployments (`t_deployment`), their components (`t_deployment_component`) and component
//! metadata (`t_component_metadata`: exported/imported functions with parameter names and WIT
//! types, for rendering the untyped `params` of executions).

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use super::component::{ComponentType, ContentDigest};
use super::db::ObeliskDb;
use super::error::ObeliskError;
use super::ids::{DeploymentId, Ffqn};

string_enum! {
    /// Deployment status; at most one is active and one enqueued.
    pub enum DeploymentStatus {
        Inactive => "inactive",
        Enqueued => "enqueued",
        Active => "active",
    }
}

/// A deployment's configuration text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "format", content = "text", rename_all = "snake_case")]
pub enum DeploymentConfig {
    /// Canonical JSON (`config_json`, before 0.39.3).
    Json(String),
    /// The verbatim `deployment.toml` (`deployment_toml`, 0.39.3+).
    Toml(String),
}

/// One deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    pub id: DeploymentId,
    pub created_at: DateTime<Utc>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub status: DeploymentStatus,
    pub config: DeploymentConfig,
    pub obelisk_version: String,
    /// `server` (from `server run -d`) or `cli`.
    pub created_by: Option<String>,
    /// 0.39.3+.
    pub description: Option<String>,
    /// 0.39.3+: `sha256:...` of the deployment.
    pub digest: Option<String>,
}

/// A component of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentComponent {
    pub deployment_id: DeploymentId,
    pub name: String,
    pub component_type: ComponentType,
    pub digest: ContentDigest,
}

/// A parameter of a function: name and WIT type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterType {
    pub name: String,
    pub wit_type: String,
}

/// A function a component exports or imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionMetadata {
    pub ffqn: Ffqn,
    #[serde(default)]
    pub parameter_types: Vec<ParameterType>,
    /// WIT return type, e.g. `result<u32, string>`.
    #[serde(default)]
    pub return_type: Option<String>,
    /// Generated extension kind (`submit`, `await_next`, `get`, `schedule`, `stub`), `None` for the function itself.
    #[serde(default)]
    pub extension: Option<String>,
    #[serde(default)]
    pub submittable: bool,
}

string_enum! {
    /// Where a component's WIT text came from (`wit_origin`: text before 0.41.1, 1/2/3 after).
    pub enum WitOrigin {
        Wasm => "wasm",
        Synthesized => "synthesized",
        Authored => "authored",
    }
}

/// Metadata of one component digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentMetadata {
    pub digest: ContentDigest,
    pub exports: Vec<FunctionMetadata>,
    pub imports: Vec<FunctionMetadata>,
    pub wit: String,
    pub wit_origin: WitOrigin,
}

impl ComponentMetadata {
    /// The exported function (to name and type an execution's params and return value).
    pub fn export(&self, ffqn: &Ffqn) -> Option<&FunctionMetadata> {
        self.exports.iter().find(|f| &f.ffqn == ffqn)
    }
}

impl ObeliskDb {
    /// All deployments, oldest first.
    pub fn deployments(&self) -> Result<Vec<Deployment>, ObeliskError> {
        let s = self.schema();
        let (config_column, toml) = if s.has_column("t_deployment", "deployment_toml") {
            ("d.deployment_toml", true)
        } else {
            ("d.config_json", false)
        };
        let sql = format!(
            "SELECT d.deployment_id, d.created_at, d.last_active_at, d.status, {config_column}, d.obelisk_version,
                    d.created_by, {description}, {digest}
             FROM t_deployment d ORDER BY d.created_at, d.deployment_id",
            description = s.column_or_null("t_deployment", "d", "description"),
            digest = s.column_or_null("t_deployment", "d", "digest"),
        );
        type Row =
            (String, String, Option<String>, String, String, String, Option<String>, Option<String>, Option<String>);
        let rows: Vec<Row> = self.query(&sql, [], "reading t_deployment", |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
        })?;
        rows.into_iter()
            .map(
                |(id, created_at, last_active_at, status, config, obelisk_version, created_by, description, digest)| {
                    let at = format!("t_deployment {id}");
                    Ok(Deployment {
                        id: self.parse(&id, &at)?,
                        created_at: self.time(&created_at, &at)?,
                        last_active_at: last_active_at.map(|t| self.time(&t, &at)).transpose()?,
                        status: DeploymentStatus::from(status.as_str()),
                        config: if toml { DeploymentConfig::Toml(config) } else { DeploymentConfig::Json(config) },
                        obelisk_version,
                        created_by,
                        description,
                        digest,
                    })
                },
            )
            .collect()
    }

    /// The components of a deployment, by name.
    pub fn deployment_components(&self, id: &DeploymentId) -> Result<Vec<DeploymentComponent>, ObeliskError> {
        let rows: Vec<(String, String, Vec<u8>)> = self.query(
            "SELECT component_name, component_type, component_digest FROM t_deployment_component
             WHERE deployment_id = ?1 ORDER BY component_name",
            [id.to_string()],
            format_args!("reading the components of {id}"),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        rows.into_iter()
            .map(|(name, component_type, digest)| {
                Ok(DeploymentComponent {
                    deployment_id: *id,
                    component_type: ComponentType::from(component_type.as_str()),
                    digest: ContentDigest::from_blob(&digest)
                        .map_err(|e| self.data_error(format_args!("t_deployment_component {id} {name}: {e}")))?,
                    name,
                })
            })
            .collect()
    }

    /// Metadata of the component with this digest, if recorded.
    pub fn component_metadata(&self, digest: &ContentDigest) -> Result<Option<ComponentMetadata>, ObeliskError> {
        if !self.schema().has_table("t_component_metadata") {
            return Ok(None);
        }
        let mut rows: Vec<(String, String, String, Value)> = self.query(
            "SELECT exports_json, imports_json, wit, wit_origin FROM t_component_metadata WHERE component_digest = ?1",
            [digest.0.as_slice()],
            format_args!("reading the metadata of {digest}"),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let Some((exports, imports, wit, origin)) = rows.pop() else { return Ok(None) };
        let functions = |json: &str, column: &str| {
            serde_json::from_str::<Vec<FunctionMetadata>>(json)
                .map_err(|e| self.data_error(format_args!("t_component_metadata {digest} {column}: {e}")))
        };
        let wit_origin = match origin {
            Value::Integer(1) => WitOrigin::Wasm,
            Value::Integer(2) => WitOrigin::Synthesized,
            Value::Integer(3) => WitOrigin::Authored,
            Value::Integer(n) => WitOrigin::Other(n.to_string()),
            Value::Text(t) => WitOrigin::from(t.as_str()),
            _ => WitOrigin::Other(String::new()),
        };
        Ok(Some(ComponentMetadata {
            digest: *digest,
            exports: functions(&exports, "exports_json")?,
            imports: functions(&imports, "imports_json")?,
            wit,
            wit_origin,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::event::Event;
    use crate::obelisk::history::Params;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open, parse};

    #[test]
    fn deployments_of_both_versions() {
        let old = open(FIXTURE_0_38_3);
        let deps = old.deployments().unwrap_or_else(|e| panic!("{e}"));
        let summary: Vec<_> =
            deps.iter().map(|d| (d.id.to_string(), d.status.as_str().to_owned(), d.created_by.clone())).collect();
        assert_eq!(
            summary,
            [
                ("Dep_01M86DP41HEDZMJE90ZN0VEJ73".into(), "inactive".into(), Some("server".into())),
                ("Dep_01M86DZJD58V5W0Q7111QDYD0K".into(), "active".into(), Some("cli".into())),
            ]
        );
        assert!(matches!(&deps[0].config, DeploymentConfig::Json(j) if j.len() == 6652));
        assert_eq!(deps[0].digest, None);
        let components = old.deployment_components(&deps[1].id).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            components.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["approval_stub", "demo_activity", "demo_workflow", "shell.greet"]
        );
        assert_eq!(components[0].component_type, ComponentType::ActivityStub);

        let new = open(FIXTURE_0_41_5);
        let deps = new.deployments().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(deps.len(), 1);
        assert_eq!(deps[0].status, DeploymentStatus::Active);
        assert!(matches!(&deps[0].config, DeploymentConfig::Toml(t) if t.starts_with("[[activity_wasm]]")));
        assert_eq!(
            deps[0].digest.as_deref(),
            Some("sha256:6643a206e600d02ae09f181b970dbcbc4811e1c0baa019b327c62afdf9704656")
        );
    }

    /// Names and types for an execution's params: Created.component_id → metadata → export.
    #[test]
    fn params_get_names_and_types() {
        for (version, id, origin) in [
            (FIXTURE_0_38_3, "E_01M86DPD8S6AQS1Q3F0RH83MR5", WitOrigin::Wasm),
            (FIXTURE_0_41_5, "E_01M86G6PD8CH6MWG9CWFCJT438", WitOrigin::Wasm),
        ] {
            let db = open(version);
            let log = db.execution_log(&parse(id)).unwrap_or_else(|e| panic!("{e}"));
            let Some(Event::Created(created)) = log.first().map(|l| &l.event) else { panic!("{log:?}") };
            let meta = db.component_metadata(&created.component_id.component_digest).unwrap_or_else(|e| panic!("{e}"));
            let meta = meta.unwrap_or_else(|| panic!("{version}: metadata"));
            assert_eq!(meta.wit_origin, origin);
            let f = meta.export(&created.ffqn).unwrap_or_else(|| panic!("{version}: export"));
            let Params::Values(values) = &created.params else { panic!("{:?}", created.params) };
            let rendered: Vec<_> = f
                .parameter_types
                .iter()
                .zip(values)
                .map(|(p, v)| format!("{}: {} = {v}", p.name, p.wit_type))
                .collect();
            assert_eq!(rendered, ["a: u32 = 1", "b: u32 = 2"]);
            assert_eq!(f.return_type.as_deref(), Some("result<u32, string>"));
        }
        let stub: ContentDigest = parse("sha256:e849fc6c9af63d6130bcc105e9e1451436fbcfa9582bcecdaf04453eb7404082");
        let new = open(FIXTURE_0_41_5).component_metadata(&stub).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(new.map(|m| m.wit_origin), Some(WitOrigin::Synthesized));
        let old = open(FIXTURE_0_38_3).component_metadata(&stub).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.map(|m| m.wit_origin), Some(WitOrigin::Synthesized));
        assert!(open(FIXTURE_0_38_3).component_metadata(&ContentDigest([0; 32])).is_ok_and(|m| m.is_none()));
    }
}
