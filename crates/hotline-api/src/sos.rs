//! The SOS handset registry (一键通): `/api/v1/sos/devices`.
//!
//! A device is keyed by its phone number, normalised everywhere (body and path), so
//! `/sos/devices/+8613800000001` and `/sos/devices/138-0000-0001` are the same device.
//! Bodies are read field by field rather than through serde's derive so that every error names the
//! field (`age: must be a whole number`, `contacts[1].number: …`), which is what a person fixing a
//! form needs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hotline_tickets::sos::MAX_AGE;
use hotline_tickets::{EmergencyContact, NewSosDevice, SosDeviceFilter, TicketError};
use serde_json::{Map, Value};

use crate::respond::created;
use crate::{ApiError, ApiPath, ApiQuery, ApiState};

fn invalid(reason: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid", reason)
}

/// The store's registry errors in the API's terms (the shared mapping knows no 409).
fn store_error(e: TicketError) -> ApiError {
    match e {
        TicketError::Invalid { .. } => invalid(e.to_string()),
        TicketError::SosDeviceExists(number) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("SOS device {number} is already registered"),
        ),
        other => other.into(),
    }
}

fn not_found(number: &str) -> ApiError {
    ApiError::not_found(format!("no SOS device registered as {number:?}"))
}

const DEVICE_FIELDS: &[&str] = &[
    "number",
    "name",
    "age",
    "gender",
    "address",
    "medical_notes",
    "contacts",
    "community",
    "preferred_hospital",
    "latitude",
    "longitude",
    // Accepted and ignored, so that a device read with GET can be sent back with PUT as it is.
    "created_at",
    "updated_at",
];
const CONTACT_FIELDS: &[&str] = &["name", "relation", "number"];

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| invalid(format!("{what}: must be a JSON object")))
}

/// Unknown keys are refused: a misspelt `medical_note` silently dropped would lose what a doctor
/// needs to know.
fn known_keys(obj: &Map<String, Value>, allowed: &[&str], prefix: &str) -> Result<(), ApiError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(format!("{prefix}{k}: unknown field"))),
        None => Ok(()),
    }
}

/// A string field; absent or null is `None`.
fn text(obj: &Map<String, Value>, key: &str, prefix: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        // Numbers are often sent as JSON numbers; take them as written.
        Some(Value::Number(n)) if key == "number" => Ok(Some(n.to_string())),
        Some(_) => Err(invalid(format!("{prefix}{key}: must be a string"))),
    }
}

fn float(obj: &Map<String, Value>, key: &str) -> Result<Option<f64>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(invalid(format!("{key}: must be a number"))),
    }
}

fn age(obj: &Map<String, Value>) -> Result<Option<u16>, ApiError> {
    match obj.get("age") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|a| u16::try_from(a).ok())
            .filter(|&a| a <= MAX_AGE)
            .map(Some)
            .ok_or_else(|| invalid(format!("age: must be a whole number 0 to {MAX_AGE}"))),
    }
}

fn contacts(obj: &Map<String, Value>) -> Result<Vec<EmergencyContact>, ApiError> {
    let list = match obj.get("contacts") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid("contacts: must be an array")),
    };
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let prefix = format!("contacts[{i}].");
            let c = object(c, &format!("contacts[{i}]"))?;
            known_keys(c, CONTACT_FIELDS, &prefix)?;
            Ok(EmergencyContact {
                name: text(c, "name", &prefix)?.unwrap_or_default(),
                relation: text(c, "relation", &prefix)?,
                number: text(c, "number", &prefix)?.unwrap_or_default(),
            })
        })
        .collect()
}

/// The device a request body describes; a missing `number` is `default_number` (PUT keeps the
/// path's). Content rules (required fields, lengths, number format) are the store's, which names
/// the field too.
fn device(body: &Value, default_number: &str) -> Result<NewSosDevice, ApiError> {
    let obj = object(body, "body")?;
    known_keys(obj, DEVICE_FIELDS, "")?;
    Ok(NewSosDevice {
        number: text(obj, "number", "")?.unwrap_or_else(|| default_number.to_string()),
        name: text(obj, "name", "")?.unwrap_or_default(),
        age: age(obj)?,
        gender: text(obj, "gender", "")?,
        address: text(obj, "address", "")?.unwrap_or_default(),
        medical_notes: text(obj, "medical_notes", "")?.unwrap_or_default(),
        contacts: contacts(obj)?,
        community: text(obj, "community", "")?,
        preferred_hospital: text(obj, "preferred_hospital", "")?,
        latitude: float(obj, "latitude")?,
        longitude: float(obj, "longitude")?,
    })
}

/// `GET /api/v1/sos/devices?community&q&page&per_page`: `{items, page, per_page, total}`, by number.
pub(crate) async fn list_devices(
    State(st): State<ApiState>,
    ApiQuery(filter): ApiQuery<SosDeviceFilter>,
) -> Result<Response, ApiError> {
    let page = st
        .tickets
        .list_sos_devices(&filter)
        .await
        .map_err(store_error)?;
    Ok(Json(page).into_response())
}

/// `POST /api/v1/sos/devices`: 201 with the device as stored (and its `Location`); 409 if taken.
pub(crate) async fn create_device(
    State(st): State<ApiState>,
    crate::ApiJson(body): crate::ApiJson<Value>,
) -> Result<Response, ApiError> {
    let new = device(&body, "")?;
    let d = st
        .tickets
        .create_sos_device(&new)
        .await
        .map_err(store_error)?;
    st.sos_device_saved(&d);
    Ok(created(format!("/api/v1/sos/devices/{}", d.number), &d))
}

/// `GET /api/v1/sos/devices/{number}`.
pub(crate) async fn get_device(
    State(st): State<ApiState>,
    ApiPath(number): ApiPath<String>,
) -> Result<Response, ApiError> {
    match st.tickets.sos_device(&number).await.map_err(store_error)? {
        Some(d) => Ok(Json(d).into_response()),
        None => Err(not_found(&number)),
    }
}

/// `PUT /api/v1/sos/devices/{number}`: replaces the whole device (absent optional fields are
/// cleared); the body's `number` may move it to a free number.
pub(crate) async fn replace_device(
    State(st): State<ApiState>,
    ApiPath(number): ApiPath<String>,
    crate::ApiJson(body): crate::ApiJson<Value>,
) -> Result<Response, ApiError> {
    let new = device(&body, &number)?;
    match st
        .tickets
        .replace_sos_device(&number, &new)
        .await
        .map_err(store_error)?
    {
        Some(d) => {
            st.sos_device_saved(&d);
            Ok(Json(d).into_response())
        }
        None => Err(not_found(&number)),
    }
}

/// `DELETE /api/v1/sos/devices/{number}`: 204.
pub(crate) async fn delete_device(
    State(st): State<ApiState>,
    ApiPath(number): ApiPath<String>,
) -> Result<Response, ApiError> {
    if st
        .tickets
        .delete_sos_device(&number)
        .await
        .map_err(store_error)?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found(&number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reason(r: Result<NewSosDevice, ApiError>) -> String {
        let e = r.unwrap_err();
        assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, "invalid"));
        e.reason
    }

    #[test]
    fn body_errors_name_the_field() {
        assert_eq!(
            reason(device(&json!([]), "")),
            "body: must be a JSON object"
        );
        assert_eq!(
            reason(device(&json!({"medical_note": "x"}), "")),
            "medical_note: unknown field"
        );
        assert_eq!(
            reason(device(&json!({"name": 5}), "")),
            "name: must be a string"
        );
        for bad in [json!(-1), json!(151), json!(1.5), json!("80")] {
            assert!(
                reason(device(&json!({ "age": bad }), "")).starts_with("age: "),
                "{bad}"
            );
        }
        assert_eq!(
            reason(device(&json!({"latitude": "north"}), "")),
            "latitude: must be a number"
        );
        assert_eq!(
            reason(device(&json!({"contacts": {}}), "")),
            "contacts: must be an array"
        );
        assert_eq!(
            reason(device(&json!({"contacts": [{"name": "a"}, 3]}), "")),
            "contacts[1]: must be a JSON object"
        );
        assert_eq!(
            reason(device(&json!({"contacts": [{"phone": "1"}]}), "")),
            "contacts[0].phone: unknown field"
        );
    }

    #[test]
    fn body_reads_every_field() {
        let d = device(
            &json!({
                "name": "王秀兰", "age": 82, "gender": "女", "address": "深圳",
                "medical_notes": "高血压", "community": "莲花北", "preferred_hospital": "人民医院",
                "latitude": 22.5, "longitude": 114, "created_at": "x", "updated_at": null,
                "contacts": [{"name": "王强", "number": 13900000002_u64, "relation": "儿子"}]
            }),
            "13800000001",
        )
        .unwrap();
        assert_eq!(d.number, "13800000001");
        assert_eq!(d.age, Some(82));
        assert_eq!(d.longitude, Some(114.0));
        assert_eq!(d.contacts[0].number, "13900000002");
        assert_eq!(d.contacts[0].relation.as_deref(), Some("儿子"));
    }
}
