use clap::Parser;

/// mimalloc instead of the system allocator: confdrift makes millions of
/// small allocations (keys, values, names) from several threads at once,
/// where glibc's per-thread arenas fragment. Built with `no_thp`
/// (Cargo.toml), so its memory is not backed by transparent huge pages,
/// which doubled the peak of a small run. Figures: benches/README.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mimalloc.h` (the enum's 16th
/// member); libmimalloc-sys names no constant for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory freed is given back to the OS after 10 ms (mimalloc v2's
/// default), where mimalloc v3 waits a second: a run frees an
/// environment's raw objects as soon as it is normalized, and its peak RSS
/// is what a CronJob's memory limit meets. At 3 × 50,000 pods this took
/// `--jobs 1` from 270 to 232 MB and the default from 475–530 to 402–417
/// MB, wall time unchanged; 0 ms purged as low but cost a quarter more
/// time in system calls (benches/README.md). `MIMALLOC_PURGE_DELAY` in the
/// environment still wins.
fn purge_freed_memory_soon() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option of the allocator; mimalloc reads
        // it whenever it decides to purge, from any thread.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) }
    }
}

fn main() {
    purge_freed_memory_soon();
    let cli = confdrift::cli::Cli::parse();
    std::process::exit(confdrift::cli::run(cli));
}
