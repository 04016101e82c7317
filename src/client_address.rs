//! Who is calling: the address every throttle, trusted-IP check, audit event and request
//! log entry names. It is the peer's address, unless the peer is a trusted proxy
//! (`--trusted-proxy`): then it is the rightmost `X-Forwarded-For` address that is not one.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::{HttpRequest, web};
use ipnet::IpNet;

/// The proxies (load balancers) allowed to say who the client is.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(ranges: Vec<IpNet>) -> Self {
        Self(ranges)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(&address))
    }

    /// The client address of a request that reached us from `peer`.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let mut client = peer.to_canonical();
        let Some(forwarded_for) = forwarded_for else {
            return client;
        };
        for hop in forwarded_for.rsplit(',') {
            if !self.trusts(client) {
                break;
            }
            match parse_hop(hop.trim()) {
                Some(address) => client = address,
                None => break,
            }
        }
        client
    }

    /// Whether a trusted proxy says the client reached it over https.
    pub fn forwarded_https(&self, req: &HttpRequest) -> bool {
        peer(req).is_some_and(|p| self.trusts(p))
            && req
                .headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|a| a.to_canonical())
}

fn peer(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip().to_canonical())
}

/// `--trusted-proxy` values: a CIDR range, or a single address.
pub fn parse_range(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or a CIDR range such as 10.0.0.0/8"))
}

/// The client address of `req`, by the server's trusted proxies.
pub fn of(req: &HttpRequest) -> IpAddr {
    let Some(peer) = peer(req) else {
        return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    };
    let Some(proxies) = req.app_data::<web::Data<TrustedProxies>>() else {
        return peer;
    };
    // Several headers count as one list, in order (RFC 9110, section 5.3).
    let mut values = req.headers().get_all("x-forwarded-for");
    let Some(first) = values.next() else {
        return peer;
    };
    let mut joined = String::from_utf8_lossy(first.as_bytes()).into_owned();
    for value in values {
        joined.push(',');
        joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
    }
    proxies.client_address(peer, Some(&joined))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn only_trusted_proxies_name_the_client() {
        let proxies = TrustedProxies::new(vec![
            parse_range("10.0.0.0/8").expect("a range"),
            parse_range("2001:db8::1").expect("an address"),
        ]);
        let none = TrustedProxies::default();
        let chain = Some("198.51.100.7, 203.0.113.9, 10.1.1.1");
        // An untrusted peer's header is ignored.
        assert_eq!(none.client_address(ip("10.0.0.2"), chain), ip("10.0.0.2"));
        assert_eq!(
            proxies.client_address(ip("192.0.2.1"), chain),
            ip("192.0.2.1")
        );
        // Behind trusted proxies: the rightmost address that is not one.
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), chain),
            ip("203.0.113.9")
        );
        assert_eq!(
            proxies.client_address(ip("2001:db8::1"), Some("[2001:db8::9]:443")),
            ip("2001:db8::9")
        );
        assert_eq!(
            proxies.client_address(ip("::ffff:10.0.0.2"), Some("192.0.2.5:1234")),
            ip("192.0.2.5")
        );
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), Some("evil, 10.0.0.3")),
            ip("10.0.0.3")
        );
        assert!(parse_range("10.0.0.0/33").is_err());
        assert!(parse_range("proxy").is_err());
    }
}
