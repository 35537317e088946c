//! The agent's own `/metrics` in the Prometheus text format: its health
//! and the listening ports by process (`sigma_agent_port_listening`, the
//! port-usage metric of the seed). A tiny HTTP/1.1 server on one thread.

use crate::system;
use sigma_types::ListeningPort;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the metrics show, updated by the main loop.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub agent_id: String,
    pub enrolled: bool,
    pub heartbeats_ok: u64,
    pub heartbeats_failed: u64,
    /// Unix seconds of the last heartbeat the server took.
    pub last_heartbeat: f64,
    pub interval_secs: u64,
    pub ports: Vec<ListeningPort>,
}

pub type Shared = Arc<Mutex<Snapshot>>;

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

pub fn render(s: &Snapshot) -> String {
    let (rss, cpu) = system::own_usage();
    let mut out = String::with_capacity(1024 + s.ports.len() * 96);
    let mut gauge = |name: &str, help: &str, kind: &str, lines: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in lines {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    gauge(
        "sigma_agent_info",
        "Version and id of the agent.",
        "gauge",
        &[(format!("{{version=\"{}\",agent_id=\"{}\"}}", env!("CARGO_PKG_VERSION"), escape(&s.agent_id)), "1".into())],
    );
    gauge(
        "sigma_agent_enrolled",
        "Whether the agent holds a key.",
        "gauge",
        &[(String::new(), u8::from(s.enrolled).to_string())],
    );
    gauge(
        "sigma_agent_heartbeats_total",
        "Heartbeats sent, by result.",
        "counter",
        &[
            ("{result=\"ok\"}".into(), s.heartbeats_ok.to_string()),
            ("{result=\"failed\"}".into(), s.heartbeats_failed.to_string()),
        ],
    );
    gauge(
        "sigma_agent_last_heartbeat_timestamp_seconds",
        "When the server last took a heartbeat.",
        "gauge",
        &[(String::new(), s.last_heartbeat.to_string())],
    );
    gauge(
        "sigma_agent_heartbeat_interval_seconds",
        "Seconds between heartbeats.",
        "gauge",
        &[(String::new(), s.interval_secs.to_string())],
    );
    gauge(
        "sigma_agent_resident_memory_bytes",
        "Resident memory of the agent.",
        "gauge",
        &[(String::new(), rss.to_string())],
    );
    gauge("sigma_agent_cpu_seconds_total", "CPU time the agent used.", "counter", &[(String::new(), cpu.to_string())]);
    let ports: Vec<(String, String)> = s
        .ports
        .iter()
        .map(|p| {
            (
                format!(
                    "{{protocol=\"{}\",address=\"{}\",port=\"{}\",process=\"{}\"}}",
                    p.protocol,
                    escape(&p.address),
                    p.port,
                    escape(p.process.as_deref().unwrap_or(""))
                ),
                "1".into(),
            )
        })
        .collect();
    gauge(
        "sigma_agent_port_listening",
        "A listening TCP or bound UDP port and the process holding it.",
        "gauge",
        &ports,
    );
    out
}

fn answer(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut request = [0u8; 2048];
    let n = stream.read(&mut request).unwrap_or(0);
    let line = String::from_utf8_lossy(&request[..n]);
    let path = line.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = if line.starts_with("GET ") && (path == "/metrics" || path.starts_with("/metrics?")) {
        let snapshot = shared.lock().map(|s| s.clone()).unwrap_or_default();
        ("200 OK", render(&snapshot))
    } else {
        ("404 Not Found", "not found; try /metrics\n".to_owned())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body.as_bytes()));
}

/// Serves `/metrics` on `addr` from a background thread.
pub fn serve(addr: SocketAddr, shared: Shared) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    std::thread::Builder::new().name("metrics".into()).stack_size(64 * 1024).spawn(move || {
        for stream in listener.incoming().flatten() {
            answer(stream, &shared);
        }
    })?;
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_ports_and_health() {
        let s = Snapshot {
            agent_id: "a".into(),
            enrolled: true,
            heartbeats_ok: 3,
            ports: vec![ListeningPort {
                protocol: "tcp".into(),
                address: "0.0.0.0".into(),
                port: 22,
                process: Some("sshd".into()),
                pid: Some(1),
            }],
            ..Default::default()
        };
        let text = render(&s);
        assert!(text.contains("sigma_agent_heartbeats_total{result=\"ok\"} 3"), "{text}");
        assert!(text.contains(
            "sigma_agent_port_listening{protocol=\"tcp\",address=\"0.0.0.0\",port=\"22\",process=\"sshd\"} 1"
        ));
        assert!(text.contains("sigma_agent_enrolled 1"));
    }

    #[test]
    fn serves_over_http() {
        let shared: Shared = Arc::default();
        let addr = serve("127.0.0.1:0".parse().unwrap(), shared).unwrap();
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK") && out.contains("sigma_agent_info"), "{out}");
    }
}
