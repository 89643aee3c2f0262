//! Driving jobs: `concurrency` lanes each take the next job as soon as their last one is
//! done, so a free slot is refilled on the thread that freed it, without waiting for the
//! writer. One collector owns the results: it appends each to `results.jsonl`, moves the
//! progress display and keeps the tally. Ctrl-C stops the lanes from taking new jobs, lets
//! the conversations in flight finish and keeps everything written.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::events::{Events, Reporter, RunEvent};
use super::output::{self, ResultsWriter};
use super::progress::Progress;
use super::{RunError, Tally, failed_before_sending, write_error};
use crate::diagnostic::Diagnostics;
use crate::evalset::Case;
use crate::result::CaseResult;
use crate::scoring::Scorer;

/// How long in-flight conversations may take to finish after a stop is requested.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// Jobs travel from the feeder to the lanes in batches of this many: handing them over one
/// by one would wake the feeder thread for every job a lane takes.
const JOBS_PER_BATCH: usize = 256;

/// Batches prepared ahead of the conversations in flight: enough that a free lane never
/// waits while the next eval-set file is read, few enough that memory does not grow with
/// the suite.
const BATCHES_AHEAD: usize = 16;

/// The work of one job, given where to tell what happens to it (retries).
pub type Work = Box<
    dyn FnOnce(Events) -> std::pin::Pin<Box<dyn std::future::Future<Output = CaseResult> + Send>>
        + Send,
>;

/// One case × repeat to work on, and the work.
pub struct Job {
    pub case: Arc<Case>,
    pub repeat: u32,
    pub work: Work,
}

/// Jobs as a thread prepares them (reading eval-set files as it goes), at most
/// [`BATCHES_AHEAD`] batches ahead of the lanes. A problem is the feed's last item.
pub struct JobFeed {
    batches: mpsc::Receiver<Vec<Result<Job, Diagnostics>>>,
    /// The batch the lanes are taking jobs from, front first.
    current: std::collections::VecDeque<Result<Job, Diagnostics>>,
}

impl JobFeed {
    async fn next(&mut self) -> Option<Result<Job, Diagnostics>> {
        if self.current.is_empty() {
            self.current = self.batches.recv().await?.into();
        }
        self.current.pop_front()
    }
}

/// Prepares `jobs` on a thread of its own, so reading the next eval-set file never holds
/// up the conversations in flight. The thread ends when the jobs do, at the first
/// problem, or when the runner stops.
pub fn feed(mut jobs: impl Iterator<Item = Result<Job, Diagnostics>> + Send + 'static) -> JobFeed {
    let (tx, rx) = mpsc::channel(BATCHES_AHEAD);
    std::thread::spawn(move || {
        loop {
            let mut batch = Vec::with_capacity(JOBS_PER_BATCH);
            for job in jobs.by_ref() {
                let failed = job.is_err();
                batch.push(job);
                if failed || batch.len() == JOBS_PER_BATCH {
                    break;
                }
            }
            let last = batch.len() < JOBS_PER_BATCH || batch.last().is_some_and(Result::is_err);
            if batch.is_empty() || tx.blocking_send(batch).is_err() || last {
                break;
            }
        }
    });
    JobFeed {
        batches: rx,
        current: Default::default(),
    }
}

/// How [`drive`] ended.
pub enum Ended {
    Finished,
    /// The user stopped the run.
    Interrupted,
    /// The feed could not read an eval-set file as it was checked.
    FeedFailed(Diagnostics),
}

/// What the lanes share.
struct Lanes {
    feed: tokio::sync::Mutex<JobFeed>,
    /// Set on Ctrl-C or a failed feed: no lane takes another job.
    stopping: AtomicBool,
    feed_error: Mutex<Option<Diagnostics>>,
    /// Conversations in flight, for the interruption notice.
    busy: AtomicUsize,
    scorer: Arc<Scorer>,
}

impl Lanes {
    async fn next_job(&self) -> Option<Job> {
        if self.stopping.load(Ordering::Relaxed) {
            return None;
        }
        let next = self.feed.lock().await.next().await;
        if self.stopping.load(Ordering::Relaxed) {
            return None;
        }
        match next {
            Some(Ok(job)) => Some(job),
            Some(Err(problems)) => {
                self.stopping.store(true, Ordering::Relaxed);
                if let Ok(mut slot) = self.feed_error.lock() {
                    slot.get_or_insert(problems);
                }
                None
            }
            None => None,
        }
    }

    /// One lane: jobs one after another until there are none, or the run stops.
    async fn run(self: Arc<Self>, events: Events) {
        while let Some(job) = self.next_job().await {
            self.busy.fetch_add(1, Ordering::Relaxed);
            events.send(RunEvent::Started {
                key: job.case.key.clone(),
                repeat: job.repeat,
            });
            let work = (job.work)(events.clone());
            let result = match AssertUnwindSafe(work).catch_unwind().await {
                Ok(result) => result,
                Err(_) => self.scorer.score(
                    &job.case,
                    job.repeat,
                    failed_before_sending(crate::result::ResultError {
                        message: "evalgate bug: the case's task panicked".into(),
                        source: crate::result::ErrorSource::Evalgate,
                        cause: crate::result::ErrorCause::Internal,
                    }),
                    None,
                ),
            };
            self.busy.fetch_sub(1, Ordering::Relaxed);
            events.send(RunEvent::Finished(Box::new(result)));
        }
    }
}

/// Resolves when the user asks the run to stop (Ctrl-C, or SIGTERM from a CI runner).
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs jobs with bounded concurrency. Every event goes to the results writer (which
/// appends each result to `results.jsonl` as it finishes), the progress display and the
/// tally, in that order.
pub async fn drive(
    dir: &Path,
    planned: u64,
    concurrency: usize,
    quiet: bool,
    scorer: &Arc<Scorer>,
    feed: JobFeed,
    tally: &mut Tally,
) -> Result<Ended, RunError> {
    let started = std::time::Instant::now();
    let mut writer =
        ResultsWriter::create(dir).map_err(write_error(&dir.join(output::RESULTS_FILE)))?;
    let mut progress = Progress::new(planned, quiet);
    let lanes = Arc::new(Lanes {
        feed: tokio::sync::Mutex::new(feed),
        stopping: AtomicBool::new(false),
        feed_error: Mutex::new(None),
        busy: AtomicUsize::new(0),
        scorer: Arc::clone(scorer),
    });
    let (events, mut incoming) = Events::channel();
    let mut running = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        running.spawn(Arc::clone(&lanes).run(events.clone()));
    }
    // The lanes hold the only senders: the channel closes when the last lane is done.
    drop(events);
    let mut report = |event: &RunEvent| -> Result<(), RunError> {
        writer.report(event)?;
        progress.report(event)?;
        tally.report(event)
    };
    let mut stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
        Box::pin(stop_requested());
    let mut interrupted = false;
    loop {
        tokio::select! {
            first = incoming.recv() => {
                // None: every lane is done.
                let Some(first) = first else { break };
                report(&first)?;
                while let Ok(more) = incoming.try_recv() {
                    report(&more)?;
                }
                report(&RunEvent::Settled)?;
            }
            _ = &mut stop => {
                if interrupted {
                    // A second signal, or the grace period is over: abandon what is left,
                    // keeping whatever finished meanwhile.
                    running.abort_all();
                    while running.join_next().await.is_some() {}
                    while let Ok(event) = incoming.try_recv() {
                        report(&event)?;
                    }
                    report(&RunEvent::Settled)?;
                    break;
                }
                interrupted = true;
                lanes.stopping.store(true, Ordering::Relaxed);
                report(&RunEvent::Interrupting {
                    in_flight: lanes.busy.load(Ordering::Relaxed),
                    grace: STOP_GRACE,
                })?;
                stop = Box::pin(async {
                    tokio::select! {
                        _ = stop_requested() => {}
                        _ = tokio::time::sleep(STOP_GRACE) => {}
                    }
                });
            }
        }
    }
    report(&RunEvent::Done)?;
    tally.seconds = Some(started.elapsed().as_secs_f64());
    let feed_error = lanes.feed_error.lock().ok().and_then(|mut e| e.take());
    Ok(match feed_error {
        Some(problems) => Ended::FeedFailed(problems),
        None if interrupted => Ended::Interrupted,
        None => Ended::Finished,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::load_file;
    use crate::language::LanguageDetector;
    use crate::test_support::TempDir;

    fn cases(n: usize) -> Vec<Arc<Case>> {
        let mut yaml = String::from("language: en\ncases:\n");
        for i in 0..n {
            yaml.push_str(&format!(
                "  - id: c{i}\n    stratum: routine\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n"
            ));
        }
        let cases = load_file(Path::new("en.yaml"), &yaml).unwrap();
        cases.into_iter().map(Arc::new).collect()
    }

    fn not_sent() -> crate::result::ResultError {
        crate::result::ResultError {
            message: "not sent".into(),
            source: crate::result::ErrorSource::Bot,
            cause: crate::result::ErrorCause::Connection,
        }
    }

    fn scorer() -> Arc<Scorer> {
        Arc::new(Scorer {
            detector: LanguageDetector::for_languages(&["en".to_string()]),
            handoff: Default::default(),
            refusal: Default::default(),
        })
    }

    /// Drives `jobs` to the end, quietly, `concurrency` at a time.
    async fn drive_all(
        dir: &Path,
        scorer: &Arc<Scorer>,
        jobs: Vec<Result<Job, Diagnostics>>,
        concurrency: usize,
        tally: &mut Tally,
    ) -> Ended {
        let planned = jobs.len() as u64;
        drive(
            dir,
            planned,
            concurrency,
            true,
            scorer,
            feed(jobs.into_iter()),
            tally,
        )
        .await
        .unwrap()
    }

    /// Every job ends as one result line, a panicking one as an error, and no more than
    /// `concurrency` run at once.
    #[tokio::test]
    async fn every_job_once_within_the_concurrency() {
        let dir = TempDir::new("drive-once");
        let scorer = scorer();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<Result<Job, Diagnostics>> = cases(40)
            .into_iter()
            .enumerate()
            .map(|(i, case)| {
                let (scorer, in_flight, most) = (
                    Arc::clone(&scorer),
                    Arc::clone(&in_flight),
                    Arc::clone(&most),
                );
                let for_job = Arc::clone(&case);
                Ok(Job {
                    case,
                    repeat: 0,
                    work: Box::new(move |_| {
                        Box::pin(async move {
                            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(2)).await;
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                            assert!(i != 7, "job 7 fails on purpose");
                            let conversation = failed_before_sending(not_sent());
                            scorer.score(&for_job, 0, conversation, None)
                        })
                    }),
                })
            })
            .collect();
        let mut tally = Tally::new(1);
        let ended = drive_all(&dir, &scorer, jobs, 4, &mut tally).await;
        assert!(matches!(ended, Ended::Finished));
        assert!(
            tally.seconds.is_some_and(|s| s > 0.0),
            "the run phase is timed"
        );
        assert!(most.load(Ordering::SeqCst) <= 4);
        let text = std::fs::read_to_string(dir.join(output::RESULTS_FILE)).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut keys: Vec<&str> = lines.iter().map(|l| l["key"].as_str().unwrap()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!((lines.len(), keys.len()), (40, 40));
        let panicked = lines.iter().find(|l| l["key"] == "en/c7").unwrap();
        assert!(
            panicked["error"].as_str().unwrap().contains("evalgate bug"),
            "{panicked}"
        );
    }

    /// A feed that cannot read its next file stops the run and says why; every job before
    /// the problem, over several batches, is run and kept.
    #[tokio::test]
    async fn a_failed_feed_stops_the_run() {
        let dir = TempDir::new("drive-feed");
        let scorer = scorer();
        let before = JOBS_PER_BATCH * 2 + 3;
        let mut jobs: Vec<Result<Job, Diagnostics>> = cases(before)
            .into_iter()
            .map(|case| {
                let (scorer, for_job) = (Arc::clone(&scorer), Arc::clone(&case));
                Ok(Job {
                    case,
                    repeat: 0,
                    work: Box::new(move |_| {
                        Box::pin(async move {
                            scorer.score(&for_job, 0, failed_before_sending(not_sent()), None)
                        })
                    }),
                })
            })
            .collect();
        jobs.push(Err(Diagnostics(vec![crate::diagnostic::Diagnostic::new(
            Path::new("de.yaml"),
            "changed",
        )])));
        let mut tally = Tally::new(1);
        let ended = drive_all(&dir, &scorer, jobs, 3, &mut tally).await;
        let Ended::FeedFailed(problems) = ended else {
            panic!("the run did not report the failed feed")
        };
        assert!(problems.to_string().contains("de.yaml"));
        let text = std::fs::read_to_string(dir.join(output::RESULTS_FILE)).unwrap();
        assert_eq!(text.lines().count(), before);
    }
}
