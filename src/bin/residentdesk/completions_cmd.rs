//! `residentdesk completions SHELL` and `residentdesk man`: the shell completion scripts and
//! the roff man page, generated from the same clap definition the CLI parses with, so they
//! never drift from the real commands. Static output: no database, no sign-in, no use case
//! (they touch no data, like `use-cases`). The packages install what these print.

use crate::Cli;
use clap::CommandFactory;
use residentdesk::{AppError, ErrorCode};

/// Prints the completion script for `shell` (bash, zsh, fish, elvish, powershell).
pub fn completions(shell: clap_complete::Shell) -> Result<(), AppError> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "residentdesk", &mut script);
    emit(script)
}

/// Prints the man page (section 1, roff), as `/usr/share/man/man1/residentdesk.1` holds it.
pub fn man() -> Result<(), AppError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("cannot render the man page: {e}")))?;
    emit(page)
}

/// Both generators write UTF-8 text; it goes out through `print!` so a closed pipe
/// (`residentdesk man | head`) ends quietly.
fn emit(bytes: Vec<u8>) -> Result<(), AppError> {
    let text = String::from_utf8(bytes)
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("generated text is not UTF-8: {e}")))?;
    print!("{text}");
    Ok(())
}
