//! The address a request comes from. Behind a reverse proxy the peer is
//! the proxy; its `X-Forwarded-For` names the client, but only a proxy in
//! the trusted list is believed (anyone else could write any address).

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The client's address, when known (requests not from a socket have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: walking `X-Forwarded-For` from the right
    /// (each proxy appends the address it saw), the first address that is
    /// not a trusted proxy. An unreadable entry stops the walk at the last
    /// trusted hop.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = peer;
        if !self.trusts(peer) {
            return client;
        }
        for hop in forwarded_for.iter().rev().flat_map(|h| h.split(',').rev()) {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else { break };
            client = ip.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// Middleware: puts the [`ClientIp`] of every request in its extensions.
pub async fn resolve(State(proxies): State<Arc<TrustedProxies>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical());
    let ip = peer.map(|peer| {
        let forwarded: Vec<&str> =
            request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        proxies.client(peer, &forwarded)
    });
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1/32".parse().unwrap()]);
        // Not a proxy: its header is ignored.
        assert_eq!(proxies.client(ip("203.0.113.9"), &["1.2.3.4"]), ip("203.0.113.9"));
        // A proxy: the rightmost untrusted hop is the client; what the
        // client itself wrote on the left does not count.
        assert_eq!(proxies.client(ip("10.0.0.2"), &["6.6.6.6, 198.51.100.7, 10.0.0.3"]), ip("198.51.100.7"));
        assert_eq!(proxies.client(ip("127.0.0.1"), &["6.6.6.6", "198.51.100.7"]), ip("198.51.100.7"));
        assert_eq!(proxies.client(ip("10.0.0.2"), &[]), ip("10.0.0.2"));
        assert_eq!(proxies.client(ip("10.0.0.2"), &["garbage"]), ip("10.0.0.2"));
        assert_eq!(proxies.client(ip("10.0.0.2"), &["::ffff:198.51.100.7"]), ip("198.51.100.7"));
        assert_eq!(TrustedProxies::default().client(ip("10.0.0.2"), &["1.2.3.4"]), ip("10.0.0.2"));
    }
}
