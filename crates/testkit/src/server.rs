//! What the in-process test servers share: a listener on a free local port whose every
//! connection is served on its own thread against shared state.

use std::{
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    thread,
};

/// Listens on `127.0.0.1:0` and serves each connection with `serve`; returns the port and
/// the state. The server lives as long as the test process.
pub(crate) fn start<S: Default + Send + 'static>(
    serve: fn(TcpStream, &Mutex<S>) -> std::io::Result<()>,
) -> (u16, Arc<Mutex<S>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let port = listener.local_addr().expect("address").port();
    let state = Arc::new(Mutex::new(S::default()));
    let shared = Arc::clone(&state);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let state = Arc::clone(&shared);
            thread::spawn(move || {
                let _ = serve(stream, &state);
            });
        }
    });
    (port, state)
}

/// The state, even if a serving thread panicked holding it.
pub(crate) fn lock<S>(state: &Mutex<S>) -> MutexGuard<'_, S> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}
