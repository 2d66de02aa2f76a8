//! `upscmd`: see [`nut_clients::upscmd`].

fn main() {
    nut_clients::main_with(nut_clients::upscmd::run)
}
