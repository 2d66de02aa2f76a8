//! `upssched`: see [`nut_clients::upssched`].

fn main() {
    std::process::exit(nut_clients::upssched::main())
}
