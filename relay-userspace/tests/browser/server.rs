//! The web app, reduced to what the page needs: it serves the page and its config (with TURN
//! credentials minted by the "backend"), and receives the page's report. It listens on
//! 127.0.0.1 inside the browser's namespace (loopback passes the hospital firewall), from a
//! thread that has entered that namespace.
use crate::netlab::Ns;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const PAGE_HTML: &str = include_str!("page.html");
const PAGE_JS: &str = include_str!("page.js");
/// Larger reports are not ours; bounds memory against a confused client.
const MAX_BODY: usize = 4 << 20;

pub struct AppServer {
    pub port: u16,
    results: Receiver<String>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AppServer {
    /// `config` is the JSON the page fetches from /config.
    pub fn start(ns: &Ns, config: String) -> AppServer {
        let (port_tx, port_rx) = mpsc::channel();
        let (result_tx, results) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let ns = ns.clone();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            ns.enter_current_thread();
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind app server");
            listener.set_nonblocking(true).expect("nonblocking listener");
            port_tx.send(listener.local_addr().expect("local addr").port()).expect("send port");
            serve(listener, &config, &result_tx, &flag);
        });
        let port = port_rx.recv_timeout(Duration::from_secs(10)).expect("app server did not start");
        AppServer { port, results, stop, thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The page's report, or None when the page has not posted within `within` (a hang guard).
    pub fn wait_result(&self, within: Duration) -> Option<String> {
        self.results.recv_timeout(within).ok()
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: TcpListener, config: &str, results: &Sender<String>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                // One request per connection; a broken one is the browser's problem, not ours.
                let _ = handle(stream, config, results);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn handle(stream: TcpStream, config: &str, results: &Sender<String>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0).min(MAX_BODY);
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, kind, body): (&str, &str, String) = match (method, path) {
        ("GET", "/") => ("200 OK", "text/html", PAGE_HTML.to_owned()),
        ("GET", "/page.js") => ("200 OK", "text/javascript", PAGE_JS.to_owned()),
        ("GET", "/config") => ("200 OK", "application/json", config.to_owned()),
        ("POST", "/result") => {
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            let _ = results.send(String::from_utf8_lossy(&body).into_owned());
            ("200 OK", "text/plain", "thanks".to_owned())
        }
        _ => ("404 Not Found", "text/plain", "not found".to_owned()),
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
