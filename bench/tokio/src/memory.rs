//! Bytes per Tokio object at rest, for the memory table (bench/run --memory), the peer of
//! bench/memory/weft_memory.cc (same keys, same line format):
//!
//!   MEMORY <object> <inline bytes> <heap bytes> <heap blocks>
//!
//! inline is std::mem::size_of of every handle the object needs (a channel: its Sender and
//! Receiver), heap what creating it left allocated, counted by a global allocator that adds
//! up the sizes asked for (as weft's counting operator new does). A spawned idle task is K
//! tasks parked on a Notify on a 2-worker runtime, heap divided by K, JoinHandle dropped.

use std::alloc::{GlobalAlloc, Layout, System};
use std::mem::size_of_val;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch, Mutex, Notify, Semaphore};

struct Counting;

// Relaxed: read after the allocating threads are quiet (a join, or the wait for idle tasks).
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_BLOCKS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn heap() -> (usize, usize) {
    (LIVE_BYTES.load(Ordering::Relaxed), LIVE_BLOCKS.load(Ordering::Relaxed))
}

fn report(object: &str, inline: usize, before: (usize, usize), count: usize) {
    let after = heap();
    println!("MEMORY {} {} {} {}", object, inline, (after.0 - before.0) / count,
             (after.1 - before.1) / count);
}

const CAPACITY: usize = 1024;

/// K tasks spawned on a 2-worker runtime, each parked on a Notify once counted.
fn idle_tasks() {
    const K: usize = 1000;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let wake = Arc::new(Notify::new());
    let parked = Arc::new(AtomicUsize::new(0));
    std::thread::sleep(Duration::from_millis(50)); // the workers' own start-up
    let before = heap();
    for _ in 0..K {
        let (w, p) = (wake.clone(), parked.clone());
        drop(rt.spawn(async move {
            p.fetch_add(1, Ordering::Relaxed);
            w.notified().await;
        }));
    }
    while parked.load(Ordering::Relaxed) != K {
        std::thread::yield_now();
    }
    std::thread::sleep(Duration::from_millis(50)); // the last ones suspend
    report("task_idle", 0, before, K);
    wake.notify_waiters();
}

fn main() {
    {
        let before = heap();
        let (tx, rx) = mpsc::channel::<u64>(CAPACITY);
        report("mpsc_bounded_1024", size_of_val(&tx) + size_of_val(&rx), before, 1);
    }
    {
        let before = heap();
        let m = Mutex::new(0u64);
        report("mutex", size_of_val(&m), before, 1);
    }
    {
        let before = heap();
        let s = Semaphore::new(1);
        report("semaphore", size_of_val(&s), before, 1);
    }
    {
        let before = heap();
        let n = Notify::new();
        report("notify", size_of_val(&n), before, 1);
    }
    {
        let before = heap();
        let (tx, rx) = oneshot::channel::<u64>();
        report("oneshot", size_of_val(&tx) + size_of_val(&rx), before, 1);
    }
    {
        let mut more = Vec::with_capacity(3); // not counted: receivers are in inline
        let before = heap();
        let (tx, rx) = watch::channel(0u64);
        for _ in 0..3 {
            more.push(rx.clone());
        }
        report("watch_4rx", size_of_val(&tx) + 4 * size_of_val(&rx), before, 1);
    }
    {
        let before = heap();
        let (tx, rx) = broadcast::channel::<u64>(CAPACITY);
        report("broadcast_1024", size_of_val(&tx) + size_of_val(&rx), before, 1);
    }
    idle_tasks();
}
