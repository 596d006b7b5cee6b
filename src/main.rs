use clap::Parser;

/// mimalloc instead of the system allocator: confdrift makes millions of
/// small allocations (keys, values, names) from several threads at once,
/// where glibc's per-thread arenas fragment. Built with `no_thp`
/// (Cargo.toml), so its memory is not backed by transparent huge pages,
/// which doubled the peak of a small run. Figures: benches/README.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = confdrift::cli::Cli::parse();
    std::process::exit(confdrift::cli::run(cli));
}
