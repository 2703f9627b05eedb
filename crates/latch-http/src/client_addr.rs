//! The end user's address for rate limits. Latch is called by application backends, so the TCP
//! peer is usually the application server. `X-Forwarded-For` is believed only when the peer is
//! a configured trusted proxy, and then only up to the first hop that is not itself trusted:
//! anyone can send the header, so an untrusted peer's header is ignored.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The resolved client address plus whether a trusted proxy supplied it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedClient {
    pub addr: ClientAddr,
    pub forwarded: bool,
}

impl ResolvedClient {
    /// The address as the use cases' limits see it.
    pub fn ip(&self) -> latch_core::engine::address_guard::ClientIp {
        latch_core::engine::address_guard::ClientIp {
            ip: self.addr.0,
            forwarded: self.forwarded,
        }
    }
}

impl ClientAddr {
    pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Self {
        let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return Self(peer);
        }
        // Walk the chain right to left: the rightmost entries were added by our own proxies.
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            client = *hop;
            if !is_trusted(hop) {
                break;
            }
        }
        Self(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn untrusted_peer_header_is_ignored() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let got = ClientAddr::resolve(Some(peer), &headers("1.2.3.4"), &["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(got.0, peer);
    }

    #[test]
    fn trusted_proxy_chain_is_walked_to_first_untrusted_hop() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        // A client-forged left entry must not win over what our proxy appended.
        let got = ClientAddr::resolve(Some(peer), &headers("6.6.6.6, 198.51.100.7, 10.0.0.3"), &trusted);
        assert_eq!(got.0, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn trusted_peer_without_header_is_the_client() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let got = ClientAddr::resolve(Some(peer), &HeaderMap::new(), &["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(got.0, peer);
    }
}
