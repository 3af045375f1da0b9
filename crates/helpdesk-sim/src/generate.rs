//! The seeded generator: the same seed, sizes and end time always give the same account.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::dates::{DAY_MS, HOUR_MS, MINUTE_MS, Precision};
use crate::model::{
    Agent, AgentRole, AgentStatus, Assignment, Author, Channel, CustomField, Customer, EventBody, Silo,
    Status, Store, Tag, Team, Ticket, random_uuid,
};

/// What to generate: sizes and the moment the generated history ends.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub seed: u64,
    pub agents: usize,
    pub tickets: usize,
    pub days: u32,
    pub now: i64,
    pub precision: Precision,
}

const FIRST_NAMES: &[(&str, &str)] = &[
    ("Ann", "ann"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("Aiko", "aiko"),
    ("Mohammed", "mohammed"),
    ("Chloé", "chloe"),
    ("Bjørn", "bjorn"),
    ("Priya", "priya"),
    ("Olúwaseun", "oluwaseun"),
    ("Dmitri", "dmitri"),
    ("Mei", "mei"),
    ("Sean", "sean"),
    ("Fatma", "fatma"),
    ("Grace", "grace"),
    ("Tomás", "tomas"),
    ("Ingrid", "ingrid"),
    ("Kwame", "kwame"),
    ("Elif", "elif"),
];

const LAST_NAMES: &[(&str, &str)] = &[
    ("Agent", "agent"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Kowalski", "kowalski"),
    ("Nguyễn", "nguyen"),
    ("O'Brien", "obrien"),
    ("Yamada", "yamada"),
    ("Haddad", "haddad"),
    ("Dubois", "dubois"),
    ("Andersen", "andersen"),
    ("Okafor", "okafor"),
    ("Ivanova", "ivanova"),
    ("Chen", "chen"),
    ("Smith", "smith"),
    ("Öztürk", "ozturk"),
    ("Rossi", "rossi"),
];

/// A few requesters write their names in their own script.
const NATIVE_NAMES: &[(&str, &str)] = &[
    ("山田 美咲", "misaki.yamada"),
    ("Иван Петров", "ivan.petrov"),
    ("محمد علي", "m.ali"),
    ("김민준", "minjun.kim"),
    ("Ελένη Παππά", "eleni.pappa"),
];

const DOMAINS: &[&str] = &["Example.com", "example.org", "Mail.Example.net", "shop.example"];

const TEAM_NAMES: &[&str] = &[
    "Support",
    "Billing",
    "Technical",
    "Returns",
    "VIP",
    "Onboarding",
    "Partners",
    "Escalations",
    "Sales",
    "Shipping",
    "Security",
    "Accessibility",
];

const TAG_NAMES: &[&str] = &[
    "refund",
    "bug",
    "feature-request",
    "urgent",
    "shipping",
    "login",
    "invoice",
    "feedback",
    "vip",
    "churn-risk",
    "gdpr",
    "größe",
];

const SUBJECTS: &[&str] = &[
    "Cannot log in",
    "Refund request 💸",
    "Where is my order? 📦",
    "Invoice #{n} is wrong",
    "Zahlung fehlgeschlagen – Bestellung {n}",
    "注文がまだ届きません ({n})",
    "¿Dónde está mi pedido? #{n}",
    "Ошибка при оплате",
    "Password reset link expired",
    "App crashes on start 😡",
    "Question about pricing",
    "Change my shipping address",
    "Re: Re: Fwd: order {n}",
    "<b>Urgent</b> & important: account locked",
    "Thanks! 🙏",
];

const CLIENT_LINES: &[&str] = &[
    "Hi, I have a problem with my order {n}.",
    "It still does not work, I tried everything you said.",
    "Could you please check again? I'm waiting since last week.",
    "Danke für die schnelle Antwort! Leider klappt es immer noch nicht.",
    "I pasted <b>bold</b> & <script>alert(1)</script> into the form and it broke.",
    "Thanks, that solved it 🎉",
    "すみません、まだ届いていません。",
    "My card was charged twice 💳💳 — please refund one.",
];

const AGENT_LINES: &[&str] = &[
    "Thanks for reaching out! I've looked into order {n}.",
    "Could you send me a screenshot of the error?",
    "I've issued a refund; it should arrive within 5–7 business days.",
    "Please try resetting your password from the login page.",
    "I've escalated this to our technical team.",
    "Glad it works now! I'll close this ticket ✅",
];

const NOTE_LINES: &[&str] = &[
    "Customer is a VIP, handle with care.",
    "Checked the logs: payment gateway timeout at 14:02.",
    "Duplicate of an older ticket, merging later.",
    "Waiting for the warehouse to confirm.",
];

/// Generates a whole account. Ticket times fall within `days` before `spec.now`.
pub fn generate(spec: Spec) -> Store {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let span = i64::from(spec.days.max(1)) * DAY_MS;
    let start = spec.now - span;
    let license_id = 13_000_000 + rng.random_range(0..1_000_000);
    let account_id = random_uuid(&mut rng);
    let mut store = Store::new(spec.seed, license_id, account_id, start - 400 * DAY_MS);
    add_teams(&mut store, &mut rng, spec.agents);
    add_agents(&mut store, &mut rng, spec.agents.max(1));
    add_tags_and_fields(&mut store, &mut rng);
    add_customers(&mut store, &mut rng, (spec.tickets / 4).clamp(10, 50_000));

    let mut created: Vec<i64> =
        (0..spec.tickets).map(|_| start + rng.random_range(0..span - HOUR_MS)).collect();
    created.sort_unstable();
    let responders = responders_by_team(&store);
    let mut tickets: Vec<Ticket> = created
        .into_iter()
        .map(|at| generate_ticket(&mut store, &mut rng, &responders, at, spec.now))
        .collect();
    add_bulk_updates(&mut tickets, &mut rng, start, spec.now);
    for mut ticket in tickets {
        if spec.precision == Precision::Seconds {
            truncate_times(&mut ticket);
        }
        store.insert(ticket);
    }
    store
}

fn truncate_times(ticket: &mut Ticket) {
    let truncate = |millis: &mut i64| *millis = Precision::Seconds.truncate(*millis);
    truncate(&mut ticket.created_at);
    truncate(&mut ticket.updated_at);
    truncate(&mut ticket.last_message_at);
    ticket.events.iter_mut().for_each(|event| truncate(&mut event.date));
}

fn add_teams(store: &mut Store, rng: &mut StdRng, agents: usize) {
    let count = (agents / 5).clamp(2, TEAM_NAMES.len());
    for name in &TEAM_NAMES[..count] {
        store.teams.push(Team {
            id: random_uuid(rng),
            name: (*name).to_owned(),
            created_at: store.created_at,
        });
    }
}

fn person(rng: &mut StdRng) -> (String, String) {
    let domain = DOMAINS.choose(rng).copied().unwrap_or("example.com");
    if rng.random_bool(0.08) {
        let (name, local) = NATIVE_NAMES.choose(rng).copied().unwrap_or(("A", "a"));
        return (name.to_owned(), format!("{local}{}@{domain}", rng.random_range(1..999)));
    }
    let (first, first_ascii) = FIRST_NAMES.choose(rng).copied().unwrap_or(("A", "a"));
    let (last, last_ascii) = LAST_NAMES.choose(rng).copied().unwrap_or(("B", "b"));
    // Mixed case on purpose: e-mail matching must be case-insensitive.
    let local = if rng.random_bool(0.3) {
        format!("{}.{}", capitalize(first_ascii), capitalize(last_ascii))
    } else {
        format!("{first_ascii}.{last_ascii}")
    };
    (format!("{first} {last}"), format!("{local}{}@{domain}", rng.random_range(1..99)))
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn add_agents(store: &mut Store, rng: &mut StdRng, count: usize) {
    let team_count = store.teams.len() as u32;
    for index in 0..count {
        let (name, email) = person(rng);
        let is_owner = index == 0;
        let role = if is_owner {
            AgentRole::Owner
        } else if rng.random_bool(0.1) {
            AgentRole::Viewer
        } else {
            AgentRole::Normal
        };
        let status =
            if !is_owner && rng.random_bool(0.08) { AgentStatus::Invited } else { AgentStatus::Active };
        let mut teams = vec![if is_owner { 0 } else { rng.random_range(0..team_count) }];
        if rng.random_bool(0.3) {
            let second = rng.random_range(0..team_count);
            if !teams.contains(&second) {
                teams.push(second);
            }
        }
        store.agents.push(Agent {
            id: random_uuid(rng),
            account_id: if is_owner { store.account_id } else { random_uuid(rng) },
            email,
            name,
            role,
            status,
            teams,
            job_title: rng.random_bool(0.5).then(|| "Support Specialist".to_owned()),
            created_at: store.created_at + rng.random_range(0..DAY_MS * 300),
        });
    }
}

fn add_tags_and_fields(store: &mut Store, rng: &mut StdRng) {
    let team_count = store.teams.len() as u32;
    for (index, name) in TAG_NAMES.iter().enumerate() {
        store.tags.push(Tag {
            id: random_uuid(rng),
            name: (*name).to_owned(),
            team: (index % 3 == 2).then(|| rng.random_range(0..team_count)),
            created_at: store.created_at,
        });
    }
    let fields = [
        ("order_id", "Order ID", "singleLine"),
        ("notes", "Internal notes", "multiLine"),
        ("due_date", "Due date", "date"),
        ("crm_link", "CRM link", "url"),
    ];
    for (api_key, display_name, kind) in fields {
        store.custom_fields.push(CustomField {
            id: random_uuid(rng),
            api_key: api_key.to_owned(),
            display_name: display_name.to_owned(),
            kind,
            created_at: store.created_at,
        });
    }
}

fn add_customers(store: &mut Store, rng: &mut StdRng, count: usize) {
    for _ in 0..count {
        let (name, email) = person(rng);
        store.customers.push(Customer { id: random_uuid(rng), name, email });
    }
}

fn fill(template: &str, rng: &mut StdRng) -> String {
    template.replace("{n}", &rng.random_range(1000..99_999).to_string())
}

fn pick(lines: &[&str], rng: &mut StdRng) -> String {
    let line = lines.choose(rng).copied().unwrap_or_default();
    fill(line, rng)
}

/// Roughly one message in two hundred is a pasted log or a long e-mail thread.
fn message_text(lines: &[&str], rng: &mut StdRng) -> String {
    let text = pick(lines, rng);
    if rng.random_bool(0.005) {
        let paragraph = format!("{text} Lorem ipsum dolor sit amet, 🧾 consectetur — ünïcödé.\n");
        return paragraph.repeat(rng.random_range(100..400));
    }
    text
}

/// What a customer writes, for tickets made after generation.
pub fn client_text(rng: &mut StdRng) -> String {
    message_text(CLIENT_LINES, rng)
}

pub fn agent_text(rng: &mut StdRng) -> String {
    message_text(AGENT_LINES, rng)
}

pub fn subject(rng: &mut StdRng) -> String {
    pick(SUBJECTS, rng)
}

fn agent_html(text: &str, agent: &Agent, rng: &mut StdRng) -> Option<String> {
    rng.random_bool(0.5).then(|| {
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        format!(
            "<p>Hello,</p><p>{escaped}</p><ul><li><a href=\"https://help.example.com/a/1\">Help article</a></li></ul><p>Best regards,<br><b>{}</b></p>",
            agent.name
        )
    })
}

fn weighted<T: Copy>(rng: &mut StdRng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.random_range(0..total);
    for (value, weight) in choices {
        if roll < *weight {
            return *value;
        }
        roll -= weight;
    }
    choices[0].0
}

fn generate_ticket(
    store: &mut Store,
    rng: &mut StdRng,
    responders: &[Vec<u32>],
    created_at: i64,
    now: i64,
) -> Ticket {
    let team = rng.random_range(0..store.teams.len() as u32);
    let agent = rng.random_bool(0.85).then(|| pick_agent(store, rng, &responders[team as usize]));
    let requester = rng.random_range(0..store.customers.len() as u32);
    let final_status = weighted(
        rng,
        &[
            (Status::Open, 20),
            (Status::Pending, 20),
            (Status::OnHold, 5),
            (Status::Solved, 35),
            (Status::Closed, 20),
        ],
    );
    let priority = weighted(rng, &[(0i8, 60), (10, 20), (-10, 10), (20, 10)]);
    let tag_count = rng.random_range(0..=3);
    let mut tag_ids: Vec<u32> =
        (0..tag_count).map(|_| rng.random_range(0..store.tags.len() as u32)).collect();
    tag_ids.sort_unstable();
    tag_ids.dedup();
    let unassigned = Assignment { team, agent: None };
    let mut ticket = Ticket {
        id: random_uuid(rng),
        short_id: store.next_short_id(),
        silo: Silo::Tickets,
        created_at,
        created_by: Author::Client(requester),
        updated_at: created_at,
        updated_by: Author::Client(requester),
        last_message_at: created_at,
        status: Status::Open,
        priority,
        subject: pick(SUBJECTS, rng),
        requester,
        cc: if rng.random_bool(0.1) {
            vec![rng.random_range(0..store.customers.len() as u32)]
        } else {
            Vec::new()
        },
        team_ids: vec![team],
        assignment: unassigned,
        tag_ids,
        followers: agent.into_iter().filter(|_| rng.random_bool(0.3)).collect(),
        custom_fields: custom_field_values(rng),
        channel: weighted(rng, &[(Channel::Email, 70), (Channel::Chat, 15), (Channel::Api, 15)]),
        language: *[Some("en"), Some("en"), Some("en"), Some("de"), Some("es"), Some("ja"), None]
            .choose(rng)
            .unwrap_or(&None),
        rating_request_sent: final_status == Status::Solved && rng.random_bool(0.5),
        events: Vec::new(),
    };
    let latest = now - MINUTE_MS;
    let mut at = created_at;
    let first = message_text(CLIENT_LINES, rng);
    ticket.push_event(
        at,
        Author::Client(requester),
        EventBody::Message { text: first, private: false, html: None },
    );
    let is_spam = rng.random_bool(0.03);
    if !is_spam {
        add_conversation(store, rng, &mut ticket, agent, final_status, &mut at, latest);
    }
    let last = ticket.events.last().map_or(created_at, |event| event.date);
    ticket.updated_at = last;
    ticket.updated_by = ticket.events.last().map_or(ticket.created_by, |event| event.author);
    ticket.silo = if is_spam {
        Silo::Spam
    } else if rng.random_bool(0.04) {
        Silo::Trash
    } else if ticket.status == Status::Closed && last < now - 7 * DAY_MS && rng.random_bool(0.4) {
        Silo::Archive
    } else {
        Silo::Tickets
    };
    ticket
}

fn custom_field_values(rng: &mut StdRng) -> Vec<(u32, String)> {
    let mut values = Vec::new();
    if rng.random_bool(0.3) {
        values.push((0, format!("ORD-{}", rng.random_range(1000..99_999))));
    }
    if rng.random_bool(0.1) {
        values.push((2, format!("2025-{:02}-{:02}", rng.random_range(1..=12), rng.random_range(1..=28))));
    }
    values
}

/// Per team, the agents who answer tickets: active, not viewers.
fn responders_by_team(store: &Store) -> Vec<Vec<u32>> {
    (0..store.teams.len() as u32)
        .map(|team| {
            (0..store.agents.len() as u32)
                .filter(|index| {
                    let agent = &store.agents[*index as usize];
                    agent.role != AgentRole::Viewer
                        && agent.status == AgentStatus::Active
                        && agent.teams.contains(&team)
                })
                .collect()
        })
        .collect()
}

fn pick_agent(store: &Store, rng: &mut StdRng, candidates: &[u32]) -> u32 {
    candidates.choose(rng).copied().unwrap_or_else(|| rng.random_range(0..store.agents.len() as u32))
}

/// Appends the agent's side of the conversation, ending in `final_status`.
fn add_conversation(
    store: &Store,
    rng: &mut StdRng,
    ticket: &mut Ticket,
    agent: Option<u32>,
    final_status: Status,
    at: &mut i64,
    latest: i64,
) {
    let requester = ticket.requester;
    let mut step = |rng: &mut StdRng| {
        *at = (*at + rng.random_range(MINUTE_MS..20 * HOUR_MS)).min(latest).max(*at);
        *at
    };
    let responder = agent.unwrap_or(store.owner_agent());
    if let Some(agent) = agent {
        let new = Assignment { team: ticket.assignment.team, agent: Some(agent) };
        let date = step(rng);
        ticket.push_event(
            date,
            Author::Agent(store.owner_agent()),
            EventBody::Assignment { old: ticket.assignment, new },
        );
        ticket.assignment = new;
    }
    for _ in 0..rng.random_range(0..=5) {
        let date = step(rng);
        let kind = rng.random_range(0..10);
        let (author, body) = match kind {
            0..=3 => {
                let text = message_text(AGENT_LINES, rng);
                let html = agent_html(&text, &store.agents[responder as usize], rng);
                let body = EventBody::Message { text, private: false, html };
                (Author::Agent(responder), body)
            }
            4..=6 => {
                let text = message_text(CLIENT_LINES, rng);
                let body = EventBody::Message { text, private: false, html: None };
                (Author::Client(requester), body)
            }
            7 => {
                let body = EventBody::Message { text: pick(NOTE_LINES, rng), private: true, html: None };
                (Author::Agent(responder), body)
            }
            8 => {
                let new =
                    *[Status::Pending, Status::OnHold, Status::Open].choose(rng).unwrap_or(&Status::Pending);
                let body = EventBody::Status { old: ticket.status, new };
                ticket.status = new;
                (Author::Agent(responder), body)
            }
            _ => {
                let new = *crate::model::PRIORITIES.choose(rng).unwrap_or(&0);
                let body = EventBody::Priority { old: ticket.priority, new };
                ticket.priority = new;
                (Author::Agent(responder), body)
            }
        };
        if let EventBody::Message { private: false, .. } = body {
            ticket.last_message_at = date;
        }
        ticket.push_event(date, author, body);
    }
    if ticket.status != final_status {
        let date = step(rng);
        let body = EventBody::Status { old: ticket.status, new: final_status };
        ticket.push_event(date, Author::Agent(responder), body);
        ticket.status = final_status;
    }
}

/// Bulk actions (an automation closing solved tickets) give many tickets one `updatedAt`,
/// the ties cursor paging must survive.
fn add_bulk_updates(tickets: &mut [Ticket], rng: &mut StdRng, start: i64, now: i64) {
    if tickets.len() < 20 {
        return;
    }
    let batches = (tickets.len() / 800).max(1);
    for batch in 0..batches {
        let at = rng.random_range(start + (now - start) / 2..now - HOUR_MS);
        // The first batch is always large, so ties span several full pages.
        let size = if batch == 0 { 250 } else { rng.random_range(50..=250) };
        let size = size.min(tickets.len() / 4);
        let mut closed = 0;
        // Random picks; a ticket picked twice is skipped because it now has `updatedAt == at`.
        for _ in 0..size * 20 {
            let ticket = &mut tickets[rng.random_range(0..tickets.len())];
            if ticket.silo != Silo::Tickets || ticket.updated_at >= at || ticket.status == Status::Closed {
                continue;
            }
            let body = EventBody::Status { old: ticket.status, new: Status::Closed };
            ticket.push_event(at, Author::System, body);
            ticket.status = Status::Closed;
            ticket.updated_at = at;
            ticket.updated_by = Author::System;
            closed += 1;
            if closed == size {
                break;
            }
        }
    }
}
