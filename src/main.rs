use clap::Parser;

/// mimalloc instead of the system allocator: confdrift makes millions of
/// small allocations (keys, values, names) from several threads at once,
/// where glibc's per-thread arenas fragment. At 3 × 50,000 pods: 5.6 s and
/// 1,088 MB peak with glibc, about 4 s and 730 MB with mimalloc
/// (`benches/compare.sh`). `no_thp`: without it mimalloc's memory is backed
/// by transparent huge pages where the kernel allows them (`madvise`), and a
/// run of 3 × 1,000 pods showed 62 MB peak instead of 30.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = confdrift::cli::Cli::parse();
    std::process::exit(confdrift::cli::run(cli));
}
