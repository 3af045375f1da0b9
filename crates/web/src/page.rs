//! The page pattern every HTML page follows: the signed-in [`PageActor`], the [`Layout`] around
//! the page with navigation from the actor's permissions and the flash message, one form
//! outcome ([`form::answer`]), field macros (`templates/forms.html`) and readable times.

pub mod browse;
pub mod flash;
pub mod form;
pub mod time;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use scoreline_app::Actor;
use scoreline_core::{Permission, SessionId, Timestamp};

use crate::WebState;
use crate::error::ApiError;
use crate::extract::session_cookie;
use flash::Flash;
use time::When;

/// The signed-in person of a page; anyone else is sent to the sign-in page.
pub struct PageActor {
    pub actor: Actor,
    /// The session, for flows bound to it (OAuth).
    pub session_id: SessionId,
    path: String,
    now: Timestamp,
    flash: Flash,
}

impl PageActor {
    /// The moment the request arrived, by the app's clock.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The chrome around the page: who is signed in, the navigation, the flash message.
    pub fn layout(&self) -> Layout {
        let (user_name, role_label) = match self.actor.user() {
            Some(user) => (user.name.clone(), user.role.label()),
            None => ("system".to_owned(), "Operator"),
        };
        Layout {
            user_name,
            role_label,
            nav: nav_for(&self.actor, &self.path),
            now: self.now,
            flash: self.flash.clone(),
        }
    }
}

impl FromRequestParts<WebState> for PageActor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let found = match session_cookie(&parts.headers) {
            Some(session) => {
                state.app.session(&session).await.map_err(|e| ApiError::from(e).into_response())?
            }
            None => None,
        };
        let Some((session_id, actor)) = found else { return Err(sign_in_redirect(parts)) };
        Ok(Self {
            actor,
            session_id,
            path: parts.uri.path().to_owned(),
            now: state.app.clock().now(),
            flash: parts.extensions.get::<Flash>().cloned().unwrap_or_default(),
        })
    }
}

/// To the sign-in page, and back here afterwards. An htmx request is told to send the whole
/// window there, so the sign-in page does not land inside a fragment.
fn sign_in_redirect(parts: &Parts) -> Response {
    let next = match parts.headers.get("hx-current-url").and_then(|v| v.to_str().ok()) {
        Some(page) if is_htmx(&parts.headers) => url::Url::parse(page)
            .map(|url| format!("{}{}", url.path(), url.query().map(|q| format!("?{q}")).unwrap_or_default()))
            .unwrap_or_else(|_| "/".to_owned()),
        _ => parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned(),
    };
    let target = format!(
        "/sign-in?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    if is_htmx(&parts.headers) {
        let location =
            HeaderValue::from_str(&target).unwrap_or_else(|_| HeaderValue::from_static("/sign-in"));
        return (StatusCode::UNAUTHORIZED, [("hx-redirect", location)]).into_response();
    }
    Redirect::to(&target).into_response()
}

/// Whether htmx sent the request, wanting a fragment rather than a whole page.
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|value| value == "true")
}

/// `1 agent`, `3 agents`: a count with the word that goes with it.
pub fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// What `templates/app.html` draws around every signed-in page.
pub struct Layout {
    pub user_name: String,
    pub role_label: &'static str,
    pub nav: Vec<NavGroup>,
    now: Timestamp,
    flash: Flash,
}

impl Layout {
    /// The message left by the form posted just before, shown once: rendering it here clears
    /// it for the next request.
    pub fn flash(&self) -> Option<&str> {
        self.flash.take()
    }

    /// The moment the page is drawn.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// A time as pages show it: how long ago, and when.
    pub fn when(&self, at: impl Moment) -> When {
        When::new(at.moment(), self.now)
    }
}

/// A [`Timestamp`], however many references templates wrap it in.
pub trait Moment {
    fn moment(&self) -> Timestamp;
}

impl Moment for Timestamp {
    fn moment(&self) -> Timestamp {
        *self
    }
}

impl<T: Moment + ?Sized> Moment for &T {
    fn moment(&self) -> Timestamp {
        (**self).moment()
    }
}

/// One entry of the main navigation: shown to whoever holds `needs`, marked as the current page
/// on every path under `prefix`. Adding a page to the navigation is one line here.
struct NavEntry {
    /// The drop-down menu and the heading in it, or `None` for a link in the bar.
    menu: Option<(&'static str, &'static str)>,
    label: &'static str,
    href: &'static str,
    needs: Permission,
    prefix: &'static str,
}

const NAV: [NavEntry; 10] = [
    NavEntry { menu: None, label: "My work", href: "/work", needs: Permission::Evaluate, prefix: "/work" },
    NavEntry {
        menu: Some(("Score", "Interactions")),
        label: "View Integrations",
        href: "/interactions/integrations",
        needs: Permission::ManageIntegrations,
        prefix: "/interactions/",
    },
    NavEntry {
        menu: Some(("Score", "Interactions")),
        label: "Cases",
        href: "/cases",
        needs: Permission::ViewCases,
        prefix: "/cases",
    },
    NavEntry {
        menu: Some(("Score", "Interactions")),
        label: "Lists",
        href: "/lists",
        needs: Permission::ManageLists,
        prefix: "/lists",
    },
    NavEntry { menu: None, label: "Staff", href: "/users", needs: Permission::ViewStaff, prefix: "/users" },
    NavEntry {
        menu: None,
        label: "Groups and teams",
        href: "/teams",
        needs: Permission::ViewStaff,
        prefix: "/teams",
    },
    NavEntry {
        menu: Some(("Score", "Scorecards")),
        label: "Scorecards",
        href: "/score/scorecards",
        needs: Permission::ManageScorecards,
        prefix: "/score/scorecards",
    },
    NavEntry {
        menu: Some(("Score", "Evaluations")),
        label: "Evaluations",
        href: "/evaluations",
        needs: Permission::ViewOwnEvaluations,
        prefix: "/evaluations",
    },
    NavEntry {
        menu: Some(("Score", "Results")),
        label: "Results",
        href: "/results",
        needs: Permission::ViewOwnEvaluations,
        prefix: "/results",
    },
    NavEntry {
        menu: Some(("Score", "Calibration")),
        label: "Calibration",
        href: "/calibrations",
        needs: Permission::Evaluate,
        prefix: "/calibrations",
    },
];

/// The links of one menu (wherever its entries stand in [`NAV`]), or consecutive links of the bar.
pub struct NavGroup {
    pub menu: Option<&'static str>,
    pub links: Vec<NavLink>,
}

impl NavGroup {
    /// Whether the current page is in this group, to show its menu as current.
    pub fn has_current(&self) -> bool {
        self.links.iter().any(|link| link.current)
    }
}

pub struct NavLink {
    /// The menu heading this link starts, if it is the first under it.
    pub heading: Option<&'static str>,
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

fn nav_for(actor: &Actor, path: &str) -> Vec<NavGroup> {
    let mut groups: Vec<NavGroup> = Vec::new();
    let mut headings: Vec<(&str, &str)> = Vec::new();
    for entry in NAV.iter().filter(|entry| actor.can(entry.needs)) {
        let heading = entry.menu.filter(|menu| !headings.contains(menu));
        headings.extend(heading);
        let link = NavLink {
            heading: heading.map(|(_, heading)| heading),
            label: entry.label,
            href: entry.href,
            current: path.starts_with(entry.prefix),
        };
        let menu = entry.menu.map(|(menu, _)| menu);
        let group = match menu {
            Some(name) => groups.iter_mut().find(|group| group.menu == Some(name)),
            None => groups.last_mut().filter(|group| group.menu.is_none()),
        };
        match group {
            Some(group) => group.links.push(link),
            None => groups.push(NavGroup { menu, links: vec![link] }),
        }
    }
    groups
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
    pub request_id: String,
}

#[cfg(test)]
mod tests {
    use scoreline_core::Role;

    use super::*;

    fn actor(role: Role) -> Actor {
        let user = scoreline_core::User {
            id: scoreline_core::UserId::new(),
            email: "a@example.com".to_owned(),
            name: "A".to_owned(),
            role,
            active: true,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        };
        // Navigation follows the role only; the scope does not matter here.
        Actor::User { user, scope: scoreline_core::Scope::Everything }
    }

    #[test]
    fn navigation_follows_permissions_and_marks_the_current_page() {
        let admin = nav_for(&actor(Role::GlobalAdmin), "/interactions/integrations/x/users");
        // Each group as "menu: link, link", the current link starred.
        let shape: Vec<String> = admin
            .iter()
            .map(|group| {
                let links: Vec<String> = group
                    .links
                    .iter()
                    .map(|l| format!("{}{}", l.label, if l.current { "*" } else { "" }))
                    .collect();
                format!("{}: {}", group.menu.unwrap_or("bar"), links.join(", "))
            })
            .collect();
        assert_eq!(
            shape,
            [
                "bar: My work",
                "Score: View Integrations*, Cases, Lists, Scorecards, Evaluations, Results, Calibration",
                "bar: Staff, Groups and teams"
            ]
        );
        let employee = nav_for(&actor(Role::Employee), "/cases/x");
        assert_eq!(employee.len(), 1);
        assert_eq!(
            employee[0].links.iter().map(|l| (l.label, l.current)).collect::<Vec<_>>(),
            [("Cases", true), ("Evaluations", false), ("Results", false)]
        );
    }
}
