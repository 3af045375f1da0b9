//! Retry classification, `Retry-After` in both forms, the account-wide hold, and giving up.

use std::time::Duration;

use scoreline_helpdesk::{ErrorKind, GiveUpReason, HelpDeskClient, HelpDeskError, Transient};
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Recorder, client_with, fast_config, manual_clock, pat_client, pat_credentials};

fn ok_teams() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!([{ "ID": "t1", "name": "Support" }]))
}

fn gave_up(error: &HelpDeskError) -> (u32, GiveUpReason, &Transient) {
    match error {
        HelpDeskError::GaveUp { attempts, reason, last, .. } => (*attempts, *reason, last),
        other => panic!("expected GaveUp, got {other:?}"),
    }
}

async fn serve(server: &MockServer, route: &str, recorder: &Recorder) {
    Mock::given(path(route)).respond_with(recorder.clone()).mount(server).await;
}

#[tokio::test]
async fn server_errors_timeouts_and_bad_bodies_are_retried_until_an_answer() {
    let server = MockServer::start().await;
    let recorder = Recorder::new([
        ResponseTemplate::new(500),
        ResponseTemplate::new(502),
        ResponseTemplate::new(503),
        ResponseTemplate::new(200).set_body_string("[{\"ID\": \"t1\", \"na"),
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/html")
            .set_body_string("<html><body>Bad gateway</body></html>"),
        ResponseTemplate::new(408),
        ok_teams(),
    ]);
    serve(&server, "/v1/teams", &recorder).await;
    let mut config = fast_config(&server.uri());
    config.retry.max_attempts = 10;
    let client = client_with(config, pat_credentials());
    let teams = client.list_teams().await.unwrap();
    assert_eq!(teams[0].id, "t1");
    assert_eq!(recorder.count(), 7);
}

#[tokio::test]
async fn an_attempt_that_takes_too_long_is_timed_out_and_retried() {
    let server = MockServer::start().await;
    let recorder = Recorder::new([ok_teams().set_delay(Duration::from_secs(10)), ok_teams()]);
    serve(&server, "/v1/teams", &recorder).await;
    let mut config = fast_config(&server.uri());
    config.attempt_timeout = Duration::from_secs(1);
    let client = client_with(config, pat_credentials());
    client.list_teams().await.unwrap();
    assert_eq!(recorder.count(), 2);
}

#[tokio::test]
async fn not_implemented_and_other_client_errors_are_not_retried() {
    for status in [501, 400, 404, 422] {
        let server = MockServer::start().await;
        let recorder = Recorder::new([ResponseTemplate::new(status)]);
        serve(&server, "/v1/teams", &recorder).await;
        let error = pat_client(&server.uri()).list_teams().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Permanent, "{status}");
        assert_eq!(recorder.count(), 1, "{status}");
    }
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_out() {
    let server = MockServer::start().await;
    let recorder = Recorder::new([ResponseTemplate::new(429).insert_header("retry-after", "1"), ok_teams()]);
    serve(&server, "/v1/teams", &recorder).await;
    pat_client(&server.uri()).list_teams().await.unwrap();
    let requests = recorder.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].0 - requests[0].0 >= Duration::from_secs(1));
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_read_against_the_injected_clock() {
    let server = MockServer::start().await;
    // The client's clock says 07:27:58.5; the server asks for 07:28:00, 1.5 s later.
    let clock = manual_clock("2015-10-21T07:27:58.500Z");
    let recorder = Recorder::new([
        ResponseTemplate::new(503).insert_header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ok_teams(),
    ]);
    serve(&server, "/v1/teams", &recorder).await;
    let client = HelpDeskClient::new(fast_config(&server.uri()), pat_credentials(), clock).unwrap();
    client.list_teams().await.unwrap();
    let requests = recorder.requests();
    let gap = requests[1].0 - requests[0].0;
    assert!(gap >= Duration::from_millis(1500), "{gap:?}");
    assert!(gap < Duration::from_secs(3), "{gap:?}");
}

#[tokio::test]
async fn retry_after_holds_every_request_to_the_account_even_after_the_throttled_one_gave_up() {
    let server = MockServer::start().await;
    let throttled = Recorder::new([ResponseTemplate::new(429).insert_header("retry-after", "1")]);
    let other = Recorder::new([ResponseTemplate::new(200).set_body_json(json!([]))]);
    serve(&server, "/v1/teams", &throttled).await;
    serve(&server, "/v1/tags", &other).await;
    let mut config = fast_config(&server.uri());
    config.retry.max_total_wait = Duration::from_millis(500);
    let client = client_with(config, pat_credentials());
    let error = client.list_teams().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::GaveUp);
    client.list_tags().await.unwrap();
    let gap = other.requests()[0].0 - throttled.requests()[0].0;
    assert!(gap >= Duration::from_secs(1), "{gap:?}");
}

#[tokio::test]
async fn a_retry_after_beyond_the_wait_cap_gives_up_at_once_with_a_clear_error() {
    let server = MockServer::start().await;
    let recorder = Recorder::new([ResponseTemplate::new(429).insert_header("retry-after", "3600")]);
    serve(&server, "/v1/teams", &recorder).await;
    let error = pat_client(&server.uri()).list_teams().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::GaveUp);
    let (attempts, reason, last) = gave_up(&error);
    assert_eq!(attempts, 1);
    assert_eq!(reason, GiveUpReason::WaitCapReached { next_wait: Duration::from_secs(3600) });
    assert!(matches!(last, Transient::Status { status: 429, .. }));
    let message = error.to_string();
    assert!(message.contains("gave up after 1 attempt"), "{message}");
    assert!(message.contains("cap on total waiting"), "{message}");
    assert_eq!(recorder.count(), 1);
}

#[tokio::test]
async fn a_storm_of_server_errors_gives_up_after_the_attempt_budget() {
    let server = MockServer::start().await;
    let recorder = Recorder::new([ResponseTemplate::new(200).set_body_string("<html>oops</html>")]);
    serve(&server, "/v1/teams", &recorder).await;
    let error = pat_client(&server.uri()).list_teams().await.unwrap_err();
    let (attempts, reason, last) = gave_up(&error);
    assert_eq!((attempts, reason), (5, GiveUpReason::AttemptsExhausted));
    assert!(matches!(last, Transient::InvalidBody(_)), "{last:?}");
    assert_eq!(recorder.count(), 5);
}

#[tokio::test]
async fn a_body_cut_off_mid_stream_is_retried() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // wiremock cannot drop a connection halfway through a body; a raw socket can.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let answers = [
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n[{\"ID\":",
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]",
        ];
        for answer in answers {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await.unwrap();
            socket.write_all(answer.as_bytes()).await.unwrap();
            socket.shutdown().await.unwrap();
        }
    });
    let client = pat_client(&format!("http://{address}"));
    assert!(client.list_tags().await.unwrap().is_empty());
    server.await.unwrap();
}
