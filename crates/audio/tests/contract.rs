//! The decoder's contract on tracks and packets built by hand: what is
//! refused and how it is named, priming and the pts it moves, reset, and
//! corrupt packets.

use vreq_audio::decode::{AudioDecoder, AudioError};
use vreq_container::{AudioCodec, AudioParams, Packet, PcmFormat, TrackCodec, TrackInfo};
use vreq_core::CodecPrivate;

fn track(codec: AudioCodec, extradata: &[u8], rate: u32, channels: u16, skip: u32) -> TrackInfo {
    TrackInfo {
        id: 2,
        codec: TrackCodec::Audio(codec),
        width: 0,
        height: 0,
        frame_duration_ns: None,
        duration_ns: None,
        codec_private: if extradata.is_empty() {
            CodecPrivate::None
        } else {
            CodecPrivate::Raw(extradata.to_vec())
        },
        presentation_window_ns: None,
        pixel_aspect: None,
        crop: None,
        audio: Some(AudioParams {
            sample_rate: rate,
            channels,
            skip_samples: skip,
        }),
    }
}

fn packet(data: Vec<u8>, pts_ns: Option<i64>, byte_offset: u64) -> Packet {
    Packet {
        track: 2,
        data,
        pts_ns,
        dts_ns: pts_ns,
        duration_ns: None,
        keyframe: true,
        byte_offset,
        discard_padding_ns: 0,
    }
}

fn unsupported(t: &TrackInfo) -> String {
    match AudioDecoder::new(t) {
        Err(AudioError::Unsupported { codec }) => codec,
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("decoder made for {:?}", t.codec),
    }
}

#[test]
fn refused_codecs_are_named_as_ffprobe_names_them() {
    assert_eq!(
        unsupported(&track(AudioCodec::Ac3, &[], 48000, 6, 0)),
        "ac3"
    );
    assert_eq!(
        unsupported(&track(AudioCodec::Eac3, &[], 48000, 6, 0)),
        "eac3"
    );
    assert_eq!(
        unsupported(&track(AudioCodec::Dts, &[], 48000, 6, 0)),
        "dts"
    );
    // HE-AAC (explicit: object type 5, 24 kHz core, stereo).
    assert_eq!(
        unsupported(&track(
            AudioCodec::Aac,
            &[0x2B, 0x10, 0x88, 0x00],
            48000,
            2,
            0
        )),
        "aac (HE-AAC)"
    );
    // AAC LC whose layout is in a program_config_element (channel
    // configuration 0, 48 kHz): 00010 0011 0000 000.
    assert_eq!(
        unsupported(&track(AudioCodec::Aac, &[0x11, 0x80], 48000, 6, 0)),
        "aac (channel layout in a PCE)"
    );
    // AAC LC channel configuration 7 (8 channels, 48 kHz): 00010 0011 0111 000.
    assert_eq!(
        unsupported(&track(AudioCodec::Aac, &[0x11, 0xB8], 48000, 8, 0)),
        "aac (8 channels)"
    );
    // Opus first-order ambisonics: mapping family 2, 4 streams.
    let mut head = b"OpusHead".to_vec();
    head.extend([
        1, 4, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0, 0, 2, 4, 0, 0, 1, 2, 3,
    ]);
    assert_eq!(
        unsupported(&track(AudioCodec::Opus, &head, 48000, 4, 0)),
        "opus (4 channels, mapping family 2)"
    );
    let e = AudioError::Unsupported {
        codec: "ac3".into(),
    };
    assert_eq!(
        format!("audio: {e}, playing without sound"),
        "audio: ac3 not supported, playing without sound"
    );
}

fn s16_pcm() -> AudioCodec {
    AudioCodec::Pcm(PcmFormat {
        bits: 16,
        float: false,
        big_endian: false,
        signed: true,
    })
}

/// 1000 stereo s16 frames counting up.
fn ramp() -> Vec<u8> {
    (0..2000i16).flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn priming_is_dropped_once_and_moves_the_pts() {
    let mut dec = AudioDecoder::new(&track(s16_pcm(), &[], 48000, 2, 1200)).unwrap();
    assert_eq!(dec.codec_name(), "pcm_s16le");
    // The first packet is all priming.
    assert_eq!(dec.decode(&packet(ramp(), Some(0), 0)).unwrap(), None);
    // 200 frames of the second are priming: the pts moves by 200 / 48 kHz.
    let pcm = dec
        .decode(&packet(ramp(), Some(20_833_333), 4000))
        .unwrap()
        .unwrap();
    assert_eq!(
        (pcm.sample_rate, pcm.channels, pcm.frames()),
        (48000, 2, 800)
    );
    assert_eq!(pcm.pts_ns, Some(20_833_333 + 4_166_666));
    assert_eq!(pcm.samples[0], 400.0 / 32768.0);
    // Then nothing more is dropped, also not after a reset (seek).
    dec.reset();
    let pcm = dec.decode(&packet(ramp(), None, 8000)).unwrap().unwrap();
    assert_eq!((pcm.frames(), pcm.pts_ns), (1000, None));
}

#[test]
fn discard_padding_trims_the_end_or_the_start() {
    let mut dec = AudioDecoder::new(&track(s16_pcm(), &[], 48000, 2, 0)).unwrap();
    // 5 ms of padding at 48 kHz: the last 240 of 1000 frames go.
    let mut p = packet(ramp(), Some(0), 0);
    p.discard_padding_ns = 5_000_000;
    let pcm = dec.decode(&p).unwrap().unwrap();
    assert_eq!((pcm.frames(), pcm.pts_ns), (760, Some(0)));
    assert_eq!(pcm.samples[2 * 759], 1518.0 / 32768.0);
    // Negative: from the start, the pts moved by it (FFmpeg matroskadec).
    p.discard_padding_ns = -5_000_000;
    let pcm = dec.decode(&p).unwrap().unwrap();
    assert_eq!((pcm.frames(), pcm.pts_ns), (760, Some(5_000_000)));
    assert_eq!(pcm.samples[0], 480.0 / 32768.0);
    // More padding than the packet holds: nothing is left.
    p.discard_padding_ns = 1_000_000_000;
    assert_eq!(dec.decode(&p).unwrap(), None);
    // Rounded to the nearest frame (av_rescale_q): 10 ns → 0.00048 frames.
    p.discard_padding_ns = 10;
    assert_eq!(dec.decode(&p).unwrap().unwrap().frames(), 1000);
}

#[test]
fn a_corrupt_packet_is_skipped_and_the_next_decodes() {
    // Opus, mono, a CELT-only 20 ms frame of silence (TOC 0xF8: config 31,
    // mono, one frame; RFC 6716 3.1) and then a malformed packet (code 3
    // with a frame count of 0: RFC 6716 3.2.5 forbids it).
    let mut head = b"OpusHead".to_vec();
    head.extend([1, 1, 0, 0, 0x80, 0xBB, 0, 0, 0, 0, 0]);
    let mut dec = AudioDecoder::new(&track(AudioCodec::Opus, &head, 48000, 1, 0)).unwrap();
    let ok = dec
        .decode(&packet(vec![0xF8, 0xFF, 0xFE], Some(0), 100))
        .unwrap()
        .unwrap();
    assert_eq!((ok.frames(), ok.sample_rate), (960, 48000));
    match dec.decode(&packet(vec![0xFB, 0x00], Some(20_000_000), 200)) {
        Err(AudioError::Corrupt { byte_offset, what }) => {
            assert_eq!(byte_offset, 200);
            assert!(what.contains("track 2"), "{what}");
        }
        other => panic!("{other:?}"),
    }
    let ok = dec
        .decode(&packet(vec![0xF8, 0xFF, 0xFE], Some(40_000_000), 300))
        .unwrap()
        .unwrap();
    assert_eq!((ok.frames(), ok.pts_ns), (960, Some(40_000_000)));
}

#[test]
fn not_audio_or_no_configuration_is_a_config_error() {
    let mut t = track(AudioCodec::Flac, &[], 48000, 2, 0);
    assert!(matches!(AudioDecoder::new(&t), Err(AudioError::Config(_))));
    t.codec = TrackCodec::Other("V_UNKNOWN".into());
    assert!(matches!(AudioDecoder::new(&t), Err(AudioError::Config(_))));
    let t = track(AudioCodec::Vorbis, &[], 48000, 2, 0);
    assert!(matches!(AudioDecoder::new(&t), Err(AudioError::Config(_))));
}

#[test]
fn an_mpeg_audio_stream_without_frame_headers_is_reported() {
    let mut dec = AudioDecoder::new(&track(AudioCodec::Mp2, &[], 48000, 2, 0)).unwrap();
    // Free-format layer 2 (bitrate index 0) has no length in its header:
    // the splitter finds no frame; after 4 KiB the decoder says so.
    let mut free = Vec::new();
    for _ in 0..8 {
        let mut f = vec![0xFF, 0xFD, 0x04, 0x04];
        f.resize(700, 0x55);
        free.extend(f);
    }
    let mut errors = 0;
    for (i, chunk) in free.chunks(700).enumerate() {
        match dec.decode(&packet(chunk.to_vec(), None, 700 * i as u64)) {
            Ok(None) => {}
            Err(AudioError::Corrupt { what, .. }) => {
                assert!(what.contains("no MPEG audio frame header"), "{what}");
                errors += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(errors, 1);
}

/// The player moves the decoder and the converter to its audio thread.
#[test]
fn decoder_and_converter_are_send() {
    fn send<T: Send>() {}
    send::<AudioDecoder>();
    send::<vreq_audio::mix::Converter>();
    send::<vreq_audio::decode::Pcm>();
}
