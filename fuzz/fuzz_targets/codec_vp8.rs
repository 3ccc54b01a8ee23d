#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| vreq_fuzz::codec_vp8(data));
