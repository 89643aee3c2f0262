//! `evalgate schema`: the JSON Schemas of evalgate.yaml, eval-set files and gate files,
//! written into a folder (the repository ships them in `schemas/`) or one printed.

use std::path::PathBuf;

use crate::exit::{Failure, Outcome};
use crate::schema::{DEFAULT_DIR, SchemaFile};

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// The folder to write evalgate.schema.json, evalset.schema.json and gate.schema.json
    /// into (created if missing; files there are replaced).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DIR)]
    pub out: PathBuf,
    /// Print one schema to stdout instead, and write nothing.
    #[arg(long, value_enum, value_name = "KIND", conflicts_with = "out")]
    pub print: Option<SchemaKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// evalgate.yaml
    Config,
    /// evalsets/<suite>/<lang>.yaml
    Evalset,
    /// gates/*.yaml
    Gate,
}

impl From<SchemaKind> for SchemaFile {
    fn from(kind: SchemaKind) -> SchemaFile {
        match kind {
            SchemaKind::Config => SchemaFile::Config,
            SchemaKind::Evalset => SchemaFile::EvalSet,
            SchemaKind::Gate => SchemaFile::Gate,
        }
    }
}

pub fn run(args: &SchemaArgs) -> Result<Outcome, Failure> {
    if let Some(kind) = args.print {
        print!("{}", SchemaFile::from(kind).text());
        return Ok(Outcome::Passed);
    }
    let written = crate::schema::write_all(&args.out).map_err(|e| {
        Failure::internal(format!(
            "cannot write schemas into {}: {e}",
            args.out.display()
        ))
    })?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    println!(
        "\nName a file's schema on its first line for editors with a YAML language server, e.g.\n  {}",
        SchemaFile::EvalSet.modeline("../../schemas")
    );
    Ok(Outcome::Passed)
}
