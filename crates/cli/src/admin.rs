//! `scoreline users …` and `scoreline tokens …`: what an operator does at the console.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::Subcommand;
use scoreline_app::{Actor, AppError, CreateUser};

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
    },
}

pub async fn users(config: &Config, command: UsersCommand) -> anyhow::Result<()> {
    let UsersCommand::Create { email, name, role, password_stdin } = command;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let app = build_app(config).await?;
    let input = CreateUser { email, name, role, password, team_ids: Vec::new() };
    match app.create_user(&Actor::System, input).await {
        Ok(user) => {
            println!("created {} ({}) with id {}", user.email, user.role, user.id);
            Ok(())
        }
        Err(AppError::Validation(fields)) => {
            let lines: Vec<String> =
                fields.iter().map(|f| format!("  --{}: {}", f.field.replace('_', "-"), f.message)).collect();
            bail!("the user was not created:\n{}", lines.join("\n"))
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn tokens(config: &Config, command: TokensCommand) -> anyhow::Result<()> {
    let TokensCommand::Create { email, name } = command;
    let app = build_app(config).await?;
    let issued = app.create_api_token(&Actor::System, &email, &name).await.map_err(|error| match error {
        AppError::Validation(fields) => anyhow::anyhow!(
            "no token was created: {}",
            fields.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join(" ")
        ),
        other => other.into(),
    })?;
    eprintln!(
        "API token for {} (shown only once; send it as `Authorization: Bearer <token>`):",
        issued.user_email
    );
    println!("{}", issued.token.expose());
    Ok(())
}
