//! parking_lot against std's futex-based locks, in the operations influx-series makes of them:
//! a lock taken and let go by its own thread (a writer shard's `Mutex` at every `record()`),
//! the same lock taken by two threads at once (a commit meeting a recording thread), a
//! `Condvar` notified with no thread waiting (the writer's wake-up at a trigger), and an
//! `RwLock` read (a type's bound writer, looked up at every commit). Interleaved rounds; prints
//! a table of nanoseconds an operation and the ratio std / parking_lot.
//!
//! Run: `cargo bench -p influx-series-benches --bench locks`

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use influx_series_benches::rounds::{Variant, interleaved, median, min_max};

const OPS: u32 = 1_000_000;

fn uncontended_std(m: &std::sync::Mutex<u64>) {
    for _ in 0..OPS {
        *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
    }
}

fn uncontended_pl(m: &parking_lot::Mutex<u64>) {
    for _ in 0..OPS {
        *m.lock() += 1;
    }
}

/// The lock taken `OPS` times here while a second thread takes it in a loop too.
fn contended<M: Send + Sync + 'static>(lock: Arc<M>, take: fn(&M)) -> impl FnMut() + 'static {
    move || {
        let stop = Arc::new(AtomicBool::new(false));
        let other = {
            let (lock, stop) = (Arc::clone(&lock), Arc::clone(&stop));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    take(&lock);
                }
            })
        };
        for _ in 0..OPS / 10 {
            take(&lock);
        }
        stop.store(true, Ordering::Relaxed);
        other.join().unwrap();
    }
}

fn main() {
    let rounds = 15;
    let std_mutex = std::sync::Mutex::new(0u64);
    let pl_mutex = parking_lot::Mutex::new(0u64);
    let std_cv = std::sync::Condvar::new();
    let pl_cv = parking_lot::Condvar::new();
    let std_rw = std::sync::RwLock::new(Some(1u64));
    let pl_rw = parking_lot::RwLock::new(Some(1u64));
    let std_shared = Arc::new(std::sync::Mutex::new(0u64));
    let pl_shared = Arc::new(parking_lot::Mutex::new(0u64));
    let mut variants = vec![
        Variant {
            name: "Mutex, one thread: std",
            run: Box::new(|| uncontended_std(black_box(&std_mutex))),
        },
        Variant {
            name: "Mutex, one thread: parking_lot",
            run: Box::new(|| uncontended_pl(black_box(&pl_mutex))),
        },
        Variant {
            name: "Mutex, two threads: std",
            run: Box::new(contended(Arc::clone(&std_shared), |m| {
                *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
            })),
        },
        Variant {
            name: "Mutex, two threads: parking_lot",
            run: Box::new(contended(Arc::clone(&pl_shared), |m| *m.lock() += 1)),
        },
        Variant {
            name: "Condvar::notify_one, nobody waiting: std",
            run: Box::new(|| {
                for _ in 0..OPS {
                    black_box(&std_cv).notify_one();
                }
            }),
        },
        Variant {
            name: "Condvar::notify_one, nobody waiting: parking_lot",
            run: Box::new(|| {
                for _ in 0..OPS {
                    black_box(black_box(&pl_cv).notify_one());
                }
            }),
        },
        Variant {
            name: "RwLock::read: std",
            run: Box::new(|| {
                for _ in 0..OPS {
                    let guard = black_box(&std_rw)
                        .read()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    black_box(guard.is_some());
                }
            }),
        },
        Variant {
            name: "RwLock::read: parking_lot",
            run: Box::new(|| {
                for _ in 0..OPS {
                    black_box(black_box(&pl_rw).read().is_some());
                }
            }),
        },
    ];
    let times = interleaved(&mut variants, rounds, 3);
    // Each variant's operations in a batch: the contended ones count this thread's only.
    let ops = |i: usize| if i == 2 || i == 3 { OPS / 10 } else { OPS };
    println!(
        "| operation ({rounds} interleaved rounds) | std, ns | parking_lot, ns | std / parking_lot: median (min..max) |"
    );
    println!("|---|---|---|---|");
    for pair in 0..variants.len() / 2 {
        let (s, p) = (2 * pair, 2 * pair + 1);
        let per_op = |t: &Duration, i: usize| t.as_secs_f64() * 1e9 / f64::from(ops(i));
        let ratios: Vec<f64> = times[s]
            .iter()
            .zip(&times[p])
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
            .collect();
        let (lo, hi) = min_max(&ratios);
        let name = variants[s].name.trim_end_matches(": std");
        println!(
            "| {name} | {:.1} | {:.1} | {:.2}x ({lo:.2}x..{hi:.2}x) |",
            median(times[s].iter().map(|t| per_op(t, s)).collect()),
            median(times[p].iter().map(|t| per_op(t, p)).collect()),
            median(ratios.clone()),
        );
    }
}
