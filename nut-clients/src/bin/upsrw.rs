//! `upsrw`: see [`nut_clients::upsrw`].

fn main() {
    nut_clients::main_with(nut_clients::upsrw::run)
}
