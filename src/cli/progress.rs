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
