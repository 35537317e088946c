//! Address helpers shared by the backends.

use ipnet::IpNet;
use std::net::IpAddr;

/// A 16-byte key that orders IPv4 (as IPv4-mapped IPv6) and IPv6 addresses
/// so that a network is one contiguous range of keys.
pub fn key(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The first and last key of a network.
pub fn range(net: IpNet) -> ([u8; 16], [u8; 16]) {
    (key(net.network()), key(net.broadcast()))
}

/// Addresses in `new` but not in `old`, and in `old` but not in `new`.
pub fn diff(old: &[IpAddr], new: &[IpAddr]) -> (Vec<IpAddr>, Vec<IpAddr>) {
    let added = new.iter().filter(|ip| !old.contains(ip)).copied().collect();
    let removed = old.iter().filter(|ip| !new.contains(ip)).copied().collect();
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_contiguous_ranges() {
        let (lo, hi) = range("103.1.0.0/16".parse().unwrap());
        let inside = key("103.1.200.3".parse().unwrap());
        let outside = key("103.2.0.0".parse().unwrap());
        assert!(lo <= inside && inside <= hi);
        assert!(outside > hi);
        let (lo6, hi6) = range("2001:db8::/32".parse().unwrap());
        let v6 = key("2001:db8:1::1".parse().unwrap());
        assert!(lo6 <= v6 && v6 <= hi6);
    }

    #[test]
    fn diff_finds_changes() {
        let a: IpAddr = "1.1.1.1".parse().unwrap();
        let b: IpAddr = "2.2.2.2".parse().unwrap();
        let c: IpAddr = "3.3.3.3".parse().unwrap();
        assert_eq!(diff(&[a, b], &[b, c]), (vec![c], vec![a]));
    }
}
