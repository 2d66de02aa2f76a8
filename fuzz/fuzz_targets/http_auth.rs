#![no_main]
use libfuzzer_sys::fuzz_target;
fuzz_target!(|data: &[u8]| nut_fuzz::http_auth(data));
