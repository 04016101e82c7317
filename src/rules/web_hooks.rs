//! Web hooks' rules: which URLs a hook may have, which addresses a delivery may reach, its
//! secret key, how a delivery is signed, and when a failed one is tried again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::{Host, Url};

use super::text::FieldError;

/// A hook is failing (and says so on its page) from this many failed attempts in a row
/// until one succeeds.
pub const FAILING_AFTER: i32 = 5;

/// A delivery is tried again until an attempt made this long after the event fails.
pub const RETRY_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest wait between two attempts, however many failed.
pub const LONGEST_WAIT: Duration = Duration::from_secs(60 * 60);

/// A hook's URL as saved: `http` or `https`, a host, no user name or password, no fragment.
/// Plain `http` only to a loopback host, unless the installation allows it everywhere
/// (`--web-hook-allow-http`, for tests and closed networks).
pub fn parse_url(text: &str, allow_http: bool) -> Result<Url, FieldError> {
    let refuse = |message: &str| FieldError::new("url", message);
    let text = text.trim();
    if text.is_empty() {
        return Err(refuse(
            "Enter the URL that receives the events, e.g. https://siem.example.com/hooks/devcenter.",
        ));
    }
    if text.len() > 2000 {
        return Err(refuse("Keep the URL to 2,000 characters or fewer."));
    }
    let url = Url::parse(text).map_err(|_| {
        refuse("Enter a whole URL with https://, e.g. https://siem.example.com/hooks/devcenter.")
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "The URL may not carry a user name or password: the signature tells the receiver the event is from Dev Center.",
        ));
    }
    if url.fragment().is_some() {
        return Err(refuse("The URL may not have a fragment (#…)."));
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => return Err(refuse("The URL has no host.")),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback || allow_http => Ok(url),
        "http" => Err(refuse(
            "Use https:// so that events cannot be read or changed on the way.",
        )),
        _ => Err(refuse(
            "Web hooks are sent over https:// (or http:// to this machine).",
        )),
    }
}

/// A hook's URL as the audit log names it: its scheme, host and port, and a fingerprint of
/// the rest. A receiver's path or query is often a secret of its own (a chat service's
/// hook token), and the audit log is read by people the Web Hooks pages are not for.
pub fn url_for_the_log(url: &str) -> String {
    let Ok(parsed) = Url::parse(url) else {
        return "an invalid URL".to_owned();
    };
    let origin = parsed.origin().ascii_serialization();
    let rest = &url[url.len().min(origin.len())..];
    if rest.is_empty() || rest == "/" {
        return origin;
    }
    let fingerprint = blake3::hash(url.as_bytes()).to_hex();
    format!("{origin}/… (#{})", &fingerprint[..8])
}

/// A hook's secret key as typed: 16 to 256 visible characters, no spaces.
pub fn parse_secret_key(text: &str) -> Result<&str, FieldError> {
    let refuse = |message: &str| FieldError::new("secret_key", message);
    let length = text.chars().count();
    if length < 16 {
        return Err(refuse(
            "Use a secret key of at least 16 characters (the suggested one is 64).",
        ));
    }
    if length > 256 {
        return Err(refuse("Keep the secret key to 256 characters or fewer."));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse(
            "The secret key cannot contain spaces or line breaks.",
        ));
    }
    Ok(text)
}

/// A secret key Dev Center suggests: 32 random bytes as 64 hexadecimal digits.
pub fn suggested_secret_key() -> String {
    random_hex::<32>()
}

/// `N` random bytes as hexadecimal digits: delivery ids, senders' claims.
pub fn random_hex<const N: usize>() -> String {
    hex(&rand::random::<[u8; N]>())
}

/// The `Signature` header of a delivery: `sha256 ` and the hexadecimal HMAC-SHA256 of the
/// exact body with the hook's secret key.
pub fn signature(secret_key: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(body);
    format!("sha256 {}", hex(&mac.finalize().into_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// How long to wait after the `attempt`-th attempt failed (1 for the first): twice as long
/// each time from `first_wait`, at most `LONGEST_WAIT`, and each wait drawn between half
/// and all of that (`jitter` in 0..1) so that many hooks failing together do not retry
/// together.
pub fn wait_after(attempt: u32, first_wait: Duration, jitter: f64) -> Duration {
    let doubled = first_wait.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let ceiling = doubled.min(LONGEST_WAIT.max(first_wait));
    ceiling.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Why a delivery may not go to `address`, if it may not. Link-local addresses, cloud
/// metadata services and addresses that are no host's are refused always; this machine
/// and private networks unless the installation allows them
/// (`--web-hook-allow-private-addresses`).
pub fn refused_address(address: IpAddr, allow_private: bool) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => refused_v4(v4, allow_private),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            // An IPv4 address written as IPv6 is judged as the IPv4 address it reaches.
            Some(v4) => refused_v4(v4, allow_private),
            None => refused_v6(v6, allow_private),
        },
    }
}

/// The IPv4 address an IPv6 one stands for: mapped (`::ffff:a.b.c.d`), translated
/// (`::ffff:0:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`,
/// `64:ff9b:1::/48`) and 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let last = || {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => Some(last()),
        // `::` and `::1` are IPv6's own; any other `::a.b.c.d` is compatible.
        [0, 0, 0, 0, 0, 0, _, _] if !ip.is_unspecified() && !ip.is_loopback() => Some(last()),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] | [0x64, 0xff9b, 1, ..] => Some(last()),
        [0x2002, hi, lo, ..] => {
            let [a, b] = hi.to_be_bytes();
            let [c, d] = lo.to_be_bytes();
            Some(Ipv4Addr::new(a, b, c, d))
        }
        _ => None,
    }
}

fn refused_v4(ip: Ipv4Addr, allow_private: bool) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_link_local() {
        return Some("a link-local address (169.254.0.0/16, where cloud metadata services answer)");
    }
    // Alibaba Cloud's and Azure's metadata and platform services.
    if ip == Ipv4Addr::new(100, 100, 100, 200) || ip == Ipv4Addr::new(168, 63, 129, 16) {
        return Some("a cloud metadata service");
    }
    if ip.is_unspecified() || a == 0 || ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        return Some("not the address of a single host");
    }
    let private = ip.is_loopback()
        || ip.is_private()
        // Shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // Benchmarking networks.
        || (a == 198 && (b == 18 || b == 19))
        || (a == 192 && b == 0 && ip.octets()[2] == 0);
    (private && !allow_private).then_some("a private or loopback address")
}

fn refused_v6(ip: Ipv6Addr, allow_private: bool) -> Option<&'static str> {
    let first = ip.segments()[0];
    // AWS's metadata service over IPv6.
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("a cloud metadata service (fd00:ec2::254)");
    }
    if first & 0xffc0 == 0xfe80 {
        return Some("a link-local address (fe80::/10)");
    }
    if ip.is_unspecified() || ip.is_multicast() {
        return Some("not the address of a single host");
    }
    // Teredo (2001:0::/32) hides an IPv4 address behind a tunnel: never.
    if ip.segments()[..2] == [0x2001, 0] {
        return Some("a tunnelled address (Teredo)");
    }
    // Loopback, unique local (fc00::/7) and the deprecated site-local (fec0::/10).
    let private = ip.is_loopback() || first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0;
    (private && !allow_private).then_some("a private or loopback address")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn urls_are_https_or_http_to_this_machine() {
        for ok in [
            "https://siem.example.com/hooks",
            "http://127.0.0.1:9000/in",
            "http://localhost/in",
            "http://[::1]:8080/",
        ] {
            assert!(parse_url(ok, false).is_ok(), "{ok}");
        }
        for refused in [
            "",
            "siem.example.com/hooks",
            "http://siem.example.com/hooks",
            "ftp://siem.example.com/",
            "https://user:pass@siem.example.com/",
            "https://siem.example.com/#x",
            "javascript:alert(1)",
        ] {
            let error = parse_url(refused, false).expect_err(refused);
            assert_eq!(error.field, "url");
        }
        assert!(parse_url("http://receiver.internal/in", true).is_ok());
        assert!(parse_url("ftp://receiver.internal/in", true).is_err());
    }

    #[test]
    fn secret_keys_are_long_enough_and_visible() {
        assert!(parse_secret_key(&suggested_secret_key()).is_ok());
        assert_eq!(suggested_secret_key().len(), 64);
        assert_ne!(suggested_secret_key(), suggested_secret_key());
        for refused in [
            "short",
            "sixteen chars  x",
            &"x".repeat(257),
            "line\nbreak-key-1234",
        ] {
            assert!(parse_secret_key(refused).is_err(), "{refused:?}");
        }
    }

    /// RFC 4231 test case 2: the HMAC-SHA256 of "what do ya want for nothing?" with "Jefe".
    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn waits_double_up_to_an_hour_with_jitter() {
        let first = Duration::from_secs(30);
        assert_eq!(wait_after(1, first, 1.0), Duration::from_secs(30));
        assert_eq!(wait_after(2, first, 1.0), Duration::from_secs(60));
        assert_eq!(wait_after(3, first, 0.0), Duration::from_secs(60));
        assert_eq!(wait_after(12, first, 1.0), LONGEST_WAIT);
        assert_eq!(wait_after(400, first, 1.0), LONGEST_WAIT);
        // Retries keep coming for 24 hours: never more than an hour apart.
        let mut waited = Duration::ZERO;
        let mut attempt = 1;
        while waited < RETRY_FOR {
            let wait = wait_after(attempt, first, 1.0);
            assert!(wait <= LONGEST_WAIT);
            waited += wait;
            attempt += 1;
        }
        assert!(attempt > 24, "{attempt} attempts in 24 hours");
    }

    #[test]
    fn metadata_and_link_local_addresses_are_refused_even_when_private_ones_are_allowed() {
        for address in [
            "169.254.169.254",
            "169.254.0.1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe",
            "::a9fe:a9fe",
            "::ffff:0:a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "100.100.100.200",
            "168.63.129.16",
            "0.0.0.0",
            "::",
            "255.255.255.255",
            "224.0.0.1",
            "ff02::1",
        ] {
            let ip: IpAddr = address.parse().unwrap();
            assert!(refused_address(ip, true).is_some(), "{address}");
            assert!(refused_address(ip, false).is_some(), "{address}");
        }
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "::7f00:1",
            "2002:7f00:1::1",
            "::1",
            "fd12:3456::1",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = address.parse().unwrap();
            assert!(refused_address(ip, false).is_some(), "{address}");
            assert_eq!(refused_address(ip, true), None, "{address}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"] {
            let ip: IpAddr = public.parse().unwrap();
            assert_eq!(refused_address(ip, false), None, "{public}");
        }
    }

    #[test]
    fn the_log_names_a_url_without_its_path_or_query() {
        assert_eq!(
            url_for_the_log("https://siem.example.com/"),
            "https://siem.example.com"
        );
        let slack = url_for_the_log("https://hooks.slack.com/services/T000/B000/XXXXSECRET");
        assert!(slack.starts_with("https://hooks.slack.com/… (#"), "{slack}");
        assert!(!slack.contains("XXXXSECRET"));
        assert_ne!(
            slack,
            url_for_the_log("https://hooks.slack.com/services/T000/B000/OTHER")
        );
        assert_eq!(
            url_for_the_log("http://127.0.0.1:9000"),
            "http://127.0.0.1:9000"
        );
    }

    proptest! {
        /// Every address in 169.254.0.0/16, however written, is refused.
        #[test]
        fn any_link_local_address_is_refused(c: u8, d: u8, allow: bool, mapped: bool) {
            let v4 = Ipv4Addr::new(169, 254, c, d);
            let ip = if mapped { IpAddr::V6(v4.to_ipv6_mapped()) } else { IpAddr::V4(v4) };
            prop_assert!(refused_address(ip, allow).is_some());
        }

        /// A wait is never longer than an hour nor shorter than half the first wait.
        #[test]
        fn waits_stay_in_bounds(attempt in 1u32..1000, first_ms in 1u64..120_000, jitter in 0.0f64..=1.0) {
            let first = Duration::from_millis(first_ms);
            let wait = wait_after(attempt, first, jitter);
            prop_assert!(wait <= LONGEST_WAIT);
            prop_assert!(wait >= first / 2);
        }
    }
}
