//! Where the commands' output goes: standard output or a file, and how a
//! report looks there (colour, width). Never what a report says.

use std::io::Write;
use std::path::Path;

use crate::app;
use crate::error::{Error, Result};
use crate::report::RenderOptions;

/// How a report looks on a terminal (`to_terminal`) or in a CI log.
pub(super) fn render_options(to_terminal: bool) -> RenderOptions {
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    RenderOptions {
        color,
        // A CI log is wide and no terminal to ask: `COLUMNS`, else 120.
        width: if to_terminal {
            None
        } else {
            Some(
                std::env::var("COLUMNS")
                    .ok()
                    .and_then(|c| c.trim().parse::<u16>().ok())
                    .map_or(120, |c| c.max(60)),
            )
        },
        ..RenderOptions::default()
    }
}

/// Writes to the output file, or stdout; a closed pipe (`| head`) is not an error.
pub(super) fn emit(output: Option<&Path>, buf: &[u8]) -> Result<()> {
    match output {
        Some(path) => app::write_output(path, buf),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(buf).and_then(|_| stdout.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Error::io("<stdout>", e)),
                Ok(()) => Ok(()),
            }
        }
    }
}
