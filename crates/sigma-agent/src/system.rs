//! System metrics read from /proc (and one `statvfs` per filesystem):
//! nothing is run, no command is shelled out to.

use sigma_types::{FilesystemUsage, LoadAverages, NetworkBytes, Usage};
use std::collections::HashSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Busy and total CPU time since boot, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub busy: u64,
    pub total: u64,
}

/// The first line of /proc/stat: `cpu user nice system idle iowait irq softirq steal ...`.
pub fn parse_cpu(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    if fields.len() < 4 {
        return None;
    }
    // guest and guest_nice are already counted in user and nice.
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields[3] + fields.get(4).copied().unwrap_or(0);
    Some(CpuTimes { busy: total.saturating_sub(idle), total })
}

pub fn cpu_times() -> Option<CpuTimes> {
    parse_cpu(&fs::read_to_string("/proc/stat").ok()?)
}

/// Busy share of all CPUs between two samples, 0-100.
pub fn cpu_percent(before: CpuTimes, after: CpuTimes) -> f64 {
    let total = after.total.saturating_sub(before.total);
    if total == 0 {
        return 0.0;
    }
    let busy = after.busy.saturating_sub(before.busy);
    (busy as f64 * 100.0 / total as f64).clamp(0.0, 100.0)
}

pub fn cpu_cores(stat: &str) -> u32 {
    stat.lines().filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(|b| b.is_ascii_digit())).count()
        as u32
}

/// Memory and swap from /proc/meminfo (used = total - available).
pub fn parse_meminfo(text: &str) -> (Usage, Usage) {
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    let total = field("MemTotal");
    let available = if text.contains("MemAvailable:") { field("MemAvailable") } else { field("MemFree") };
    let swap_total = field("SwapTotal");
    (
        Usage { total_bytes: total, used_bytes: total.saturating_sub(available) },
        Usage { total_bytes: swap_total, used_bytes: swap_total.saturating_sub(field("SwapFree")) },
    )
}

pub fn parse_loadavg(text: &str) -> LoadAverages {
    let mut it = text.split_whitespace().map(|f| f.parse::<f64>().unwrap_or(0.0));
    LoadAverages { one: it.next().unwrap_or(0.0), five: it.next().unwrap_or(0.0), fifteen: it.next().unwrap_or(0.0) }
}

pub fn parse_uptime(text: &str) -> u64 {
    text.split_whitespace().next().and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0) as u64
}

/// Bytes in and out on every interface but loopback, from /proc/net/dev.
pub fn parse_net_dev(text: &str) -> NetworkBytes {
    let mut n = NetworkBytes::default();
    for line in text.lines().skip(2) {
        let Some((iface, rest)) = line.split_once(':') else { continue };
        if iface.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        if f.len() >= 9 {
            n.rx_bytes += f[0];
            n.tx_bytes += f[8];
        }
    }
    n
}

/// Filesystem types that hold no data worth reporting.
const PSEUDO_FS: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "tmpfs",
    "cgroup",
    "cgroup2",
    "securityfs",
    "pstore",
    "bpf",
    "debugfs",
    "tracefs",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "autofs",
    "binfmt_misc",
    "nsfs",
    "ramfs",
    "efivarfs",
    "rpc_pipefs",
    "selinuxfs",
    "squashfs",
    "fuse.lxcfs",
    "nfsd",
    "devfs",
];

/// `\040` and friends in /proc/mounts paths.
fn unescape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = chars.clone().take(3).collect();
            if digits.len() == 3
                && let Ok(v) = u8::from_str_radix(&digits, 8)
            {
                out.push(v as char);
                for _ in 0..3 {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Mounted filesystems worth reporting: (device, mount point, type), one
/// per device (bind mounts of the same device are left out).
pub fn parse_mounts(text: &str) -> Vec<(String, String, String)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 3 || PSEUDO_FS.contains(&f[2]) {
            continue;
        }
        if seen.insert(f[0].to_owned()) {
            out.push((f[0].to_owned(), unescape(f[1]), f[2].to_owned()));
        }
    }
    out
}

fn statvfs(path: &str) -> Option<(u64, u64)> {
    let c = std::ffi::CString::new(path).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    let block = s.f_frsize as u64;
    let total = s.f_blocks as u64 * block;
    let free = s.f_bfree as u64 * block;
    Some((total, total.saturating_sub(free)))
}

pub fn filesystems() -> Vec<FilesystemUsage> {
    let text = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    parse_mounts(&text)
        .into_iter()
        .filter_map(|(_, mount, fstype)| {
            let (total, used) = statvfs(&mount)?;
            (total > 0).then_some(FilesystemUsage { mount, fstype, total_bytes: total, used_bytes: used })
        })
        .take(256)
        .collect()
}

/// IPv4 addresses of this machine from /proc/net/fib_trie: each
/// `|-- ADDR` followed by `/32 host LOCAL`.
pub fn parse_fib_trie(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(addr) = t.strip_prefix("|-- ") {
            last = addr.parse().ok();
        } else if t.starts_with("/32 host LOCAL")
            && let Some(a) = last
            && !a.is_loopback()
            && !out.contains(&IpAddr::V4(a))
        {
            out.push(IpAddr::V4(a));
        }
    }
    out
}

/// IPv6 addresses from /proc/net/if_inet6, loopback and link-local left out.
pub fn parse_if_inet6(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(hex) = line.split_whitespace().next() else { continue };
        let Ok(bits) = u128::from_str_radix(hex, 16) else { continue };
        let a = Ipv6Addr::from(bits);
        if !a.is_loopback() && (a.segments()[0] & 0xffc0) != 0xfe80 && !out.contains(&IpAddr::V6(a)) {
            out.push(IpAddr::V6(a));
        }
    }
    out
}

/// Every address of this machine but loopback and link-local.
pub fn addresses() -> Vec<IpAddr> {
    let mut ips = parse_fib_trie(&fs::read_to_string("/proc/net/fib_trie").unwrap_or_default());
    ips.extend(parse_if_inet6(&fs::read_to_string("/proc/net/if_inet6").unwrap_or_default()));
    ips
}

/// Globally routable addresses (what a VPS is reached at).
pub fn is_public(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80)
        }
    }
}

fn read_trimmed(path: &str) -> String {
    fs::read_to_string(path).map(|s| s.trim().to_owned()).unwrap_or_default()
}

pub fn hostname() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
}

pub fn kernel() -> String {
    read_trimmed("/proc/sys/kernel/osrelease")
}

/// `PRETTY_NAME` of /etc/os-release.
pub fn os_name() -> String {
    let text = fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "Linux".into())
}

/// The agent's own resident memory and CPU time (for its /metrics).
pub fn own_usage() -> (u64, f64) {
    let page = 4096u64;
    let rss = read_trimmed("/proc/self/statm").split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok());
    let stat = read_trimmed("/proc/self/stat");
    // Fields after the parenthesised command name: utime is the 12th, stime the 13th.
    let cpu = stat.rsplit_once(')').map(|(_, rest)| {
        let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        (f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0)) as f64 / 100.0
    });
    (rss.unwrap_or(0) * page, cpu.unwrap_or(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_from_two_samples() {
        let a = parse_cpu("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\ncpu1 1 2 3 4\n").unwrap();
        let b = parse_cpu("cpu  150 0 150 900 0 0 0 0 0 0\n").unwrap();
        assert_eq!(cpu_percent(a, b), 50.0);
        assert_eq!(cpu_percent(b, b), 0.0);
        assert_eq!(cpu_cores("cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 3 4\nintr 5\n"), 2);
    }

    #[test]
    fn memory_load_uptime_net() {
        let (mem, swap) = parse_meminfo(
            "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\nSwapTotal: 50 kB\nSwapFree: 20 kB\n",
        );
        assert_eq!((mem.total_bytes, mem.used_bytes), (1_024_000, 409_600));
        assert_eq!((swap.total_bytes, swap.used_bytes), (51_200, 30_720));
        let l = parse_loadavg("0.50 0.25 0.10 1/123 4567\n");
        assert_eq!((l.one, l.five, l.fifteen), (0.5, 0.25, 0.1));
        assert_eq!(parse_uptime("12345.67 999.0\n"), 12345);
        let dev = "Inter-|   Receive\n face |bytes\n    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n";
        let n = parse_net_dev(dev);
        assert_eq!((n.rx_bytes, n.tx_bytes), (1000, 2000));
    }

    #[test]
    fn mounts_and_addresses() {
        let m = parse_mounts(
            "/dev/vda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/vda1 /srv ext4 rw 0 0\n/dev/vdb /mnt/my\\040disk xfs rw 0 0\n",
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].1, "/mnt/my disk");
        let fib = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 103.1.2.3\n        /32 host LOCAL\n     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 10.0.0.0\n        /8 link UNICAST\nLocal:\n     |-- 103.1.2.3\n        /32 host LOCAL\n";
        assert_eq!(parse_fib_trie(fib), vec!["103.1.2.3".parse::<IpAddr>().unwrap()]);
        let v6 = "00000000000000000000000000000001 01 80 10 80       lo\nfe800000000000000000000000000001 02 40 20 80 eth0\n20010db8000000000000000000000001 02 40 00 80 eth0\n";
        assert_eq!(parse_if_inet6(v6), vec!["2001:db8::1".parse::<IpAddr>().unwrap()]);
        assert!(is_public(&"103.1.2.3".parse().unwrap()));
        assert!(!is_public(&"10.1.2.3".parse().unwrap()) && !is_public(&"100.64.0.1".parse().unwrap()));
    }

    #[test]
    fn reads_this_machine() {
        assert!(cpu_times().is_some());
        assert!(!filesystems().is_empty(), "at least the root filesystem");
        let (rss, _) = own_usage();
        assert!(rss > 0);
    }
}
