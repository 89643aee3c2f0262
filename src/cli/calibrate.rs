//! `evalgate calibrate RUN --labels FILE...`: how far the run's judge agrees with human
//! labels, printed and written to calibration.json.

use crate::calibrate::labels::read_labels;
use crate::calibrate::{CalibrateError, calibrate, render_table};
use crate::cli::CalibrateArgs;
use crate::exit::{Failure, Outcome};
use crate::rundir::RunDir;

/// Where the figures go unless `--out` says otherwise: beside the run's results.
pub const CALIBRATION_FILE: &str = "calibration.json";

pub fn run(args: &CalibrateArgs) -> Result<Outcome, Failure> {
    let run = RunDir::open(&args.run).map_err(Failure::bad_input)?;
    let bad = |e: CalibrateError| Failure::bad_input(e);
    let labels = read_labels(&args.labels).map_err(bad)?;
    let calibration = calibrate(&run, &labels).map_err(bad)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| run.dir.join(CALIBRATION_FILE));
    let json = serde_json::to_string_pretty(&calibration)
        .map_err(|e| Failure::internal(format!("cannot serialize the calibration: {e}")))?;
    std::fs::write(&out, json + "\n")
        .map_err(|e| Failure::internal(format!("cannot write {}: {e}", out.display())))?;
    print!("{}", render_table(&calibration));
    println!("wrote {}", out.display());
    Ok(Outcome::Passed)
}
