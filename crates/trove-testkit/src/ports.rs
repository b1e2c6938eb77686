//! Free ports on 127.0.0.1. The same policy as `free_port` in `tools/loopback/loopback.py`
//! (the benches' and scripts'): a port in 20000..32000 that binds for both TCP and UDP.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static NEXT_PORT: AtomicU32 = AtomicU32::new(0);

/// A port free for both TCP and UDP on 127.0.0.1. Picked below the kernel's ephemeral
/// range (32768+), so an outgoing connection cannot grab it before the server binds, and
/// never the same twice in one test binary.
pub fn free_port() -> u16 {
    const LO: u32 = 20000;
    const SPAN: u32 = 12000;
    // Test binaries run side by side: start each one somewhere else in the range.
    let _ = NEXT_PORT.compare_exchange(
        0,
        (std::process::id().wrapping_mul(7919)) % SPAN + 1,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..SPAN {
        let port = (LO + NEXT_PORT.fetch_add(1, Ordering::SeqCst) % SPAN) as u16;
        let tcp = TcpListener::bind(("127.0.0.1", port));
        let udp = UdpSocket::bind(("127.0.0.1", port));
        if tcp.is_ok() && udp.is_ok() {
            return port;
        }
    }
    panic!("no free port in {LO}..{}", LO + SPAN);
}

/// True if something accepts TCP connections on 127.0.0.1:`port`.
pub fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}
