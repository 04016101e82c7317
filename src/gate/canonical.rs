//! Canonical paths: the one check every gate request passes before it is routed.
//!
//! The gate authorizes a path and forwards a path; they must be the same string, and no
//! URL parser on the way (ours, the HTTP client's, the upstream's) may read it as another
//! one. So a path is either canonical, in which case every parser reads it as written, or
//! refused: no `.` or `..` segment (raw or percent-encoded), no backslash, no encoded
//! slash or percent sign, no empty segment, no control character, nothing outside RFC
//! 3986's path characters. One trailing slash is tolerated and dropped: the path without
//! it is the one authorized and forwarded.

/// A path's refusal, as the client is told it.
pub type Refusal = &'static str;

/// The canonical form of `path` (a request's raw, still percent-encoded path), or why it
/// has none.
pub fn path(path: &str) -> Result<&str, Refusal> {
    let rest = path
        .strip_prefix('/')
        .ok_or("The path must start with a slash.")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Ok("/");
    }
    for segment in rest.split('/') {
        check_segment(segment)?;
    }
    Ok(&path[..=rest.len()])
}

fn check_segment(segment: &str) -> Result<(), Refusal> {
    if segment.is_empty() {
        return Err("The path has an empty segment (a double slash).");
    }
    let bytes = segment.as_bytes();
    let mut encoded = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let value = bytes
                    .get(i + 1..i + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or("The path has a malformed percent-encoding.")?;
                match value {
                    b'/' => return Err("The path has an encoded slash (%2F)."),
                    b'\\' => return Err("The path has a backslash."),
                    b'%' => return Err("The path has an encoded percent sign (%25)."),
                    0..=0x1f | 0x7f => return Err("The path has a control character."),
                    unreserved if is_unreserved(unreserved) => {
                        return Err(
                            "The path has a percent-encoded letter, digit or -._~: write it as is.",
                        );
                    }
                    _ => {}
                }
                encoded = true;
                i += 3;
            }
            b'\\' => return Err("The path has a backslash."),
            0..=0x1f | 0x7f => return Err("The path has a control character."),
            raw if is_path_character(raw) => i += 1,
            _ => return Err("The path has a character that must be percent-encoded."),
        }
    }
    // The segment's name: what comes before a `;` parameter, which some servers strip
    // before they resolve dots (`..;` is `..` to them). Decoded only when it has to be.
    let raw_name = segment.split(';').next().unwrap_or_default();
    if !encoded {
        return check_name(raw_name.as_bytes());
    }
    let mut name = Vec::with_capacity(raw_name.len());
    let mut rest = raw_name.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        let (byte, tail) = match byte {
            b'%' => (
                tail.get(..2)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .unwrap_or(b'%'),
                tail.get(2..).unwrap_or_default(),
            ),
            _ => (byte, tail),
        };
        if byte == b';' {
            break;
        }
        name.push(byte);
        rest = tail;
    }
    check_name(&name)
}

/// A segment's name (before any `;` parameter), decoded: empty, or only dots, spaces and
/// look-alike dots, is refused — servers that strip parameters, trim trailing dots and
/// spaces (Windows) or fold compatibility characters (NFKC) would read it as `.` or `..`
/// or as no segment at all. Encodings that are not UTF-8 (overlong `%c0%ae`) are refused
/// for the same reason.
fn check_name(name: &[u8]) -> Result<(), Refusal> {
    if name.is_empty() {
        return Err("The path has a segment with no name before its ; parameter.");
    }
    let name = std::str::from_utf8(name)
        .map_err(|_| "The path has a percent-encoding that is not UTF-8.")?;
    if name
        .chars()
        .all(|c| matches!(c, '.' | ' ' | '\u{2024}' | '\u{FE52}' | '\u{FF0E}'))
    {
        return Err("The path has a . or .. segment.");
    }
    Ok(())
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)
}

/// RFC 3986 `pchar` without `%`: unreserved, sub-delims, `:` and `@`.
fn is_path_character(byte: u8) -> bool {
    is_unreserved(byte) || b"!$&'()*+,;=:@".contains(&byte)
}

/// Whether `query` (raw, without the `?`) uses only RFC 3986 query characters, with
/// well-formed percent-encodings.
pub fn query(query: &str) -> Result<(), Refusal> {
    let bytes = query.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                bytes
                    .get(i + 1..i + 3)
                    .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
                    .ok_or("The query has a malformed percent-encoding.")?;
                i += 3;
            }
            byte if is_path_character(byte) || byte == b'/' || byte == b'?' => i += 1,
            _ => return Err("The query has a character that must be percent-encoded."),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths_pass_as_written_without_a_trailing_slash() {
        for (raw, canonical) in [
            ("/", "/"),
            ("/harvest/v1/candidates", "/harvest/v1/candidates"),
            ("/harvest/v1/candidates/", "/harvest/v1/candidates"),
            ("/harvest/v1/candidates/42", "/harvest/v1/candidates/42"),
            ("/partner/a.b/x..", "/partner/a.b/x.."),
            ("/partner/%C3%A9t%C3%A9/x", "/partner/%C3%A9t%C3%A9/x"),
            (
                "/partner/a%20b/O'Brien:@!$&()*+,;=~_-",
                "/partner/a%20b/O'Brien:@!$&()*+,;=~_-",
            ),
            ("/partner/.x/x./..x", "/partner/.x/x./..x"),
            ("/partner/a;b/x;..", "/partner/a;b/x;.."),
        ] {
            assert_eq!(path(raw), Ok(canonical), "{raw}");
        }
    }

    #[test]
    fn every_way_to_climb_or_hide_a_segment_is_refused() {
        for raw in [
            "/harvest/v1/candidates/..",
            "/harvest/v1/candidates/../users",
            "/harvest/v1/./users",
            "/harvest/v1/candidates/%2e%2e/users",
            "/harvest/v1/candidates/%2E%2E/users",
            "/harvest/v1/candidates/.%2e/users",
            "/harvest/v1/candidates/%2E./users",
            "/harvest/v1/candidates/%2e/users",
            "/harvest/v1/candidates/..\\..\\v1\\users",
            "/harvest/v1/candidates/%5c..%5Cusers",
            "/harvest/v1/candidates/1%2F..%2Fusers",
            "/harvest/v1/candidates/1%2f",
            "/harvest/v1//users",
            "/harvest/v1/users//",
            "//harvest/v1/users",
            "/harvest/v1/candidates/1%00",
            "/harvest/v1/candidates/1%0a",
            "/harvest/v1/candidates/1%7F",
            "/harvest/v1/candidates/1\t",
            "/harvest/v1/candidates/%252e%252e",
            "/harvest/v1/candidates/%2",
            "/harvest/v1/candidates/..;/users",
            "/harvest/v1/candidates/.;x/users",
            "/harvest/v1/candidates/..%3B/users",
            "/%68arvest/v1/users",
            "/harvest/v1/candidates/%41",
            "/harvest/v1/candidates/;x",
            "/harvest/v1/jobs/5/openings/;",
            "/harvest/v1/candidates/...",
            "/harvest/v1/candidates/..%20",
            "/harvest/v1/candidates/%c0%ae%c0%ae",
            "/harvest/v1/candidates/%EF%BC%8E%EF%BC%8E",
            "/harvest/v1/candidates/%E2%80%A4",
            "/harvest/v1/candidates/%zz",
            "/harvest/v1/candidates/{id}",
            "/harvest/v1/candidates/a b",
            "/harvest/v1/candidates/é",
            "/harvest/v1/candidates/a\"b",
            "harvest/v1/users",
            "",
        ] {
            assert!(path(raw).is_err(), "{raw:?} must be refused");
        }
    }

    #[test]
    fn queries_are_plain_rfc_3986() {
        for good in [
            "",
            "page=2&per_page=100",
            "q=a%20b&x=/y?z",
            "updated_after=2026-01-01T00:00:00Z",
            "name=O'Brien",
        ] {
            assert_eq!(query(good), Ok(()), "{good}");
        }
        for bad in [
            "q=a b", "q=%zz", "q=%2", "q=<x>", "q=\"x\"", "q=é", "q=a\\b", "q=`x`",
        ] {
            assert!(query(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
