//! `upsc`: see [`nut_clients::upsc`].

fn main() {
    nut_clients::main_with(nut_clients::upsc::run)
}
