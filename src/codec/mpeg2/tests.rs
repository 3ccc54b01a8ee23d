//! Unit tests for the MPEG-2 codec (stream-level tests: tests/mpeg2_pipeline.rs).
