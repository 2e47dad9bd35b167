//! HTTPS: the certificate and key loaded into a rustls (ring) server configuration, and a
//! listener that hands axum only connections whose TLS handshake completed — each handshake
//! on a task of its own, with a deadline, so a slow or silent client never holds up the
//! next accept.

use std::{io, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};
use stockyard_core::Error;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
    task::JoinHandle,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

use crate::TlsFiles;

/// The longest a client may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Completed handshakes waiting for axum to take them.
const BACKLOG: usize = 128;
/// Bounds what is read of a PEM file: a certificate chain or a key is a few KB.
const PEM_LIMIT: u64 = 1024 * 1024;

const CERT: &str = "TLS certificate (STOCKYARD_TLS_CERT)";
const KEY: &str = "TLS key (STOCKYARD_TLS_KEY)";

/// The server's TLS configuration from its PEM files; a file that cannot be read or holds
/// no certificate (key), or a key that is not the certificate's, is refused naming it.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, Error> {
    let certs = read(CERT, &files.cert)?;
    let chain = CertificateDer::pem_slice_iter(&certs)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid(CERT, format!("{}: not a PEM certificate: {e}", files.cert.display())))?;
    if chain.is_empty() {
        return Err(Error::invalid(CERT, format!("{}: holds no PEM certificate", files.cert.display())));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(KEY, &files.key)?)
        .map_err(|e| Error::invalid(KEY, format!("{}: holds no PEM private key: {e}", files.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal_from("cannot set up TLS", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            let reason = format!("{} cannot serve {}: {e}", files.key.display(), files.cert.display());
            Error::invalid(KEY, reason)
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read(field: &str, path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(PEM_LIMIT).read_to_end(&mut bytes))
        .map_err(|e| Error::invalid(field, format!("cannot read {}: {e}", path.display())))?;
    Ok(bytes)
}

/// Accepts TCP connections and yields them once their TLS handshake completed.
#[derive(Debug)]
pub(crate) struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    address: SocketAddr,
    accepting: JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `listener` (inside a tokio runtime).
    pub(crate) fn new(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<Self> {
        let address = listener.local_addr()?;
        let (done, ready) = mpsc::channel(BACKLOG);
        let accepting = tokio::spawn(accept(listener, TlsAcceptor::from(config), done));
        Ok(Self { ready, address, accepting })
    }
}

impl Drop for TlsListener {
    /// A graceful stop drops the listener: no new connections from then on.
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop ended: nothing more comes.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.address)
    }
}

async fn accept(listener: TcpListener, acceptor: TlsAcceptor, done: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>) {
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    pause_after(e).await;
                    continue;
                }
            },
            () = done.closed() => return,
        };
        let (acceptor, done) = (acceptor.clone(), done.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let _ = done.send((stream, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// After a failed accept: a connection that went away is nothing; anything else (such as
/// running out of file descriptors) is logged and waited out, as axum's own listener does.
async fn pause_after(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; trying again in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
