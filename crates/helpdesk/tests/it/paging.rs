//! Cursor paging as sent and read, and the guard against a cursor that does not advance.

use futures::TryStreamExt;
use scoreline_core::Timestamp;
use scoreline_helpdesk::{ErrorKind, HelpDeskError, TicketCursor, TicketPage, TicketQuery};
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{pat_client, ticket_json};

#[tokio::test]
async fn pages_follow_the_cursor_of_the_last_ticket_and_stop_on_a_short_page() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/tickets"))
        .and(query_param("sortBy", "updatedAt"))
        .and(query_param("order", "asc"))
        .and(query_param("pageSize", "2"))
        .and(query_param_is_missing("next.ID"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-total-pages", "2")
                .insert_header("x-total-results", "3")
                .set_body_json(json!([
                    ticket_json("t1", "2024-05-02T10:00:00.000Z"),
                    ticket_json("t2", "2024-05-02T10:00:01.250Z"),
                ])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/tickets"))
        .and(query_param("next.value", "2024-05-02T10:00:01.250Z"))
        .and(query_param("next.ID", "t2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([ticket_json("t3", "2024-05-02T10:00:02Z")])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let query = TicketQuery::default().page_size(2).unwrap();
    let pages: Vec<TicketPage> = pat_client(&server.uri()).list_tickets(query).try_collect().await.unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].cursor, None);
    assert_eq!((pages[0].total_pages, pages[0].total_results), (Some(2), Some(3)));
    let cursor = pages[0].next_cursor.clone().unwrap();
    assert_eq!(cursor.id, "t2");
    assert_eq!(pages[1].cursor.as_ref(), Some(&cursor));
    assert_eq!(pages[1].next_cursor, None);
    let ids: Vec<&str> =
        pages.iter().flat_map(|page| page.tickets.iter().map(|ticket| ticket.id.as_str())).collect();
    assert_eq!(ids, ["t1", "t2", "t3"]);
}

#[tokio::test]
async fn a_listing_resumes_after_a_stored_cursor() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/tickets"))
        .and(query_param("next.value", "2024-05-02T10:00:00.000Z"))
        .and(query_param("next.ID", "t9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let cursor =
        TicketCursor { value: Timestamp::parse_rfc3339("2024-05-02T10:00:00Z").unwrap(), id: "t9".into() };
    // A checkpoint survives a round trip through JSON.
    let stored = serde_json::to_string(&cursor).unwrap();
    let cursor: TicketCursor = serde_json::from_str(&stored).unwrap();
    let pages: Vec<TicketPage> = pat_client(&server.uri())
        .list_tickets(TicketQuery::default().after(cursor.clone()))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].tickets.is_empty());
    assert_eq!(pages[0].cursor, Some(cursor));
}

#[tokio::test]
async fn a_server_that_ignores_the_cursor_is_detected_instead_of_looped_on() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/tickets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            ticket_json("t1", "2024-05-02T10:00:00.000Z"),
            ticket_json("t2", "2024-05-02T10:00:01.000Z"),
        ])))
        .mount(&server)
        .await;
    let query = TicketQuery::default().page_size(2).unwrap();
    let error = pat_client(&server.uri()).list_tickets(query).try_collect::<Vec<_>>().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RepeatedCursor);
    assert!(error.to_string().contains("next.ID=t2"), "{error}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_page_that_goes_back_in_the_sort_order_is_detected() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/tickets"))
        .and(query_param_is_missing("next.ID"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([ticket_json("t1", "2024-05-02T10:00:05.000Z"),])),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v1/tickets"))
        .and(query_param("next.ID", "t1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([ticket_json("t0", "2024-05-02T10:00:00.000Z"),])),
        )
        .mount(&server)
        .await;
    let query = TicketQuery::default().page_size(1).unwrap();
    let pages = pat_client(&server.uri()).list_tickets(query);
    let mut pages = std::pin::pin!(pages);
    assert_eq!(pages.try_next().await.unwrap().unwrap().tickets.len(), 1);
    let error = pages.try_next().await.unwrap_err();
    assert!(matches!(error, HelpDeskError::RepeatedCursor { .. }), "{error:?}");
    assert!(pages.try_next().await.unwrap().is_none(), "an error ends the stream");
}

#[tokio::test]
async fn page_sizes_outside_1_to_100_are_refused_before_sending() {
    for size in [0, 101] {
        let error = TicketQuery::default().page_size(size).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Permanent);
        assert!(error.to_string().contains("page size"), "{error}");
    }
}

#[tokio::test]
async fn a_page_out_of_sort_order_is_fetched_again() {
    let server = MockServer::start().await;
    let (early, late) =
        (ticket_json("t1", "2024-05-02T10:00:00.000Z"), ticket_json("t2", "2024-05-02T10:00:01.000Z"));
    let recorder = crate::support::Recorder::new([
        ResponseTemplate::new(200).set_body_json(json!([late.clone(), early.clone()])),
        ResponseTemplate::new(200).set_body_json(json!([early, late])),
    ]);
    Mock::given(path("/v1/tickets")).respond_with(recorder.clone()).mount(&server).await;
    let query = TicketQuery::default().page_size(3).unwrap();
    let pages: Vec<TicketPage> = pat_client(&server.uri()).list_tickets(query).try_collect().await.unwrap();
    assert_eq!(recorder.count(), 2);
    assert_eq!(pages[0].tickets[0].id, "t1");
}
