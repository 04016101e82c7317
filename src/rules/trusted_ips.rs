//! Trusted IPs: the addresses a credential may be used from, as an admin types them (one
//! address or CIDR per line, IPv4 or IPv6) and as the gate and the token endpoint check
//! them. An empty list means anywhere.

use std::net::IpAddr;

use ipnet::IpNet;

/// At most this many lines: enough for any office, small enough to check on every request.
const MAX_RANGES: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedIps(Vec<IpNet>);

impl TrustedIps {
    /// Parses an admin's list; each line that is not an address or CIDR is named in the
    /// message.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        let mut refused = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match parse_range(line) {
                Some(range) if !ranges.contains(&range) => ranges.push(range),
                Some(_) => {}
                None => refused.push(line),
            }
        }
        if let Some(first) = refused.first() {
            let shown: String = first.chars().take(60).collect();
            return Err(match refused.len() {
                1 => format!(
                    "“{shown}” is not an IP address or CIDR range (e.g. 203.0.113.7, 198.51.100.0/24, 2001:db8::/32)."
                ),
                2 => format!(
                    "“{shown}” and 1 other line are not IP addresses or CIDR ranges (e.g. 203.0.113.7, 198.51.100.0/24, 2001:db8::/32)."
                ),
                n => format!(
                    "“{shown}” and {} other lines are not IP addresses or CIDR ranges (e.g. 203.0.113.7, 198.51.100.0/24, 2001:db8::/32).",
                    n - 1
                ),
            });
        }
        if ranges.len() > MAX_RANGES {
            return Err(format!(
                "At most {MAX_RANGES} addresses or ranges; this list has {}.",
                ranges.len()
            ));
        }
        Ok(Self(ranges))
    }

    /// A list the app stored itself; a line it cannot read never widens the list, it is
    /// kept as an address nobody has.
    pub fn stored(text: &str) -> Self {
        Self(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    parse_range(l.trim()).unwrap_or_else(|| IpNet::from(IpAddr::from([0, 0, 0, 0])))
                })
                .collect(),
        )
    }

    /// The list as stored and shown: one canonical range per line.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|range| match range.prefix_len() == range.max_prefix_len() {
                true => range.addr().to_string(),
                false => range.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn is_anywhere(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a request from `address` may use the credential.
    pub fn admits(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.is_empty() || self.0.iter().any(|range| range.contains(&address))
    }
}

/// An address (`203.0.113.7`) or a CIDR range (`198.51.100.0/24`); a range's host bits are
/// cleared (`198.51.100.7/24` is `198.51.100.0/24`). IPv4-mapped IPv6 is read as IPv4.
fn parse_range(text: &str) -> Option<IpNet> {
    let range = match text.parse::<IpNet>() {
        Ok(range) => range.trunc(),
        Err(_) => IpNet::from(text.parse::<IpAddr>().ok()?),
    };
    Some(match range {
        IpNet::V6(v6) => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len().saturating_sub(96))
                .map(|r| r.trunc())
                .ok()?,
            None => range,
        },
        IpNet::V4(_) => range,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn addresses_and_ranges_of_both_families_are_admitted() {
        let trusted =
            TrustedIps::parse("203.0.113.7\n198.51.100.9/24\n\n 2001:db8::/32 \n").expect("ok");
        assert_eq!(
            trusted.to_text(),
            "203.0.113.7\n198.51.100.0/24\n2001:db8::/32"
        );
        for admitted in [
            "203.0.113.7",
            "198.51.100.200",
            "2001:db8::1",
            "::ffff:203.0.113.7",
        ] {
            assert!(trusted.admits(ip(admitted)), "{admitted}");
        }
        for refused in ["203.0.113.8", "198.51.101.1", "2001:db9::1", "127.0.0.1"] {
            assert!(!trusted.admits(ip(refused)), "{refused}");
        }
        assert_eq!(TrustedIps::stored(&trusted.to_text()), trusted);
    }

    #[test]
    fn an_empty_list_admits_anywhere() {
        let anywhere = TrustedIps::parse(" \n\n").expect("ok");
        assert!(anywhere.is_anywhere());
        assert!(anywhere.admits(ip("192.0.2.1")));
    }

    #[test]
    fn lines_that_do_not_parse_are_named() {
        let refused = TrustedIps::parse("203.0.113.7\nlocalhost\n10.0.0.0/33").unwrap_err();
        assert!(
            refused.contains("“localhost” and 1 other line"),
            "{refused}"
        );
        assert!(TrustedIps::parse("1.2.3.4/").is_err());
    }

    #[test]
    fn an_unreadable_stored_line_never_widens_the_list() {
        let stored = TrustedIps::stored("nonsense");
        assert!(!stored.is_anywhere());
        assert!(!stored.admits(ip("192.0.2.1")));
    }
}
