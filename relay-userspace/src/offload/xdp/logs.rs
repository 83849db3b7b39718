//! The program's aya-log output (debug level, only when asked for): a small thread drains the
//! ring buffer into the `log` facade (tracing picks it up) until the engine is dropped.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use aya::Ebpf;

use super::XdpError;

pub struct LogPump {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LogPump {
    pub fn start(ebpf: &mut Ebpf) -> Result<LogPump, XdpError> {
        let mut logger = aya_log::EbpfLogger::init(ebpf).map_err(|e| XdpError::Load(format!("aya-log: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("xdp-log".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    logger.flush();
                    std::thread::sleep(Duration::from_millis(100));
                }
                logger.flush();
            })
            .map_err(|e| XdpError::Load(format!("aya-log thread: {e}")))?;
        Ok(LogPump { stop, thread: Some(thread) })
    }
}

impl Drop for LogPump {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
