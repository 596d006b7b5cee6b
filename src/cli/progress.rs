//! Progress bars of live collections (indicatif), drawn on standard error
//! from what `collect` reports through [`crate::collect::Progress`]. Never
//! drawn when standard error is not a terminal, nor when log lines go
//! there (they would tear the bars apart).

use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::app::ShowProgress;
use crate::collect::Progress;

/// A bar per live environment, one under the other, on a terminal.
pub(super) struct Bars {
    bars: Option<MultiProgress>,
}

impl Bars {
    /// Bars if standard error is a terminal and no logging is set up.
    pub(super) fn for_stderr() -> Self {
        use std::io::IsTerminal;
        Bars {
            bars: (std::io::stderr().is_terminal() && !tracing::dispatcher::has_been_set())
                .then(MultiProgress::new),
        }
    }
}

impl ShowProgress for Bars {
    fn for_env(&self, env: &str) -> Option<Arc<dyn Progress>> {
        let bars = self.bars.as_ref()?;
        let pb = bars.add(ProgressBar::new(0));
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} lists, {msg}")
        {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_prefix(env.to_string());
        Some(Arc::new(Bar(pb)))
    }
}

/// One environment's bar: lists done of lists planned, objects read.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn planned(&self, lists: u64) {
        self.0.inc_length(lists);
    }

    fn listed(&self, objects: Option<usize>) {
        if let Some(n) = objects {
            self.0.set_message(format!("{n} objects"));
        }
        self.0.inc(1);
    }

    fn finished(&self) {
        self.0.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::ProgressDrawTarget;

    #[test]
    fn a_bar_counts_lists_of_the_planned_total_and_the_objects_read() {
        let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        let bar = Bar(pb.clone());
        bar.planned(6);
        bar.listed(Some(4));
        bar.listed(None); // a list that failed moves the bar, not the count
        bar.planned(3); // discovery found optional kinds
        for objects in [9, 12, 12, 20, 21, 21, 23] {
            bar.listed(Some(objects));
        }
        bar.finished();
        assert_eq!((pb.position(), pb.length()), (9, Some(9)));
        assert_eq!(pb.message(), "23 objects");
        assert!(pb.is_finished());
    }

    #[test]
    fn without_a_terminal_no_environment_gets_a_bar() {
        assert!(Bars { bars: None }.for_env("prod").is_none());
        let hidden = Bars {
            bars: Some(MultiProgress::with_draw_target(ProgressDrawTarget::hidden())),
        };
        assert!(hidden.for_env("prod").is_some());
    }
}
