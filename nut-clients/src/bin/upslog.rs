//! `upslog`: see [`nut_clients::upslog`].

fn main() {
    nut_clients::main_with(nut_clients::upslog::run)
}
