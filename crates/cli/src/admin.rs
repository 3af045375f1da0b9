//! `scoreline users …` and `scoreline tokens …`: what an operator does at the console.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{ArgGroup, Subcommand};
use scoreline_app::{Actor, App, AppError, CreateUser, TokenRequest};
use scoreline_core::{ApiTokenId, PageRequest, User};

use crate::config::Config;
use crate::serve::build_app;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user. Without --password-stdin the user has no password and cannot sign in.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// global_admin, group_admin, team_admin, supervisor or employee.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password, read from the first line of standard input; their sessions end.
    SetPassword {
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input (required: a password is
        /// never taken from the command line, where other users could see it).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create an API token for a user and print it (it is shown only once).
    Create {
        #[arg(long)]
        email: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "command line")]
        name: String,
        /// Refuse the token after this many days (1 to 3650); without it, it does not expire.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List a user's tokens that are not revoked.
    List {
        #[arg(long)]
        email: String,
    },
    /// Revoke one of a user's tokens, or all of them, for good.
    #[command(group(ArgGroup::new("which").required(true).args(["id", "all"])))]
    Revoke {
        #[arg(long)]
        email: String,
        /// The token's id, as `tokens list` shows it.
        #[arg(long)]
        id: Option<String>,
        /// Every token of the user.
        #[arg(long)]
        all: bool,
    },
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// A refusal of the use case, with each field named as the flag that set it.
fn refused(what: &str, error: AppError) -> anyhow::Error {
    match error {
        AppError::Validation(fields) => {
            let lines: Vec<String> =
                fields.iter().map(|f| format!("  --{}: {}", f.field.replace('_', "-"), f.message)).collect();
            anyhow::anyhow!("{what}:\n{}", lines.join("\n"))
        }
        other => other.into(),
    }
}

pub async fn users(config: &Config, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Create { email, name, role, password_stdin } => {
            let password = if password_stdin { Some(read_password()?) } else { None };
            let app = build_app(config).await?;
            let input = CreateUser { email, name, role, password, team_ids: Vec::new() };
            let user = app
                .create_user(&Actor::System, input)
                .await
                .map_err(|e| refused("the user was not created", e))?;
            println!("created {} ({}) with id {}", user.email, user.role, user.id);
        }
        UsersCommand::SetPassword { email, password_stdin: _ } => {
            let password = read_password()?;
            let app = build_app(config).await?;
            let user = app
                .set_password(&Actor::System, &email, &password)
                .await
                .map_err(|e| refused("the password was not set", e))?;
            println!("password set for {}; their sessions have ended", user.email);
        }
    }
    Ok(())
}

async fn user_by_email(app: &App, email: &str) -> anyhow::Result<User> {
    match app.find_user_by_email(&Actor::System, email).await.map_err(|e| refused("no such user", e))? {
        Some(user) => Ok(user),
        None => bail!("no user has the email {email}"),
    }
}

pub async fn tokens(config: &Config, command: TokensCommand) -> anyhow::Result<()> {
    let app = build_app(config).await?;
    match command {
        TokensCommand::Create { email, name, expires_in_days } => {
            let request = TokenRequest { name, expires_in_days };
            let issued = app
                .issue_api_token(&Actor::System, &email, request)
                .await
                .map_err(|e| refused("no token was created", e))?;
            let expiry = match issued.listed.expires_at {
                Some(at) => format!("expires {}", at.to_rfc3339()),
                None => "does not expire".to_owned(),
            };
            eprintln!(
                "API token {} for {} ({expiry}; shown only once; send it as `Authorization: Bearer <token>`):",
                issued.listed.id, issued.user_email
            );
            println!("{}", issued.token.expose());
        }
        TokensCommand::List { email } => {
            let user = user_by_email(&app, &email).await?;
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            let mut listed = 0;
            loop {
                let tokens = app.list_api_tokens(&Actor::System, user.id, page).await?;
                let now = app.clock().now();
                for token in &tokens.items {
                    let at = |t: Option<scoreline_core::Timestamp>| {
                        t.map_or("never".to_owned(), |t| t.to_rfc3339())
                    };
                    let state = if token.is_expired(now) { "  EXPIRED" } else { "" };
                    println!(
                        "{}  {}  created {}  last used {}  expires {}{state}",
                        token.id,
                        token.name,
                        token.created_at.to_rfc3339(),
                        at(token.last_used_at),
                        at(token.expires_at),
                    );
                }
                listed += tokens.items.len();
                match tokens.next_after {
                    Some(after) => page = PageRequest { after: Some(after), ..page },
                    None => break,
                }
            }
            if listed == 0 {
                eprintln!("{} has no API tokens", user.email);
            }
        }
        TokensCommand::Revoke { email, id, all } => {
            let user = user_by_email(&app, &email).await?;
            if all {
                let revoked = app.revoke_all_api_tokens(&Actor::System, user.id).await?;
                println!("revoked {revoked} token(s) of {}", user.email);
            } else {
                let text = id.unwrap_or_default();
                let Ok(id) = text.parse::<ApiTokenId>() else {
                    bail!(
                        "--id: `{text}` is not a token id; `scoreline tokens list --email {email}` shows them"
                    );
                };
                match app.revoke_api_token(&Actor::System, user.id, id).await {
                    Ok(()) => println!("revoked token {id} of {}", user.email),
                    Err(AppError::NotFound(_)) => bail!("--id: {} has no live token {id}", user.email),
                    Err(other) => return Err(other.into()),
                }
            }
        }
    }
    Ok(())
}
