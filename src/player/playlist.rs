//! The playlist: which file plays next, after each file ends, with mpv's
//! loop options (`DOCS/man/options.rst`):
//! - `--loop-file=N`: the file is played again N more times (mpv counts the
//!   seeks back to its start: `--loop-file=1` plays it twice); `inf`
//!   forever; `no` once. The player does these loops inside the file (a
//!   seek back to the start, `Controls::loop_file`) and gives the playlist
//!   `Loop::No`; the playlist's own count serves callers that reopen.
//! - `--loop-playlist=N`: the whole list is played N times (`1` and `no`
//!   once, as mpv); `inf` forever.
//! - `>` / `Enter` (`playlist-next`) and `<` (`playlist-prev`) move one
//!   entry (mpv's default `weak` mode: nothing at the last / first entry
//!   unless the playlist loops); they reset the file's loop count.
//! - A file that cannot be opened or decoded is skipped; a round of the
//!   list in which no file played ends playback (no endless loop of
//!   errors, as mpv stops a playlist in which every file failed).

use super::options::Loop;

/// How one file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileEnd {
    /// Played to its end (or `--end`, or `--frames`).
    #[default]
    Eof,
    /// `playlist-next`.
    Next,
    /// `playlist-prev`.
    Prev,
    /// Could not be opened or decoded.
    Failed,
    /// The user quit (key, or the window closed).
    Quit,
}

/// The playlist's position and loop counters.
#[derive(Debug, Clone)]
pub struct Playlist {
    len: usize,
    loop_file: Loop,
    loop_playlist: Loop,
    index: usize,
    file_loops: u64,
    rounds: u64,
    played_in_round: bool,
}

impl Playlist {
    /// A list of `len` files (≥ 1) starting at the first.
    pub fn new(len: usize, loop_file: Loop, loop_playlist: Loop) -> Self {
        Playlist {
            len,
            loop_file,
            loop_playlist,
            index: 0,
            file_loops: 0,
            rounds: 0,
            played_in_round: false,
        }
    }

    /// The entry playing now.
    pub fn index(&self) -> usize {
        self.index
    }

    fn playlist_loops(&self) -> bool {
        match self.loop_playlist {
            Loop::Inf => true,
            Loop::No => false,
            Loop::Times(n) => self.rounds + 1 < n,
        }
    }

    /// Whether `playlist-next` moves (there is a next entry, or the list loops).
    pub fn has_next(&self) -> bool {
        self.index + 1 < self.len || self.playlist_loops()
    }

    /// Whether `playlist-prev` moves.
    pub fn has_prev(&self) -> bool {
        self.index > 0 || self.playlist_loops()
    }

    /// Whether the current file ends the playback when it reaches its end
    /// (no file loop left, last entry, no playlist loop left): where
    /// `--keep-open=yes` holds the last frame.
    pub fn at_last(&self) -> bool {
        let file_again = match self.loop_file {
            Loop::Inf => true,
            Loop::No => false,
            Loop::Times(n) => self.file_loops < n,
        };
        !file_again && !self.has_next()
    }

    /// The entry to play after the current one ended with `end`; `None`:
    /// playback is over.
    pub fn advance(&mut self, end: FileEnd) -> Option<usize> {
        if end != FileEnd::Failed && end != FileEnd::Quit {
            self.played_in_round = true;
        }
        match end {
            FileEnd::Quit => None,
            FileEnd::Eof => {
                let again = match self.loop_file {
                    Loop::Inf => true,
                    Loop::No => false,
                    Loop::Times(n) => self.file_loops < n,
                };
                if again {
                    self.file_loops += 1;
                    Some(self.index)
                } else {
                    self.step(1)
                }
            }
            FileEnd::Next | FileEnd::Failed => self.step(1),
            FileEnd::Prev => self.step(-1),
        }
    }

    fn step(&mut self, d: i64) -> Option<usize> {
        self.file_loops = 0;
        if d < 0 {
            if self.index > 0 {
                self.index -= 1;
            } else if self.playlist_loops() {
                self.index = self.len - 1;
            }
            return Some(self.index);
        }
        if self.index + 1 < self.len {
            self.index += 1;
            return Some(self.index);
        }
        // the end of a round
        if !self.playlist_loops() || !self.played_in_round {
            return None;
        }
        self.rounds += 1;
        self.played_in_round = false;
        self.index = 0;
        Some(0)
    }
}

/// Largest `--playlist` file read (bytes): a list of paths is far smaller;
/// a bigger file is refused rather than read into memory.
pub const MAX_PLAYLIST_BYTES: u64 = 4 << 20;

/// Reads a `--playlist=FILE` list (mpv's plain-text playlist, the form
/// mpv's `demux/demux_playlist.c` reads for a text file of paths): one path
/// per line, blank lines and lines starting with `#` skipped (so an M3U's
/// `#EXTM3U` / `#EXTINF` lines are comments too), surrounding whitespace and
/// a CRLF line end trimmed, a relative path taken relative to the list's
/// directory. Errors (one line naming the file): it cannot be read, is larger
/// than [`MAX_PLAYLIST_BYTES`], is not UTF-8, or lists no path.
pub fn read_playlist(path: &std::path::Path) -> Result<Vec<std::path::PathBuf>, String> {
    use std::io::Read;
    let name = path.display();
    let f = std::fs::File::open(path).map_err(|e| format!("--playlist={name}: {e}"))?;
    let mut bytes = Vec::new();
    f.take(MAX_PLAYLIST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("--playlist={name}: {e}"))?;
    if bytes.len() as u64 > MAX_PLAYLIST_BYTES {
        return Err(format!(
            "--playlist={name}: larger than {MAX_PLAYLIST_BYTES} bytes; not a playlist of paths"
        ));
    }
    let text =
        String::from_utf8(bytes).map_err(|e| format!("--playlist={name}: not UTF-8 text ({e})"))?;
    let base = path.parent().unwrap_or(std::path::Path::new(""));
    let files: Vec<std::path::PathBuf> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| base.join(l))
        .collect();
    if files.is_empty() {
        return Err(format!("--playlist={name}: no entries (one path per line)"));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &mut Playlist, ends: impl Fn(usize) -> FileEnd) -> Vec<usize> {
        let mut order = vec![p.index()];
        while let Some(i) = p.advance(ends(p.index())) {
            order.push(i);
            assert!(order.len() < 100, "{order:?}");
        }
        order
    }

    #[test]
    fn loops_count_as_mpv() {
        let mut p = Playlist::new(3, Loop::No, Loop::No);
        assert_eq!(run(&mut p, |_| FileEnd::Eof), [0, 1, 2]);
        let mut p = Playlist::new(3, Loop::No, Loop::Times(1));
        assert_eq!(run(&mut p, |_| FileEnd::Eof), [0, 1, 2]);
        let mut p = Playlist::new(3, Loop::No, Loop::Times(3));
        assert_eq!(run(&mut p, |_| FileEnd::Eof), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
        // loop-file=1 plays each file twice
        let mut p = Playlist::new(2, Loop::Times(1), Loop::No);
        assert_eq!(run(&mut p, |_| FileEnd::Eof), [0, 0, 1, 1]);
        let mut p = Playlist::new(2, Loop::Inf, Loop::No);
        let mut n = 0;
        while p.advance(FileEnd::Eof) == Some(0) && n < 50 {
            n += 1;
        }
        assert_eq!(n, 50);
    }

    #[test]
    fn failures_are_skipped_and_an_all_failed_round_ends() {
        let mut p = Playlist::new(3, Loop::No, Loop::Times(2));
        let order = run(&mut p, |i| {
            if i == 1 {
                FileEnd::Failed
            } else {
                FileEnd::Eof
            }
        });
        assert_eq!(order, [0, 1, 2, 0, 1, 2]);
        let mut p = Playlist::new(2, Loop::Inf, Loop::Inf);
        assert_eq!(run(&mut p, |_| FileEnd::Failed), [0, 1]);
    }

    #[test]
    fn next_prev_and_quit() {
        let mut p = Playlist::new(3, Loop::Inf, Loop::No);
        assert!(!p.has_prev() && p.has_next());
        assert_eq!(p.advance(FileEnd::Next), Some(1));
        assert_eq!(p.advance(FileEnd::Prev), Some(0));
        assert_eq!(p.advance(FileEnd::Next), Some(1));
        assert_eq!(p.advance(FileEnd::Next), Some(2));
        assert!(!p.has_next());
        assert_eq!(p.advance(FileEnd::Quit), None);
        let p = Playlist::new(1, Loop::No, Loop::No);
        assert!(p.at_last());
        let p = Playlist::new(1, Loop::Times(1), Loop::No);
        assert!(!p.at_last());
    }

    #[test]
    fn playlist_file_paths_relative_to_the_list_comments_skipped() {
        let d = std::env::temp_dir().join(format!("vreq-playlist-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("list.m3u");
        std::fs::write(
            &p,
            "#EXTM3U\r\n#EXTINF:10,a\r\na.mkv\r\n\n  sub/b.mp4  \n/abs/c.webm\n# end\n",
        )
        .unwrap();
        assert_eq!(
            read_playlist(&p).unwrap(),
            vec![d.join("a.mkv"), d.join("sub/b.mp4"), "/abs/c.webm".into()]
        );
        std::fs::write(&p, "# only comments\n\n").unwrap();
        let e = read_playlist(&p).unwrap_err();
        assert!(e.contains("no entries") && e.contains("list.m3u"), "{e}");
        std::fs::write(&p, b"a\xff.mkv\n").unwrap();
        assert!(read_playlist(&p).unwrap_err().contains("UTF-8"));
        let big = std::fs::File::create(&p).unwrap();
        big.set_len(MAX_PLAYLIST_BYTES + 1).unwrap();
        assert!(read_playlist(&p).unwrap_err().contains("larger than"));
        std::fs::remove_file(&p).unwrap();
        let e = read_playlist(&p).unwrap_err();
        assert!(
            e.starts_with("--playlist=") && e.contains("list.m3u"),
            "{e}"
        );
        std::fs::remove_dir(&d).unwrap();
    }
}
