#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| vreq_fuzz::demux_mkv(data));
