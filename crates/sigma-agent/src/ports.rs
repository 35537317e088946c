//! Listening TCP sockets and bound UDP sockets, with the processes that
//! hold them: /proc/net/{tcp,tcp6,udp,udp6} give the sockets and their
//! inodes, /proc/PID/fd links (`socket:[INODE]`) give the owners.

use sigma_types::ListeningPort;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TCP_LISTEN in /proc/net/tcp.
const TCP_LISTEN: &str = "0A";
/// TCP_CLOSE: an unconnected (bound) UDP socket in /proc/net/udp.
const UDP_UNCONNECTED: &str = "07";

/// A socket from /proc/net/*: protocol, address, port and inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub protocol: &'static str,
    pub address: IpAddr,
    pub port: u16,
    pub inode: u64,
}

/// `0100007F:0016` (IPv4) or 32 hex digits and a port (IPv6), each 32-bit
/// word in the host's (little-endian) byte order.
fn parse_address(s: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for i in (0..addr.len()).step_by(8) {
        let word = u32::from_str_radix(addr.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => {
            let arr: [u8; 16] = bytes.try_into().ok()?;
            let v6 = Ipv6Addr::from(arr);
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some((ip, port))
}

/// The listening sockets of one /proc/net table.
pub fn parse_table(text: &str, protocol: &'static str) -> Vec<Socket> {
    let wanted = if protocol == "tcp" { TCP_LISTEN } else { UDP_UNCONNECTED };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != wanted {
                return None;
            }
            let (address, port) = parse_address(f[1])?;
            Some(Socket { protocol, address, port, inode: f[9].parse().ok()? })
        })
        .filter(|s| s.port != 0)
        .collect()
}

/// Which process holds each of `inodes`: (pid, name). Processes this agent
/// may not look into are skipped.
fn owners(inodes: &HashSet<u64>) -> HashMap<u64, (u32, String)> {
    let mut found = HashMap::new();
    let Ok(procs) = fs::read_dir("/proc") else { return found };
    for entry in procs.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else { continue };
        let mut name: Option<String> = None;
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else { continue };
            let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u64>().ok())
            else {
                continue;
            };
            if inodes.contains(&inode) && !found.contains_key(&inode) {
                let name = name.get_or_insert_with(|| {
                    fs::read_to_string(entry.path().join("comm")).map(|s| s.trim().to_owned()).unwrap_or_default()
                });
                found.insert(inode, (pid, name.clone()));
            }
        }
        if found.len() == inodes.len() {
            break;
        }
    }
    found
}

/// Every listening TCP port and bound UDP port of this machine, sorted.
pub fn listening() -> Vec<ListeningPort> {
    let mut sockets = Vec::new();
    for (file, protocol) in
        [("/proc/net/tcp", "tcp"), ("/proc/net/tcp6", "tcp"), ("/proc/net/udp", "udp"), ("/proc/net/udp6", "udp")]
    {
        if let Ok(text) = fs::read_to_string(file) {
            sockets.extend(parse_table(&text, protocol));
        }
    }
    let inodes: HashSet<u64> = sockets.iter().map(|s| s.inode).filter(|i| *i != 0).collect();
    let owners = owners(&inodes);
    let unique: BTreeSet<ListeningPort> = sockets
        .into_iter()
        .map(|s| {
            let owner = owners.get(&s.inode);
            ListeningPort {
                protocol: s.protocol.to_owned(),
                address: s.address.to_string(),
                port: s.port,
                process: owner.map(|o| o.1.clone()).filter(|n| !n.is_empty()),
                pid: owner.map(|o| o.0),
            }
        })
        .collect();
    unique.into_iter().take(4096).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 41234 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0016 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn parses_listening_sockets() {
        let s = parse_table(TCP, "tcp");
        assert_eq!(s.len(), 2, "established sockets are left out");
        assert_eq!((s[0].address.to_string(), s[0].port, s[0].inode), ("127.0.0.1".into(), 3306, 41234));
        assert_eq!((s[1].address.to_string(), s[1].port), ("0.0.0.0".into(), 22));
        let v6 = "header\n   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 77 1\n   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 0:0 00:0 0 0 0 78 1\n";
        let s = parse_table(v6, "tcp");
        assert_eq!((s[0].address.to_string(), s[0].port), ("::".into(), 80));
        assert_eq!((s[1].address.to_string(), s[1].port), ("127.0.0.1".into(), 8080));
        let udp = "header\n  5: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 999 2\n";
        assert_eq!(parse_table(udp, "udp")[0].port, 53);
    }

    #[test]
    fn finds_its_own_listener_and_process() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let ports = listening();
        let mine = ports.iter().find(|p| p.port == port && p.protocol == "tcp").expect("own listener found");
        assert_eq!(mine.pid, Some(std::process::id()));
        assert!(mine.process.is_some());
    }
}
