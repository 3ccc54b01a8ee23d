//! The decode side of one VA context: a [`vreq_engine::Engine`] over the
//! context's device, fed by [`VaCodec`], an adapter that implements
//! [`vreq_core::StatelessCodec`] from VA-API buffers instead of a bitstream.
//!
//! The VA client owns the DPB and names references by `VASurfaceID`; V4L2
//! names them by the OUTPUT buffer timestamp (`timestamp_ns`, copied to the
//! CAPTURE buffer; `reference_ts` in `v4l2_h264_dpb_entry`, uAPI
//! "ext-ctrls-codec-stateless"). So each surface records the timestamp of the
//! last picture rendered into it and, once decoded, holds that picture's
//! [`DecodedFrame`] (which keeps its CAPTURE buffer from the device) until
//! the client renders into the surface again or destroys it.
//!
//! Per picture the adapter emits `Configure(StreamParams)` when the stream
//! parameters change (the first picture), the picture's `Decode` jobs (the
//! context's [`CodecMap`], [`crate::map`]), then `Output` and `Unref` for it at once:
//! the engine hands the frame out in decode order and the surface, not the
//! engine, keeps it alive.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use vreq_core::{
    CodecError, CodecEvent, CodecKind, CodedUnit, DecodeMode, StartCode, StatelessCodec,
    StreamParams,
};
use vreq_engine::Engine;
use vreq_frame::DecodedFrame;
use vreq_v4l2::DecoderDevice;

use crate::map::{CodecMap, MapContext, PictureFormat};
use crate::picture::Picture;
use crate::status::*;
use crate::sys::{self, VAProfile, VASurfaceID, VASurfaceStatus};

/// Spacing of the OUTPUT timestamps the adapter gives pictures, ns (any
/// unique value works; 1 µs keeps them readable in visl traces).
pub const TIMESTAMP_STEP_NS: u64 = 1000;

/// The least DPB size asked of the engine: H.264's largest DPB (16 frames,
/// A.3.1 `MaxDpbFrames`) + the current picture. A client that creates its
/// context without render targets (ffmpeg: its surface pool grows as it
/// goes) keeps about that many surfaces, each holding a decoded frame; with
/// fewer CAPTURE buffers the engine waits for one that never comes back
/// (seen in the VM: gizmo.mp4 with ffmpeg's 3 frame threads, 10 buffers).
pub const MIN_DPB_SIZE: u32 = 17;

/// The adapter: events queued by [`Decoder`] and handed to the engine.
pub struct VaCodec {
    kind: CodecKind,
    events: Rc<RefCell<VecDeque<CodecEvent>>>,
}

impl StatelessCodec for VaCodec {
    fn kind(&self) -> CodecKind {
        self.kind
    }
    /// The [`Decoder`] reads the mode from the device itself.
    fn set_mode(&mut self, _: DecodeMode, _: StartCode) {}
    /// The events are queued before the engine is called: nothing to parse.
    fn push(&mut self, _: CodedUnit<'_>) -> Result<(), CodecError> {
        Ok(())
    }
    fn flush(&mut self) -> Result<(), CodecError> {
        Ok(())
    }
    fn reset(&mut self) {
        self.events.borrow_mut().clear();
    }
    fn poll(&mut self) -> Option<CodecEvent> {
        self.events.borrow_mut().pop_front()
    }
}

/// What a surface holds.
enum Held {
    /// Rendered, not yet back from the device.
    Pending(u64),
    /// Decoded: the frame keeps its CAPTURE buffer. `None`: the device set
    /// `V4L2_BUF_FLAG_ERROR` (or it never came back).
    Decoded(u64, Option<DecodedFrame>),
}

impl Held {
    fn timestamp_ns(&self) -> u64 {
        match self {
            Held::Pending(t) | Held::Decoded(t, _) => *t,
        }
    }
}

/// One VA context's decoder over device `D` (a V4L2 session; a fake in tests).
pub struct Decoder<D: DecoderDevice> {
    engine: Engine<D>,
    events: Rc<RefCell<VecDeque<CodecEvent>>>,
    codec: Box<dyn CodecMap>,
    profile: VAProfile,
    mode: (DecodeMode, StartCode),
    /// The context's size in pixels: the visible rectangle (VA carries no
    /// cropping; clients size the context to the picture).
    size: (u32, u32),
    /// The context's render targets (0 when the client adds surfaces as it goes).
    surface_count: u32,
    /// The OUTPUT timestamp of the next picture, ns: shared by the
    /// display's contexts ([`Decoder::with_timestamps`]), so that a context
    /// re-created mid-stream (ffmpeg and GStreamer do at a size change)
    /// does not reuse its predecessor's timestamps (visl traces and the
    /// kernel's per-queue lookups stay unambiguous).
    next_timestamp_ns: Rc<Cell<u64>>,
    params: Option<StreamParams>,
    held: HashMap<VASurfaceID, Held>,
}

impl<D: DecoderDevice> Decoder<D> {
    /// A decoder for `profile` on `device` mapping VA buffers with `codec`
    /// (the profile's, [`crate::map::for_profile`]), for a `width` ×
    /// `height` context with `surface_count` render targets.
    pub fn new(
        device: D,
        codec: Box<dyn CodecMap>,
        profile: VAProfile,
        width: u32,
        height: u32,
        surface_count: u32,
    ) -> Self {
        let mode = device.mode();
        let events = Rc::new(RefCell::new(VecDeque::new()));
        let adapter = VaCodec {
            kind: codec.kind(),
            events: Rc::clone(&events),
        };
        let mut engine = Engine::new(Box::new(adapter), device);
        // VA-API reports a decoding error per surface (vaSyncSurface /
        // vaQuerySurfaceError) and the client conceals: only the bad
        // picture's surface fails, the ones decoded after it are the client's.
        engine.set_hide_after_bad(false);
        Decoder {
            engine,
            events,
            codec,
            profile,
            mode,
            size: (width, height),
            surface_count,
            next_timestamp_ns: Rc::new(Cell::new(TIMESTAMP_STEP_NS)),
            params: None,
            held: HashMap::new(),
        }
    }

    /// Takes picture timestamps from `next` (the display's counter, shared
    /// by its contexts) instead of a counter of its own.
    pub fn with_timestamps(mut self, next: Rc<Cell<u64>>) -> Self {
        self.next_timestamp_ns = next;
        self
    }

    /// The engine (its device records jobs in tests).
    pub fn engine(&self) -> &Engine<D> {
        &self.engine
    }

    /// The OUTPUT timestamp of the picture last rendered into `surface`,
    /// if any (pending pictures count: the device decodes in queue order).
    pub fn timestamp_of(&self, surface: VASurfaceID) -> Option<u64> {
        self.held.get(&surface).map(Held::timestamp_ns)
    }

    /// The decoded frame `surface` holds, if any.
    pub fn frame(&self, surface: VASurfaceID) -> Option<&DecodedFrame> {
        match self.held.get(&surface) {
            Some(Held::Decoded(_, f)) => f.as_ref(),
            _ => None,
        }
    }

    /// The context's codec mapping (`vaRenderPicture` checks buffers with it).
    pub fn codec(&self) -> &dyn CodecMap {
        self.codec.as_ref()
    }

    /// Stream parameters of a picture of `format`: its coded size and bit
    /// depth, the context's size as the visible rectangle (clipped to the
    /// coded size), DPB the codec's need + the context's render targets, at
    /// least [`MIN_DPB_SIZE`] (every surface may hold a frame, so CAPTURE
    /// must cover the client's surfaces; the engine adds its headroom).
    pub fn stream_params(&self, format: &PictureFormat) -> StreamParams {
        let (w, h) = (format.coded_width, format.coded_height);
        StreamParams {
            coded_width: w,
            coded_height: h,
            visible: (0, 0, self.size.0.min(w), self.size.1.min(h)),
            bit_depth: format.bit_depth,
            dpb_size: format
                .dpb_size
                .saturating_add(self.surface_count)
                .max(MIN_DPB_SIZE),
            frame_duration_ns: None,
            pixel_aspect: (1, 1),
            color: Default::default(),
        }
    }

    /// Decodes `pic` (`vaEndPicture`) into its target surface, whose
    /// previous frame is dropped. Errors: the buffers do not map
    /// ([`crate::map::MapError`], e.g. a slice past its data buffer) →
    /// `VA_STATUS_ERROR_INVALID_PARAMETER`, nothing queued, the context
    /// unchanged; the device refused a request or the configuration →
    /// `VA_STATUS_ERROR_OPERATION_FAILED`, the target surface then reports
    /// `VA_STATUS_ERROR_DECODING_ERROR` and the next picture decodes.
    pub fn decode(&mut self, pic: &Picture) -> Result<(), VAStatus> {
        let target = pic.target;
        let ts = self.next_timestamp_ns.get();
        let mapped = pic.with_rendered(|r| {
            let held = &self.held;
            let lookup = |s: VASurfaceID| held.get(&s).map(Held::timestamp_ns);
            let device = self.engine.device();
            let has_control = |id: u32| device.has_control(id);
            let cx = MapContext {
                profile: self.profile,
                mode: self.mode.0,
                start_code: self.mode.1,
                timestamp_ns: ts,
                timestamp_of: &lookup,
                has_control: &has_control,
            };
            self.codec.map(r, &cx).map_err(|e| {
                tracing::warn!("vaEndPicture: {e}");
                VA_STATUS_ERROR_INVALID_PARAMETER
            })
        })?;
        self.next_timestamp_ns.set(ts + TIMESTAMP_STEP_NS);
        let params = self.stream_params(&mapped.format);
        {
            let mut ev = self.events.borrow_mut();
            if self.params != Some(params) {
                ev.push_back(CodecEvent::Configure(params));
            }
            ev.extend(mapped.jobs.into_iter().map(CodecEvent::Decode));
            ev.push_back(CodecEvent::Output {
                timestamp_ns: ts,
                pts_ns: ts as i64,
            });
            ev.push_back(CodecEvent::Unref { timestamp_ns: ts });
        }
        self.params = Some(params);
        self.held.insert(target, Held::Pending(ts));
        let r = self.engine.decode(CodedUnit {
            data: &[],
            pts_ns: None,
            keyframe: false,
            byte_offset: 0,
        });
        self.collect();
        r.map_err(|e| {
            // What the engine did not take of this picture (its other
            // slices' requests, Output, Unref) must not reach the next one,
            // and the next picture configures the device again.
            self.events.borrow_mut().clear();
            self.params = None;
            tracing::error!("vaEndPicture: {e}");
            VA_STATUS_ERROR_OPERATION_FAILED
        })
    }

    /// Takes the frames the engine has ready and gives each to the surface
    /// that still waits for it. Frames come in decode order, so a pending
    /// picture older than a frame that came is one the device failed.
    fn collect(&mut self) {
        while let Some(f) = self.engine.next_frame() {
            let ts = f.pts_ns as u64;
            for h in self.held.values_mut() {
                if let Held::Pending(t) = *h {
                    if t < ts {
                        *h = Held::Decoded(t, None);
                    }
                }
            }
            if let Some(h) = self
                .held
                .values_mut()
                .find(|h| matches!(h, Held::Pending(t) if *t == ts))
            {
                *h = Held::Decoded(ts, Some(f));
            }
        }
        while let Some(w) = self.engine.take_warning() {
            tracing::warn!("{w}");
        }
    }

    /// `vaSyncSurface`: waits until `surface`'s picture is decoded (the
    /// engine drains the device, each wait at most
    /// [`vreq_engine::DEVICE_TIMEOUT`]). `VA_STATUS_ERROR_DECODING_ERROR` when
    /// the device flagged it bad; a surface never rendered returns at once.
    pub fn sync(&mut self, surface: VASurfaceID) -> Result<(), VAStatus> {
        if matches!(self.held.get(&surface), Some(Held::Pending(_))) {
            if let Err(e) = self.engine.finish() {
                tracing::error!("vaSyncSurface: {e}");
            }
            self.collect();
            if let Some(h) = self.held.get_mut(&surface) {
                if let Held::Pending(t) = *h {
                    *h = Held::Decoded(t, None);
                }
            }
        }
        match self.held.get(&surface) {
            Some(Held::Decoded(_, None)) => Err(VA_STATUS_ERROR_DECODING_ERROR),
            _ => Ok(()),
        }
    }

    /// `vaQuerySurfaceStatus`: `VASurfaceRendering` while pending,
    /// `VASurfaceReady` once decoded (or never rendered),
    /// `VA_STATUS_ERROR_DECODING_ERROR` for a picture the device flagged bad.
    pub fn status(&mut self, surface: VASurfaceID) -> Result<VASurfaceStatus, VAStatus> {
        self.collect();
        match self.held.get(&surface) {
            Some(Held::Pending(_)) => Ok(sys::VASurfaceRendering),
            Some(Held::Decoded(_, None)) => Err(VA_STATUS_ERROR_DECODING_ERROR),
            _ => Ok(sys::VASurfaceReady),
        }
    }

    /// Waits for every picture in flight (`vaDestroyContext`: closing the
    /// device would cancel requests the client already ended).
    pub fn finish(&mut self) {
        if let Err(e) = self.engine.finish() {
            tracing::error!("vaDestroyContext: {e}");
        }
        self.collect();
    }

    /// The surface is destroyed (or leaves the context): its frame, if any,
    /// goes back to the engine.
    pub fn forget(&mut self, surface: VASurfaceID) {
        self.held.remove(&surface);
    }
}

#[cfg(test)]
mod tests;
