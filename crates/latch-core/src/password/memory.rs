//! Argon2 working memory, kept per thread and reused across hashes.
//!
//! Each hash at the default cost needs 19 MiB. Allocating and freeing that on every login made
//! glibc raise its mmap threshold and keep the freed blocks in per-thread arenas, so RSS under a
//! login flood grew far beyond the pool's real need (measured by `latch-bench`). The hashing
//! threads are fixed (see `crate::cpu`), so one buffer per thread bounds argon2's memory at
//! threads × the configured cost.

use argon2::{Argon2, Block, Params};
use std::cell::RefCell;

/// Larger buffers (e.g. an imported hash with an unusual cost) are used once, then freed.
const KEEP_BLOCKS: usize = 64 * 1024;

thread_local! {
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// `argon.hash_password_into` on this thread's reusable memory; `params` are `argon`'s own.
pub fn hash_into(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let needed = params.block_count();
    if needed > KEEP_BLOCKS {
        return argon.hash_password_into_with_memory(password, salt, out, vec![Block::new(); needed]);
    }
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() < needed {
            blocks.resize(needed, Block::new());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
    })
}
