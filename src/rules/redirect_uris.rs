//! A client application's redirect URIs: where its OAuth client may send people back after
//! consent. Matched exactly (RFC 6749 section 3.1.2, OAuth 2.0 Security BCP): no
//! wildcards, no prefixes. https only, except plain http to a loopback address (a
//! partner's local development, RFC 8252 section 7.3); no fragment, no user name.

use url::{Host, Url};

/// At most this many URIs per application.
const MAX_URIS: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectUris(Vec<String>);

impl RedirectUris {
    /// Parses an admin's list, one URI per line; each line refused is named.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut uris: Vec<String> = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let shown: String = line.chars().take(80).collect();
            check(line).map_err(|why| format!("“{shown}” {why}"))?;
            if !uris.iter().any(|u| u == line) {
                uris.push(line.to_owned());
            }
        }
        if uris.len() > MAX_URIS {
            return Err(format!(
                "At most {MAX_URIS} redirect URIs; this list has {}.",
                uris.len()
            ));
        }
        Ok(Self(uris))
    }

    /// A list the app stored itself.
    pub fn stored(text: &str) -> Self {
        Self(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Whether `uri` is registered, character for character.
    pub fn contains(&self, uri: &str) -> bool {
        !uri.is_empty() && self.0.iter().any(|registered| registered == uri)
    }

    pub fn to_text(&self) -> String {
        self.0.join("\n")
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// Why one line is not a redirect URI we accept.
fn check(text: &str) -> Result<(), &'static str> {
    let url = Url::parse(text).map_err(|_| "is not an absolute URL.")?;
    if url.fragment().is_some() {
        return Err("has a fragment (#…), which a redirect URI may not have.");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("carries a user name or password.");
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => return Err("has no host."),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("must use https (plain http only to localhost or a loopback address)."),
        _ => Err("must be an https URL."),
    }?;
    // Exact matching compares what the partner sends with what was typed: the URL as
    // written must be the URL as parsed, or two spellings of one address would differ.
    if url.as_str() != text {
        return Err("is not in canonical form: write it as the partner will send it.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_to_loopback() {
        let uris = RedirectUris::parse(
            "https://acme.example/oauth/callback\nhttp://127.0.0.1:8765/cb\nhttp://localhost/cb\n\nhttp://[::1]:9/cb",
        )
        .expect("accepted");
        assert!(uris.contains("https://acme.example/oauth/callback"));
        assert!(uris.contains("http://localhost/cb"));
        for refused in [
            "http://acme.example/cb",
            "ftp://acme.example/cb",
            "https://acme.example/cb#frag",
            "https://user:pw@acme.example/cb",
            "acme.example/cb",
            "https://ACME.example/cb",
        ] {
            assert!(RedirectUris::parse(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn matching_is_exact() {
        let uris = RedirectUris::parse("https://acme.example/cb").expect("accepted");
        for near in [
            "https://acme.example/cb/",
            "https://acme.example/c",
            "https://acme.example/cb?x=1",
            "https://acme.example/cB",
            "",
        ] {
            assert!(!uris.contains(near), "{near}");
        }
        assert_eq!(RedirectUris::stored(&uris.to_text()), uris);
    }
}
