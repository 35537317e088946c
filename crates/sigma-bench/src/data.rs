//! A realistic, reproducible fleet: every VPS is a pure function of its
//! index, so seeding tasks need no coordination and both backends get the
//! same data.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use sigma_types::{BillingCycle, IpEntry, IpLabel, ProviderDraft, Purpose, VpsDraft, VpsStatus};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use uuid::Uuid;

/// Addresses are numbered `index + slot * SLOT_STRIDE`, so no two VPS share one.
const SLOT_STRIDE: u64 = 1 << 22;
/// The most VPS the address scheme keeps unique.
pub const MAX_VPS: u64 = SLOT_STRIDE;

/// SplitMix64: small, fast and good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut n = self.below(total);
        for (item, w) in items {
            if n < u64::from(*w) {
                return item;
            }
            n -= u64::from(*w);
        }
        &items[items.len() - 1].0
    }
}

/// 40 countries, weighted roughly like a proxy fleet, with the cities that
/// end up in aliases (and so in `?q=` searches).
const COUNTRIES: &[(&str, u32, &[&str])] = &[
    ("JP", 120, &["tokyo", "osaka"]),
    ("US", 120, &["los-angeles", "san-jose", "seattle", "new-york"]),
    ("HK", 100, &["hong-kong"]),
    ("SG", 80, &["singapore"]),
    ("DE", 60, &["frankfurt", "nuremberg"]),
    ("NL", 50, &["amsterdam"]),
    ("GB", 40, &["london"]),
    ("KR", 40, &["seoul"]),
    ("TW", 40, &["taipei"]),
    ("FR", 30, &["paris"]),
    ("CA", 20, &["toronto"]),
    ("AU", 20, &["sydney"]),
    ("RU", 20, &["moscow"]),
    ("IN", 15, &["mumbai"]),
    ("TR", 15, &["istanbul"]),
    ("VN", 15, &["hanoi"]),
    ("TH", 15, &["bangkok"]),
    ("MY", 15, &["kuala-lumpur"]),
    ("PH", 10, &["manila"]),
    ("ID", 10, &["jakarta"]),
    ("AE", 10, &["dubai"]),
    ("BR", 10, &["sao-paulo"]),
    ("IT", 10, &["milan"]),
    ("ES", 10, &["madrid"]),
    ("SE", 10, &["stockholm"]),
    ("CH", 10, &["zurich"]),
    ("PL", 8, &["warsaw"]),
    ("FI", 8, &["helsinki"]),
    ("NO", 5, &["oslo"]),
    ("IE", 5, &["dublin"]),
    ("AR", 5, &["buenos-aires"]),
    ("MX", 5, &["queretaro"]),
    ("ZA", 5, &["johannesburg"]),
    ("IL", 5, &["tel-aviv"]),
    ("UA", 5, &["kyiv"]),
    ("KZ", 5, &["almaty"]),
    ("MO", 5, &["macau"]),
    ("NZ", 3, &["auckland"]),
    ("CL", 3, &["santiago"]),
    ("NG", 2, &["lagos"]),
];

const STATUSES: &[(VpsStatus, u32)] = &[
    (VpsStatus::Active, 80),
    (VpsStatus::Provisioning, 3),
    (VpsStatus::Retiring, 3),
    (VpsStatus::Suspended, 4),
    (VpsStatus::Retired, 10),
];

const PURPOSES: &[(Purpose, u32)] = &[
    (Purpose::VpnExit, 45),
    (Purpose::VpnRelay, 20),
    (Purpose::VpnEntry, 15),
    (Purpose::Monitor, 10),
    (Purpose::Management, 10),
];

pub const TAGS: &[&str] = &[
    "iplc",
    "iepl",
    "cn2-gia",
    "cmi",
    "9929",
    "bgp",
    "anycast",
    "ddos-protected",
    "ipv6",
    "nat",
    "kvm",
    "lxc",
    "dedicated",
    "streaming",
    "netflix",
    "openai",
    "backup",
    "staging",
    "prod",
    "canary",
    "wireguard",
    "hysteria",
    "xray",
    "trojan",
    "reality",
    "tuic",
    "game",
    "residential",
    "datacenter",
    "high-traffic",
];

const CYCLES: &[(BillingCycle, u32)] = &[
    (BillingCycle::Monthly, 50),
    (BillingCycle::Quarterly, 15),
    (BillingCycle::Semiannual, 5),
    (BillingCycle::Annual, 20),
    (BillingCycle::Biennial, 3),
    (BillingCycle::Triennial, 2),
    (BillingCycle::OneTime, 5),
];

const CURRENCIES: &[(&str, u32)] = &[("USD", 70), ("EUR", 20), ("CNY", 10)];

const LABELS: &[IpLabel] = &[
    IpLabel::ChinaTelecom,
    IpLabel::ChinaUnicom,
    IpLabel::ChinaMobile,
    IpLabel::ChinaCernet,
    IpLabel::Overseas,
    IpLabel::Anycast,
];

const PROVIDERS: &[&str] = &[
    "DMIT",
    "RackNerd",
    "BandwagonHost",
    "Vultr",
    "DigitalOcean",
    "Linode",
    "Hetzner",
    "OVHcloud",
    "GreenCloud",
    "HostHatch",
    "Kamatera",
    "UpCloud",
    "Contabo",
    "Netcup",
    "BuyVM",
    "Tencent Cloud",
    "Alibaba Cloud",
    "AWS Lightsail",
    "Oracle Cloud",
    "Scaleway",
    "IONOS",
    "V.PS",
    "Misaka",
    "Akile",
    "CloudCone",
    "HostDare",
    "Spartan Host",
    "Aeza",
    "Evoxt",
    "LisaHost",
    "Sharktech",
    "Psychz",
    "ColoCrossing",
    "Zgovps",
    "Bage",
    "Hosteons",
    "Virmach",
    "WebHorizon",
    "Servarica",
    "Gcore",
    "Leaseweb",
    "Equinix Metal",
    "Hostwinds",
    "InterServer",
    "A2 Hosting",
    "Liquid Web",
    "Atlantic.Net",
    "Time4VPS",
    "Ramnode",
    "Nube",
];

/// IPv4 first octets the fleet's addresses come from; each has eight /16s.
const FIRST_OCTETS: &[u8] =
    &[103, 23, 38, 45, 46, 64, 66, 78, 91, 95, 104, 107, 139, 141, 146, 149, 154, 155, 185, 193, 198, 203, 207, 209];
const IPV6_PREFIXES: &[[u16; 2]] =
    &[[0x2a01, 0x04f8], [0x2604, 0xa880], [0x2001, 0x19f0], [0x2a03, 0xb0c0], [0x2605, 0x6400]];

fn second_octet(first: u8, block: u64) -> u8 {
    ((u64::from(first) * 7 + block * 37) % 256) as u8
}

/// The `n`-th IPv4 address of the fleet; distinct `n` give distinct addresses.
fn ipv4(n: u64) -> Ipv4Addr {
    let first = FIRST_OCTETS[(n % FIRST_OCTETS.len() as u64) as usize];
    let rest = n / FIRST_OCTETS.len() as u64;
    let second = second_octet(first, rest % 8);
    // An odd multiplier permutes the 16 low bits, so hosts look scattered.
    let low = ((rest / 8).wrapping_mul(40_503) + 7) & 0xffff;
    Ipv4Addr::new(first, second, (low >> 8) as u8, (low & 0xff) as u8)
}

/// The `n`-th IPv6 address: a /64 of its own under one of a few prefixes.
fn ipv6(n: u64, rng: &mut Rng) -> Ipv6Addr {
    let [a, b] = IPV6_PREFIXES[(n % IPV6_PREFIXES.len() as u64) as usize];
    let host = rng.next_u64();
    Ipv6Addr::new(
        a,
        b,
        (n >> 16) as u16,
        n as u16,
        (host >> 48) as u16,
        (host >> 32) as u16,
        (host >> 16) as u16,
        host as u16,
    )
}

/// A /16 that holds a few hundred of the fleet's addresses, for `?ip=`.
pub fn sample_network() -> String {
    let first = FIRST_OCTETS[0];
    format!("{first}.{}.0.0/16", second_octet(first, 0))
}

pub fn provider(i: usize) -> ProviderDraft {
    let mut rng = Rng::new(0x5eed_0000 ^ i as u64);
    let base = PROVIDERS[i % PROVIDERS.len()];
    let name = if i < PROVIDERS.len() { base.to_owned() } else { format!("{base} {}", i / PROVIDERS.len() + 1) };
    ProviderDraft {
        country: Some(rng.weighted(&weights(COUNTRIES)).to_string()),
        website: Some(format!("https://{}.example.com", name.to_lowercase().replace([' ', '.'], "-"))),
        panel_url: rng.chance(50).then(|| "https://panel.example.com".to_owned()),
        api_supported: rng.chance(30),
        notes: None,
        rating: Some(1 + rng.below(5) as i32),
        name,
    }
}

fn weights(countries: &[(&'static str, u32, &[&str])]) -> Vec<(&'static str, u32)> {
    countries.iter().map(|(c, w, _)| (*c, *w)).collect()
}

/// The `i`-th VPS of the fleet, spread over `providers`; `today` anchors
/// the expiry dates (from 10 days ago to 60 days ahead).
pub fn vps(i: u64, providers: &[Uuid], today: NaiveDate) -> VpsDraft {
    let mut rng = Rng::new(0x0005_1962_a000_0000 ^ i.wrapping_mul(0x9e37_79b9));
    let (country, _, cities) = COUNTRIES[{
        let w: Vec<(usize, u32)> = COUNTRIES.iter().enumerate().map(|(n, (_, w, _))| (n, *w)).collect();
        *rng.weighted(&w)
    }];
    let city = *rng.pick(cities);
    let status = *rng.weighted(STATUSES);
    let purpose = *rng.weighted(PURPOSES);
    let short = match purpose {
        Purpose::VpnExit => "exit",
        Purpose::VpnRelay => "relay",
        Purpose::VpnEntry => "entry",
        Purpose::Monitor => "mon",
        Purpose::Management => "mgmt",
    };
    let hostname = format!("{}-{}-{short}-{i:06}", country.to_lowercase(), &city[..3.min(city.len())]);

    let count = 1 + rng.below(3);
    let v6_last = (count >= 2 && rng.chance(30)) || rng.chance(3);
    let ip_addresses = (0..count)
        .map(|slot| {
            let n = i + slot * SLOT_STRIDE;
            let ip = if v6_last && slot == count - 1 { IpAddr::V6(ipv6(n, &mut rng)) } else { IpAddr::V4(ipv4(n)) };
            IpEntry { ip, label: rng.chance(60).then(|| *rng.pick(LABELS)) }
        })
        .collect();

    let tag_count = *rng.weighted(&[(0usize, 25), (1, 35), (2, 25), (3, 15)]);
    let mut tags: Vec<String> = Vec::with_capacity(tag_count);
    while tags.len() < tag_count {
        let t = *rng.pick(TAGS);
        if !tags.iter().any(|x| x == t) {
            tags.push(t.to_owned());
        }
    }

    let billing_cycle = *rng.weighted(CYCLES);
    let currency = *rng.weighted(CURRENCIES);
    let months = billing_cycle.months().unwrap_or(12);
    let per_month_cents = 199 + rng.below(4800);
    let rate = if currency == "CNY" { 7 } else { 1 };
    let price =
        (!rng.chance(5)).then(|| Decimal::new((per_month_cents * u64::from(months) * rate) as i64, 2).normalize());
    let expire_date = match billing_cycle {
        BillingCycle::OneTime => None,
        _ => Some(shift(today, rng.below(71) as i64 - 10)),
    };
    let purchase_date = expire_date.map(|d| shift(d, -(i64::from(months) * 30)));
    let vpn = matches!(purpose, Purpose::VpnExit | Purpose::VpnRelay | Purpose::VpnEntry);

    VpsDraft {
        hostname,
        alias: rng.chance(60).then(|| format!("{} {} {}", city.replace('-', " "), short, 1 + i % 20)),
        provider_id: *rng.pick(providers),
        country: country.to_owned(),
        city: Some(city.to_owned()),
        dc_name: rng.chance(40).then(|| format!("{}{}", country, 1 + rng.below(4))),
        ip_addresses,
        ssh_port: if rng.chance(70) { 22 } else { 10_000 + rng.below(50_000) as i32 },
        ssh_user: rng.chance(70).then(|| "root".to_owned()),
        status,
        purpose,
        vpn_protocol: vpn.then(|| rng.pick(&["wireguard", "hysteria2", "vless-reality", "trojan"]).to_string()),
        tags,
        cpu_cores: Some(*rng.pick(&[1, 1, 2, 2, 4, 8])),
        ram_mb: Some(*rng.pick(&[512, 1024, 1024, 2048, 4096, 8192])),
        disk_gb: Some(*rng.pick(&[10, 20, 20, 40, 80, 160])),
        bandwidth_tb: rng.chance(80).then(|| Decimal::new(*rng.pick(&[5, 10, 20, 30, 100]), 1)),
        price,
        currency: currency.to_owned(),
        billing_cycle,
        purchase_date,
        expire_date,
        auto_renew: rng.chance(40),
        monitoring_enabled: rng.chance(85),
        node_exporter_port: 9100,
        extra: if rng.chance(20) {
            serde_json::json!({"panel_id": rng.below(100_000), "plan": format!("plan-{}", rng.below(12))})
        } else {
            serde_json::json!({})
        },
        notes: rng.chance(15).then(|| {
            format!(
                "Ticket #{}: {}",
                rng.below(90_000) + 10_000,
                rng.pick(&[
                    "route via Shenzhen is unstable at night",
                    "promo price, renew before it expires",
                    "abuse report handled, keep an eye on port 25",
                    "moved from the old panel account",
                    "latency to Shanghai around 40 ms",
                ])
            )
        }),
    }
}

fn shift(d: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        d.checked_add_days(Days::new(days as u64)).unwrap_or(d)
    } else {
        d.checked_sub_days(Days::new(days.unsigned_abs())).unwrap_or(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn addresses_and_hostnames_are_unique_and_valid() {
        let providers = vec![Uuid::nil()];
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let (mut ips, mut hosts, mut countries) = (HashSet::new(), HashSet::new(), HashSet::new());
        for i in 0..20_000 {
            let d = vps(i, &providers, today);
            assert_eq!(sigma_types::validate::hostname(&d.hostname).as_deref(), Ok(d.hostname.as_str()));
            assert!(hosts.insert(d.hostname.clone()));
            for e in &d.ip_addresses {
                assert!(ips.insert(e.ip), "{} twice", e.ip);
                assert!(sigma_types::validate::ip(&e.ip.to_string()).is_ok(), "{} rejected", e.ip);
            }
            for t in &d.tags {
                assert_eq!(sigma_types::validate::tag(t).as_deref(), Ok(t.as_str()));
            }
            assert!(sigma_types::validate::country(&d.country).is_ok());
            countries.insert(d.country);
        }
        assert_eq!(countries.len(), 40);
        let net: ipnet::IpNet = sample_network().parse().unwrap();
        assert!(ips.iter().filter(|ip| net.contains(*ip)).count() > 50);
    }

    #[test]
    fn providers_have_distinct_names() {
        let names: HashSet<String> = (0..120).map(|i| provider(i).name.to_lowercase()).collect();
        assert_eq!(names.len(), 120);
    }
}
