//! A calibration session in a real browser: a participant's scoring form beside the
//! conversation, then the closed session with the spread of answers drawn as charts beside
//! their tables, and the agreement. With `SCORELINE_SCREENSHOTS=<dir>` each page is also saved
//! at 1366×768 and 800 px wide, for a person to look at.

use fantoccini::{Client, Locator};
use reqwest::{Method, StatusCode};
use scoreline_app::Actor;
use scoreline_testkit::{Browser, PASSWORD, TestBackend};

use crate::calibrations::Session;

/// Saves the page as `name` at both widths, at the top and scrolled down by `scrolls` screens.
async fn screenshots(client: &Client, name: &str, scrolls: u32) {
    let Ok(dir) = std::env::var("SCORELINE_SCREENSHOTS") else { return };
    for (width, height) in [(1366, 768), (800, 1000)] {
        client.set_window_size(width, height).await.unwrap();
        for screen in 0..=scrolls {
            let script = format!("window.scrollTo(0, {});", screen * (height - 120));
            client.execute(&script, Vec::new()).await.unwrap();
            let png = client.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/{name}-{width}-{screen}.png"), png).unwrap();
        }
    }
    client.set_window_size(1366, 768).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_scores_then_the_closed_session_shows_charts_and_agreement() {
    let session = Session::open(TestBackend::Sqlite).await;
    let scene = &session.scene;
    let test = &scene.test;
    let all_right = [scene.pick(0, 1), scene.pick(1, 1), scene.pick(2, 1)];
    assert_eq!(session.score(0, &all_right, true).await.0, StatusCode::OK);

    let path = format!("/calibrations/{}", session.id);
    let Some(browser) = Browser::start().await else { return };
    let client = &browser.client;
    let second: scoreline_core::UserId = session.participants[1].0.parse().unwrap();
    let email = test.app.get_user(&Actor::System, second).await.unwrap().email;
    browser.sign_in(&test.url(&path), &email, PASSWORD).await;
    // The second participant: the conversation beside the scoring form, nothing of the first's.
    client.wait().for_element(Locator::Css(".card-pane #calibration-score")).await.unwrap();
    assert!(client.find(Locator::Css(".conversation-pane .conversation")).await.is_ok());
    assert!(client.find(Locator::Css("svg.chart")).await.is_err(), "no comparison before the close");
    screenshots(client, "calibration-scoring", 0).await;

    let mixed = [scene.pick(0, 0), scene.pick(1, 1), scene.pick(2, 1)];
    assert_eq!(session.score(1, &mixed, true).await.0, StatusCode::OK);
    let (status, _) = test.call(&scene.supervisor, Method::POST, &session.path("/close"), None).await;
    assert_eq!(status, StatusCode::OK);
    let agreed = serde_json::json!({ "answers": [scene.pick(0, 0), scene.pick(1, 1), scene.pick(2, 1)] });
    let (status, _) =
        test.call(&scene.supervisor, Method::PUT, &session.path("/agreed"), Some(&agreed)).await;
    assert_eq!(status, StatusCode::OK);

    client.goto(&test.url(&path)).await.unwrap();
    let options = client.wait().for_element(Locator::Css("#options-alpha")).await.unwrap();
    assert_eq!(options.text().await.unwrap(), "α = 0.615");
    let scores = client.find(Locator::Css("#scores-alpha")).await.unwrap().text().await.unwrap();
    assert!(scores.starts_with("α = "), "{scores}");
    // A bar chart per question, in the results' style (hatched, each count written), and the
    // score strips with a diamond for the agreed score; each chart named for screen readers.
    let bars = client.find_all(Locator::Css(".question-spread svg.chart g.bar")).await.unwrap();
    assert_eq!(bars.len(), 7, "three questions: 2 + 3 (with N/A) + 2 bars");
    let hatched = client.find(Locator::Css(".question-spread svg.chart g.bar rect")).await.unwrap();
    assert!(hatched.attr("fill").await.unwrap().unwrap_or_default().contains("-hatch)"));
    assert!(client.find(Locator::Css("#scores svg.chart g.marked polygon")).await.is_ok());
    let circles = client.find_all(Locator::Css("#scores svg.chart g.value circle")).await.unwrap();
    assert!(circles.len() >= 2, "a circle per participant's score");
    for chart in client.find_all(Locator::Css("main svg.chart")).await.unwrap() {
        let labelled = chart.attr("aria-labelledby").await.unwrap().unwrap_or_default();
        assert!(labelled.ends_with("-desc"), "{labelled}");
    }
    let deviations = client.find(Locator::Css("#deviations")).await.unwrap().text().await.unwrap();
    assert!(deviations.contains("1 of 3") && deviations.contains("0 of 3"), "{deviations}");
    screenshots(client, "calibration-closed", 3).await;

    for (page, name) in [("/calibrations", "calibrations-list"), ("/calibrations/new", "calibration-new")] {
        client.goto(&test.url(page)).await.unwrap();
        client.wait().for_element(Locator::Css("main h1")).await.unwrap();
        screenshots(client, name, 0).await;
    }
    browser.close().await;
}
