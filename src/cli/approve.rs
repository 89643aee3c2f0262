//! `evalgate approve FILE [IDS]`: a person has reviewed these drafts; they now count.

use crate::cli::ApproveArgs;
use crate::evalset::append::write_whole;
use crate::evalset::approve::{ApproveError, approve};
use crate::exit::{Failure, Outcome};

pub fn run(args: &ApproveArgs) -> Result<Outcome, Failure> {
    let path = &args.file;
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::bad_input(format!("{}: cannot read: {e}", path.display())))?;
    let text = crate::yaml::decode_utf8(path, &bytes).map_err(Failure::from)?;
    let approval = approve(path, text, &args.ids).map_err(|e| match e {
        ApproveError::Invalid(problems) => Failure::problems(&problems),
        other => Failure::bad_input(other),
    })?;
    if !approval.already.is_empty() {
        println!(
            "not drafts (nothing to approve): {}",
            approval.already.join(", ")
        );
    }
    if approval.approved.is_empty() {
        println!("{}: no drafts to approve", path.display());
        return Ok(Outcome::Passed);
    }
    write_whole(path, &approval.text)
        .map_err(|e| Failure::internal(format!("{}: cannot write: {e}", path.display())))?;
    println!(
        "approved {} in {}: {}",
        crate::report::count_of(approval.approved.len(), "draft"),
        path.display(),
        approval.approved.join(", ")
    );
    Ok(Outcome::Passed)
}
