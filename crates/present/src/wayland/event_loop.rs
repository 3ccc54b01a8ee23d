//! The connection to the compositor and its event queue: connecting
//! (`WAYLAND_DISPLAY`), flushing requests, waiting for the socket to be
//! readable (`poll`), reading and dispatching events to [`State`]. Nothing
//! here panics on compositor behaviour: connection and protocol errors
//! become [`PresentError::Wayland`] (a protocol error with its interface,
//! object id, code and message).

use std::os::fd::BorrowedFd;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use smithay_client_toolkit::reexports::client::backend::WaylandError;
use smithay_client_toolkit::reexports::client::globals::{registry_queue_init, GlobalList};
use smithay_client_toolkit::reexports::client::{
    Connection, DispatchError, EventQueue, QueueHandle,
};

use super::state::State;
use crate::PresentError;

/// `PresentError::Wayland("<what>: <e>")`.
pub(super) fn wl_err(what: &str, e: impl std::fmt::Display) -> PresentError {
    PresentError::Wayland(format!("{what}: {e}"))
}

/// Whether `e` is only "try again" (`EWOULDBLOCK` on the socket).
fn would_block(e: &WaylandError) -> bool {
    matches!(e, WaylandError::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock)
}

/// The connection and the one event queue every object is created on.
pub(super) struct EventLoop {
    conn: Connection,
    queue: EventQueue<State>,
}

impl EventLoop {
    /// Connects to the compositor named by the environment
    /// (`WAYLAND_DISPLAY`, `XDG_RUNTIME_DIR`) and reads its globals
    /// (`wl_registry`).
    pub(super) fn connect() -> Result<(Self, GlobalList), PresentError> {
        let conn = Connection::connect_to_env().map_err(|e| {
            PresentError::Wayland(format!(
                "cannot connect to a Wayland compositor (WAYLAND_DISPLAY={}, XDG_RUNTIME_DIR={}): {e}",
                std::env::var("WAYLAND_DISPLAY").unwrap_or_else(|_| "unset".into()),
                std::env::var("XDG_RUNTIME_DIR").unwrap_or_else(|_| "unset".into()),
            ))
        })?;
        let (globals, queue) =
            registry_queue_init::<State>(&conn).map_err(|e| wl_err("wl_registry", e))?;
        Ok((EventLoop { conn, queue }, globals))
    }

    /// The connection (a cheap clone), for requests that need it.
    pub(super) fn connection(&self) -> Connection {
        self.conn.clone()
    }

    /// The handle new objects are created with (their events come to [`State`]).
    pub(super) fn handle(&self) -> QueueHandle<State> {
        self.queue.handle()
    }

    /// Sends the queued requests; errors are ignored here (the next
    /// [`Self::pump`] reports a broken connection).
    pub(super) fn flush(&self) {
        let _ = self.conn.flush();
    }

    /// A dispatch error as [`PresentError`], naming the protocol error if
    /// the compositor raised one.
    fn dispatch_err(&self, e: DispatchError) -> PresentError {
        match self.conn.protocol_error() {
            Some(p) => PresentError::Wayland(format!(
                "protocol error on {}@{}: code {}: {}",
                p.object_interface, p.object_id, p.code, p.message
            )),
            None => wl_err("connection", e),
        }
    }

    /// Sends a `wl_display.sync` and dispatches until its answer: every
    /// event the compositor sent before is handled.
    pub(super) fn roundtrip(&mut self, state: &mut State) -> Result<(), PresentError> {
        self.queue
            .roundtrip(state)
            .map(|_| ())
            .map_err(|e| self.dispatch_err(e))
    }

    /// Dispatches what is queued, flushes requests, reads events for at
    /// most `timeout` and dispatches them to `state`. `extra`: another fd
    /// whose input (or hang-up) also ends the wait (the test hook's).
    pub(super) fn pump(
        &mut self,
        state: &mut State,
        timeout: Duration,
        extra: Option<BorrowedFd<'_>>,
    ) -> Result<(), PresentError> {
        self.queue
            .dispatch_pending(state)
            .map_err(|e| self.dispatch_err(e))?;
        if let Err(e) = self.conn.flush() {
            if !would_block(&e) {
                return Err(match self.conn.protocol_error() {
                    Some(_) => self.dispatch_err(DispatchError::Backend(e)),
                    None => wl_err("flush", e),
                });
            }
        }
        if let Some(guard) = self.queue.prepare_read() {
            let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
            let readable = {
                let fd = guard.connection_fd();
                let mut fds = vec![PollFd::new(fd, PollFlags::POLLIN)];
                if let Some(x) = extra {
                    fds.push(PollFd::new(x, PollFlags::POLLIN));
                }
                match poll(
                    &mut fds,
                    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
                ) {
                    Ok(n) => n > 0 && fds[0].any().unwrap_or(true),
                    Err(nix::errno::Errno::EINTR) => false,
                    Err(e) => return Err(wl_err("poll", e)),
                }
            };
            if readable {
                if let Err(e) = guard.read() {
                    if !would_block(&e) {
                        return Err(self.dispatch_err(DispatchError::Backend(e)));
                    }
                }
            }
        }
        self.queue
            .dispatch_pending(state)
            .map_err(|e| self.dispatch_err(e))?;
        Ok(())
    }
}
