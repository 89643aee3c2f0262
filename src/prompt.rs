//! The bot's system-prompt template: rendered per case with strict undefined variables,
//! identified by its content hash and optional `{# version: v7 #}` label.

use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior, context};
use sha2::{Digest, Sha256};

use crate::diagnostic::Diagnostic;
use crate::evalset::Case;

pub struct PromptTemplate {
    env: Environment<'static>,
    pub path: PathBuf,
    pub text: String,
    pub hash: String,
    pub label: Option<String>,
}

const NAME: &str = "prompt";

impl PromptTemplate {
    pub fn load(path: &Path) -> Result<PromptTemplate, Diagnostic> {
        let bytes = std::fs::read(path)
            .map_err(|e| Diagnostic::new(path, format!("cannot read prompt template: {e}")))?;
        let text = crate::yaml::decode_utf8(path, &bytes)?.to_string();
        PromptTemplate::from_text(path, text)
    }

    pub fn from_text(path: &Path, text: String) -> Result<PromptTemplate, Diagnostic> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // A Markdown prompt is not HTML: escaping would corrupt what the bot reads.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_template_owned(NAME, text.clone())
            .map_err(|e| template_diagnostic(path, &e))?;
        unknown_variables(&env, path, &text)?;
        Ok(PromptTemplate {
            env,
            path: path.to_path_buf(),
            hash: format!("sha256:{:x}", Sha256::digest(text.as_bytes())),
            label: version_label(&text),
            text,
        })
    }

    /// The system prompt for one case. Case text is passed as values, never as template
    /// source, so `{{ ... }}` inside a case stays literal.
    pub fn render(&self, case: &Case) -> Result<String, Diagnostic> {
        let template = self
            .env
            .get_template(NAME)
            .map_err(|e| template_diagnostic(&self.path, &e))?;
        template
            .render(context! {
                language => case.language.as_str(),
                market => case.market.as_deref(),
                context => minijinja::Value::from(minijinja::value::Serde(&case.context)),
                case => context! {
                    id => case.id.as_str(),
                    key => case.key.as_str(),
                    stratum => case.stratum.name(),
                    intent => case.intent.as_deref(),
                    tags => case.tags.clone(),
                },
            })
            .map_err(|e| {
                let mut d = template_diagnostic(&self.path, &e);
                d.message = format!("rendering for case {}: {}", case.key, d.message);
                d
            })
    }
}

/// The variables a prompt template is rendered with.
const VARIABLES: [&str; 4] = ["language", "market", "context", "case"];

/// A variable the template uses that it is never given (`{{ langauge }}`) is an error at
/// its line, with the name it was likely meant to be; found when the template is loaded,
/// before any case renders.
fn unknown_variables(env: &Environment<'_>, path: &Path, text: &str) -> Result<(), Diagnostic> {
    let template = env
        .get_template(NAME)
        .map_err(|e| template_diagnostic(path, &e))?;
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| !VARIABLES.contains(&name.as_str()))
        .collect();
    unknown.sort();
    let Some(name) = unknown.first() else {
        return Ok(());
    };
    let suggestion = VARIABLES
        .iter()
        .map(|v| (strsim::jaro_winkler(name, v), v))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| format!(" (did you mean `{v}`?)"))
        .unwrap_or_default();
    let mut d = Diagnostic::new(
        path,
        format!(
            "unknown variable `{name}`{suggestion}; a prompt has {}",
            VARIABLES.map(|v| format!("`{v}`")).join(", ")
        ),
    );
    // The first line that uses it, for the editor to jump to.
    d.line = text
        .lines()
        .position(|l| l.contains(name.as_str()))
        .map(|i| i as u64 + 1);
    Err(d)
}

fn template_diagnostic(path: &Path, err: &minijinja::Error) -> Diagnostic {
    let mut message = err.kind().to_string();
    if let Some(detail) = err.detail() {
        message = format!("{message}: {detail}");
    }
    let d = Diagnostic::new(path, message);
    match err.line() {
        Some(line) => d.at(line as u64, 0),
        None => d,
    }
}

/// The `{# version: v7 #}` label, if the template has one.
fn version_label(text: &str) -> Option<String> {
    let start = text.find("{#")?;
    let end = text[start..].find("#}")? + start;
    let comment = text[start + 2..end].trim();
    comment
        .strip_prefix("version:")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::load_file;

    fn case() -> Case {
        let yaml = "language: pl\nmarket: PL\ncases:\n  - id: a\n    stratum: routine\n    context: {order_id: \"{{ secret }}\"}\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n";
        load_file(Path::new("pl.yaml"), yaml).unwrap().remove(0)
    }

    #[test]
    fn renders_variables_and_keeps_data_literal() {
        let t = PromptTemplate::from_text(
            Path::new("p.j2"),
            "{# version: v7 #}Lang {{ language }} {{ market }} {{ case.stratum }} {{ context.order_id }}".into(),
        )
        .unwrap();
        assert_eq!(t.label.as_deref(), Some("v7"));
        assert_eq!(
            t.render(&case()).unwrap(),
            "Lang pl PL routine {{ secret }}"
        );
    }

    #[test]
    fn undefined_variables_are_errors() {
        let t = PromptTemplate::from_text(Path::new("p.j2"), "line1\n{{ context.missing }}".into())
            .unwrap();
        let err = t.render(&case()).unwrap_err();
        assert!(err.message.contains("pl/a"), "{err}");
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn a_misspelt_variable_is_named_with_a_suggestion() {
        let err =
            PromptTemplate::from_text(Path::new("p.j2"), "Hi.\nReply in {{ langauge }}.".into())
                .err()
                .unwrap();
        assert!(
            err.message
                .contains("unknown variable `langauge` (did you mean `language`?)"),
            "{err}"
        );
        assert_eq!(err.line, Some(2), "{err}");
        // A variable set inside the template is no mistake.
        assert!(
            PromptTemplate::from_text(
                Path::new("p.j2"),
                "{% set x = 1 %}{{ x }} {{ case.id }}".into()
            )
            .is_ok()
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = PromptTemplate::from_text(Path::new("p.j2"), "ok\n{% if %}".into())
            .err()
            .unwrap();
        assert_eq!(err.line, Some(2), "{err}");
    }
}
