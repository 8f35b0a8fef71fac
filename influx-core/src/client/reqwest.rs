//! What both reqwest transports share: the client builder's settings (timeouts, redirects,
//! proxy, headers, TLS through rustls on *ring* or the system's OpenSSL), and how reqwest's
//! and the socket's errors become this crate's.

use reqwest::header::{self, HeaderMap, HeaderValue};

use crate::error::{Cause, Error};
use crate::request::config::ClientConfig;

/// A failure to send a datagram.
pub(crate) fn udp_error(e: std::io::Error) -> Error {
    Error::Transport(Cause::with_source("sending a UDP datagram failed", e))
}

/// The unspecified address of `target`'s family, port 0: where a UDP socket for it binds.
pub(crate) fn udp_bind_address(target: &std::net::SocketAddr) -> std::net::SocketAddr {
    if target.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    }
}

/// An error of the HTTP client before an answer came.
pub(crate) fn transport_error(e: reqwest::Error) -> Error {
    // The URL carries no credentials, but it is noise in a chain of messages.
    let e = e.without_url();
    if e.is_timeout() {
        Error::Timeout(Cause::with_source("no answer in time", e))
    } else {
        let what = tls_failure(&e).unwrap_or("the request did not get an answer");
        Error::Transport(Cause::with_source(what, e))
    }
}

/// What a TLS handshake's failure means, if that is what `e` is: the message says "TLS", and
/// "certificate" when the server's certificate was refused (the TLS library's own reason is
/// the error's source). The libraries' errors are not this crate's types, so they are told by
/// their text.
fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let mut texts = Vec::new();
    let mut next = Some(e);
    while let Some(e) = next {
        texts.push(e.to_string().to_ascii_lowercase());
        next = e.source();
    }
    if texts.iter().any(|t| t.contains("certificate")) {
        return Some("TLS handshake failed: the server's certificate was not accepted");
    }
    let not_tls = [
        "invalidcontenttype",
        "corrupt message",
        "wrong version number",
    ];
    if texts.iter().any(|t| not_tls.iter().any(|n| t.contains(n))) {
        return Some(
            "TLS handshake failed: the server does not speak TLS on this port (a plain \
             http:// server?)",
        );
    }
    texts
        .iter()
        .any(|t| t.contains("tls") || t.contains("handshake"))
        .then_some("TLS handshake failed")
}

/// An error while reading an answer's body.
pub(crate) fn read_error(
    timed_out: bool,
    e: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    if timed_out {
        Error::Timeout(Cause::with_source("the answer stopped coming", e))
    } else {
        Error::Transport(Cause::with_source("reading the answer failed", e))
    }
}

/// Applies the settings both HTTP clients share to either client's builder.
macro_rules! configure_http {
    ($builder:expr, $config:expr) => {{
        let config: &$crate::ClientConfig = $config;
        let builder = $builder
            .connect_timeout(::std::time::Duration::from_secs(10))
            // A 301 or 302 turns a POST into a GET, and a followed redirect sends the
            // Authorization header on: neither is ever what a write or a query wants.
            .redirect(::reqwest::redirect::Policy::none())
            .referer(false);
        let builder = match config.pool_max_idle_per_host {
            Some(n) => builder.pool_max_idle_per_host(n),
            None => builder,
        };
        let builder = match &config.proxy {
            Some(url) => builder.proxy(::reqwest::Proxy::all(url.0.as_str()).map_err(|e| {
                $crate::Error::Config($crate::Cause::with_source(
                    "the proxy URL does not parse (the URL is not shown: it may hold a password)",
                    e.without_url(),
                ))
            })?),
            None => builder.no_proxy(),
        };
        let builder = builder.default_headers($crate::client::reqwest::extra_headers(config)?);
        if config.tls {
            $crate::client::reqwest::tls!(builder, config)
        } else {
            $crate::client::reqwest::plain!(builder)
        }
    }};
}
pub(crate) use configure_http;

/// rustls alone: reqwest is built without a crypto provider and given a finished configuration
/// (on *ring*; see `client::tls`), for every client, since reqwest sets TLS up even for one
/// that only speaks `http`.
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
macro_rules! tls {
    ($builder:expr, $config:expr) => {{
        let config: &$crate::ClientConfig = $config;
        let cas = config.ca_certificates.iter().map(|pem| pem.0.as_slice());
        $crate::client::tls::client_config(config.verify_tls, cas)
            .map(|tls| $builder.tls_backend_preconfigured(tls))
    }};
}
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
macro_rules! plain {
    ($builder:expr) => {{
        $crate::client::tls::client_config(true, [])
            .map(|tls| $builder.tls_backend_preconfigured(tls))
    }};
}
#[cfg(not(all(feature = "rustls", not(feature = "native-tls"))))]
macro_rules! plain {
    ($builder:expr) => {
        Ok::<_, $crate::Error>($builder)
    };
}
pub(crate) use plain;

/// The system's OpenSSL (`native-tls`), configured through reqwest.
#[cfg(feature = "native-tls")]
macro_rules! tls {
    ($builder:expr, $config:expr) => {{
        let mut builder = $builder.tls_danger_accept_invalid_certs(!$config.verify_tls);
        for pem in &$config.ca_certificates {
            let certificates = ::reqwest::Certificate::from_pem_bundle(&pem.0)
                .ok()
                .filter(|certificates| !certificates.is_empty())
                .ok_or_else(|| {
                    $crate::Error::Config("a CA certificate is not a PEM certificate".into())
                })?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        Ok::<_, $crate::Error>(builder)
    }};
}
#[cfg(not(any(feature = "native-tls", feature = "rustls")))]
macro_rules! tls {
    ($builder:expr, $config:expr) => {{
        let _ = $builder;
        Err::<_, $crate::Error>($crate::Error::Config(
            "https needs TLS support: enable the `native-tls` or `rustls` feature".into(),
        ))
    }};
}
pub(crate) use tls;

/// The headers of [`crate::ClientBuilder::header`], checked.
pub(crate) fn extra_headers(config: &ClientConfig) -> Result<HeaderMap, Error> {
    let mut headers = HeaderMap::new();
    for (name, value) in &config.headers {
        let name = header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::Config(format!("`{name}` is not an HTTP header name").into()))?;
        let mut value = HeaderValue::from_str(&value.0).map_err(|_| {
            Error::Config(format!("the value of header `{name}` is not valid in HTTP").into())
        })?;
        value.set_sensitive(true);
        headers.append(name, value);
    }
    Ok(headers)
}
