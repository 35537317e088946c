//! `sigma provider ...`

use super::{Ctx, collect, transfer};
use crate::cli::{ProviderCommand, ProviderFields};
use crate::error::{CliError, CliResult};
use crate::output::{Cell, Column, col, opt, wide};
use sigma_types::{Patch, Provider, ProviderCreate, ProviderListQuery, ProviderPatch, TransferFormat};
use uuid::Uuid;

pub const COLUMNS: &[Column<Provider>] = &[
    wide("id", |p| p.id.to_string().into()),
    col("name", |p| p.name.as_str().into()),
    col("country", |p| opt(&p.country)),
    col("vps", |p| p.vps_count.to_string().into()),
    col("active", |p| p.active_vps_count.to_string().into()),
    col("rating", |p| opt(&p.rating)),
    col("api", |p| Cell::from(if p.api_supported { "yes" } else { "no" })),
    col("website", |p| opt(&p.website)),
    wide("panel_url", |p| opt(&p.panel_url)),
    wide("notes", |p| opt(&p.notes)),
    wide("created_at", |p| p.created_at.to_rfc3339().into()),
    wide("updated_at", |p| p.updated_at.to_rfc3339().into()),
];

pub async fn run(command: ProviderCommand, ctx: &Ctx) -> CliResult<()> {
    let client = &ctx.client;
    match command {
        ProviderCommand::List { search, page } => {
            let providers = collect(&page, |page, per_page| {
                let query = ProviderListQuery { q: search.clone(), page: Some(page), per_page: Some(per_page) };
                async move { client.list_providers(&query).await }
            })
            .await?;
            ctx.out.list(&providers, COLUMNS)
        }
        ProviderCommand::Show { provider } => {
            let p = find(ctx, &provider).await?;
            ctx.out.item(&p, COLUMNS)
        }
        ProviderCommand::Create { name, fields } => {
            let body = ProviderCreate {
                name: Some(name),
                country: fields.country,
                website: fields.website,
                panel_url: fields.panel_url,
                api_supported: fields.api_supported,
                notes: fields.notes,
                rating: fields.rating,
            };
            let p = client.create_provider(&body).await?;
            ctx.out.item(&p, COLUMNS)
        }
        ProviderCommand::Update { provider, name, fields, clear } => {
            let patch = patch(name, fields, &clear)?;
            let id = find_id(ctx, &provider).await?;
            let p = client.update_provider(id, &patch).await?;
            ctx.out.item(&p, COLUMNS)
        }
        ProviderCommand::Delete { provider } => {
            let p = find(ctx, &provider).await?;
            client.delete_provider(p.id).await?;
            eprintln!("deleted provider {}", p.name);
            Ok(())
        }
        ProviderCommand::Import(args) => transfer::import(args, transfer::Kind::Providers, ctx).await,
        ProviderCommand::Export { search, file } => {
            transfer::export(file, "providers", |format: TransferFormat, progress| async move {
                client.export_providers(search.as_deref(), format, progress).await
            })
            .await
        }
    }
}

fn patch(name: Option<String>, f: ProviderFields, clear: &[String]) -> CliResult<ProviderPatch> {
    use super::field as set;
    Ok(ProviderPatch {
        name: name.map_or(Patch::Missing, Patch::Value),
        country: set("country", f.country, clear)?,
        website: set("website", f.website, clear)?,
        panel_url: set("panel-url", f.panel_url, clear)?,
        api_supported: set("api-supported", f.api_supported, clear)?,
        notes: set("notes", f.notes, clear)?,
        rating: set("rating", f.rating, clear)?,
    })
}

/// A provider by id or by name (ignoring case).
pub async fn find(ctx: &Ctx, key: &str) -> CliResult<Provider> {
    if let Ok(id) = Uuid::parse_str(key) {
        return Ok(ctx.client.get_provider(id).await?);
    }
    let query = ProviderListQuery { q: Some(key.to_owned()), page: Some(1), per_page: Some(500) };
    let page = ctx.client.list_providers(&query).await?;
    page.data
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(key.trim()))
        .ok_or_else(|| CliError::not_found(format!("no provider named {key:?}")))
}

/// The id of a provider named by id or name; an id is taken as given.
pub async fn find_id(ctx: &Ctx, key: &str) -> CliResult<Uuid> {
    match Uuid::parse_str(key) {
        Ok(id) => Ok(id),
        Err(_) => Ok(find(ctx, key).await?.id),
    }
}
