//! Asking for what the command line did not give: on a terminal only, so a
//! script never hangs on a question it cannot see.

use crate::error::{CliError, CliResult};
use std::io::{BufRead, IsTerminal, Write};

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The first line of standard input, without its line break.
pub fn stdin_line() -> CliResult<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// A secret: from standard input when `from_stdin`, else asked without echo
/// on a terminal; off a terminal without `from_stdin` it is a usage error
/// naming `flag`.
pub fn secret(prompt: &str, from_stdin: bool, flag: &str) -> CliResult<String> {
    let value = if from_stdin {
        stdin_line()?
    } else if interactive() {
        rpassword::prompt_password(prompt)?
    } else {
        return Err(CliError::usage(format!("no terminal to ask on: pass {flag}")));
    };
    if value.is_empty() {
        return Err(CliError::usage(format!("{} is empty", prompt.trim_end_matches([':', ' ']).to_lowercase())));
    }
    Ok(value)
}

/// A value asked on a terminal (shown as typed); off a terminal a usage
/// error naming `flag`.
pub fn line(prompt: &str, flag: &str) -> CliResult<String> {
    if !interactive() {
        return Err(CliError::usage(format!("no terminal to ask on: pass {flag}")));
    }
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let value = stdin_line()?.trim().to_owned();
    if value.is_empty() {
        return Err(CliError::usage(format!("{} is empty", prompt.trim_end_matches([':', ' ']).to_lowercase())));
    }
    Ok(value)
}
