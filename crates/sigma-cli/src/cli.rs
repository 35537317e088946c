//! The command line, declared once: parsing, help, completions and the man
//! page all come from these types.

use crate::output::Format;
use chrono::{DateTime, NaiveDate, Utc};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rust_decimal::Decimal;
use sigma_types::{BillingCycle, IpLabel, Purpose, Role, SortOrder, TargetJob, TransferFormat, VpsSort, VpsStatus};
use std::path::PathBuf;
use uuid::Uuid;

/// A value parser for a wire enumeration that lists its values in help and completions.
macro_rules! wire {
    ($t:ty) => {
        PossibleValuesParser::new(<$t>::ALL.iter().map(|v| v.as_str()))
            .map(|s| s.parse::<$t>().expect("only listed values get here"))
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "sigma",
    version,
    about = "The Sigma fleet from the terminal: providers, VPS, Prometheus targets, Ansible inventory",
    long_about = "The Sigma fleet from the terminal: providers, VPS, Prometheus targets, Ansible inventory.\n\n\
        The server and credentials come from a profile (`sigma config`), overridden by --url/SIGMA_URL \
        and SIGMA_API_KEY.\n\nExit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 authentication or permission.",
    propagate_version = true
)]
pub struct Cli {
    /// The profile to use (default: the current one, see `sigma config use`).
    #[arg(long, global = true, env = "SIGMA_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// The server's URL, overriding the profile.
    #[arg(long, global = true, env = "SIGMA_URL", value_name = "URL")]
    pub url: Option<String>,
    /// How to show results.
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Table, env = "SIGMA_OUTPUT")]
    pub output: Format,
    /// No colours, even on a terminal (`NO_COLOR` does the same).
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Providers the VPS are rented from.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// The VPS inventory.
    #[command(subcommand)]
    Vps(VpsCommand),
    /// Fleet totals: VPS by status, country, provider and purpose, expiry, cost.
    Stats,
    /// Prometheus scrape targets (file_sd / http_sd JSON).
    Targets(TargetsArgs),
    /// Ansible dynamic inventory (the inventory-script protocol).
    Inventory(InventoryArgs),
    /// The audit log: every change, by whom and when (admin).
    Audit(AuditArgs),
    /// Which VPS held an address, and when.
    IpHistory {
        /// An IPv4 or IPv6 address.
        ip: String,
    },
    /// Profiles: server URL and API key per name.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Log in with e-mail and password (and TOTP code); the profile keeps the login.
    Login(LoginArgs),
    /// Forget the profile's login (`--everywhere` also ends every session on the server).
    Logout {
        /// End every session of this user on the server too (browsers included).
        #[arg(long)]
        everywhere: bool,
    },
    /// Who the credentials in use belong to, and what they may do.
    Whoami,
    /// Users who log in (admin).
    #[command(subcommand)]
    User(UserCommand),
    /// API keys for scripts and tools.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Agents on the VPS: claim, list, rotate keys, enrolment tokens.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff), or write one page per command into a folder.
    Man {
        /// Write `sigma.1`, `sigma-vps.1`, ... into this folder instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

// ------------------------------------------------------------------ providers

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// List providers with their live and active VPS counts.
    List {
        /// Only providers whose name contains this text.
        #[arg(short, long)]
        search: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one provider (by id or name).
    Show { provider: String },
    /// Add a provider.
    Create {
        name: String,
        #[command(flatten)]
        fields: ProviderFields,
    },
    /// Change a provider: only the options given change.
    Update {
        provider: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: ProviderFields,
        /// Clear a field (repeatable): country, website, panel-url, notes, rating.
        #[arg(long, value_name = "FIELD", value_parser = ["country", "website", "panel-url", "notes", "rating"])]
        clear: Vec<String>,
    },
    /// Delete a provider (refused while any VPS refers to it).
    Delete { provider: String },
    /// Import providers from a JSON or CSV file (as exported); all or nothing.
    Import(ImportArgs),
    /// Export providers as JSON or CSV.
    Export {
        /// Only providers whose name contains this text.
        #[arg(short, long)]
        search: Option<String>,
        #[command(flatten)]
        file: ExportArgs,
    },
}

#[derive(Debug, Args)]
pub struct ProviderFields {
    /// Home country, ISO 3166-1 alpha-2.
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long)]
    pub website: Option<String>,
    #[arg(long)]
    pub panel_url: Option<String>,
    /// Whether the provider has an API Sigma could use.
    #[arg(long, value_name = "BOOL")]
    pub api_supported: Option<bool>,
    #[arg(long)]
    pub notes: Option<String>,
    /// 1 (poor) to 5 (excellent).
    #[arg(long)]
    pub rating: Option<i32>,
}

#[derive(Debug, Args)]
pub struct PageArgs {
    /// Show only this page (from 1) instead of every record.
    #[arg(long)]
    pub page: Option<u32>,
    /// Records per page with --page (1-500).
    #[arg(long)]
    pub per_page: Option<u32>,
}

// ------------------------------------------------------------------ VPS

#[derive(Debug, Subcommand)]
pub enum VpsCommand {
    /// List VPS; every filter of the API is an option.
    List {
        #[command(flatten)]
        filter: VpsFilterArgs,
        /// List the trash instead.
        #[arg(long)]
        deleted: bool,
        /// Sort field.
        #[arg(long, value_enum)]
        sort: Option<SortField>,
        /// Sort descending.
        #[arg(long)]
        desc: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one VPS (by id or host name).
    Show { vps: String },
    /// Add a VPS.
    Create {
        hostname: String,
        #[command(flatten)]
        fields: VpsFields,
    },
    /// Change a VPS: only the options given change.
    Update {
        vps: String,
        /// New host name.
        #[arg(long)]
        hostname: Option<String>,
        #[command(flatten)]
        fields: VpsFields,
        /// Add a tag, keeping the others (repeatable).
        #[arg(long, value_name = "TAG", conflicts_with = "tag")]
        add_tag: Vec<String>,
        /// Remove a tag, keeping the others (repeatable).
        #[arg(long, value_name = "TAG", conflicts_with = "tag")]
        remove_tag: Vec<String>,
        /// Clear a field or restore its default (repeatable).
        #[arg(long, value_name = "FIELD", value_parser = VPS_CLEARABLE)]
        clear: Vec<String>,
    },
    /// Retire a VPS: it keeps its record and frees its addresses and host name.
    Retire { vps: String },
    /// Move a VPS to the trash (`--purge` removes it for good).
    Delete {
        vps: String,
        /// Remove for good instead of moving to the trash (admin); needs --yes.
        #[arg(long)]
        purge: bool,
        /// Confirm --purge.
        #[arg(long, requires = "purge")]
        yes: bool,
    },
    /// Bring a VPS back from the trash.
    Restore { vps: String },
    /// The addresses a VPS held, and when.
    IpHistory { vps: String },
    /// Import VPS from a JSON or CSV file (as exported); all or nothing.
    Import(ImportArgs),
    /// Export the VPS matching the filters as JSON or CSV.
    Export {
        #[command(flatten)]
        filter: VpsFilterArgs,
        #[command(flatten)]
        file: ExportArgs,
    },
}

/// The VPS fields `vps update --clear` accepts, named as their options.
pub const VPS_CLEARABLE: [&str; 23] = [
    "alias",
    "city",
    "dc",
    "ip",
    "tag",
    "ssh-port",
    "ssh-user",
    "vpn-protocol",
    "cpu",
    "ram-mb",
    "disk-gb",
    "bandwidth-tb",
    "price",
    "currency",
    "billing-cycle",
    "purchase-date",
    "expire-date",
    "auto-renew",
    "monitoring",
    "node-exporter-port",
    "extra",
    "notes",
    "status",
];

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortField {
    Hostname,
    Country,
    Status,
    ExpireDate,
    CreatedAt,
    MonthlyCost,
}

impl SortField {
    pub fn wire(self) -> VpsSort {
        match self {
            SortField::Hostname => VpsSort::Hostname,
            SortField::Country => VpsSort::Country,
            SortField::Status => VpsSort::Status,
            SortField::ExpireDate => VpsSort::ExpireDate,
            SortField::CreatedAt => VpsSort::CreatedAt,
            SortField::MonthlyCost => VpsSort::MonthlyCost,
        }
    }

    pub fn order(desc: bool) -> SortOrder {
        if desc { SortOrder::Desc } else { SortOrder::Asc }
    }
}

/// The VPS list filters, shared by list, export, targets and inventory.
#[derive(Debug, Clone, Default, Args)]
pub struct VpsFilterArgs {
    /// Only these statuses (repeatable).
    #[arg(long, value_parser = wire!(VpsStatus))]
    pub status: Vec<VpsStatus>,
    /// ISO 3166-1 alpha-2 code.
    #[arg(long)]
    pub country: Option<String>,
    /// Provider id or name.
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long, value_parser = wire!(Purpose))]
    pub purpose: Option<Purpose>,
    /// Must carry this tag (repeatable: every tag given).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Text in the host name, alias, addresses or notes.
    #[arg(short = 'q', long = "search", value_name = "TEXT")]
    pub q: Option<String>,
    /// An address, or a network such as 103.1.0.0/16.
    #[arg(long)]
    pub ip: Option<String>,
    /// Live VPS expiring within this many days, overdue ones included.
    #[arg(long, value_name = "DAYS")]
    pub expiring_within: Option<u32>,
    /// Only VPS with monitoring on (true) or off (false).
    #[arg(long, value_name = "BOOL")]
    pub monitoring: Option<bool>,
}

/// The fields of a VPS, for create and update.
#[derive(Debug, Args)]
pub struct VpsFields {
    /// Provider id or name.
    #[arg(long)]
    pub provider: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long, value_parser = wire!(Purpose))]
    pub purpose: Option<Purpose>,
    #[arg(long, value_parser = wire!(VpsStatus))]
    pub status: Option<VpsStatus>,
    /// An address with an optional label, as in exported CSV: 103.1.2.3 or 103.1.2.3/china-telecom
    /// (repeatable; replaces the list).
    #[arg(long = "ip", value_name = "IP[/LABEL]")]
    pub ips: Vec<String>,
    /// A tag (repeatable; replaces the list).
    #[arg(long)]
    pub tag: Vec<String>,
    #[arg(long)]
    pub alias: Option<String>,
    #[arg(long)]
    pub city: Option<String>,
    /// Data centre.
    #[arg(long = "dc")]
    pub dc_name: Option<String>,
    #[arg(long)]
    pub ssh_port: Option<i32>,
    #[arg(long)]
    pub ssh_user: Option<String>,
    /// Free text, e.g. wireguard, vless.
    #[arg(long)]
    pub vpn_protocol: Option<String>,
    #[arg(long = "cpu")]
    pub cpu_cores: Option<i32>,
    #[arg(long)]
    pub ram_mb: Option<i32>,
    #[arg(long)]
    pub disk_gb: Option<i32>,
    /// Monthly traffic allowance.
    #[arg(long)]
    pub bandwidth_tb: Option<Decimal>,
    /// Price per billing cycle, e.g. 4.99.
    #[arg(long)]
    pub price: Option<Decimal>,
    /// ISO 4217 code (default USD).
    #[arg(long)]
    pub currency: Option<String>,
    #[arg(long, value_parser = wire!(BillingCycle))]
    pub billing_cycle: Option<BillingCycle>,
    /// YYYY-MM-DD.
    #[arg(long)]
    pub purchase_date: Option<NaiveDate>,
    /// YYYY-MM-DD.
    #[arg(long)]
    pub expire_date: Option<NaiveDate>,
    #[arg(long, value_name = "BOOL")]
    pub auto_renew: Option<bool>,
    #[arg(long, value_name = "BOOL")]
    pub monitoring: Option<bool>,
    #[arg(long)]
    pub node_exporter_port: Option<i32>,
    /// A JSON object of free-form fields.
    #[arg(long, value_name = "JSON")]
    pub extra: Option<String>,
    #[arg(long)]
    pub notes: Option<String>,
}

// ------------------------------------------------------------------ files

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file; `-` reads standard input.
    pub file: PathBuf,
    /// json or csv (default: from the file name, else json).
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// Check every row and report what would happen, storing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Create providers named in the file that do not exist yet (VPS only).
    #[arg(long)]
    pub create_providers: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// json or csv (default: from --file's name, else json).
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    Json,
    Csv,
}

impl FileFormat {
    pub fn wire(self) -> TransferFormat {
        match self {
            FileFormat::Json => TransferFormat::Json,
            FileFormat::Csv => TransferFormat::Csv,
        }
    }

    /// The format asked for, else the one the file name says, else JSON.
    pub fn pick(asked: Option<FileFormat>, path: Option<&std::path::Path>) -> FileFormat {
        asked.unwrap_or_else(|| {
            let csv = path.and_then(|p| p.extension()).is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if csv { FileFormat::Csv } else { FileFormat::Json }
        })
    }
}

// ------------------------------------------------------------------ integrations

#[derive(Debug, Args)]
pub struct TargetsArgs {
    #[command(flatten)]
    pub filter: VpsFilterArgs,
    /// Scrape the first address with this label instead of the first address.
    #[arg(long, value_parser = wire!(IpLabel))]
    pub label: Option<IpLabel>,
    /// node (node_exporter, default) or agent (the agents' own /metrics).
    #[arg(long, value_enum)]
    pub job: Option<JobArg>,
    /// Write the file_sd JSON to this file atomically (for file_sd_configs) instead of printing.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum JobArg {
    Node,
    Agent,
}

impl JobArg {
    pub fn wire(self) -> TargetJob {
        match self {
            JobArg::Node => TargetJob::Node,
            JobArg::Agent => TargetJob::Agent,
        }
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").args(["list", "host"])))]
pub struct InventoryArgs {
    /// Print the whole inventory as JSON (what Ansible asks an inventory script).
    #[arg(long)]
    pub list: bool,
    /// Print one host's variables as JSON.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    #[command(flatten)]
    pub filter: VpsFilterArgs,
    /// ansible_host is the first address with this label.
    #[arg(long, value_parser = wire!(IpLabel))]
    pub label: Option<IpLabel>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// provider, vps, ...
    #[arg(long)]
    pub resource_type: Option<String>,
    #[arg(long)]
    pub resource_id: Option<Uuid>,
    /// create, update, delete, retire, restore, purge, import, ...
    #[arg(long)]
    pub action: Option<String>,
    /// The actor's name or id.
    #[arg(long)]
    pub actor: Option<String>,
    /// Changes at or after this time (RFC 3339).
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// Changes before this time (RFC 3339).
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
    /// Page (from 1) of newest-first entries.
    #[arg(long, default_value_t = 1)]
    pub page: u32,
    /// Entries per page (1-500).
    #[arg(long, default_value_t = 50)]
    pub per_page: u32,
}

// ------------------------------------------------------------------ people and keys

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The e-mail address (asked on a terminal when left out).
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from the first line of standard input instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
    /// The current code of the authenticator app, or a recovery code (asked on a terminal when needed).
    #[arg(long, value_name = "CODE")]
    pub totp: Option<String>,
}

/// A user named by id or e-mail address.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List users.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one user (by id or e-mail address).
    Show { user: String },
    /// Add a user; the password is asked on a terminal, else read with --password-stdin.
    Create {
        email: String,
        #[arg(long, value_parser = wire!(Role))]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user: only the options given change.
    Update {
        user: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, value_parser = wire!(Role))]
        role: Option<Role>,
        /// Stop the user from logging in (its sessions and keys stop working).
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Let a disabled user log in again.
        #[arg(long)]
        enable: bool,
        /// Set a new password, read from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Turn the user's second factor off (a lost phone).
        #[arg(long)]
        reset_totp: bool,
    },
    /// Delete a user.
    Delete { user: String },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// List your keys (`--all`: every user's, admin).
    List {
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Make a key; it is printed once.
    Create {
        name: String,
        /// What the key may do (default: your role; never more).
        #[arg(long, value_parser = wire!(Role))]
        role: Option<Role>,
        /// Days until the key is refused.
        #[arg(long, value_name = "DAYS", conflicts_with = "expires_at")]
        expires_in: Option<u32>,
        /// When the key is refused (RFC 3339).
        #[arg(long, value_name = "TIME")]
        expires_at: Option<DateTime<Utc>>,
        /// Also keep the key in the profile (instead of printing it).
        #[arg(long)]
        save: bool,
    },
    /// Delete a key (by id or name): it stops working at once.
    Delete { key: String },
}

// ------------------------------------------------------------------ agents

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// List agents.
    List {
        #[arg(long, value_enum)]
        status: Option<AgentStatusArg>,
        /// Only claimed (true) or waiting (false) agents.
        #[arg(long, value_name = "BOOL")]
        claimed: Option<bool>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one agent with its latest heartbeat.
    Show { agent: Uuid },
    /// Claim an agent with the token it printed; it gets its key at its next poll.
    Claim {
        agent: Uuid,
        /// The claim token the agent printed.
        token: String,
        /// Link to this VPS (id or host name); else to the VPS holding one of the agent's
        /// addresses, else a new provisioning VPS from --provider, --country and --purpose.
        #[arg(long)]
        vps: Option<String>,
        #[command(flatten)]
        new_vps: NewVpsArgs,
    },
    /// Delete an agent: its key stops working; the VPS stays.
    Delete { agent: Uuid },
    /// Give an agent a new key: the current one stops working at once.
    RotateKey { agent: Uuid },
    /// Enrolment tokens for unattended installs (admin).
    #[command(subcommand)]
    Token(TokenCommand),
}

/// The VPS made for an agent that no VPS matches: all three, or none.
#[derive(Debug, Args)]
pub struct NewVpsArgs {
    /// Provider (id or name) of a new VPS.
    #[arg(long, requires_all = ["country", "purpose"])]
    pub provider: Option<String>,
    /// Country of a new VPS.
    #[arg(long, requires_all = ["provider", "purpose"])]
    pub country: Option<String>,
    /// Purpose of a new VPS.
    #[arg(long, value_parser = wire!(Purpose), requires_all = ["provider", "country"])]
    pub purpose: Option<Purpose>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AgentStatusArg {
    Pending,
    Online,
    Offline,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make an enrolment token; it is printed once.
    Create {
        #[arg(long)]
        name: Option<String>,
        /// Hours until it expires (1-8760, default 24).
        #[arg(long, value_name = "HOURS")]
        expires_in: Option<i64>,
        /// How many agents may enrol with it (default 1).
        #[arg(long)]
        max_uses: Option<i64>,
        /// For an agent that no VPS matches, a new VPS from these.
        #[command(flatten)]
        new_vps: NewVpsArgs,
    },
    /// List enrolment tokens (their secrets are never shown again).
    List,
    /// Revoke a token; agents already enrolled with it stay.
    Revoke { token: Uuid },
}

// ------------------------------------------------------------------ config

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Set a value of the profile (--profile, else the current one).
    Set {
        #[arg(value_enum)]
        key: ConfigKey,
        /// The value; for api-key, read from standard input when left out.
        value: Option<String>,
    },
    /// Remove a value from the profile.
    Unset {
        #[arg(value_enum)]
        key: ConfigKey,
    },
    /// Show what the commands will use, and where each value comes from.
    Show,
    /// List the profiles.
    List,
    /// Make a profile the current one.
    Use { name: String },
    /// Delete a profile.
    Remove { name: String },
    /// Print the path of the configuration file.
    Path,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfigKey {
    Url,
    ApiKey,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
