//! Output helpers shared by the commands: colour decision and writing.

use std::io::IsTerminal;

use crate::cli::Color;

/// Whether to colour output that goes to standard output.
pub fn use_color(choice: Color, to_file: bool) -> bool {
    match choice {
        Color::Always => !to_file,
        Color::Never => false,
        Color::Auto => {
            !to_file
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}
