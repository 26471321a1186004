//! Memory of this process, from `/proc/self/status`: the peak resident set (`VmHWM`), the current
//! one (`VmRSS`) and its anonymous (heap, stacks) and file-backed parts (`RssAnon`, `RssFile`;
//! the SQLite store maps its file, so pages it reads count as file-backed resident memory).
//!
//! [`reset_peak`] sets `VmHWM` back to the current resident set (`/proc/self/clear_refs`, value
//! 5), so that the peak measured over a run is the run's own, not the setup's. [`Sampler`] reads
//! the figures every few milliseconds on a thread of its own and keeps the highest anonymous and
//! file-backed values seen.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The memory figures of `/proc/self/status`, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mem {
    /// Peak resident set (`VmHWM`).
    pub hwm_kib: u64,
    /// Current resident set (`VmRSS`).
    pub rss_kib: u64,
    /// Anonymous resident memory (`RssAnon`).
    pub anon_kib: u64,
    /// File-backed resident memory (`RssFile`), e.g. the mapped SQLite file.
    pub file_kib: u64,
}

/// Reads the figures now (all zero where `/proc` is not available).
pub fn read() -> Mem {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    parse(&text)
}

fn parse(text: &str) -> Mem {
    let mut m = Mem::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let kib = rest
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        match key {
            "VmHWM" => m.hwm_kib = kib,
            "VmRSS" => m.rss_kib = kib,
            "RssAnon" => m.anon_kib = kib,
            "RssFile" => m.file_kib = kib,
            _ => {}
        }
    }
    m
}

/// Resets the peak resident set to the current one; returns whether the kernel accepted it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// A signed KiB difference as MiB with one decimal and its sign.
pub fn delta_mib(after: u64, before: u64) -> String {
    format!("{:+.1}", (after as f64 - before as f64) / 1024.0)
}

/// The highest values a [`Sampler`] saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Peaks {
    /// Highest `RssAnon`, KiB.
    pub anon_kib: u64,
    /// Highest `RssFile`, KiB.
    pub file_kib: u64,
    /// Readings taken.
    pub samples: u64,
}

/// Reads `/proc/self/status` every `every` on its own thread until stopped.
pub struct Sampler {
    running: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Peaks>,
}

impl Sampler {
    /// Starts sampling.
    pub fn start(every: Duration) -> Sampler {
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let handle = std::thread::spawn(move || {
            let mut p = Peaks::default();
            loop {
                let m = read();
                p.anon_kib = p.anon_kib.max(m.anon_kib);
                p.file_kib = p.file_kib.max(m.file_kib);
                p.samples += 1;
                if !flag.load(Ordering::Relaxed) {
                    break p;
                }
                std::thread::sleep(every);
            }
        });
        Sampler { running, handle }
    }

    /// Stops sampling (after one last reading) and returns the peaks.
    pub fn stop(self) -> Peaks {
        self.running.store(false, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_parsed() {
        let m = parse(
            "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t 1024 kB\nRssAnon:\t 512 kB\nRssFile:\t 256 kB\n",
        );
        assert_eq!(
            m,
            Mem {
                hwm_kib: 2048,
                rss_kib: 1024,
                anon_kib: 512,
                file_kib: 256
            }
        );
        assert_eq!(mib(1536), "1.5");
        assert_eq!(delta_mib(1024, 2048), "-1.0");
    }

    #[test]
    fn this_process_has_a_resident_set() {
        let m = read();
        assert!(m.rss_kib > 0 && m.hwm_kib >= m.rss_kib.min(m.hwm_kib));
    }
}
