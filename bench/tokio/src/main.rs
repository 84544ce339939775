//! Rust peers of weft's benchmarks: Tokio 1.24 (tokio::sync on a 2-worker multi-thread
//! runtime) and crossbeam-channel 0.5. Driven by bench/run; the workload names, the
//! meaning of `--ops` and the output lines are the same as the C++ binary's (bench/bench.cc):
//!
//!   rust_peers --workload=NAME --ops=N     one measurement of each peer of NAME
//!   rust_peers --workload=NAME --impl=I    only impl I (bench/count profiles one impl)
//!   rust_peers --list                      "NAME impl impl ..." per workload
//!
//! Each measurement prints `RESULT <workload> <impl> <ops> <seconds>`. Every workload
//! checks its result (a checksum or a count) and panics on a wrong one, so a fast wrong
//! answer cannot pass as a fast right one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tokio::runtime::{Builder, Runtime};
use tokio::sync::{broadcast, mpsc, oneshot, watch, Mutex, Notify, RwLock, Semaphore};

const CAPACITY: usize = 1024;

/// The runtime every async workload runs on: two worker threads, as weft's.
fn runtime() -> Runtime {
    Builder::new_multi_thread().worker_threads(2).build().expect("tokio runtime")
}

fn report(workload: &str, imp: &str, ops: u64, seconds: f64) {
    println!("RESULT {} {} {} {:.9}", workload, imp, ops, seconds);
}

fn sum_to(n: u64) -> u64 {
    n * (n.saturating_sub(1)) / 2
}

/// The `--impl=` filter: None runs every impl of the workload.
static ONLY_IMPL: OnceLock<Option<String>> = OnceLock::new();

fn wanted(imp: &str) -> bool {
    match ONLY_IMPL.get() {
        Some(Some(only)) => only == imp,
        _ => true,
    }
}

/// Times `f` (which returns the number of operations it did) and reports it.
fn measure(workload: &str, imp: &str, f: impl FnOnce() -> u64) {
    if !wanted(imp) {
        return;
    }
    let start = Instant::now();
    let ops = f();
    report(workload, imp, ops, start.elapsed().as_secs_f64());
}

// ---- mpsc ----------------------------------------------------------------------------

fn tokio_bounded_spsc_async(rt: &Runtime, n: u64) -> u64 {
    rt.block_on(async move {
        let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
        let producer = tokio::spawn(async move {
            for i in 0..n {
                tx.send(i).await.unwrap();
            }
        });
        let consumer = tokio::spawn(async move {
            let mut sum = 0u64;
            while let Some(v) = rx.recv().await {
                sum = sum.wrapping_add(v);
            }
            sum
        });
        producer.await.unwrap();
        assert_eq!(consumer.await.unwrap(), sum_to(n));
    });
    n
}

fn tokio_bounded_spsc_blocking(n: u64) -> u64 {
    let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            tx.blocking_send(i).unwrap();
        }
    });
    let mut sum = 0u64;
    while let Some(v) = rx.blocking_recv() {
        sum = sum.wrapping_add(v);
    }
    producer.join().unwrap();
    assert_eq!(sum, sum_to(n));
    n
}

fn crossbeam_spsc(n: u64, bounded: bool) -> u64 {
    let (tx, rx) = if bounded {
        crossbeam_channel::bounded::<u64>(CAPACITY)
    } else {
        crossbeam_channel::unbounded::<u64>()
    };
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            tx.send(i).unwrap();
        }
    });
    let mut sum = 0u64;
    while let Ok(v) = rx.recv() {
        sum = sum.wrapping_add(v);
    }
    producer.join().unwrap();
    assert_eq!(sum, sum_to(n));
    n
}

fn tokio_bounded_4p1c(rt: &Runtime, n: u64) -> u64 {
    let per = n / 4;
    rt.block_on(async move {
        let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
        let mut producers = Vec::new();
        for _ in 0..4 {
            let tx = tx.clone();
            producers.push(tokio::spawn(async move {
                for i in 0..per {
                    tx.send(i).await.unwrap();
                }
            }));
        }
        drop(tx);
        let consumer = tokio::spawn(async move {
            let mut sum = 0u64;
            while let Some(v) = rx.recv().await {
                sum = sum.wrapping_add(v);
            }
            sum
        });
        for p in producers {
            p.await.unwrap();
        }
        assert_eq!(consumer.await.unwrap(), 4 * sum_to(per));
    });
    4 * per
}

fn crossbeam_bounded_4p1c(n: u64) -> u64 {
    let per = n / 4;
    let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    tx.send(i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut sum = 0u64;
    while let Ok(v) = rx.recv() {
        sum = sum.wrapping_add(v);
    }
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(sum, 4 * sum_to(per));
    4 * per
}

fn tokio_unbounded_spsc(rt: &Runtime, n: u64) -> u64 {
    rt.block_on(async move {
        let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
        let producer = tokio::spawn(async move {
            for i in 0..n {
                tx.send(i).unwrap();
            }
        });
        let consumer = tokio::spawn(async move {
            let mut sum = 0u64;
            while let Some(v) = rx.recv().await {
                sum = sum.wrapping_add(v);
            }
            sum
        });
        producer.await.unwrap();
        assert_eq!(consumer.await.unwrap(), sum_to(n));
    });
    n
}

// ---- locks and semaphores ------------------------------------------------------------

fn tokio_mutex_uncontended(rt: &Runtime, n: u64) -> u64 {
    let m = Mutex::new(0u64);
    rt.block_on(async {
        for _ in 0..n {
            *m.lock().await += 1;
        }
    });
    assert_eq!(m.into_inner(), n);
    n
}

fn tokio_mutex_contended(rt: &Runtime, n: u64) -> u64 {
    let per = n / 4;
    let m = Arc::new(Mutex::new(0u64));
    let m2 = m.clone();
    rt.block_on(async move {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let m = m2.clone();
                tokio::spawn(async move {
                    for _ in 0..per {
                        *m.lock().await += 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(*m.try_lock().unwrap(), 4 * per);
    4 * per
}

/// Runs `body` on `count` OS threads at once and joins them.
fn run_threads(count: usize, body: impl Fn() + Send + Sync + 'static) {
    let body = Arc::new(body);
    let threads: Vec<_> = (0..count)
        .map(|_| {
            let body = body.clone();
            std::thread::spawn(move || body())
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// 4 OS threads each blocking_lock + increment + unlock n/4 times.
fn tokio_mutex_blocking(n: u64) -> u64 {
    let per = n / 4;
    let m = Arc::new(Mutex::new(0u64));
    let m2 = m.clone();
    run_threads(4, move || {
        for _ in 0..per {
            *m2.blocking_lock() += 1;
        }
    });
    assert_eq!(*m.try_lock().unwrap(), 4 * per);
    4 * per
}

/// The contended RwLock workloads' mix (bench/harness.h): operation i is a write when
/// i % WRITE_EVERY == WRITE_EVERY - 1, else a read.
const WRITE_EVERY: u64 = 16;

fn is_write(i: u64) -> bool {
    i % WRITE_EVERY == WRITE_EVERY - 1
}

/// 4 tasks on the 2-worker runtime, n/4 operations each, 1 in 16 a write.
fn tokio_rwlock_contended(rt: &Runtime, n: u64) -> u64 {
    let per = n / 4;
    let lock = Arc::new(RwLock::new(0u64));
    let l2 = lock.clone();
    rt.block_on(async move {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let l = l2.clone();
                tokio::spawn(async move {
                    let mut last = 0u64;
                    for i in 0..per {
                        if is_write(i) {
                            *l.write().await += 1;
                        } else {
                            let v = *l.read().await;
                            assert!(v >= last);
                            last = v;
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(*lock.try_read().unwrap(), 4 * (per / WRITE_EVERY));
    4 * per
}

/// The same mix on 4 OS threads with blocking_read / blocking_write.
fn tokio_rwlock_blocking(n: u64) -> u64 {
    let per = n / 4;
    let lock = Arc::new(RwLock::new(0u64));
    let l = lock.clone();
    run_threads(4, move || {
        let mut last = 0u64;
        for i in 0..per {
            if is_write(i) {
                *l.blocking_write() += 1;
            } else {
                let v = *l.blocking_read();
                assert!(v >= last);
                last = v;
            }
        }
    });
    assert_eq!(*lock.try_read().unwrap(), 4 * (per / WRITE_EVERY));
    4 * per
}

fn tokio_semaphore_uncontended(rt: &Runtime, n: u64) -> u64 {
    let s = Semaphore::new(1);
    rt.block_on(async {
        for _ in 0..n {
            let permit = s.acquire().await.unwrap();
            drop(permit);
        }
    });
    assert_eq!(s.available_permits(), 1);
    n
}

/// 4 reader tasks do n/4 reads each while 1 writer task does n/64 writes.
fn tokio_rwlock_read_heavy(rt: &Runtime, n: u64) -> u64 {
    let reads = n / 4;
    let writes = n / 64;
    let lock = Arc::new(RwLock::new(0u64));
    let l2 = lock.clone();
    let seen = rt.block_on(async move {
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let l = l2.clone();
            tasks.push(tokio::spawn(async move {
                let mut last = 0u64;
                for _ in 0..reads {
                    let v = *l.read().await;
                    assert!(v >= last);
                    last = v;
                }
                last
            }));
        }
        let l = l2.clone();
        let writer = tokio::spawn(async move {
            for _ in 0..writes {
                *l.write().await += 1;
            }
        });
        let mut seen = 0u64;
        for t in tasks {
            seen = seen.max(t.await.unwrap());
        }
        writer.await.unwrap();
        seen
    });
    assert!(seen <= writes);
    assert_eq!(*lock.try_read().unwrap(), writes);
    4 * reads + writes
}

// ---- oneshot, broadcast, watch, notify -----------------------------------------------

fn tokio_oneshot(rt: &Runtime, n: u64) -> u64 {
    let sum = rt.block_on(async {
        let mut sum = 0u64;
        for i in 0..n {
            let (tx, rx) = oneshot::channel::<u64>();
            tx.send(i).unwrap();
            sum = sum.wrapping_add(rx.await.unwrap());
        }
        sum
    });
    assert_eq!(sum, sum_to(n));
    n
}

/// broadcast_1to4: every receiver gets every value. The sender looks every BROADCAST_PACE
/// sends at how far it is ahead of the slowest receiver and yields while that is more than
/// BROADCAST_AHEAD values (half the capacity: nothing is overwritten unread); receivers
/// report their count every BROADCAST_PACE values. The same rule as bench/harness.h's
/// constants and bench/weft_broadcast.cc's BroadcastProgress.
const BROADCAST_RECEIVERS: usize = 4;
const BROADCAST_PACE: u64 = 64;
const BROADCAST_AHEAD: u64 = (CAPACITY / 2) as u64;

#[repr(align(64))]
#[derive(Default)]
struct PaddedCount(AtomicU64);

#[derive(Default)]
struct BroadcastProgress {
    counts: [PaddedCount; BROADCAST_RECEIVERS],
}

impl BroadcastProgress {
    fn received(&self, r: usize, count: u64, last: bool) {
        // Relaxed: a pacing hint; the values travel through the channel.
        if last || count % BROADCAST_PACE == 0 {
            self.counts[r].0.store(count, Ordering::Relaxed);
        }
    }
    fn too_far_ahead(&self, sent: u64) -> bool {
        self.counts.iter().any(|c| sent - c.0.load(Ordering::Relaxed) > BROADCAST_AHEAD)
    }
    fn count(&self, r: usize) -> u64 {
        self.counts[r].0.load(Ordering::Relaxed)
    }
}

/// One sender task sends 0..n into a capacity-1024 channel, pacing itself (above); 4
/// receiver tasks receive every value in order until Closed (a lag fails the run).
fn tokio_broadcast(rt: &Runtime, n: u64) -> u64 {
    let progress = Arc::new(BroadcastProgress::default());
    rt.block_on(async {
        let (tx, _) = broadcast::channel::<u64>(CAPACITY);
        let receivers: Vec<_> = (0..BROADCAST_RECEIVERS)
            .map(|r| {
                let mut rx = tx.subscribe();
                let progress = progress.clone();
                tokio::spawn(async move {
                    let mut next = 0u64;
                    loop {
                        match rx.recv().await {
                            Ok(v) => {
                                assert_eq!(v, next);
                                next += 1;
                                progress.received(r, next, false);
                            }
                            Err(broadcast::error::RecvError::Lagged(_)) => panic!("lagged"),
                            Err(broadcast::error::RecvError::Closed) => break,
                        }
                    }
                    progress.received(r, next, true);
                })
            })
            .collect();
        let sender_progress = progress.clone();
        let sender = tokio::spawn(async move {
            for i in 0..n {
                tx.send(i).unwrap();
                if i % BROADCAST_PACE == 0 {
                    while sender_progress.too_far_ahead(i + 1) {
                        tokio::task::yield_now().await;
                    }
                }
            }
        });
        sender.await.unwrap();
        for r in receivers {
            r.await.unwrap();
        }
    });
    for r in 0..BROADCAST_RECEIVERS {
        assert_eq!(progress.count(r), n);
    }
    n
}

/// One sender task sends 1..=n; 4 receiver tasks wait for changes until they see n.
fn tokio_watch(rt: &Runtime, n: u64) -> u64 {
    rt.block_on(async move {
        let (tx, rx) = watch::channel(0u64);
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let mut rx = rx.clone();
                tokio::spawn(async move {
                    let mut last = 0u64;
                    while last < n {
                        if rx.changed().await.is_err() {
                            break;
                        }
                        let v = *rx.borrow();
                        assert!(v >= last);
                        last = v;
                    }
                    last
                })
            })
            .collect();
        drop(rx);
        let sender = tokio::spawn(async move {
            for i in 1..=n {
                tx.send(i).unwrap();
            }
            tx
        });
        let tx = sender.await.unwrap();
        for r in receivers {
            assert_eq!(r.await.unwrap(), n);
        }
        drop(tx);
    });
    n
}

/// Two tasks hand a turn back and forth: n notifications in all.
fn tokio_notify_pingpong(rt: &Runtime, n: u64) -> u64 {
    let rounds = n / 2;
    rt.block_on(async move {
        let ping = Arc::new(Notify::new());
        let pong = Arc::new(Notify::new());
        let (p1, q1) = (ping.clone(), pong.clone());
        let a = tokio::spawn(async move {
            for _ in 0..rounds {
                p1.notify_one();
                q1.notified().await;
            }
        });
        let b = tokio::spawn(async move {
            for _ in 0..rounds {
                ping.notified().await;
                pong.notify_one();
            }
        });
        a.await.unwrap();
        b.await.unwrap();
    });
    2 * rounds
}

// ---- task spawn ----------------------------------------------------------------------

/// n trivial tasks spawned from a task on the 2-worker runtime; timed until the last one
/// has run.
fn tokio_spawn(rt: &Runtime, workload: &str, n: u64) {
    let start = Instant::now();
    rt.block_on(async move {
        let left = Arc::new(AtomicU64::new(n));
        let done = Arc::new(Notify::new());
        let (l, d) = (left.clone(), done.clone());
        tokio::spawn(async move {
            for _ in 0..n {
                let (l, d) = (l.clone(), d.clone());
                tokio::spawn(async move {
                    if l.fetch_sub(1, Ordering::AcqRel) == 1 {
                        d.notify_one();
                    }
                });
            }
        });
        while left.load(Ordering::Acquire) != 0 {
            done.notified().await;
        }
    });
    report(workload, "tokio", n, start.elapsed().as_secs_f64());
}

// ---- driver --------------------------------------------------------------------------

const WORKLOADS: &[(&str, &[&str])] = &[
    ("mpsc_bounded_spsc_async", &["tokio"]),
    ("mpsc_bounded_spsc_blocking", &["tokio", "crossbeam"]),
    ("mpsc_bounded_4p1c", &["tokio", "crossbeam"]),
    ("mpsc_unbounded_spsc", &["tokio", "crossbeam"]),
    ("mutex_uncontended", &["tokio"]),
    ("mutex_contended_4", &["tokio"]),
    ("mutex_blocking_4", &["tokio"]),
    ("semaphore_uncontended", &["tokio"]),
    ("rwlock_read_heavy", &["tokio"]),
    ("rwlock_contended_4", &["tokio"]),
    ("rwlock_blocking_4", &["tokio"]),
    ("oneshot", &["tokio"]),
    ("broadcast_1to4", &["tokio"]),
    ("watch_4rx", &["tokio"]),
    ("notify_pingpong", &["tokio"]),
    ("spawn", &["tokio"]),
];

fn run(workload: &str, n: u64) {
    let w = workload;
    // Built before any clock starts; every async workload runs on it.
    let rt = runtime();
    match workload {
        "mpsc_bounded_spsc_async" => measure(w, "tokio", || tokio_bounded_spsc_async(&rt, n)),
        "mpsc_bounded_spsc_blocking" => {
            measure(w, "tokio", || tokio_bounded_spsc_blocking(n));
            measure(w, "crossbeam", || crossbeam_spsc(n, true));
        }
        "mpsc_bounded_4p1c" => {
            measure(w, "tokio", || tokio_bounded_4p1c(&rt, n));
            measure(w, "crossbeam", || crossbeam_bounded_4p1c(n));
        }
        "mpsc_unbounded_spsc" => {
            measure(w, "tokio", || tokio_unbounded_spsc(&rt, n));
            measure(w, "crossbeam", || crossbeam_spsc(n, false));
        }
        "mutex_uncontended" => measure(w, "tokio", || tokio_mutex_uncontended(&rt, n)),
        "mutex_contended_4" => measure(w, "tokio", || tokio_mutex_contended(&rt, n)),
        "mutex_blocking_4" => measure(w, "tokio", || tokio_mutex_blocking(n)),
        "semaphore_uncontended" => measure(w, "tokio", || tokio_semaphore_uncontended(&rt, n)),
        "rwlock_read_heavy" => measure(w, "tokio", || tokio_rwlock_read_heavy(&rt, n)),
        "rwlock_contended_4" => measure(w, "tokio", || tokio_rwlock_contended(&rt, n)),
        "rwlock_blocking_4" => measure(w, "tokio", || tokio_rwlock_blocking(n)),
        "oneshot" => measure(w, "tokio", || tokio_oneshot(&rt, n)),
        "broadcast_1to4" => measure(w, "tokio", || tokio_broadcast(&rt, n)),
        "watch_4rx" => measure(w, "tokio", || tokio_watch(&rt, n)),
        "notify_pingpong" => measure(w, "tokio", || tokio_notify_pingpong(&rt, n)),
        "spawn" => {
            if wanted("tokio") {
                tokio_spawn(&rt, w, n)
            }
        }
        _ => {
            eprintln!("rust_peers: unknown workload {}", workload);
            std::process::exit(2);
        }
    }
}

fn main() {
    let mut workload: Option<String> = None;
    let mut ops: u64 = 4_000_000;
    let mut only_impl: Option<String> = None;
    for arg in std::env::args().skip(1) {
        if arg == "--list" {
            for (name, impls) in WORKLOADS {
                println!("{} {}", name, impls.join(" "));
            }
            return;
        } else if let Some(v) = arg.strip_prefix("--workload=") {
            workload = Some(v.to_string());
        } else if let Some(v) = arg.strip_prefix("--impl=") {
            only_impl = Some(v.to_string());
        } else if let Some(v) = arg.strip_prefix("--ops=") {
            ops = v.parse().expect("--ops=N");
        } else {
            eprintln!("usage: rust_peers [--list] [--workload=NAME|all] [--impl=NAME] [--ops=N]");
            std::process::exit(2);
        }
    }
    ONLY_IMPL.set(only_impl).expect("set once");
    match workload.as_deref() {
        None | Some("all") => {
            for (name, _) in WORKLOADS {
                run(name, ops);
            }
        }
        Some(name) => run(name, ops),
    }
}
