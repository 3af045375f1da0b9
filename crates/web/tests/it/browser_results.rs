//! Results in a real browser: the results page and an agent's page render their charts (inline
//! SVG with titles) and the figures beside them. With `SCORELINE_SCREENSHOTS=<folder>`,
//! the pages are also saved there at 1366×768 and 800 px wide, to look at.

use fantoccini::{Client, Locator};
use scoreline_testkit::TestBackend;

use crate::results::World;

/// The text of `selector`, its runs of white space (line breaks of tiles and cells) as one space.
async fn text(client: &Client, selector: &str) -> String {
    let text = client.wait().for_element(Locator::Css(selector)).await.unwrap().text().await.unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Saves the page at both widths when asked to.
pub async fn screenshots(client: &Client, name: &str) {
    let Ok(folder) = std::env::var("SCORELINE_SCREENSHOTS") else { return };
    std::fs::create_dir_all(&folder).unwrap();
    for (width, height) in [(1366, 768), (800, 1000)] {
        client.set_window_size(width, height).await.unwrap();
        let png = client.screenshot().await.unwrap();
        std::fs::write(format!("{folder}/{name}-{width}.png"), png).unwrap();
        // And the whole page, as tall as it is at that width.
        let tall = client.execute("return document.documentElement.scrollHeight", vec![]).await.unwrap();
        client.set_window_size(width, tall.as_u64().unwrap_or(2000).min(6000) as u32 + 100).await.unwrap();
        let png = client.screenshot().await.unwrap();
        std::fs::write(format!("{folder}/{name}-{width}-full.png"), png).unwrap();
    }
    client.set_window_size(1280, 900).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_results_and_agent_pages_draw_their_charts_beside_their_figures() {
    let w = World::evaluated(TestBackend::Sqlite).await;
    let test = &w.test;
    let path = "/results?from=2026-11-01&to=2026-12-30&interval=week&time_zone=Europe%2FBerlin";
    let Some((_, browser)) = test.browser_as("global_admin", path).await else { return };
    let client = &browser.client;
    client.wait().for_element(Locator::Css("svg#trend")).await.unwrap();
    let title =
        client.find(Locator::Css("svg#trend > title")).await.unwrap().prop("textContent").await.unwrap();
    assert_eq!(title.as_deref(), Some("Average score over time"), "the chart's accessible name");
    // Five weeks from Monday 23 November in Berlin: one marker per week with evaluations.
    let markers = client.find_all(Locator::Css("svg#trend g.point")).await.unwrap();
    assert_eq!(markers.len(), 3, "the weeks of 23 and 30 November and of 7 December");
    let bars = client.find_all(Locator::Css("svg#distribution g.bar")).await.unwrap();
    assert_eq!(bars.len(), 10);
    let distribution = text(client, "#distribution-table").await;
    assert!(distribution.contains("90–100"), "{distribution}");
    let overall = text(client, "#results-overall").await;
    assert!(overall.contains("9 evaluations (1 N/A)"), "{overall}");
    // Ann's weeks, as the API test computes them: 66.67 and then 0.00 with a fail-all and an N/A.
    let table = text(client, "#results-table").await;
    assert!(table.contains("Ann Archer Week of 23 Nov 2026 2 2 66.67"), "{table}");
    assert!(table.contains("Ann Archer Week of 30 Nov 2026 2 1 0.00 0.00 1 1"), "{table}");
    let exports = client.find(Locator::Css("#exports a")).await.unwrap().attr("href").await.unwrap().unwrap();
    assert!(exports.starts_with("/results/export.csv?") && exports.contains("time_zone=Europe%2FBerlin"));
    // The filters line up at 1366 px: both rows in the same columns, every control of a row
    // on one line, whatever help its label carries.
    client.set_window_size(1366, 768).await.unwrap();
    let rect = async |css: &str| {
        client.find(Locator::Css(&format!("#filters {css}"))).await.unwrap().rectangle().await.unwrap()
    };
    let (from, group_by) = (rect("input[name=from]").await, rect("select[name=group_by]").await);
    assert!((from.0 - group_by.0).abs() < 1.0 && (from.2 - group_by.2).abs() < 1.0, "{from:?} {group_by:?}");
    let (per, zone, button) =
        (rect("select[name=interval]").await, rect("input[name=time_zone]").await, rect("button").await);
    let bottom = |r: (f64, f64, f64, f64)| r.1 + r.3;
    assert!((bottom(per) - bottom(zone)).abs() < 1.0, "{per:?} {zone:?}");
    assert!((bottom(zone) - bottom(button)).abs() < 1.0, "{zone:?} {button:?}");
    screenshots(client, "results").await;

    client.find(Locator::LinkText("Ann Archer")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Css("svg#agent-trend")).await.unwrap();
    assert_eq!(text(client, "main h1").await, "Ann Archer");
    assert!(client.find(Locator::Css("svg#weakest g.bar")).await.is_ok());
    let weakest = text(client, "#weakest-table").await;
    assert!(weakest.contains("Signs off politely"), "{weakest}");
    let latest = client.find_all(Locator::Css("#latest tbody tr")).await.unwrap();
    assert_eq!(latest.len(), 4, "Ann's four counted evaluations, newest first");
    screenshots(client, "agent").await;

    // Bob's page lists his dispute, resolved as changed.
    client
        .goto(&test.url(&format!("/results/agents/{}?from=2026-11-01&to=2026-12-30", w.bob.id)))
        .await
        .unwrap();
    let disputes = text(client, "#disputes").await;
    assert!(disputes.contains("changed") && disputes.contains("check Q3"), "{disputes}");

    // The home page of an admin: sync health, lists and open disputes.
    client.goto(&test.url("/")).await.unwrap();
    assert!(text(client, "#home-sync").await.contains("Held back"));
    assert!(text(client, "#home-disputes").await.starts_with("0 open disputes"));
    screenshots(client, "home").await;
    browser.close().await;
}
