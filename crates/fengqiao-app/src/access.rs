//! Who is acting and what they may see: login, sessions, and the actor's permissions and visibility.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

use crate::personal::random_token;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::{Permission, Role};
use fengqiao_domain::codes::Scope;
use fengqiao_store::{AuditDraft, NewSession, RoleGrant, UserRecord, Visibility};

/// The signed-in user acting now, as loaded for this request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: UserRecord,
    pub grants: Vec<(Role, Scope)>,
    pub visibility: Visibility,
    /// The request's source address (or `cli`).
    pub source: String,
    /// The session's hash, when acting through one.
    pub session_token_hash: Option<String>,
}

impl Actor {
    /// `user:ID`, as the audit trail names actors.
    pub fn audit_name(&self) -> String {
        format!("user:{}", self.user.id)
    }

    pub fn roles(&self) -> BTreeSet<Role> {
        self.grants.iter().map(|(role, _)| *role).collect()
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.grants.iter().any(|(role, _)| role.may(permission))
    }

    /// Whether the user may see personal data unmasked (a per-user grant).
    pub fn may_unmask(&self) -> bool {
        self.user.can_unmask
    }

    /// An audit record by this actor.
    pub fn audit(
        &self,
        at: DateTime<Utc>,
        action: &str,
        object: impl Into<String>,
        result: &str,
        detail: serde_json::Value,
    ) -> AuditDraft {
        AuditDraft {
            at,
            actor: self.audit_name(),
            action: action.to_string(),
            object: object.into(),
            result: result.to_string(),
            source: self.source.clone(),
            detail,
        }
    }
}

/// What login returns.
#[derive(Debug, Clone, Serialize)]
pub struct LoginOutcome {
    /// The bearer token (also the browser's session cookie). Shown once; the server keeps only its hash.
    pub token: String,
    /// For browsers: send it back as `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub user_id: i64,
}

/// The hash under which a token is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl App {
    /// Checks a permission, recording a denial.
    pub async fn require(&self, actor: &Actor, permission: Permission) -> AppResult<()> {
        if actor.may(permission) {
            return Ok(());
        }
        let draft = actor.audit(
            self.now(),
            "access.denied",
            "",
            "denied",
            serde_json::json!({ "permission": permission }),
        );
        self.store.append_audit(&[draft]).await?;
        Err(AppError::Forbidden(permission))
    }

    /// Records that an actor asked for something outside their scope, and answers "not found".
    pub async fn out_of_scope<T>(&self, actor: &Actor, object: String) -> AppResult<T> {
        let draft = actor.audit(
            self.now(),
            "access.denied",
            object,
            "out_of_scope",
            serde_json::json!({}),
        );
        self.store.append_audit(&[draft]).await?;
        Err(AppError::NotFound)
    }

    /// The region path a scope covers, if its anchor exists.
    pub async fn scope_path(&self, scope: &Scope) -> AppResult<Option<String>> {
        Ok(match scope {
            Scope::Region(code) => self.store.get_region(code.as_str()).await?.map(|r| r.path),
            Scope::Grid(code) => self.store.get_grid(code.as_str()).await?.map(|g| g.path),
            Scope::Department(id) => self.store.get_department(*id).await?.map(|d| d.path),
            // A committee scope sees no territory: it sees its committee's mediations and the cases they are
            // about (`mediation.rs`, and `case_visibility`).
            Scope::Committee(_) => None,
        })
    }

    /// Builds the actor for a user as they are in the database now.
    pub async fn actor_for(
        &self,
        user: UserRecord,
        source: String,
        session_token_hash: Option<String>,
    ) -> AppResult<Actor> {
        let mut grants = Vec::new();
        let mut prefixes = Vec::new();
        for RoleGrant { role, scope } in &user.roles {
            let (Ok(role), Ok(scope)) = (Role::parse(role), Scope::parse(scope)) else {
                tracing::warn!(
                    user = user.id,
                    role,
                    scope,
                    "ignoring an unreadable role grant"
                );
                continue;
            };
            if let Some(path) = self.scope_path(&scope).await?
                && !prefixes.contains(&path)
            {
                prefixes.push(path);
            }
            grants.push((role, scope));
        }
        Ok(Actor {
            user,
            grants,
            visibility: Visibility::of(prefixes),
            source,
            session_token_hash,
        })
    }

    /// Signs in with a username and password. Failures are throttled per username and per source address,
    /// and every attempt is recorded.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        source: &str,
    ) -> AppResult<LoginOutcome> {
        let now = self.now();
        let since = now - self.settings.throttle_window;
        let user_key = format!("user:{username}");
        let source_key = format!("source:{source}");
        let user_failures = self.store.login_failures_since(&user_key, since).await?;
        let source_failures = self.store.login_failures_since(&source_key, since).await?;
        let audit = |result: &str, actor: String, detail: serde_json::Value| AuditDraft {
            at: now,
            actor,
            action: "auth.login".into(),
            object: format!("username:{username}"),
            result: result.into(),
            source: source.into(),
            detail,
        };
        if user_failures >= self.settings.max_failures_per_user
            || source_failures >= self.settings.max_failures_per_source
        {
            self.store
                .append_audit(&[audit(
                    "throttled",
                    "anonymous".into(),
                    serde_json::json!({}),
                )])
                .await?;
            return Err(AppError::Throttled {
                retry_after_secs: self.settings.throttle_window.num_seconds(),
            });
        }
        let credentials = self.store.credentials(username).await?;
        let stored = credentials.as_ref().map(|c| c.password_hash.clone());
        let password_ok = self.passwords.verify(password.to_string(), stored).await?;
        let credentials = match credentials {
            Some(c) if password_ok && !c.disabled => c,
            other => {
                let reason = match other {
                    None => "unknown_user",
                    Some(c) if c.disabled && password_ok => "disabled",
                    Some(_) => "bad_password",
                };
                self.store
                    .record_login_failure(&[user_key, source_key], now)
                    .await?;
                self.store
                    .append_audit(&[audit(
                        "failed",
                        "anonymous".into(),
                        serde_json::json!({ "reason": reason }),
                    )])
                    .await?;
                return Err(AppError::BadCredentials);
            }
        };
        self.store.clear_login_failures(&user_key).await?;
        let token = random_token(32);
        let csrf_token = random_token(24);
        let expires_at = now + self.settings.session_idle;
        let session = NewSession {
            token_hash: token_hash(&token),
            user_id: credentials.user_id,
            csrf_token: csrf_token.clone(),
            source: source.to_string(),
            created_at: now,
            expires_at,
        };
        let record = audit(
            "ok",
            format!("user:{}", credentials.user_id),
            serde_json::json!({}),
        );
        self.store.create_session(&session, &[record]).await?;
        Ok(LoginOutcome {
            token,
            csrf_token,
            expires_at,
            user_id: credentials.user_id,
        })
    }

    /// Finds the actor behind a token; a disabled user or an expired session is not authenticated.
    /// Returns the actor and the session's CSRF token.
    pub async fn authenticate(&self, token: &str, source: &str) -> AppResult<(Actor, String)> {
        let hash = token_hash(token);
        let session = self
            .store
            .session(&hash)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let now = self.now();
        if session.expires_at <= now || session.user.disabled {
            return Err(AppError::Unauthenticated);
        }
        if now - session.last_seen_at > chrono::Duration::seconds(60) {
            self.store
                .touch_session(&hash, now, now + self.settings.session_idle)
                .await?;
        }
        let csrf = session.csrf_token.clone();
        let actor = self
            .actor_for(session.user, source.to_string(), Some(hash))
            .await?;
        Ok((actor, csrf))
    }

    /// Ends the actor's session on the server.
    pub async fn logout(&self, actor: &Actor) -> AppResult<()> {
        let Some(hash) = &actor.session_token_hash else {
            return Ok(());
        };
        let draft = actor.audit(
            self.now(),
            "auth.logout",
            actor.audit_name(),
            "ok",
            serde_json::json!({}),
        );
        self.store.delete_session(hash, &[draft]).await?;
        Ok(())
    }

    /// An actor for command-line administration: everything, recorded as `system` from `cli`.
    pub fn system_audit(
        &self,
        action: &str,
        object: impl Into<String>,
        detail: serde_json::Value,
    ) -> AuditDraft {
        AuditDraft {
            at: self.now(),
            actor: "system".into(),
            action: action.into(),
            object: object.into(),
            result: "ok".into(),
            source: "cli".into(),
            detail,
        }
    }
}
