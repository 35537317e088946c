//! The OpenAPI document: built from the routes themselves, then completed
//! with the security schemes and the error answers every operation shares.

use sigma_types::ErrorBody;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Sigma", description = "Fleet manager for VPS: inventory, agents, probes, Prometheus targets and Ansible inventory."),
    tags(
        (name = "providers", description = "Companies VPS are rented from"),
        (name = "vps", description = "The VPS inventory"),
        (name = "stats", description = "Dashboard totals"),
        (name = "agents", description = "Agents as operators see them: claims, keys, enrolment tokens"),
        (name = "agent", description = "The agent's own side: registration, claim status, heartbeat, configuration"),
        (name = "events", description = "Live fleet events (Server-Sent Events)"),
        (name = "audit", description = "Who changed what, when"),
        (name = "service", description = "Health and metrics, without credentials")
    ),
    components(schemas(ErrorBody, sigma_types::SortOrder, sigma_types::VpsSort, sigma_types::TargetJob, sigma_types::TransferFormat)),
    modifiers(&Shared)
)]
pub struct ApiDoc;

struct Shared;

impl Modify for Shared {
    fn modify(&self, _: &mut OpenApi) {}
}

/// Adds what every operation shares: security schemes, and the errors any
/// request may meet (bad input, credentials, size, rate, outage).
pub fn finish(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))));
    components
        .add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    components
        .add_security_scheme("agent_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Agent-Key"))));
    doc.security = Some(vec![
        SecurityRequirement::new("api_key", Vec::<String>::new()),
        SecurityRequirement::new("bearer", Vec::<String>::new()),
    ]);
    for (path, item) in doc.paths.paths.iter_mut() {
        let is_api = path.starts_with("/api/");
        for op in operations(item) {
            let has_body = op.request_body.is_some();
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let mut add = |status: &str, description: &str| {
                if !op.responses.responses.contains_key(status) {
                    op.responses.responses.insert(status.to_owned(), error_response(description).into());
                }
            };
            if is_api {
                if has_body || has_params {
                    add("400", "Invalid input; `details.fields` names each bad field");
                }
                add("401", "Missing or invalid credentials");
                add("403", "The credential's role is too low");
                add("429", "Too many requests; see Retry-After");
                add("500", "Internal error (details are logged, never sent)");
                add("503", "The database is unreachable");
            }
            if has_body {
                add("413", "The body is too large");
                add("415", "The body is not JSON");
            }
        }
    }
    doc
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete, &mut item.head, &mut item.options]
        .into_iter()
        .filter_map(|o| o.as_mut())
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .build()
}

/// The base document, before the routes are merged in.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}
