//! Placeholder: being written (issue 2).

use std::path::Path;

use super::{PresentError, Sink};

/// Opens a toplevel window titled after `input`.
pub fn open_window(_input: &Path) -> Result<Box<dyn Sink>, PresentError> {
    Err(PresentError::Wayland("not implemented yet".into()))
}
