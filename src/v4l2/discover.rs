//! Placeholder: being written (issue 2).

use super::DeviceInfo;

/// Every stateless decoder on this machine, found by walking `/dev/media*`.
pub fn discover() -> Result<Vec<DeviceInfo>, String> {
    Ok(Vec::new())
}

/// The `--list-devices` table: device, driver, codecs, max size, decode mode.
pub fn format_table(devs: &[DeviceInfo]) -> String {
    let mut s = format!("{:<14} {:<12} {:<14} {:<6} {:<11} {:<12} {}\n", "media", "video", "driver", "codec", "max size", "decode mode", "start code");
    for d in devs {
        for c in &d.codecs {
            s += &format!(
                "{:<14} {:<12} {:<14} {:<6} {:<11} {:<12} {}\n",
                d.media_path.display(),
                d.video_path.display(),
                d.driver,
                c.codec.name(),
                format!("{}x{}", c.max_width, c.max_height),
                c.decode_mode.map(|m| format!("{m:?}")).unwrap_or_else(|| "-".into()),
                c.start_code.map(|m| format!("{m:?}")).unwrap_or_else(|| "-".into()),
            );
        }
    }
    s
}
