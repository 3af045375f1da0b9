//! Bulk import of staff from CSV: a preview that reports every problem by line, and an import
//! that creates everyone in one transaction or nobody.

use std::collections::HashMap;

use scoreline_core::{
    Email, FieldError, Group, Page, PageRequest, Permission, PersonName, Role, Scope, Team, TeamId, User,
    UserId,
};
use scoreline_store::model::{ImportedUser, NewUser};
use serde::Serialize;
use serde_json::json;

use crate::{Actor, App, AppError, AppResult};

/// Rows beyond this are refused; import larger lists in parts.
pub const MAX_IMPORT_ROWS: usize = 5000;

/// One data row as read, with what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRow {
    /// The line of the file the row starts on (the header is line 1).
    pub line: usize,
    pub email: String,
    pub name: String,
    pub role: String,
    pub team: String,
    pub errors: Vec<String>,
}

/// What an import would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportPreview {
    pub rows: Vec<ImportRow>,
    /// Problems of the file as a whole (its header, its size).
    pub problems: Vec<String>,
}

impl ImportPreview {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty() && !self.rows.is_empty() && self.rows.iter().all(|row| row.errors.is_empty())
    }

    /// Every problem as a field error named after its line.
    fn field_errors(&self) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> =
            self.problems.iter().map(|p| FieldError::new("csv", p.clone())).collect();
        if self.rows.is_empty() && self.problems.is_empty() {
            errors.push(FieldError::new("csv", "The file has no rows below its header."));
        }
        for row in &self.rows {
            for error in &row.errors {
                errors.push(FieldError::new(format!("line {}", row.line), error.clone()));
            }
        }
        errors
    }
}

const COLUMNS: [&str; 4] = ["email", "name", "role", "team"];

impl App {
    /// Reads the CSV (`email,name,role,team`; role defaults to employee, team is optional and
    /// written `Group / Team` or as a team name used in one group only) and checks every row.
    pub async fn preview_staff_import(&self, actor: &Actor, csv: &str) -> AppResult<ImportPreview> {
        actor.require(Permission::ManageStaff)?;
        Ok(self.plan_import(actor, csv).await?.0)
    }

    /// Creates every row of a valid file, or nothing: any problem is reported per line.
    pub async fn import_staff(&self, actor: &Actor, csv: &str) -> AppResult<Vec<User>> {
        actor.require(Permission::ManageStaff)?;
        let (preview, planned) = self.plan_import(actor, csv).await?;
        if !preview.is_valid() {
            return Err(AppError::Validation(preview.field_errors()));
        }
        let now = self.clock().now();
        let users: Vec<ImportedUser> = planned
            .into_iter()
            .map(|(user, team_id)| {
                let mut audits = vec![self.audit(
                    actor,
                    "user.create",
                    "user",
                    &user.id.to_string(),
                    json!({ "email": user.email.as_str(), "role": user.role.as_str(), "import": true }),
                )];
                if let Some(team_id) = team_id {
                    audits.push(self.audit(
                        actor,
                        "team.member.add",
                        "team",
                        &team_id.to_string(),
                        json!({ "user_id": user.id }),
                    ));
                }
                ImportedUser { user, team_id, audits }
            })
            .collect();
        self.db().import_users(&users, now).await.map_err(AppError::conflict_on("csv"))?;
        let mut created = Vec::with_capacity(users.len());
        for imported in &users {
            if let Some(user) = self.db().get_user(&Scope::Everything, imported.user.id).await? {
                created.push(user);
            }
        }
        Ok(created)
    }

    async fn plan_import(
        &self,
        actor: &Actor,
        csv: &str,
    ) -> AppResult<(ImportPreview, Vec<(NewUser, Option<TeamId>)>)> {
        let mut preview = ImportPreview::default();
        let records = match parse_csv(csv) {
            Ok(records) => records,
            Err(problem) => {
                preview.problems.push(problem);
                return Ok((preview, Vec::new()));
            }
        };
        let Some(((_, header), rows)) = records.split_first() else {
            preview.problems.push(
                "The file is empty; its first line names the columns: email,name,role,team.".to_owned(),
            );
            return Ok((preview, Vec::new()));
        };
        let mut index = HashMap::new();
        for (position, column) in header.iter().enumerate() {
            let column = column.trim().to_lowercase();
            if !COLUMNS.contains(&column.as_str()) {
                preview.problems.push(format!(
                    "Line 1: unknown column \"{column}\"; the columns are email, name, role and team."
                ));
            } else if index.insert(column.clone(), position).is_some() {
                preview.problems.push(format!("Line 1: the column \"{column}\" appears twice."));
            }
        }
        for required in ["email", "name"] {
            if !index.contains_key(required) {
                preview.problems.push(format!("Line 1: the column \"{required}\" is missing."));
            }
        }
        if rows.len() > MAX_IMPORT_ROWS {
            preview.problems.push(format!(
                "The file has {} rows; import at most {MAX_IMPORT_ROWS} at a time.",
                rows.len()
            ));
        }
        if !preview.problems.is_empty() {
            return Ok((preview, Vec::new()));
        }
        let teams = self.team_names(actor).await?;
        let now = self.clock().now();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut planned = Vec::new();
        for (line, fields) in rows {
            let cell = |column: &str| {
                index.get(column).and_then(|&i| fields.get(i)).map_or("", |text| text.trim()).to_owned()
            };
            let mut row = ImportRow {
                line: *line,
                email: cell("email"),
                name: cell("name"),
                role: cell("role"),
                team: cell("team"),
                errors: Vec::new(),
            };
            if fields.len() > header.len() {
                row.errors.push(format!(
                    "The row has {} fields; the header has {}.",
                    fields.len(),
                    header.len()
                ));
            }
            let email = Email::parse(&row.email).map_err(|e| row.errors.push(format!("email: {e}"))).ok();
            let name = PersonName::parse(&row.name).map_err(|e| row.errors.push(format!("name: {e}"))).ok();
            let role_text = if row.role.is_empty() { Role::Employee.as_str() } else { row.role.as_str() };
            let role = match role_text.parse::<Role>() {
                Ok(role) if actor.may_grant(role) => Some(role),
                Ok(role) => {
                    row.errors.push(format!("role: you may not create a {} account.", role.label()));
                    None
                }
                Err(e) => {
                    row.errors.push(format!("role: {e}"));
                    None
                }
            };
            let team_id = if row.team.is_empty() {
                if !actor.scope().is_everything() {
                    row.errors
                        .push("team: name a team of yours, so this person stays in your scope.".to_owned());
                }
                None
            } else {
                match teams.get(&row.team.to_lowercase()) {
                    Some(Some(id)) => Some(*id),
                    Some(None) => {
                        row.errors.push(format!(
                            "team: several groups have a team \"{}\"; write it as Group / Team.",
                            row.team
                        ));
                        None
                    }
                    None => {
                        row.errors.push(format!("team: there is no team \"{}\".", row.team));
                        None
                    }
                }
            };
            if let Some(email) = &email {
                if let Some(first) = seen.insert(email.as_str().to_owned(), *line) {
                    row.errors.push(format!("email: {email} is also on line {first}."));
                } else if self.db().find_user_credentials(email.as_str()).await?.is_some() {
                    row.errors.push(format!("email: {email} already belongs to a staff member."));
                }
            }
            if let (Some(email), Some(name), Some(role), true) = (email, name, role, row.errors.is_empty()) {
                let user =
                    NewUser { id: UserId::new(), email, name, role, password_hash: None, created_at: now };
                planned.push((user, team_id));
            }
            preview.rows.push(row);
        }
        Ok((preview, planned))
    }

    /// The teams in `actor`'s scope by lower-cased `group / team` and by team name alone;
    /// `None` where a name alone is ambiguous.
    async fn team_names(&self, actor: &Actor) -> AppResult<HashMap<String, Option<TeamId>>> {
        let scope = actor.scope();
        let groups: Vec<Group> = all_pages(|page| self.db().list_groups(scope, page)).await?;
        let teams: Vec<Team> = all_pages(|page| self.db().list_teams(scope, page)).await?;
        let mut names: HashMap<String, Option<TeamId>> = HashMap::new();
        for team in teams {
            let name = team.name.to_lowercase();
            names.entry(name.clone()).and_modify(|id| *id = None).or_insert(Some(team.id));
            if let Some(group) = groups.iter().find(|g| g.id == team.group_id) {
                names.insert(format!("{} / {name}", group.name.to_lowercase()), Some(team.id));
            }
        }
        Ok(names)
    }
}

async fn all_pages<T, F, Fut>(fetch: F) -> AppResult<Vec<T>>
where
    F: Fn(PageRequest) -> Fut,
    Fut: std::future::Future<Output = scoreline_store::StoreResult<Page<T>>>,
{
    let mut items = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let fetched = fetch(page).await?;
        items.extend(fetched.items);
        match fetched.next_after {
            Some(after) => page.after = Some(after),
            None => return Ok(items),
        }
    }
}

/// RFC 4180 records with the line each starts on; blank lines are skipped, a leading BOM
/// ignored. Quoted fields may hold commas, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let (mut line, mut start_line) = (1, 1);
    let mut in_quotes = false;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !quoted => {
                field.clear();
                in_quotes = true;
                quoted = true;
            }
            '"' => {
                return Err(format!("Line {line}: a quote inside an unquoted field; quote the whole field."));
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                quoted = false;
                if fields.len() > 1 || !fields[0].trim().is_empty() {
                    records.push((start_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start_line = line;
            }
            _ if quoted && !c.is_whitespace() => {
                return Err(format!("Line {line}: text after a closing quote."));
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(format!("Line {start_line}: a quoted field is never closed."));
    }
    fields.push(field);
    if fields.len() > 1 || !fields[0].trim().is_empty() {
        records.push((start_line, fields));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::parse_csv;

    #[test]
    fn records_keep_the_line_they_start_on() {
        let csv =
            "\u{feff}email,name\r\na@x.io,\"Doe, Jane\"\n\nb@x.io,\"Line\none \"\"quoted\"\"\"\nc@x.io,C\n";
        let records = parse_csv(csv).unwrap();
        let lines: Vec<usize> = records.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 2, 4, 6]);
        assert_eq!(records[1].1, ["a@x.io", "Doe, Jane"]);
        assert_eq!(records[2].1, ["b@x.io", "Line\none \"quoted\""]);
        assert_eq!(records[3].1, ["c@x.io", "C"]);
    }

    #[test]
    fn broken_quotes_name_their_line() {
        assert!(parse_csv("email,name\na@x.io,\"open\n").unwrap_err().starts_with("Line 2"));
        assert!(parse_csv("email,name\na@x.io,ab\"c\n").unwrap_err().starts_with("Line 2"));
        assert!(parse_csv("email,name\na@x.io,\"ab\"c\n").unwrap_err().starts_with("Line 2"));
    }
}
