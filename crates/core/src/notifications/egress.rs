//! Where a webhook may be sent (against SSRF): an http(s) URL whose host is neither this
//! machine, nor its private network, nor a cloud metadata service. Checked on the URL when a
//! webhook is added, and again at each delivery on every address its host resolves to then
//! (against DNS rebinding) — the checked addresses being the ones connected to. A store may
//! allow all of them (`StoreOptions::webhook_allow_private`: tests, single-host setups).

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs},
    sync::{Arc, Mutex, PoisonError},
};

use reqwest::dns::{Name, Resolve, Resolving};
use url::{Host, Url};

/// Host names of cloud metadata services (Google's; AWS's and Azure's are addresses).
const METADATA_HOSTS: &[&str] = &["metadata.google.internal", "metadata.goog", "metadata"];

/// What a refusal says about lifting it.
const WHY: &str = "webhooks may not reach this machine, its private network or a cloud metadata service \
                   (STOCKYARD_WEBHOOK_ALLOW_PRIVATE=1 allows it)";

/// `url` parsed, if it is an http(s) URL with a host a webhook may go to. A refusal names
/// the host, never the whole URL (which may carry credentials).
pub(crate) fn check(url: &str, allow_private: bool) -> Result<Url, String> {
    let not_http = || format!("{url:?} is not an http:// or https:// URL");
    let parsed = Url::parse(url).map_err(|_| not_http())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(not_http());
    }
    if !allow_private {
        let refused = match parsed.host() {
            Some(Host::Ipv4(ip)) => forbidden(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => forbidden(IpAddr::V6(ip)),
            Some(Host::Domain(name)) => forbidden_name(name),
            None => None,
        };
        if let Some(class) = refused {
            return Err(format!("its host {} is {class}: {WHY}", parsed.host_str().unwrap_or_default()));
        }
    }
    Ok(parsed)
}

/// Why a host name may not be called, if it may not: names that stand for this machine or a
/// metadata service whatever DNS says. (At delivery, the addresses a name resolves to decide.)
fn forbidden_name(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        Some("a loopback address")
    } else if METADATA_HOSTS.contains(&name.as_str()) {
        Some("a cloud metadata service")
    } else {
        None
    }
}

/// Why an address may not be called, if it may not.
fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(if ip == Ipv4Addr::new(169, 254, 169, 254) {
        "a cloud metadata address"
    } else if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // RFC 1918, and carrier-grade NAT's shared space (RFC 6598).
        "a private address"
    } else if ip.is_link_local() {
        "a link-local address"
    } else if a == 0 {
        "an unspecified address"
    } else if ip.is_broadcast() || ip.is_multicast() {
        "a broadcast or multicast address"
    } else {
        return None;
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    // IPv4 carried inside IPv6: NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
    }
    if s[0] == 0x2002 {
        return forbidden_v4(Ipv4Addr::from(((s[1] as u32) << 16) | s[2] as u32));
    }
    Some(if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        "a cloud metadata address"
    } else if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_unspecified() {
        "an unspecified address"
    } else if ip.is_unique_local() || s[0] & 0xffc0 == 0xfec0 {
        // fc00::/7, and the deprecated site-local fec0::/10.
        "a private address"
    } else if ip.is_unicast_link_local() {
        "a link-local address"
    } else if ip.is_multicast() {
        "a broadcast or multicast address"
    } else {
        return None;
    })
}

/// The resolver of a guarded webhook client: it answers only with the addresses
/// [`Pinned::check`] resolved and checked for this delivery, so a second lookup (a rebinding
/// DNS answer) never reaches the connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pinned(Arc<Mutex<HashMap<String, Vec<SocketAddr>>>>);

impl Pinned {
    /// Resolves `url`'s host once and refuses it if any address it resolves to may not be
    /// called; otherwise the next connection to it goes to these addresses.
    pub(crate) fn check(&self, url: &Url) -> Result<(), String> {
        let host = url.host_str().unwrap_or_default();
        let name = match url.host() {
            Some(Host::Domain(name)) => name,
            // An address in the URL: no lookup, the address itself is checked.
            Some(Host::Ipv4(ip)) => return refuse(host, IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => return refuse(host, IpAddr::V6(ip)),
            None => return Err("the URL has no host".into()),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let addresses: Vec<SocketAddr> =
            (name, port).to_socket_addrs().map_err(|e| format!("cannot resolve {host}: {e}"))?.collect();
        if addresses.is_empty() {
            return Err(format!("{host} resolves to no address"));
        }
        for address in &addresses {
            if let Some(class) = forbidden(address.ip()) {
                return Err(format!("{host} resolves to {}, {class}: {WHY}", address.ip()));
            }
        }
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(name.to_owned(), addresses);
        Ok(())
    }
}

fn refuse(host: &str, ip: IpAddr) -> Result<(), String> {
    forbidden(ip).map_or(Ok(()), |class| Err(format!("{host} is {class}: {WHY}")))
}

impl Resolve for Pinned {
    fn resolve(&self, name: Name) -> Resolving {
        let pinned = self.0.lock().unwrap_or_else(PoisonError::into_inner).get(name.as_str()).cloned();
        let answer = match pinned {
            Some(addresses) => Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs),
            None => Err(format!("{} was not checked before connecting", name.as_str()).into()),
        };
        Box::pin(std::future::ready(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> String {
        check(url, false).expect_err(url)
    }

    #[test]
    fn every_forbidden_class_is_refused_and_public_hosts_pass() {
        for (url, class) in [
            ("http://127.0.0.1/hook", "loopback"),
            ("http://2130706433/hook", "loopback"),
            ("http://0x7f.1/hook", "loopback"),
            ("http://[::1]:8080/hook", "loopback"),
            ("http://[::ffff:127.0.0.1]/hook", "loopback"),
            ("http://localhost:9000/hook", "loopback"),
            ("http://api.localhost./hook", "loopback"),
            ("http://evil.example@10.1.2.3/hook", "private"),
            ("https://172.16.0.1/hook", "private"),
            ("https://192.168.1.1/hook", "private"),
            ("https://[fd12::1]/hook", "private"),
            ("http://169.254.1.1/hook", "link-local"),
            ("http://[fe80::1]/hook", "link-local"),
            ("http://0.0.0.0/hook", "unspecified"),
            ("http://[::]/hook", "unspecified"),
            ("http://169.254.169.254/latest/meta-data", "metadata"),
            ("http://[fd00:ec2::254]/", "metadata"),
            ("http://metadata.google.internal/computeMetadata/v1", "metadata"),
            ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),
            ("http://[2002:c0a8:0101::1]/", "private"),
        ] {
            let reason = refused(url);
            assert!(reason.contains(class) && reason.contains("STOCKYARD_WEBHOOK_ALLOW_PRIVATE"), "{url}: {reason}");
            assert!(check(url, true).is_ok(), "{url} is allowed when private addresses are");
        }
        for url in ["https://hooks.example.com/a", "http://93.184.215.14:8080/", "https://[2606:2800::1]/"] {
            assert!(check(url, false).is_ok(), "{url}");
        }
        for url in ["ftp://example.com/", "file:///etc/passwd", "http://", "example.com/hook", "gopher://127.0.0.1/"] {
            assert!(refused(url).contains("is not an http:// or https:// URL"), "{url}");
        }
    }

    #[test]
    fn a_name_is_checked_on_what_it_resolves_to_and_pinned() {
        let pinned = Pinned::default();
        let url = Url::parse("http://localhost:1/hook").expect("url");
        let reason = pinned.check(&url).expect_err("localhost");
        assert!(reason.contains("localhost resolves to") && reason.contains("loopback"), "{reason}");
        let literal = Url::parse("http://127.0.0.1:1/hook").expect("url");
        assert!(pinned.check(&literal).expect_err("loopback").contains("loopback"));
        assert!(pinned.0.lock().expect("lock").is_empty(), "nothing refused is pinned");
    }
}
