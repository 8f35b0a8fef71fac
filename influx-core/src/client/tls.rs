//! TLS through rustls with the *ring* crypto provider (feature `rustls` without `native-tls`).
//!
//! reqwest's own `rustls` feature builds aws-lc-rs, a C library whose build is most of a clean
//! build's time; *ring* builds in a fraction of it. reqwest is built without a provider and
//! handed a finished rustls configuration: certificates checked by the platform's verifier
//! (the system's roots, hostnames) with the client's extra CA certificates, or not checked at
//! all when the client opted out. Nothing is installed process-wide, so a program that picks
//! its own default provider is not affected.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::Error;

/// The rustls configuration of a client: verified against the platform's roots and `extra`
/// (each a PEM bundle of one or more certificates), or, when `verify` is false, not verified.
pub(crate) fn client_config<'a>(
    verify: bool,
    extra: impl IntoIterator<Item = &'a [u8]>,
) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = Vec::new();
    for pem in extra {
        let before = roots.len();
        for certificate in CertificateDer::pem_slice_iter(pem) {
            roots.push(certificate.map_err(|_| not_a_certificate())?);
        }
        if roots.len() == before {
            return Err(not_a_certificate());
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS set-up failed: {e}").into()))?
        .dangerous();
    let builder = if verify {
        let verifier = if roots.is_empty() {
            rustls_platform_verifier::Verifier::new(provider)
        } else {
            rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider)
        }
        .map_err(|e| Error::Config(format!("TLS set-up failed: {e}").into()))?;
        builder.with_custom_certificate_verifier(Arc::new(verifier))
    } else {
        builder.with_custom_certificate_verifier(Arc::new(Unverified(provider)))
    };
    let mut config = builder.with_no_client_auth();
    // HTTP/1.1 only, as reqwest asks for without HTTP/2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn not_a_certificate() -> Error {
    Error::Config("a CA certificate is not a PEM certificate".into())
}

/// The opt-out (`verify_tls(false)`): any certificate for any name is accepted; the handshake's
/// signatures are still checked, so the connection is encrypted to whoever answered.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
