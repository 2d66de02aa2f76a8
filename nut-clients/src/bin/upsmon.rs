//! `upsmon`: see [`nut_clients::upsmon`].

fn main() {
    let args: Vec<String> = std::env::args().collect();
    std::process::exit(nut_clients::upsmon::main(&args))
}
