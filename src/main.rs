use clap::Parser;

fn main() {
    let cli = confdrift::cli::Cli::parse();
    std::process::exit(confdrift::cli::run(cli));
}
