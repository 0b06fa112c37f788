//! Accounts: creating users, granting roles and scopes, disabling and moving them.
//!
//! Only a security administrator manages users, and only within their own scope: every scope they grant
//! must lie inside what they may see, so nobody can hand out more than they hold.

use serde::Deserialize;

use crate::access::Actor;
use crate::passwords::check_strength;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::{Permission, Role};
use fengqiao_domain::codes::Scope;
use fengqiao_domain::error::FieldError;
use fengqiao_store::{NewUser, Page, Paged, RoleGrant, UserPatch, UserRecord};

/// A role with its scope, as given.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct GrantInput {
    pub role: String,
    pub scope: String,
}

/// A user to create.
#[derive(Debug, Clone, Deserialize)]
pub struct UserInput {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
    pub roles: Vec<GrantInput>,
    #[serde(default)]
    pub can_unmask: bool,
    pub department_id: Option<i64>,
    pub grid_code: Option<String>,
}

/// Changes to a user.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    pub can_unmask: Option<bool>,
    pub password: Option<String>,
    pub roles: Option<Vec<GrantInput>>,
}

fn check_username(username: &str) -> Result<(), FieldError> {
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !(2..=64).contains(&username.len()) || !ok_chars {
        return Err(FieldError::new(
            "username",
            "format",
            "用户名为 2–64 位字母、数字、点、下划线或连字符",
            "the username must be 2–64 letters, digits, dots, underscores or hyphens",
        ));
    }
    Ok(())
}

fn check_display_name(name: &str) -> Result<(), FieldError> {
    let n = name.trim().chars().count();
    if n == 0 || n > 50 {
        return Err(FieldError::new(
            "display_name",
            "length",
            "姓名不能为空，且不超过 50 字",
            "the name must be 1 to 50 characters",
        ));
    }
    Ok(())
}

/// The longest common prefix of region paths, cut back to a whole path segment.
fn common_path(paths: &[String]) -> String {
    let Some(first) = paths.first() else {
        return "/".to_string();
    };
    let mut prefix: &str = first;
    for path in &paths[1..] {
        let n = prefix
            .bytes()
            .zip(path.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        prefix = &prefix[..n];
    }
    match prefix.rfind('/') {
        Some(i) => prefix[..=i].to_string(),
        None => "/".to_string(),
    }
}

impl App {
    /// Parses grants and resolves their scopes to paths; each scope must exist.
    async fn resolve_grants(
        &self,
        grants: &[GrantInput],
    ) -> AppResult<(Vec<RoleGrant>, Vec<String>)> {
        let mut errors = Vec::new();
        let mut out = Vec::new();
        let mut paths = Vec::new();
        if grants.is_empty() {
            errors.push(FieldError::new(
                "roles",
                "required",
                "至少授予一个角色",
                "grant at least one role",
            ));
        }
        for (i, grant) in grants.iter().enumerate() {
            let role =
                Role::parse(&grant.role).map_err(|e| e.for_field(format!("roles[{i}].role")));
            let scope =
                Scope::parse(&grant.scope).map_err(|e| e.for_field(format!("roles[{i}].scope")));
            match (role, scope) {
                (Ok(role), Ok(scope)) => {
                    match self.scope_path(&scope).await? {
                        Some(path) => paths.push(path),
                        None if matches!(scope, Scope::Committee(_)) => {}
                        None => {
                            errors.push(FieldError::new(
                                format!("roles[{i}].scope"),
                                "missing_reference",
                                format!("范围 {scope} 指向的对象不存在"),
                                format!("scope {scope} names nothing that exists"),
                            ));
                            continue;
                        }
                    }
                    out.push(RoleGrant {
                        role: role.as_str().to_string(),
                        scope: scope.to_string(),
                    });
                }
                (role, scope) => {
                    errors.extend(role.err());
                    errors.extend(scope.err());
                }
            }
        }
        if errors.is_empty() {
            Ok((out, paths))
        } else {
            Err(AppError::Validation(errors))
        }
    }

    async fn prepare_user(&self, input: &UserInput) -> AppResult<(NewUser, Vec<String>)> {
        let mut errors = Vec::new();
        errors.extend(check_username(&input.username).err());
        let display_name = input
            .display_name
            .clone()
            .unwrap_or_else(|| input.username.clone());
        errors.extend(check_display_name(&display_name).err());
        errors.extend(check_strength(&input.password).err());
        let grants = self.resolve_grants(&input.roles).await;
        let (roles, paths) = match grants {
            Ok(g) => g,
            Err(AppError::Validation(more)) => {
                errors.extend(more);
                (Vec::new(), Vec::new())
            }
            Err(e) => return Err(e),
        };
        if let Some(id) = input.department_id
            && self.store.get_department(id).await?.is_none()
        {
            errors.push(FieldError::new(
                "department_id",
                "missing_reference",
                format!("部门 {id} 不存在"),
                format!("department {id} does not exist"),
            ));
        }
        if let Some(code) = &input.grid_code
            && self.store.get_grid(code).await?.is_none()
        {
            errors.push(FieldError::new(
                "grid_code",
                "missing_reference",
                format!("网格 {code} 不存在"),
                format!("grid {code} does not exist"),
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let password_hash = self.passwords.hash(input.password.clone()).await?;
        Ok((
            NewUser {
                username: input.username.clone(),
                display_name: display_name.trim().to_string(),
                password_hash,
                can_unmask: input.can_unmask,
                department_id: input.department_id,
                grid_code: input.grid_code.clone(),
                home_path: common_path(&paths),
                roles,
            },
            paths,
        ))
    }

    /// Creates a user as a security administrator.
    pub async fn create_user(&self, actor: &Actor, input: &UserInput) -> AppResult<UserRecord> {
        self.require(actor, Permission::ManageUsers).await?;
        let (user, paths) = self.prepare_user(input).await?;
        if let Some(path) = paths.iter().find(|p| !actor.visibility.sees(p)) {
            return self.out_of_scope(actor, format!("path:{path}")).await;
        }
        let audit = actor.audit(
            self.now(),
            "user.create",
            "",
            "ok",
            serde_json::json!({ "username": user.username, "roles": user.roles.iter().map(|g| format!("{}@{}", g.role, g.scope)).collect::<Vec<_>>(), "can_unmask": user.can_unmask }),
        );
        let id = self.store.create_user(&user, self.now(), &[audit]).await?;
        self.store.get_user(id).await?.ok_or(AppError::NotFound)
    }

    /// Creates a user from the command line (`fengqiao user add`, imports, the demo).
    pub async fn add_user(&self, input: &UserInput) -> AppResult<UserRecord> {
        let (user, _) = self.prepare_user(input).await?;
        let audit = self.system_audit(
            "user.create",
            "",
            serde_json::json!({ "username": user.username, "roles": user.roles.iter().map(|g| format!("{}@{}", g.role, g.scope)).collect::<Vec<_>>() }),
        );
        let id = self.store.create_user(&user, self.now(), &[audit]).await?;
        self.store.get_user(id).await?.ok_or(AppError::NotFound)
    }

    pub async fn user(&self, actor: &Actor, id: i64) -> AppResult<UserRecord> {
        if actor.user.id != id {
            self.require(actor, Permission::ManageUsers).await?;
        }
        match self.store.get_user(id).await? {
            Some(user) if user.id == actor.user.id || actor.visibility.sees(&user.home_path) => {
                Ok(user)
            }
            _ => self.out_of_scope(actor, format!("user:{id}")).await,
        }
    }

    pub async fn users(
        &self,
        actor: &Actor,
        q: Option<&str>,
        page: Page,
    ) -> AppResult<Paged<UserRecord>> {
        self.require(actor, Permission::ManageUsers).await?;
        Ok(self.store.list_users(&actor.visibility, q, page).await?)
    }

    /// Disables, renames, re-grants or resets a user. Takes effect on the user's next request; disabling or
    /// a new password ends their sessions.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: i64,
        update: &UserUpdate,
    ) -> AppResult<UserRecord> {
        self.require(actor, Permission::ManageUsers).await?;
        let current = self.user(actor, id).await?;
        let mut errors = Vec::new();
        if let Some(name) = &update.display_name {
            errors.extend(check_display_name(name).err());
        }
        if let Some(password) = &update.password {
            errors.extend(check_strength(password).err());
        }
        let mut patch = UserPatch {
            display_name: update.display_name.as_ref().map(|n| n.trim().to_string()),
            disabled: update.disabled,
            can_unmask: update.can_unmask,
            ..UserPatch::default()
        };
        if let Some(grants) = &update.roles {
            match self.resolve_grants(grants).await {
                Ok((roles, paths)) => {
                    if let Some(path) = paths.iter().find(|p| !actor.visibility.sees(p)) {
                        return self.out_of_scope(actor, format!("path:{path}")).await;
                    }
                    patch.roles = Some((roles, common_path(&paths)));
                }
                Err(AppError::Validation(more)) => errors.extend(more),
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if actor.user.id == id && update.disabled == Some(true) {
            return Err(AppError::ForbiddenBecause("cannot_disable_self"));
        }
        if let Some(password) = &update.password {
            patch.password_hash = Some(self.passwords.hash(password.clone()).await?);
        }
        let audit = actor.audit(
            self.now(),
            "user.update",
            format!("user:{}", current.id),
            "ok",
            serde_json::json!({
                "display_name": update.display_name,
                "disabled": update.disabled,
                "can_unmask": update.can_unmask,
                "password_changed": update.password.is_some(),
                "roles": update.roles,
            }),
        );
        self.store
            .update_user(id, &patch, self.now(), &[audit])
            .await?;
        self.store.get_user(id).await?.ok_or(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::common_path;

    #[test]
    fn common_path_cuts_at_segments() {
        let p = |v: &[&str]| common_path(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(p(&["/37/3708/370883/"]), "/37/3708/370883/");
        assert_eq!(
            p(&["/37/3708/370883/370883101/", "/37/3708/370883/370883102/"]),
            "/37/3708/370883/"
        );
        assert_eq!(p(&["/37/3708/", "/61/6103/"]), "/");
        assert_eq!(p(&[]), "/");
    }
}
