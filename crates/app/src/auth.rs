//! Sign-in and sessions, the sign-in throttle, and the bounded pool of password checks.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use scoreline_core::{Email, SessionId, SignInAdmission, SignInAttemptId, User};
use scoreline_store::model::{NewSession, SignInAttempt, SignInLimits};
use tokio::sync::Semaphore;

use crate::tokens::SESSION_PREFIX;
use crate::{Actor, App, AppError, AppResult, SecretToken};

/// Sign-in throttling, counted in the database so that every server process sees the same
/// counts. An attempt is reserved before its password is checked and counts as a failure until
/// it succeeds. The email and address together lock; the address alone locks at a higher
/// count; the email alone only slows down, so guesses from elsewhere never lock its owner out.
#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    pub window: Duration,
    pub max_failures_per_pair: u64,
    pub max_failures_per_client: u64,
    /// Failures for one email from every address before its attempts are spaced out.
    pub email_slowdown_after: u64,
    /// Past `email_slowdown_after`, one attempt for the email per this interval.
    pub email_spacing: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            max_failures_per_pair: 5,
            max_failures_per_client: 30,
            email_slowdown_after: 10,
            email_spacing: Duration::from_secs(10),
        }
    }
}

/// Memory one argon2id check takes with the default parameters (m = 19456 KiB).
pub const ARGON2_MEMORY_KIB: u32 = argon2::Params::DEFAULT_M_COST;

/// What all password checks and hashes together may take: 80 MiB, so at most four run at once
/// whatever the number of sign-ins in flight.
pub const PASSWORD_MEMORY_BUDGET_KIB: u32 = 80 * 1024;

/// How many password checks or hashes run at once, and how long one waits for its turn before
/// the request is refused as busy.
#[derive(Debug, Clone)]
pub struct PasswordCheckSettings {
    pub permits: usize,
    pub wait: Duration,
}

impl Default for PasswordCheckSettings {
    fn default() -> Self {
        Self {
            permits: (PASSWORD_MEMORY_BUDGET_KIB / ARGON2_MEMORY_KIB).max(1) as usize,
            wait: Duration::from_secs(2),
        }
    }
}

/// A started session: the cookie value and who it belongs to.
#[derive(Debug)]
pub struct SignedIn {
    pub session: SecretToken,
    pub user: User,
    pub expires_in: Duration,
}

/// The throttle's key for an email as typed: normalised like stored emails, so case and spaces
/// make no new key; anything that is not an email shares one key.
pub(crate) fn email_key(email: &str) -> String {
    match Email::parse(email) {
        Ok(email) => format!("email:{email}"),
        Err(_) => "email:(not an email)".to_owned(),
    }
}

impl App {
    /// Checks the password and starts a session. Unknown emails cost the same time as wrong
    /// passwords, and both get the same answer.
    pub async fn sign_in(&self, email: &str, password: &str, client: &str) -> AppResult<SignedIn> {
        let (email_key, client_key) = (email_key(email), format!("client:{client}"));
        let user = self.check_password_throttled(&email_key, &client_key, email, password).await?;
        let Some(user) = user.filter(|user| user.active) else {
            tracing::info!(client, "sign-in refused");
            return Err(AppError::InvalidCredentials);
        };
        self.db().clear_sign_in(&email_key, &client_key).await?;
        let session = SecretToken::generate(SESSION_PREFIX);
        let now = self.clock().now();
        let ttl = self.settings().session_ttl;
        self.db()
            .create_session(&NewSession {
                id: SessionId::new(),
                token_digest: session.digest(),
                user_id: user.id,
                created_at: now,
                expires_at: now.saturating_add(ttl),
            })
            .await?;
        tracing::info!(user_id = %user.id, "signed in");
        Ok(SignedIn { session, user, expires_in: ttl })
    }

    /// Reserves an attempt for `email` from the client, then checks the password: the user
    /// when it matches, `None` when it does not (the reservation then stays as a failure).
    pub(crate) async fn check_password_throttled(
        &self,
        email_key: &str,
        client_key: &str,
        email: &str,
        password: &str,
    ) -> AppResult<Option<User>> {
        let attempt = self.reserve_attempt(email_key, client_key).await?;
        let credentials = match Email::parse(email) {
            Ok(email) => self.db().find_user_credentials(email.as_str()).await?,
            Err(_) => None,
        };
        let stored_hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
        match self.verify_password(password.to_owned(), stored_hash).await {
            Ok(true) => Ok(credentials.map(|c| c.user)),
            Ok(false) => Ok(None),
            Err(error) => {
                // Not checked (busy, or the check failed): the attempt does not count.
                self.db().release_sign_in(attempt).await?;
                Err(error)
            }
        }
    }

    async fn reserve_attempt(&self, email_key: &str, client_key: &str) -> AppResult<SignInAttemptId> {
        let throttle = &self.settings().throttle;
        let now = self.clock().now();
        let attempt = SignInAttempt {
            id: SignInAttemptId::new(),
            email_key: email_key.to_owned(),
            client_key: client_key.to_owned(),
            at: now,
        };
        let limits = SignInLimits {
            since: now.saturating_sub(throttle.window),
            per_pair: throttle.max_failures_per_pair,
            per_client: throttle.max_failures_per_client,
            per_email: throttle.email_slowdown_after,
            spaced_since: now.saturating_sub(throttle.email_spacing),
        };
        let retry_after = match self.db().reserve_sign_in(&attempt, &limits).await? {
            SignInAdmission::Granted => return Ok(attempt.id),
            SignInAdmission::PairLocked | SignInAdmission::ClientLocked => throttle.window,
            SignInAdmission::EmailSlowed => throttle.email_spacing,
        };
        tracing::info!(client = client_key, "sign-in throttled");
        Err(AppError::Throttled { retry_after_secs: retry_after.as_secs().max(1) })
    }

    /// The user behind a session cookie, if the session is valid.
    pub async fn session_actor(&self, session: &SecretToken) -> AppResult<Option<Actor>> {
        Ok(self.session(session).await?.map(|(_, actor)| actor))
    }

    /// The session row and its user, for flows bound to one browser session.
    pub async fn session(&self, session: &SecretToken) -> AppResult<Option<(SessionId, Actor)>> {
        match self.db().find_session_user(&session.digest(), self.clock().now()).await? {
            Some((id, user)) => Ok(Some((id, self.actor_for(user).await?))),
            None => Ok(None),
        }
    }

    pub async fn sign_out(&self, session: &SecretToken) -> AppResult<()> {
        self.db().delete_session(&session.digest()).await?;
        Ok(())
    }

    /// Removes expired sessions, stale sign-in attempts and spent reset links; returns how
    /// many rows went.
    pub async fn delete_expired_credentials(&self) -> AppResult<u64> {
        let now = self.clock().now();
        let sessions = self.db().delete_expired_sessions(now).await?;
        let stale_before = now.saturating_sub(self.settings().throttle.window);
        Ok(sessions + self.db().delete_stale_credentials(stale_before, now).await?)
    }

    /// Runs an argon2 job on the blocking pool once one of the bounded permits is free, with
    /// working memory that is reused from job to job: each job allocating its own 19 MiB would
    /// leave memory behind in the allocator of every blocking thread. A job that waits longer
    /// than the settings allow is refused as busy. The permit goes with the job, so a request
    /// given up by its client still holds it until the job ends.
    async fn with_argon2<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> AppResult<T> {
        let checks = self.password_checks();
        let wait = self.settings().password_checks.wait;
        let permit = match tokio::time::timeout(wait, checks.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_closed)) => return Err(AppError::Internal("password checks closed".to_owned())),
            Err(_elapsed) => return Err(AppError::Busy { retry_after_secs: wait.as_secs().max(1) }),
        };
        tokio::task::spawn_blocking(move || {
            let mut memory = checks.take_memory();
            let result = job(&mut memory);
            checks.give_back(memory);
            drop(permit);
            result
        })
        .await
        .map_err(|e| AppError::Internal(format!("password task failed: {e}")))
    }

    /// Hashes with argon2id: it takes tens of milliseconds and 19 MiB by design.
    pub(crate) async fn hash_password(&self, password: String) -> AppResult<String> {
        self.with_argon2(move |memory| hash_with(memory, password.as_bytes())).await?
    }

    /// Verifies against the stored hash, or against a fixed dummy hash when there is none, so
    /// that the answer takes as long for unknown users as for wrong passwords.
    pub(crate) async fn verify_password(&self, password: String, stored: Option<String>) -> AppResult<bool> {
        self.with_argon2(move |memory| {
            let known = stored.is_some();
            let hash = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
            verify_with(memory, password.as_bytes(), &hash) && known
        })
        .await
    }
}

/// The permits for argon2 work and the working memory of the jobs holding them: at most one
/// buffer per permit is ever kept.
#[derive(Debug)]
pub(crate) struct PasswordChecks {
    permits: Arc<Semaphore>,
    memory: std::sync::Mutex<Vec<Vec<Block>>>,
}

impl PasswordChecks {
    pub(crate) fn new(settings: &PasswordCheckSettings) -> Self {
        Self { permits: Arc::new(Semaphore::new(settings.permits.max(1))), memory: Default::default() }
    }

    fn take_memory(&self) -> Vec<Block> {
        let mut pool = self.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pool.pop().unwrap_or_default()
    }

    fn give_back(&self, memory: Vec<Block>) {
        let mut pool = self.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pool.push(memory);
    }
}

/// The blocks `params` needs, from `memory` (grown once if it is smaller).
fn blocks<'a>(memory: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::new());
    }
    &mut memory[..needed]
}

/// An argon2id PHC string for `password` with a fresh salt and the default parameters.
fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> AppResult<String> {
    let failed = |e: &dyn std::fmt::Display| AppError::Internal(format!("password hashing failed: {e}"));
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password, &salt, &mut out, blocks(memory, &params))
        .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `stored`, computed in `memory`; outputs are
/// compared in constant time.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm.as_str()), Params::try_from(&hash))
    else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let Some(out) = buffer.get_mut(..expected.len()) else { return false };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    argon2.hash_password_into_with_memory(password, salt, out, blocks(memory, &params)).is_ok()
        && Output::new(out).is_ok_and(|computed| computed == *expected)
}

/// The argon2id hash of a random string nobody knows, with default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2NvcmVsaW5lZHVtbXk$2b7DJt6pfHp3h4GLtW0DfXjiWHtiw2fI1V3Fk6yD+RE";

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_parses_so_unknown_users_pay_a_full_verification() {
        assert!(argon2::PasswordHash::new(super::DUMMY_HASH).is_ok());
    }

    #[test]
    fn hashes_made_here_and_by_the_argon2_crate_verify_alike() {
        use argon2::password_hash::PasswordHasher;
        let mut memory = Vec::new();
        let ours = super::hash_with(&mut memory, b"a long enough password").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let theirs = argon2::Argon2::default().hash_password(b"a long enough password").unwrap().to_string();
        for stored in [&ours, &theirs] {
            assert!(super::verify_with(&mut memory, b"a long enough password", stored));
            assert!(!super::verify_with(&mut memory, b"a long enough passwore", stored));
        }
        assert!(!super::verify_with(&mut memory, b"x", "not a hash"));
        assert_eq!(memory.len(), 19 * 1024, "one buffer of the default size, reused");
    }

    #[test]
    fn the_budget_holds_the_permits() {
        let permits = super::PasswordCheckSettings::default().permits as u32;
        assert!(permits >= 1 && permits * super::ARGON2_MEMORY_KIB <= super::PASSWORD_MEMORY_BUDGET_KIB);
    }
}
