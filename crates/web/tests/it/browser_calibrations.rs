//! A closed calibration session in a real browser: the spread of answers drawn as charts
//! beside their tables, and the agreement. With `SCORELINE_SCREENSHOTS=<dir>` the page is also
//! saved at 1366×768 and 800 px wide, for a person to look at.

use fantoccini::Locator;
use reqwest::{Method, StatusCode};
use scoreline_testkit::TestBackend;

use crate::calibrations::Session;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_session_shows_its_charts_and_agreement() {
    let session = Session::open(TestBackend::Sqlite).await;
    let scene = &session.scene;
    let test = &scene.test;
    let all_right = [scene.pick(0, 1), scene.pick(1, 1), scene.pick(2, 1)];
    assert_eq!(session.score(0, &all_right, true).await.0, StatusCode::OK);
    let mixed = [scene.pick(0, 0), scene.pick(1, 1), scene.pick(2, 1)];
    assert_eq!(session.score(1, &mixed, true).await.0, StatusCode::OK);
    let (status, _) = test.call(&scene.supervisor, Method::POST, &session.path("/close"), None).await;
    assert_eq!(status, StatusCode::OK);
    let agreed = serde_json::json!({ "answers": [scene.pick(0, 0), scene.pick(1, 1), scene.pick(2, 1)] });
    let (status, _) =
        test.call(&scene.supervisor, Method::PUT, &session.path("/agreed"), Some(&agreed)).await;
    assert_eq!(status, StatusCode::OK);

    let path = format!("/calibrations/{}", session.id);
    let Some((_, browser)) = test.browser_as("global_admin", &path).await else { return };
    let client = &browser.client;
    let options = client.wait().for_element(Locator::Css("#options-alpha")).await.unwrap();
    assert_eq!(options.text().await.unwrap(), "α = 0.615");
    let scores = client.find(Locator::Css("#scores-alpha")).await.unwrap().text().await.unwrap();
    assert!(scores.starts_with("α = "), "{scores}");
    // A bar chart per question, the score strip with a diamond for the agreed score.
    let bars = client.find_all(Locator::Css(".question-spread svg.chart rect.chart-bar")).await.unwrap();
    assert_eq!(bars.len(), 7, "three questions: 2 + 3 (with N/A) + 2 bars");
    assert!(client.find(Locator::Css("#scores svg.chart polygon.chart-agreed")).await.is_ok());
    let deviations = client.find(Locator::Css("#deviations")).await.unwrap().text().await.unwrap();
    assert!(deviations.contains("1 of 3") && deviations.contains("0 of 3"), "{deviations}");

    if let Ok(dir) = std::env::var("SCORELINE_SCREENSHOTS") {
        for (width, height, name) in
            [(1366, 768, "calibration-closed-1366"), (800, 1000, "calibration-closed-800")]
        {
            client.set_window_size(width, height).await.unwrap();
            let png = client.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
        }
        for (width, height, name) in
            [(1366, 768, "calibrations-list-1366"), (800, 1000, "calibrations-list-800")]
        {
            client.goto(&test.url("/calibrations")).await.unwrap();
            client.wait().for_element(Locator::Css("#period")).await.unwrap();
            client.set_window_size(width, height).await.unwrap();
            std::fs::write(format!("{dir}/{name}.png"), client.screenshot().await.unwrap()).unwrap();
        }
    }
    browser.close().await;
}
