//! Progress on standard error for long work, drawn only on a terminal:
//! off a terminal nothing is printed, so logs and pipes stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

fn on_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// A ticking line in `template`, or nothing off a terminal.
fn ticking(template: &str, message: String) -> ProgressBar {
    if !on_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A spinner with a message, for work whose length is unknown.
pub fn spinner(message: String) -> ProgressBar {
    ticking("{spinner} {msg} {elapsed}", message)
}

/// A byte counter for a download, a bar once its size is known.
pub fn download(message: String) -> ProgressBar {
    ticking("{spinner} {msg} {bytes} {elapsed}", message)
}

/// Reports `received` of `expected` bytes on a `download` bar.
pub fn advance(bar: &ProgressBar, received: u64, expected: Option<u64>) {
    if let Some(total) = expected
        && bar.length() != Some(total)
    {
        bar.set_length(total);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {eta}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
    }
    bar.set_position(received);
}
