//! A global allocator that counts live heap bytes and their high-water mark.
//!
//! It counts what the C side (`libotr_bench.c`) counts: the usable size of
//! every live block as glibc's `malloc_usable_size` reports it (the bytes
//! the allocator really handed out, rounding included, without its 8-byte
//! chunk header). Elsewhere than on glibc it counts the requested sizes.
//!
//! The counts are per thread (the bytes the calling thread allocated minus
//! those it freed): every workload runs on one thread, tests running in
//! parallel do not disturb each other, and counting costs two plain
//! additions, as on the C side, rather than atomic read-modify-writes.
//!
//! Install it in a binary or test with
//! `#[global_allocator] static ALLOC: CountingAllocator = CountingAllocator;`;
//! without that, every count reads zero.

#![expect(
    unsafe_code,
    reason = "GlobalAlloc is an unsafe trait; every call is forwarded unchanged to System, \
              and only live blocks returned by System are measured"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // Constant-initialised and without destructors, so reading them never
    // allocates and never fails while the thread runs.
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting live bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

/// Bytes in live heap blocks of this thread now.
pub fn live_bytes() -> usize {
    LIVE.with(Cell::get)
}

/// Starts a measurement on this thread: resets the high-water mark to the
/// live bytes now, and returns them.
pub fn mark() -> usize {
    let live = live_bytes();
    PEAK.with(|peak| peak.set(live));
    live
}

/// The most bytes that were live at once on this thread since the last
/// [`mark`].
pub fn peak_bytes() -> usize {
    PEAK.with(Cell::get)
}

fn add(bytes: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().wrapping_add(bytes);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn sub(bytes: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().wrapping_sub(bytes)));
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod usable {
    use std::ffi::c_void;

    unsafe extern "C" {
        fn malloc_usable_size(ptr: *mut c_void) -> usize;
    }

    /// The usable size of a live block of glibc's allocator (which `System`
    /// uses on linux-gnu for every alignment).
    ///
    /// # Safety
    /// `ptr` is a live block returned by `System`.
    pub(super) unsafe fn size(ptr: *mut u8, _requested: usize) -> usize {
        // SAFETY: the caller passes a live block of glibc's malloc family.
        unsafe { malloc_usable_size(ptr.cast()) }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod usable {
    /// The requested size (no portable way to ask for the usable size).
    ///
    /// # Safety
    /// None needed; `unsafe` only to match the glibc version.
    pub(super) unsafe fn size(_ptr: *mut u8, requested: usize) -> usize {
        requested
    }
}

// SAFETY: each method forwards to `System` with the caller's arguments, so
// the `GlobalAlloc` contract is `System`'s; the counting only reads the size
// of blocks that are live at that moment.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by System and is live.
            add(unsafe { usable::size(ptr, layout.size()) });
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by System and is live.
            add(unsafe { usable::size(ptr, layout.size()) });
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a live block of this allocator, which is
        // a block of System; it is measured before it is freed.
        sub(unsafe { usable::size(ptr, layout.size()) });
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller passes a live block of System; measured while
        // it is still live.
        let old = unsafe { usable::size(ptr, layout.size()) };
        // SAFETY: forwarded unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            sub(old);
            // SAFETY: `new` was just returned by System and is live.
            add(unsafe { usable::size(new, new_size) });
        }
        new
    }
}
