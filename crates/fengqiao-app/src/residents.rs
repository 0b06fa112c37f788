//! Residents and their personal data: registered with ID and phone numbers encrypted, looked up by keyed
//! hash, shown masked, and unmasked only for users holding the grant — every unmask recorded.

use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::Permission;
use fengqiao_domain::codes::RegionCode;
use fengqiao_domain::error::FieldError;
use fengqiao_domain::personal::{PhoneNumber, ResidentIdNumber};
use fengqiao_store::{NewResident, Page, Paged, ResidentKey, ResidentRecord};

/// A resident to register.
#[derive(Debug, Clone, Deserialize)]
pub struct ResidentInput {
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub region_code: String,
    #[serde(default)]
    pub address: String,
}

/// A resident as shown: numbers masked unless this view was unmasked.
#[derive(Debug, Clone, Serialize)]
pub struct ResidentView {
    pub id: i64,
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub region_code: String,
    pub address: String,
    pub masked: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn masked_view(record: ResidentRecord) -> ResidentView {
    ResidentView {
        id: record.id,
        name: record.name,
        id_number: record.id_number.map(|v| v.masked),
        phone: record.phone.map(|v| v.masked),
        region_code: record.region_code,
        address: fengqiao_domain::personal::mask_text(&record.address),
        masked: true,
        created_at: record.created_at,
    }
}

/// How to look residents up.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResidentQuery {
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

impl App {
    pub async fn register_resident(
        &self,
        actor: &Actor,
        input: &ResidentInput,
    ) -> AppResult<ResidentView> {
        self.require(actor, Permission::RegisterResidents).await?;
        let mut errors = Vec::new();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            errors.push(FieldError::new(
                "name",
                "length",
                "姓名不能为空，且不超过 50 字",
                "the name must be 1 to 50 characters",
            ));
        }
        let id_number = match input.id_number.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(text) => match ResidentIdNumber::parse(text) {
                Ok(id) => Some(id),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            None => None,
        };
        let phone = match input.phone.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(text) => match PhoneNumber::parse(text) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            None => None,
        };
        let region = RegionCode::parse(&input.region_code).map_err(|e| e.for_field("region_code"));
        if let Err(e) = &region {
            errors.push(e.clone());
        }
        if input.address.chars().count() > 200 {
            errors.push(FieldError::new(
                "address",
                "length",
                "地址不超过 200 字",
                "the address may not exceed 200 characters",
            ));
        }
        let Ok(region) = region else {
            return Err(AppError::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        match self.store.get_region(region.as_str()).await? {
            Some(r) if actor.visibility.sees(&r.path) => {}
            Some(_) => return self.out_of_scope(actor, format!("region:{region}")).await,
            None => {
                return Err(AppError::Validation(vec![FieldError::new(
                    "region_code",
                    "missing_reference",
                    format!("区划 {region} 不存在"),
                    format!("region {region} does not exist"),
                )]));
            }
        }
        let resident = NewResident {
            name: name.to_string(),
            id_number: match &id_number {
                Some(id) => Some(self.keys.seal("id_number", id.as_str(), id.masked())?),
                None => None,
            },
            phone: match &phone {
                Some(p) => Some(self.keys.seal("phone", p.as_str(), p.masked())?),
                None => None,
            },
            region_code: region.as_str().to_string(),
            address: input.address.trim().to_string(),
            created_by: Some(actor.user.id),
        };
        let audit = actor.audit(
            self.now(),
            "resident.create",
            "",
            "ok",
            serde_json::json!({ "region_code": resident.region_code }),
        );
        let id = self
            .store
            .create_resident(&resident, self.now(), &[audit])
            .await?;
        let record = self
            .store
            .get_resident(&actor.visibility, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(masked_view(record))
    }

    /// Looks residents up by phone or ID number (exact, through the keyed hash), or lists them; always masked.
    pub async fn find_residents(
        &self,
        actor: &Actor,
        query: &ResidentQuery,
        page: Page,
    ) -> AppResult<Paged<ResidentView>> {
        self.require(actor, Permission::LookUpResidents).await?;
        let hash;
        let key = match (&query.id_number, &query.phone) {
            (Some(id), _) => {
                let id = ResidentIdNumber::parse(id)?;
                hash = self.keys.blind_index("id_number", id.as_str());
                Some((ResidentKey::IdNumber, hash.as_str()))
            }
            (None, Some(phone)) => {
                let phone = PhoneNumber::parse(phone)?;
                hash = self.keys.blind_index("phone", phone.as_str());
                Some((ResidentKey::Phone, hash.as_str()))
            }
            (None, None) => None,
        };
        let found = self
            .store
            .find_residents(&actor.visibility, key, page)
            .await?;
        Ok(Paged {
            total: found.total,
            items: found.items.into_iter().map(masked_view).collect(),
        })
    }

    pub async fn resident(&self, actor: &Actor, id: i64) -> AppResult<ResidentView> {
        self.require(actor, Permission::LookUpResidents).await?;
        match self.store.get_resident(&actor.visibility, id).await? {
            Some(record) => Ok(masked_view(record)),
            None => self.out_of_scope(actor, format!("resident:{id}")).await,
        }
    }

    /// Shows a resident's numbers in full, for a user holding the unmask grant, with the reason recorded.
    pub async fn unmask_resident(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> AppResult<ResidentView> {
        self.require(actor, Permission::LookUpResidents).await?;
        let Some(record) = self.store.get_resident(&actor.visibility, id).await? else {
            return self.out_of_scope(actor, format!("resident:{id}")).await;
        };
        if !actor.may_unmask() {
            let draft = actor.audit(
                self.now(),
                "resident.unmask",
                format!("resident:{id}"),
                "denied",
                serde_json::json!({ "reason": reason }),
            );
            self.store.append_audit(&[draft]).await?;
            return Err(AppError::ForbiddenBecause("unmask_not_granted"));
        }
        let reason = reason.trim();
        if reason.chars().count() < 2 || reason.chars().count() > 200 {
            return Err(AppError::Validation(vec![FieldError::new(
                "reason",
                "length",
                "请填写查看完整信息的事由（2–200 字）",
                "give the reason for seeing the full numbers (2–200 characters)",
            )]));
        }
        let id_number = match &record.id_number {
            Some(v) => Some(self.keys.decrypt(&v.ciphertext)?),
            None => None,
        };
        let phone = match &record.phone {
            Some(v) => Some(self.keys.decrypt(&v.ciphertext)?),
            None => None,
        };
        let fields: Vec<&str> = [
            id_number.as_ref().map(|_| "id_number"),
            phone.as_ref().map(|_| "phone"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let draft = actor.audit(
            self.now(),
            "resident.unmask",
            format!("resident:{id}"),
            "ok",
            serde_json::json!({ "reason": reason, "fields": fields }),
        );
        // The read is recorded before the numbers leave.
        self.store.append_audit(&[draft]).await?;
        Ok(ResidentView {
            id: record.id,
            name: record.name,
            id_number,
            phone,
            region_code: record.region_code,
            address: record.address,
            masked: false,
            created_at: record.created_at,
        })
    }
}
