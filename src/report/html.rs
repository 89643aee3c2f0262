//! `report.html`: the readiness page a PM reads before launch. One self-contained file
//! (inline CSS, inline SVG charts, a little vanilla JS for filters), rendered by
//! minijinja with HTML auto-escaping from the same model as the other views. Bot text
//! is never marked safe, and a Content-Security-Policy admits only the page's own script,
//! so even a mistake in escaping could not run injected code.

use std::collections::BTreeMap;
use std::sync::mpsc;

use minijinja::{AutoEscape, Environment, Value, context};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::diff::text::WordChange;
use crate::evalset::{ExpectedOutcome, Stratum};
use crate::gate::{Scope, Threshold};
use crate::report::breakdown::{BreakdownTable, share100};
use crate::report::export::{Exporter, ReportError, ReportFormat};
use crate::report::model::ReportModel;
use crate::report::{count_of, gate_text, pct, titles};
use crate::result::{CaseResult, Check, JudgeVerdict, ObservedOutcome};
use crate::result_index::{IndexEntry, ResultIndex, ResultReader};

const TEMPLATE: &str = include_str!("report.html.j2");
const CASE_TEMPLATE: &str = include_str!("case.html.j2");
const SCRIPT: &str = include_str!("report.js");
/// Regressed cases shown in full; the rest are counted.
const MAX_REGRESSIONS: usize = 200;
/// Cases listed in full; past it, only failing cases are (the page must stay a size a
/// browser opens quickly).
const MAX_CASES: usize = 5_000;

pub struct Html;

impl Exporter for Html {
    fn format(&self) -> ReportFormat {
        ReportFormat::Html
    }

    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn write(
        &self,
        model: &ReportModel,
        index: &ResultIndex,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ReportError> {
        write(model, CaseList::of(index), out)
    }
}

#[derive(Serialize)]
struct ChartRow {
    label: String,
    containment: f64,
    resolution: f64,
    deflection: f64,
    containment_text: String,
    resolution_text: String,
    gap_text: String,
    deflection_text: String,
    missed: u64,
    errors: u64,
}

/// One segment of a language's stacked bar: an end state and its share of the results.
#[derive(Serialize)]
struct Segment {
    state: &'static str,
    count: u64,
    width: f64,
    good: bool,
    title: String,
}

/// One row of the outcome breakdown: counts per column, and for a language its bar.
#[derive(Serialize)]
struct BreakdownRow {
    label: String,
    counts: Vec<u64>,
    segments: Vec<Segment>,
    results: u64,
    /// A language's row has a bar; the run's row (`all`) only its counts.
    bar: bool,
}

#[derive(Serialize)]
struct HeatCell {
    /// Cases scored: the interval's sample size. Differs from `scored` with repeats.
    cases: u64,
    scored: u64,
    passed: u64,
    rate: String,
    low: String,
    high: String,
    hue: f64,
    below: bool,
    title: String,
}

#[derive(Serialize)]
struct HeatRow {
    language: String,
    cells: Vec<HeatCell>,
    /// The judge's κ in this language or "uncalibrated"; empty without a judge.
    judge: String,
}

#[derive(Serialize)]
struct CaseView<'a> {
    key: &'a str,
    repeat: u32,
    language: &'a str,
    stratum: &'static str,
    expected: &'static str,
    observed: &'static str,
    result: &'static str,
    /// Why it failed, in one line.
    failure: Option<String>,
    unverified: bool,
    /// Why a simulated conversation ended; `None` for a scripted case.
    simulated: Option<&'static str>,
    error: Option<&'a str>,
    turns: Vec<TurnView<'a>>,
    checks: &'a [Check],
    judge: Option<&'a JudgeVerdict>,
}

#[derive(Serialize)]
struct TurnView<'a> {
    role: &'static str,
    /// Who spoke, as the page says it: the customer of a simulated case is marked so.
    label: &'static str,
    content: &'a str,
    tools: String,
}

#[derive(Serialize)]
struct RegressionView<'a> {
    key: &'a str,
    flaky: bool,
    checks: String,
    judge_reasons: &'a [String],
    diff: &'a [WordChange],
}

/// The page's script, and its CSP hash.
fn script() -> (&'static str, String) {
    let hash = base64(&Sha256::digest(SCRIPT.as_bytes()));
    (SCRIPT, format!("sha256-{hash}"))
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn rate100(r: Option<f64>) -> f64 {
    (r.unwrap_or(0.0) * 100.0).clamp(0.0, 100.0)
}

/// The results "Every case" lists, read one at a time while the page is written.
struct CaseList<'a> {
    /// The listed results, in page order.
    entries: Vec<&'a IndexEntry>,
    index: &'a ResultIndex,
    /// The languages of the listed cases, for the filter.
    languages: Vec<String>,
    /// Passing results left out of a very large run.
    hidden: u64,
}

impl<'a> CaseList<'a> {
    /// Every failing case, then passing ones up to [`MAX_CASES`], each group in key
    /// order whatever order the results finished in; the rest are counted.
    fn of(index: &'a ResultIndex) -> CaseList<'a> {
        let mut by_key: Vec<&IndexEntry> = index.entries.iter().collect();
        by_key.sort_by(|a, b| (&a.key, a.repeat).cmp(&(&b.key, b.repeat)));
        let failing = by_key.iter().filter(|e| !e.passed);
        let passing = by_key.iter().filter(|e| e.passed);
        let entries: Vec<&IndexEntry> = failing
            .chain(passing.clone().take(MAX_CASES))
            .copied()
            .collect();
        let hidden = passing.count().saturating_sub(MAX_CASES) as u64;
        let mut languages: Vec<String> = entries.iter().map(|e| e.language().to_string()).collect();
        languages.sort_unstable();
        languages.dedup();
        CaseList {
            entries,
            index,
            languages,
            hidden,
        }
    }
}

/// Cases rendered together by one thread and handed to the writer in one piece.
const CASES_PER_CHUNK: usize = 64;
/// Chunks a rendering thread may finish ahead of the writer: bounds the memory held.
const CHUNKS_AHEAD: usize = 2;
/// Threads that render the case list at most; the page is written by one more.
const RENDERING_THREADS: usize = 2;

/// Where the case list goes in the page. Auto-escaping turns every `<` of bot or case text
/// into `&lt;`, so this can only come from the template.
const CASES_MARKER: &str = "<!--evalgate:cases-->";

/// A template that does not render is evalgate's own bug.
fn template_error(e: minijinja::Error) -> ReportError {
    ReportError::Internal(format!("report template: {e}"))
}

/// Writes the page, reading and rendering a few cases at a time, so a large run never
/// holds its cases.
fn write(
    model: &ReportModel,
    list: CaseList<'_>,
    out: &mut dyn std::io::Write,
) -> Result<(), ReportError> {
    let s = &model.summary;
    let m = &s.metrics;
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("report.html", TEMPLATE)
        .map_err(template_error)?;
    env.add_template("case.html", CASE_TEMPLATE)
        .map_err(template_error)?;

    let chart: Vec<ChartRow> = m
        .by_language
        .iter()
        .chain(std::iter::once((&"all".to_string(), &m.overall)))
        .map(|(label, x)| ChartRow {
            label: label.clone(),
            containment: rate100(x.containment_rate),
            resolution: rate100(x.resolution_rate),
            deflection: rate100(x.deflection_rate),
            containment_text: pct(x.containment_rate),
            resolution_text: pct(x.resolution_rate),
            gap_text: pct(x.deflection_gap),
            deflection_text: pct(x.deflection_rate),
            missed: x.missed_escalations,
            errors: x.errors,
        })
        .collect();

    let table = BreakdownTable::of(m);
    let breakdown: Vec<BreakdownRow> = table
        .rows
        .iter()
        .map(|(label, slice)| {
            let b = &slice.outcome_breakdown;
            BreakdownRow {
                label: label.to_string(),
                counts: table.columns.iter().map(|s| b.count(*s)).collect(),
                segments: b
                    .nonzero()
                    .map(|(state, count)| Segment {
                        state: state.name(),
                        count,
                        width: share100(count, slice.results),
                        good: state.is_good(),
                        title: format!(
                            "{label}: {} {count} of {}",
                            state.name(),
                            count_of(slice.results, "result")
                        ),
                    })
                    .collect(),
                results: slice.results,
                bar: table.recorded && !std::ptr::eq(*slice, &m.overall),
            }
        })
        .collect();
    let breakdown_columns: Vec<&str> = table.columns.iter().map(|s| s.name()).collect();

    // The gate's pass-rate threshold for each stratum, to outline the cells below it.
    let thresholds: BTreeMap<Stratum, Threshold> = model
        .gate
        .iter()
        .flat_map(|g| &g.criteria)
        .filter(|c| c.name == "pass_rate")
        .filter_map(|c| match c.scope {
            Scope::Stratum { stratum } | Scope::Cell { stratum, .. } => {
                Some((stratum, c.threshold))
            }
            _ => None,
        })
        .collect();
    let heat_cell =
        |slice: Option<&crate::metrics::SliceMetrics>, stratum: Option<Stratum>| -> HeatCell {
            let Some(x) = slice else {
                return HeatCell {
                    cases: 0,
                    scored: 0,
                    passed: 0,
                    rate: String::new(),
                    low: String::new(),
                    high: String::new(),
                    hue: 0.0,
                    below: false,
                    title: String::new(),
                };
            };
            let below = match (stratum.and_then(|st| thresholds.get(&st)), x.pass_rate) {
                (Some(t), Some(r)) => !t.admits(r),
                _ => false,
            };
            HeatCell {
                cases: x.scored_cases,
                scored: x.scored,
                passed: x.passed,
                rate: pct(x.pass_rate),
                low: pct(x.pass_rate_ci95.map(|i| i.low)),
                high: pct(x.pass_rate_ci95.map(|i| i.high)),
                hue: (x.pass_rate.unwrap_or(0.0) * 120.0).round(),
                below,
                title: format!("{} of {} passed", x.passed, x.scored),
            }
        };
    let mut heatmap: Vec<HeatRow> = m
        .by_language
        .iter()
        .map(|(lang, all)| {
            let mut cells: Vec<HeatCell> = Stratum::ALL
                .iter()
                .map(|st| heat_cell(m.cell(lang, *st), Some(*st)))
                .collect();
            cells.push(heat_cell(Some(all), None));
            HeatRow {
                language: lang.clone(),
                cells,
                judge: model
                    .judge_trust
                    .as_ref()
                    .map(|t| t.label_for(lang))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let mut all_cells: Vec<HeatCell> = Stratum::ALL
        .iter()
        .map(|st| heat_cell(m.by_stratum.get(st), Some(*st)))
        .collect();
    all_cells.push(heat_cell(Some(&m.overall), None));
    heatmap.push(HeatRow {
        language: "all".into(),
        judge: String::new(),
        cells: all_cells,
    });

    let observed_names: Vec<&str> = ObservedOutcome::ALL.iter().map(|o| o.name()).collect();
    let matrix: Vec<Value> = ExpectedOutcome::ALL
        .iter()
        .map(|e| {
            let row = m.overall.escalation_matrix.get(e.name());
            let counts: Vec<u64> = observed_names
                .iter()
                .map(|o| row.and_then(|r| r.get(*o)).copied().unwrap_or(0))
                .collect();
            context! { expected => e.name(), counts => counts }
        })
        .collect();

    let (
        diff_ctx,
        significant,
        regressions,
        regressions_hidden,
        parity,
        parity_languages,
        prompt_diff,
        diff_counts,
        regressions_title,
        parity_title,
    ) = match &model.diff {
        Some(d) => {
            let significant: Vec<Value> = d
                    .significant()
                    .map(|sl| {
                        let pr = sl.metrics.get("pass_rate");
                        context! {
                            dimension => sl.dimension.as_str(), slice => sl.slice.as_str(),
                            base => pct(pr.and_then(|p| p.base)), new => pct(pr.and_then(|p| p.new)),
                            regressed => sl.regressed, fixed => sl.fixed, p => format!("{:.4}", sl.p_adjusted),
                        }
                    })
                    .collect();
            let regressions: Vec<RegressionView> = d
                .regressions
                .iter()
                .take(MAX_REGRESSIONS)
                .map(|r| RegressionView {
                    key: &r.key,
                    flaky: r.flaky,
                    checks: r
                        .failing_checks
                        .iter()
                        .map(|c| format!("{}: {}", c.name, c.detail))
                        .collect::<Vec<_>>()
                        .join("; "),
                    judge_reasons: &r.judge_reasons,
                    diff: &r.reply_diff,
                })
                .collect();
            let mut langs: Vec<String> = d.parity.behind_count.keys().cloned().collect();
            langs.sort();
            let parity: Vec<Value> = d
                    .parity
                    .gaps
                    .iter()
                    .map(|g| {
                        let cells: Vec<String> = langs.iter().map(|l| g.pass_rate.get(l).map(|r| pct(Some(*r))).unwrap_or_else(|| "–".into())).collect();
                        context! { scenario => g.scenario.as_str(), cells => cells, behind => g.behind.join(", ") }
                    })
                    .collect();
            (
                Some(context! { warnings => d.warnings.clone() }),
                significant,
                ser(&regressions),
                d.regressions.len().saturating_sub(MAX_REGRESSIONS),
                parity,
                langs,
                d.prompt_diff.clone(),
                d.counts
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(" · "),
                titles::regressions_title(d.significant().count(), &d.base.run_id),
                titles::parity_title(d.parity.gaps.len(), d.parity.scenarios),
            )
        }
        None => (
            None,
            Vec::new(),
            Value::from(()),
            0,
            Vec::new(),
            Vec::new(),
            None,
            String::new(),
            String::new(),
            String::new(),
        ),
    };

    let repeat_line = s.repeat_stats.as_ref().map(|r| {
        format!(
            "Repeats (k = {}): pass@1 {} · pass^{} {} · {}",
            r.k,
            pct(r.pass_at_1),
            r.k,
            pct(r.pass_pow_k),
            crate::report::count_of(r.flaky.len(), "flaky case")
        )
    });
    let claims_line = m.overall.unsupported_claim_rate.map(|r| {
        format!(
            "Unsupported claims (judge): {} of judged replies · judge errors: {}",
            pct(Some(r)),
            m.overall.judge_errors
        )
    });
    let cost_lines = titles::cost_lines(s);
    let unverified_line = titles::unverified_line(m);
    let top_error_line = (m.overall.errors > 0)
        .then(|| titles::top_error_line(s))
        .flatten();
    let rows = model.gate.as_ref().map(gate_text::rows).unwrap_or_default();
    let criteria = |passed: bool| -> Vec<&gate_text::Row> {
        rows.iter().filter(|r| r.passed == passed).collect()
    };
    let (script, script_hash) = script();
    let template = env.get_template("report.html").map_err(template_error)?;
    let page = template
        .render(context! {
            title => format!("evalgate readiness report · {}", s.meta.run_id),
            headline => titles::headline(model),
            sentence => crate::report::verdict::sentence(model),
            verdict_class => model.headline().replace(' ', "-"),
            run_line => titles::run_line(model),
            gate => model.gate.is_some(),
            gate_title => model.gate.as_ref().map(titles::gate_title),
            gate_failing => model.gate.as_ref().map(crate::report::verdict::group_lines).unwrap_or_default(),
            gate_passing => ser(&criteria(true)),
            titles => context! {
                containment => titles::CONTAINMENT, breakdown => titles::BREAKDOWN, pass_rate => titles::PASS_RATE, cost => titles::COST, cases => titles::CASES,
            },
            chart => ser(&chart),
            breakdown => ser(&breakdown),
            breakdown_columns => breakdown_columns,
            breakdown_absent => table.absent_line(),
            containment_definition_line => titles::containment_definition_line(s),
            breakdown_recorded => table.recorded,
            strata => Stratum::ALL.iter().map(|s| s.name()).collect::<Vec<_>>(),
            heatmap => ser(&heatmap),
            judge_note => model.judge_trust.as_ref().map(|t| t.note()),
            repeat_line => repeat_line,
            claims_line => claims_line,
            unverified_line => unverified_line,
            top_error_line => top_error_line,
            missed_title => titles::missed_title(m.overall.missed_escalations),
            missed => model.missed_escalations.clone(),
            unauthorised => ser(&model.unauthorised_actions),
            unauthorised_title => titles::unauthorised_title(model.unauthorised_actions.len()),
            observed_names => observed_names,
            matrix => matrix,
            diff => diff_ctx,
            diff_counts => diff_counts,
            regressions_title => regressions_title,
            significant => significant,
            regressions => regressions,
            regressions_hidden => regressions_hidden,
            prompt_diff => prompt_diff,
            parity_title => parity_title,
            parity => parity,
            parity_languages => parity_languages,
            cost_lines => cost_lines,
            languages => &list.languages,
            case_count => list.entries.len(),
            cases_html => Value::from_safe_string(CASES_MARKER.to_string()),
            cases_hidden => list.hidden,
            version => env!("CARGO_PKG_VERSION"),
            // Our own constant script: the only text on the page not escaped.
            script => Value::from_safe_string(script.to_string()),
            script_hash => script_hash,
        })
        .map_err(template_error)?;
    let (head, tail) = page.split_once(CASES_MARKER).ok_or_else(|| {
        ReportError::Internal("report template: no place for the case list".into())
    })?;
    out.write_all(head.as_bytes())?;
    let case_template = env.get_template("case.html").map_err(template_error)?;
    write_cases(&list, &case_template, out)?;
    out.write_all(tail.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Writes the listed cases in order. Reading a result and rendering it is most of the
/// page's cost, so chunks of cases are rendered on as many threads as there are cores
/// (up to [`RENDERING_THREADS`]) and written in turn.
fn write_cases(
    list: &CaseList<'_>,
    template: &minijinja::Template<'_, '_>,
    out: &mut dyn std::io::Write,
) -> Result<(), ReportError> {
    let chunks: Vec<&[&IndexEntry]> = list.entries.chunks(CASES_PER_CHUNK).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, RENDERING_THREADS)
        .min(chunks.len().max(1));
    std::thread::scope(|scope| {
        let rendered: Vec<mpsc::Receiver<Result<String, ReportError>>> = (0..threads)
            .map(|first| {
                let (tx, rx) = mpsc::sync_channel(CHUNKS_AHEAD);
                let mine = chunks.iter().skip(first).step_by(threads);
                scope.spawn(move || {
                    let mut reader = match list.index.reader() {
                        Ok(r) => r,
                        Err(e) => {
                            let _ = tx.send(Err(ReportError::Input(e)));
                            return;
                        }
                    };
                    for chunk in mine {
                        let html = render_chunk(chunk, &mut reader, template);
                        let failed = html.is_err();
                        // A closed channel: the writer has stopped, so stop too.
                        if tx.send(html).is_err() || failed {
                            return;
                        }
                    }
                });
                rx
            })
            .collect();
        for i in 0..chunks.len() {
            let html = rendered[i % threads].recv().map_err(|_| {
                ReportError::Internal("report: a rendering thread stopped".into())
            })??;
            out.write_all(html.as_bytes())?;
        }
        Ok(())
    })
}

fn render_chunk(
    chunk: &[&IndexEntry],
    reader: &mut ResultReader,
    template: &minijinja::Template<'_, '_>,
) -> Result<String, ReportError> {
    let mut html = String::new();
    for entry in chunk {
        let case = reader.read(entry).map_err(ReportError::Input)?;
        let one = template
            .render(context! { c => ser(&case_view(&case)) })
            .map_err(template_error)?;
        html.push_str(&one);
    }
    Ok(html)
}

fn case_view(r: &CaseResult) -> CaseView<'_> {
    CaseView {
        key: &r.key,
        repeat: r.repeat,
        language: &r.language,
        stratum: r.stratum.name(),
        expected: r.expected_outcome.name(),
        observed: r.observed_outcome.name(),
        result: if r.is_error() {
            "error"
        } else if r.passed {
            "passed"
        } else {
            "failed"
        },
        failure: (!r.passed && !r.is_error())
            .then(|| r.first_failure())
            .flatten(),
        unverified: r.unverified,
        simulated: r
            .simulated
            .then(|| r.stop_reason.map_or("unknown", |s| s.name())),
        error: r.error.as_deref(),
        turns: r
            .turns
            .iter()
            .map(|t| TurnView {
                role: match t.role {
                    crate::result::Role::User => "customer",
                    crate::result::Role::Assistant => "assistant",
                },
                label: match t.role {
                    crate::result::Role::User if r.simulated => "customer (simulated)",
                    crate::result::Role::User => "customer",
                    crate::result::Role::Assistant => "assistant",
                },
                content: &t.content,
                tools: t
                    .tool_calls
                    .iter()
                    .map(|c| format!("{}({})", c.name, c.arguments))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        checks: &r.checks,
        judge: r.judge.as_ref(),
    }
}

/// Any serializable value as a template value (escaped like every other value).
fn ser<T: Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricsBuilder;
    use crate::summary::RunSummary;

    /// The page for `results` (key, stratum, passed), written in that order.
    fn page_for(dir: &std::path::Path, results: &[(String, Stratum, bool)]) -> String {
        let mut lines = String::new();
        for (key, stratum, passed) in results {
            let mut r = CaseResult::fixture(
                "en",
                *stratum,
                ExpectedOutcome::Resolve,
                ObservedOutcome::Resolved,
                *passed,
            );
            r.key = key.clone();
            r.language = key[..2].into();
            lines.push_str(&serde_json::to_string(&r).unwrap());
            lines.push('\n');
        }
        let path = dir.join(crate::rundir::RESULTS_FILE);
        std::fs::write(&path, lines).unwrap();
        let model = ReportModel {
            summary: RunSummary::fixture(MetricsBuilder::default().finish()),
            gate: None,
            diff: None,
            missed_escalations: vec![],
            unauthorised_actions: vec![],
            judge_trust: None,
        };
        let index = ResultIndex::build(&path).unwrap();
        let mut page = Vec::new();
        Html.write(&model, &index, &mut page).unwrap();
        String::from_utf8(page).unwrap()
    }

    /// The keys of the cases on the page, in page order.
    fn listed(page: &str) -> Vec<&str> {
        page.split("<details id=\"case-")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect()
    }

    #[test]
    fn the_page_lists_failing_cases_first_then_by_key() {
        let dir = crate::test_support::TempDir::new("review");
        // Written in completion order, not key order; classes differ from key order too.
        let results: Vec<(String, Stratum, bool)> = [
            ("en/b", Stratum::Routine, true),
            ("de/z", Stratum::Edge, false),
            ("en/a", Stratum::Adversarial, true),
            ("de/c", Stratum::Routine, false),
            ("de/y", Stratum::Adversarial, true),
        ]
        .into_iter()
        .map(|(k, s, p)| (k.to_string(), s, p))
        .collect();
        let page = page_for(&dir, &results);
        assert_eq!(
            listed(&page),
            ["de-c-0", "de-z-0", "de-y-0", "en-a-0", "en-b-0"]
        );
    }

    /// Cases rendered on several threads still come out in page order, each once.
    #[test]
    fn a_long_case_list_keeps_its_order() {
        let dir = crate::test_support::TempDir::new("review-long");
        let results: Vec<(String, Stratum, bool)> = (0..1000)
            .rev()
            .map(|i| (format!("en/c{i:04}"), Stratum::Routine, i % 7 != 0))
            .collect();
        let page = page_for(&dir, &results);
        let failing = (0..1000).filter(|i| i % 7 == 0);
        let passing = (0..1000).filter(|i| i % 7 != 0);
        let expected: Vec<String> = failing
            .chain(passing)
            .map(|i| format!("en-c{i:04}-0"))
            .collect();
        assert_eq!(listed(&page), expected);
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
