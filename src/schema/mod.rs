//! JSON Schemas (draft 2020-12) of the files a team writes: `evalgate.yaml`, eval-set
//! files and gate files. They are generated from the very types the loaders read (doc
//! comments become the hover text an editor shows), so they cannot drift from what
//! evalgate accepts. `evalgate schema` writes them, the repository ships them in
//! `schemas/`, `init` puts them in a new project, and a file that fails to load is
//! checked against its schema to report every problem at once ([`check`]).

use std::path::{Path, PathBuf};

use schemars::JsonSchema;

use crate::diagnostic::{Diagnostic, Diagnostics};

pub mod check;
pub mod tree;

/// The kinds of file evalgate reads from a project, each with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaFile {
    /// `evalgate.yaml`.
    Config,
    /// `evalsets/<suite>/<lang>.yaml`.
    EvalSet,
    /// `gates/launch.yaml`.
    Gate,
}

/// The folder `evalgate schema` writes by default and the repository ships.
pub const DEFAULT_DIR: &str = "schemas";

impl SchemaFile {
    pub const ALL: [SchemaFile; 3] = [SchemaFile::Config, SchemaFile::EvalSet, SchemaFile::Gate];

    /// The schema's file name in `schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaFile::Config => "evalgate.schema.json",
            SchemaFile::EvalSet => "evalset.schema.json",
            SchemaFile::Gate => "gate.schema.json",
        }
    }

    /// What an editor shows on hover over the file as a whole.
    fn description(self) -> &'static str {
        match self {
            SchemaFile::Config => {
                "The project config: the bot under test, the eval sets, the gate, and how hard to push the bot. Unknown keys are errors; secrets come only from the environment variables `*_env` fields name."
            }
            SchemaFile::EvalSet => {
                "One language's eval cases, stratified into routine, edge, refusal and adversarial. Case text is data: `{{ ... }}` in it is sent literally."
            }
            SchemaFile::Gate => {
                "The launch criteria, committed before the run: every threshold is checked overall, per stratum and (with `per_language`) per language."
            }
        }
    }

    fn title(self) -> &'static str {
        match self {
            SchemaFile::Config => "evalgate project config (evalgate.yaml)",
            SchemaFile::EvalSet => "evalgate eval set (evalsets/<suite>/<lang>.yaml)",
            SchemaFile::Gate => "evalgate launch gate (gates/*.yaml)",
        }
    }

    /// The schema, as generated from the loader's types.
    pub fn schema(self) -> serde_json::Value {
        let mut schema = match self {
            SchemaFile::Config => crate::config::json_schema(),
            SchemaFile::EvalSet => crate::evalset::json_schema(),
            SchemaFile::Gate => root_for::<crate::gate::GateSpec>(),
        }
        .to_value();
        if let Some(object) = schema.as_object_mut() {
            object.insert("title".into(), self.title().into());
            object.insert("description".into(), self.description().into());
        }
        schema
    }

    /// The schema as written to `schemas/`: pretty JSON, keys sorted, a final newline.
    pub fn text(self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema())
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }

    /// The first line of a YAML file that tells a YAML language server (VS Code's YAML
    /// extension, and any editor that runs one) where this file's schema is.
    pub fn modeline(self, schemas_dir: &str) -> String {
        format!(
            "# yaml-language-server: $schema={}/{}",
            schemas_dir.trim_end_matches('/'),
            self.file_name()
        )
    }
}

/// The root schema of `T`, draft 2020-12, describing what the loader deserializes.
pub fn root_for<T: JsonSchema>() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>()
}

/// Writes every schema into `dir` (created if missing); returns the files written.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    SchemaFile::ALL
        .iter()
        .map(|kind| {
            let path = dir.join(kind.file_name());
            std::fs::write(&path, kind.text()).map(|()| path)
        })
        .collect()
}

/// Every problem of a file that serde refused (`first` is serde's own diagnostic), found
/// by checking the file against its schema. serde's problem is always among them: the
/// schema describes the shape, and a few things only serde sees (a duplicate key, a
/// number too large for its field) would otherwise be lost.
pub fn every_problem(kind: SchemaFile, path: &Path, text: &str, first: Diagnostic) -> Diagnostics {
    let Ok(root) = crate::yaml::parse::<tree::Node>(path, text) else {
        // Not even a YAML tree (a syntax error, a refused bomb): serde's word is all.
        return Diagnostics(vec![first]);
    };
    let mut problems = check::check(path, &kind.schema(), &root);
    if !problems.0.iter().any(|d| d.line == first.line) {
        problems.push(first);
        problems.0.sort_by_key(|d| (d.line, d.column));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema check runs on files that failed to load; on a valid file it must find
    /// nothing, or a PM would be told of problems that are not there.
    #[test]
    fn every_shipped_file_passes_its_schema() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![
            (SchemaFile::Config, root.join("evalgate.yaml")),
            (
                SchemaFile::Config,
                root.join("templates/evalgate-http.yaml"),
            ),
            (SchemaFile::Gate, root.join("gates/launch.yaml")),
        ];
        for entry in std::fs::read_dir(root.join("evalsets/support")).unwrap() {
            files.push((SchemaFile::EvalSet, entry.unwrap().path()));
        }
        for (kind, path) in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let tree: tree::Node = crate::yaml::parse(&path, &text).unwrap();
            let problems = check::check(&path, &kind.schema(), &tree);
            assert!(problems.is_empty(), "{}", problems);
        }
    }

    #[test]
    fn the_bot_section_is_one_shape_per_provider() {
        let schema = SchemaFile::Config.schema();
        let bot = &schema["$defs"]["BotConfig"]["oneOf"];
        let providers: Vec<&str> = bot
            .as_array()
            .unwrap()
            .iter()
            .map(|shape| shape["properties"]["provider"]["const"].as_str().unwrap())
            .collect();
        assert_eq!(providers, ["openai", "anthropic", "http", "exec", "demo"]);
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }

    #[test]
    fn a_misspelt_provider_is_named_with_the_other_problems() {
        let path = Path::new("evalgate.yaml");
        let text = "bot:\n  provider: opneai\nevalset: [a]\n";
        let first = crate::config::Config::parse(path, text).unwrap_err();
        let found = every_problem(SchemaFile::Config, path, text, first).to_string();
        assert!(
            found.contains(":2:13: bot.provider: unknown value `opneai`")
                && found.contains("(did you mean `openai`?)"),
            "{found}"
        );
        assert!(
            found.contains(":3:1: unknown field `evalset`")
                && found.contains("missing field `evalsets`"),
            "{found}"
        );
    }

    #[test]
    fn a_misspelt_provider_field_is_found_in_its_shape() {
        let text =
            "bot:\n  provider: demo\n  base_url: http://x\nevalsets: [a]\nrun: { concurency: 2 }\n";
        let first = Diagnostic::new(Path::new("evalgate.yaml"), "from serde").at(3, 3);
        let found = every_problem(SchemaFile::Config, Path::new("evalgate.yaml"), text, first);
        let all = found.to_string();
        assert_eq!(found.len(), 2, "{all}");
        assert!(all.contains(":3:3: bot: unknown field `base_url`"), "{all}");
        assert!(
            all.contains(":5:8: run: unknown field `concurency`")
                && all.contains("did you mean `concurrency`"),
            "{all}"
        );
    }
}
