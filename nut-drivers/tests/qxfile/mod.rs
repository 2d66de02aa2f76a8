//! The `.qx` files in `tests/data/qx/` (format: `tests/data/qx/README.md`),
//! read with `nut_testkit::qxfile`.

pub use nut_testkit::qxfile::*;
use std::path::{Path, PathBuf};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/qx")
}

pub fn load(rel: &str) -> Vec<Line> {
    nut_testkit::qxfile::load(&data_dir(), rel)
}
