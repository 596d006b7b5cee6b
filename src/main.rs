use clap::Parser;

/// mimalloc instead of the system allocator: confdrift makes millions of
/// small allocations (keys, values, names) from several threads at once,
/// where glibc's per-thread arenas fragment. At 3 × 50,000 pods: 5.6 s and
/// 1,088 MB peak with glibc, 3.5–4.3 s and 780–850 MB with mimalloc
/// (`benches/compare.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = confdrift::cli::Cli::parse();
    std::process::exit(confdrift::cli::run(cli));
}
