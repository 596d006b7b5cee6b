#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| confdrift_fuzz::policy(data));
