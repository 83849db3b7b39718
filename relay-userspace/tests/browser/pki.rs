//! The test's own CA. The relay gets a certificate for its IP address (a subject alternative
//! name, as Chromium checks a `turns:` URL like an HTTPS one); the browser trusts the CA for one
//! run only, through an NSS database in a throw-away HOME.
use crate::netlab::process::require;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct RelayCert {
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

/// Writes ca.pem, relay.pem and relay.key into `dir`.
pub fn issue(dir: &Path, relay_ip: IpAddr) -> RelayCert {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.distinguished_name.push(DnType::CommonName, "relay browser-test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("self-sign CA");
    let issuer = Issuer::new(ca, &ca_key);

    let key = KeyPair::generate().expect("relay key");
    let mut leaf = CertificateParams::new(vec![relay_ip.to_string()]).expect("relay params");
    leaf.distinguished_name.push(DnType::CommonName, relay_ip.to_string());
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = leaf.signed_by(&key, &issuer).expect("sign relay cert");

    let out = RelayCert { ca_pem: dir.join("ca.pem"), cert_pem: dir.join("relay.pem"), key_pem: dir.join("relay.key") };
    std::fs::write(&out.ca_pem, ca_cert.pem()).expect("write ca.pem");
    std::fs::write(&out.cert_pem, cert.pem()).expect("write relay.pem");
    std::fs::write(&out.key_pem, key.serialize_pem()).expect("write relay.key");
    out
}

/// Creates `$home/.pki/nssdb` trusting `ca_pem` for TLS servers (Chromium on Linux reads it).
pub fn trust_in_nssdb(home: &Path, ca_pem: &Path) {
    require("certutil", "libnss3-tools");
    let db = home.join(".pki/nssdb");
    std::fs::create_dir_all(&db).expect("create nssdb dir");
    let db_arg = format!("sql:{}", db.display());
    certutil(&["-N", "-d", &db_arg, "--empty-password"]);
    certutil(&["-A", "-d", &db_arg, "-n", "relay-test-ca", "-t", "C,,", "-i", &ca_pem.display().to_string()]);
}

fn certutil(args: &[&str]) {
    let out = Command::new("certutil").args(args).output().expect("spawn certutil");
    assert!(out.status.success(), "certutil {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}
