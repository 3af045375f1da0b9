//! Short notes the server hands a browser and reads back on its next request (the message
//! shown after a form was saved). Sealed with the installation's key, so every server of the
//! installation reads them and nobody else can read or forge one.

use secrecy::ExposeSecret;

use crate::{App, AppResult};

/// Binds sealed notes to their use: a note can never pass for a sealed credential, or back.
const ASSOCIATED_DATA: &str = "browser-note";

impl App {
    pub fn seal_note(&self, text: &str) -> AppResult<String> {
        Ok(self.sealer().seal(text, ASSOCIATED_DATA)?)
    }

    /// The note, or `None` when it was not sealed here (forged, damaged, or another key's).
    pub fn open_note(&self, sealed: &str) -> Option<String> {
        let text = self.sealer().unseal(sealed, ASSOCIATED_DATA).ok()?;
        Some(text.expose_secret().to_owned())
    }
}
