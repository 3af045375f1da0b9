//! Cursor paging over ties, legacy pages, sort orders, filters, half-open and relative dates.

use std::collections::HashSet;
use std::time::Duration;

use scoreline_helpdesk_sim::{Silo, SimConfig};
use serde_json::Value;

use crate::common::{Api, after, new_ticket, query, spawn, with_tickets};

fn ids_in(api: &Api, silo: Silo) -> Vec<String> {
    api.sim.truth().into_iter().filter(|row| row.silo == silo).map(|row| row.id.to_string()).collect()
}

#[tokio::test]
async fn cursor_paging_by_updated_at_visits_every_ticket_once_across_ties() {
    let api = spawn(with_tickets(3000)).await;
    let expected = ids_in(&api, Silo::Tickets);
    let asc = query(&[("sortBy", "updatedAt"), ("order", "asc")]);
    for page_size in [7, 99, 100] {
        let seen = api.page_all(&asc, page_size).await;
        assert_eq!(seen, expected, "pageSize {page_size}");
    }
    let desc = query(&[("sortBy", "updatedAt"), ("order", "desc")]);
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(api.page_all(&desc, 100).await, reversed);
}

#[tokio::test]
async fn cursor_paging_ends_right_when_the_total_is_near_a_page_multiple() {
    for total in [99, 100, 101, 199, 200, 201] {
        let api = spawn(with_tickets(0)).await;
        for n in 0..total {
            // A fixed clock gives every ticket the same createdAt and updatedAt: one big tie.
            api.sim.create_ticket(&new_ticket(&format!("c{n}@example.com"))).unwrap();
        }
        for sort_by in ["updatedAt", "createdAt", "lastMessageAt"] {
            for order in ["asc", "desc"] {
                let seen = api.page_all(&query(&[("sortBy", sort_by), ("order", order)]), 100).await;
                let unique: HashSet<_> = seen.iter().collect();
                assert_eq!(seen.len(), total, "{total} by {sort_by} {order}");
                assert_eq!(unique.len(), total);
            }
        }
        let (_, headers) = api.list(&query(&[("pageSize", "100")])).await;
        assert_eq!(headers["x-total-results"], total.to_string().as_str());
        assert_eq!(headers["x-total-pages"], total.div_ceil(100).to_string().as_str());
    }
}

#[tokio::test]
async fn legacy_page_numbers_cover_the_same_tickets() {
    let api = spawn(with_tickets(1000)).await;
    let expected = ids_in(&api, Silo::Tickets);
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let (items, headers) = api
            .list(&query(&[
                ("sortBy", "updatedAt"),
                ("order", "asc"),
                ("pageSize", "100"),
                ("page", &page.to_string()),
            ]))
            .await;
        let pages: usize = headers["x-total-pages"].to_str().unwrap().parse().unwrap();
        assert_eq!(pages, expected.len().div_ceil(100));
        seen.extend(items.iter().map(|item| item["ID"].as_str().unwrap().to_owned()));
        if page >= pages {
            break;
        }
        page += 1;
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn prev_cursor_returns_the_preceding_page() {
    let api = spawn(with_tickets(500)).await;
    let base = [("sortBy", "updatedAt"), ("order", "asc"), ("pageSize", "50")];
    let (first, _) = api.list(&query(&base)).await;
    let next = after(&query(&base), first.last().unwrap(), "updatedAt");
    let (second, _) = api.list(&next).await;
    let head = &second[0];
    let mut prev = query(&base);
    prev.push(("prev.value", head["updatedAt"].as_str().unwrap().to_owned()));
    prev.push(("prev.ID", head["ID"].as_str().unwrap().to_owned()));
    let (back, _) = api.list(&prev).await;
    assert_eq!(back, first);
}

#[tokio::test]
async fn bad_paging_parameters_are_refused() {
    let api = spawn(with_tickets(50)).await;
    let (items, _) = api.list(&[]).await;
    assert_eq!(items.len(), 20, "default pageSize");
    for bad in [
        vec![("pageSize", "0")],
        vec![("pageSize", "101")],
        vec![("sortBy", "priority")],
        vec![("order", "up")],
        vec![("next.value", "2026-01-01T00:00:00Z")],
        vec![
            ("next.value", "2026-01-01T00:00:00Z"),
            ("next.ID", "0c04cb99-817a-4935-9d62-137c89a74388"),
            ("prev.value", "2026-01-01T00:00:00Z"),
            ("prev.ID", "0c04cb99-817a-4935-9d62-137c89a74388"),
        ],
        vec![("updatedDateFrom", "last tuesday")],
        vec![("silo", "drafts")],
    ] {
        let response = api.get("/v1/tickets").query(&bad).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
}

/// Every ticket of the `tickets` silo, fully rendered.
async fn all_tickets(api: &Api) -> Vec<Value> {
    api.sim
        .truth()
        .into_iter()
        .filter(|row| row.silo == Silo::Tickets)
        .filter_map(|row| api.sim.ticket_json(row.id))
        .collect()
}

async fn count(api: &Api, pairs: &[(&'static str, &str)]) -> usize {
    let mut pairs = query(pairs);
    pairs.push(("pageSize", "1".to_owned()));
    let (_, headers) = api.list(&pairs).await;
    headers["x-total-results"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn date_ranges_are_half_open() {
    let api = spawn(with_tickets(1000)).await;
    let tickets = all_tickets(&api).await;
    let mut by_time = std::collections::HashMap::<String, usize>::new();
    for ticket in &tickets {
        *by_time.entry(ticket["updatedAt"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let (tie, size) = by_time.iter().max_by_key(|(_, size)| **size).unwrap();
    assert!(*size > 100);
    let tie_millis = scoreline_core::Timestamp::parse_rfc3339(tie).unwrap();
    let just_after = tie_millis.saturating_add(Duration::from_millis(1)).to_rfc3339();
    assert_eq!(count(&api, &[("updatedDateFrom", tie), ("updatedDateTo", &just_after)]).await, *size);
    assert_eq!(count(&api, &[("updatedDateFrom", tie), ("updatedDateTo", tie)]).await, 0);
    let below = tickets.iter().filter(|t| t["updatedAt"].as_str().unwrap() < tie.as_str()).count();
    assert_eq!(count(&api, &[("updatedDateTo", tie)]).await, below);
    assert_eq!(count(&api, &[("updatedDateFrom", tie)]).await, tickets.len() - below);

    let from = "2026-01-05T00:00:00.000Z";
    let to = "2026-01-10T00:00:00.000Z";
    let inside = tickets.iter().filter(|t| (from..to).contains(&t["createdAt"].as_str().unwrap())).count();
    assert!(inside > 0);
    assert_eq!(count(&api, &[("createdDateFrom", from), ("createdDateTo", to)]).await, inside);
    // Second-precision timestamps without a fraction are accepted too.
    assert_eq!(
        count(
            &api,
            &[("createdDateFrom", "2026-01-05T00:00:00Z"), ("createdDateTo", "2026-01-10T00:00:00Z")]
        )
        .await,
        inside
    );
}

#[tokio::test]
async fn relative_dates_count_from_sim_now() {
    let api = spawn(with_tickets(1000)).await;
    // Sim now is 2026-01-15T09:00:00.000Z.
    let pairs = [
        ("-2d", "2026-01-13T09:00:00.000Z"),
        ("-0D", "2026-01-15T00:00:00.000Z"),
        ("-1D", "2026-01-14T00:00:00.000Z"),
        ("-0M", "2026-01-01T00:00:00.000Z"),
        ("-5h", "2026-01-15T04:00:00.000Z"),
        ("-1m", "2025-12-15T09:00:00.000Z"),
    ];
    for (relative, absolute) in pairs {
        assert_eq!(
            count(&api, &[("updatedDateFrom", relative)]).await,
            count(&api, &[("updatedDateFrom", absolute)]).await,
            "{relative}"
        );
    }
    let id = api.sim.create_ticket(&crate::common::new_ticket("new@example.com")).unwrap();
    let recent = || async { api.list(&query(&[("updatedDateFrom", "-10n"), ("pageSize", "100")])).await.0 };
    let has = |items: &[Value]| items.iter().any(|item| item["ID"] == id.to_string());
    assert!(has(&recent().await));
    api.sim.clock().advance(Duration::from_secs(11 * 60));
    assert!(!has(&recent().await));
}

#[tokio::test]
async fn filters_select_what_they_name() {
    let api = spawn(with_tickets(1000)).await;
    let tickets = all_tickets(&api).await;
    let matching = |check: &dyn Fn(&Value) -> bool| tickets.iter().filter(|t| check(t)).count();
    assert_eq!(count(&api, &[("status", "solved")]).await, matching(&|t| t["status"] == "solved"));
    assert_eq!(count(&api, &[("priority", "20")]).await, matching(&|t| t["priority"] == 20));
    assert_eq!(count(&api, &[("hasAssignee", "N")]).await, matching(&|t| t["assignment"]["agent"].is_null()));
    let teams = api.json("/v1/teams").await;
    let (a, b) = (teams[0]["ID"].as_str().unwrap(), teams[1]["ID"].as_str().unwrap());
    let in_teams = matching(&|t| t["teamIDs"].as_array().unwrap().iter().any(|id| id == a || id == b));
    assert_eq!(count(&api, &[("teamIDs[]", a), ("teamIDs[]", b)]).await, in_teams);
    assert_eq!(count(&api, &[("teamIDs[]", &format!("{a},{b}"))]).await, in_teams);
    // Without the brackets HelpDesk ignores the filter.
    assert_eq!(count(&api, &[("teamIDs", a)]).await, tickets.len());
    assert_eq!(count(&api, &[("silo", "inbox")]).await, tickets.len());
    let archived = api.sim.truth().iter().filter(|row| row.silo == Silo::Archive).count();
    assert_eq!(count(&api, &[("silo", "archive")]).await, archived);
    let subject = tickets[0]["shortID"].as_str().unwrap();
    assert_eq!(count(&api, &[("shortID", subject)]).await, 1);
}

#[tokio::test]
async fn sorting_by_created_at_is_the_default_newest_first() {
    let api = spawn(SimConfig { tickets: 300, ..SimConfig::default() }).await;
    let (items, _) = api.list(&query(&[("pageSize", "100")])).await;
    let created: Vec<&str> = items.iter().map(|t| t["createdAt"].as_str().unwrap()).collect();
    let mut sorted = created.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted);
    let (items, _) =
        api.list(&query(&[("sortBy", "lastMessageAt"), ("order", "asc"), ("pageSize", "100")])).await;
    let last: Vec<&str> = items.iter().map(|t| t["lastMessageAt"].as_str().unwrap()).collect();
    assert!(last.windows(2).all(|pair| pair[0] <= pair[1]));
}
