//! fork() safety. The process-wide registries (reactor, callback pool,
//! resolver, live handles) are locked around fork() by the forking thread,
//! so a child never inherits one of them locked by a thread it does not
//! have. The child gets a new generation: handles made before the fork see
//! it and fail cleanly, and each registry starts anew there on first use.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();

thread_local! {
    static HELD: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Which side of the forks this process is: bumped in every child.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// Register the fork handlers (once per process; children inherit them).
pub fn install() {
    INSTALL.call_once(|| {
        // SAFETY: the three handlers are plain functions that live as long
        // as the library; pthread_atfork only records their addresses.
        unsafe {
            libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
        }
    });
}

extern "C" fn prepare() {
    // Take every registry lock, in one fixed order, on the forking thread.
    // None of this code nests these locks, so the order cannot deadlock.
    let _ = std::panic::catch_unwind(|| {
        let held: Vec<Box<dyn Any>> = vec![
            Box::new(crate::reactor::global_lock()),
            Box::new(crate::client::dispatch::pool_lock()),
            Box::new(crate::client::resolver::lock()),
            Box::new(crate::ffi::live_locks()),
        ];
        HELD.with(|h| *h.borrow_mut() = held);
    });
}

fn release() {
    let _ = std::panic::catch_unwind(|| {
        HELD.with(|h| {
            // Unlock in reverse order of locking.
            let mut held = h.borrow_mut();
            while let Some(g) = held.pop() {
                drop(g);
            }
        });
    });
}

extern "C" fn parent() {
    release();
}

extern "C" fn child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
    release();
}
