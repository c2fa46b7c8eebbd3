//! The wasm's allocator: a bump arena that starts over whenever nothing is allocated.
//!
//! The wasm keeps no state between calls: every export is a synchronous function whose inputs
//! (copied in by wasm-bindgen's glue) and outputs (copied out and freed by the glue) are freed
//! when the call is over. So the number of live allocations drops to zero after every call, and
//! the arena is reused from its start by the next one. Within a call, memory is only taken, never
//! reused: a call needs a few times the size of its inputs (at most a 64 KiB body).
//!
//! This replaces a general-purpose allocator (talc, ~2.3 KB of wasm with its panic paths) by
//! ~150 bytes. `tests/node/wasm-memory.test.mjs` checks that the memory stops growing.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32::{memory_grow, memory_size};
use core::cell::Cell;

const PAGE: usize = 65536;

/// A bump arena over the pages it grows the wasm memory by.
pub struct Arena {
    /// Where the arena starts (0 until the first allocation).
    start: Cell<usize>,
    /// The next free byte.
    next: Cell<usize>,
    /// The end of the memory the arena may use.
    end: Cell<usize>,
    /// Allocations not freed yet.
    live: Cell<usize>,
}

// The wasm is single-threaded: no other thread can see the cells.
unsafe impl Sync for Arena {}

impl Arena {
    /// An arena that takes its first page on first use.
    pub const fn new() -> Arena {
        Arena {
            start: Cell::new(0),
            next: Cell::new(0),
            end: Cell::new(0),
            live: Cell::new(0),
        }
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.start.get() == 0 {
            // Past the end of the memory the module was given (data, stack, statics): nothing
            // else ever uses what the arena grows.
            let top = memory_size(0) * PAGE;
            self.start.set(top);
            self.next.set(top);
            self.end.set(top);
        }
        let align = layout.align();
        let at = (self.next.get() + align - 1) & !(align - 1);
        let Some(new_next) = at.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if new_next > self.end.get() {
            let pages = (new_next - self.end.get()).div_ceil(PAGE);
            if memory_grow(0, pages) == usize::MAX {
                return core::ptr::null_mut();
            }
            self.end.set(self.end.get() + pages * PAGE);
        }
        self.next.set(new_next);
        self.live.set(self.live.get() + 1);
        at as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        let live = self.live.get().saturating_sub(1);
        self.live.set(live);
        if live == 0 {
            self.next.set(self.start.get());
        }
    }
}
