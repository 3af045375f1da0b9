//! The flash message: what a form post says on the page it redirects to ("Settings saved."),
//! carried in a sealed cookie (never in the URL), shown once, and gone on reload.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::WebState;
use crate::extract::cookie;

const COOKIE: &str = "scoreline_flash";
/// A message nobody saw within this time is stale.
const MAX_AGE_SECS: u32 = 300;

/// The flash message a request brought, if any; [`Flash::take`] marks it shown.
#[derive(Clone, Default)]
pub struct Flash(Option<Arc<Pending>>);

struct Pending {
    message: String,
    shown: AtomicBool,
}

impl Flash {
    pub fn take(&self) -> Option<&str> {
        let pending = self.0.as_ref()?;
        pending.shown.store(true, Ordering::Relaxed);
        Some(&pending.message)
    }

    fn was_shown(&self) -> bool {
        self.0.as_ref().is_some_and(|pending| pending.shown.load(Ordering::Relaxed))
    }
}

/// Put on a response (by [`super::form::Done`]) to leave a message for the next page.
#[derive(Clone)]
pub struct SetFlash(pub String);

/// Opens the flash cookie for the page, and afterwards seals a new message into it, or clears
/// it once a page showed it (or when it cannot be read).
pub async fn carry(State(state): State<WebState>, mut request: Request, next: Next) -> Response {
    let sealed = cookie(request.headers(), COOKIE).map(str::to_owned);
    let opened = sealed.as_deref().and_then(|sealed| state.app.open_note(sealed));
    let unreadable = sealed.is_some() && opened.is_none();
    let flash = Flash(opened.map(|message| Arc::new(Pending { message, shown: AtomicBool::new(false) })));
    request.extensions_mut().insert(flash.clone());
    let mut response = next.run(request).await;
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let set = match response.extensions_mut().remove::<SetFlash>() {
        Some(SetFlash(message)) => match state.app.seal_note(&message) {
            Ok(sealed) => Some(format!(
                "{COOKIE}={sealed}; Path=/; HttpOnly; SameSite=Lax; Max-Age={MAX_AGE_SECS}{secure}"
            )),
            Err(error) => {
                tracing::warn!(error = %error, "the flash message could not be sealed");
                None
            }
        },
        None if flash.was_shown() || unreadable => {
            Some(format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"))
        }
        None => None,
    };
    if let Some(value) = set.and_then(|cookie| HeaderValue::from_str(&cookie).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
