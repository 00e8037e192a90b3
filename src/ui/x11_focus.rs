//! Click-to-focus on a bare X server. Without a window manager (Xvfb, a kiosk, a remote X
//! session) nobody gives the window the keyboard focus: X leaves it at `PointerRoot`, and winit
//! ignores key events until its window receives `FocusIn`, so the arrow keys do nothing while
//! clicks work. When a click arrives while the window is not focused, the app sets the input
//! focus on itself, as a window manager's click-to-focus would. Elsewhere (Wayland, a window
//! manager that focused it already) this is never reached or does nothing.

/// Give the X input focus to the window of `frame`. Not X11: nothing to do.
#[cfg(target_os = "linux")]
pub fn take_focus(frame: &eframe::Frame) -> Result<(), String> {
    use raw_window_handle::{HasWindowHandle, RawWindowHandle};
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, InputFocus};

    let handle = frame.window_handle().map_err(|e| e.to_string())?;
    let window = match handle.as_raw() {
        RawWindowHandle::Xlib(h) => h.window as u32,
        RawWindowHandle::Xcb(h) => h.window.get(),
        _ => return Ok(()),
    };
    let (conn, _) = x11rb::connect(None).map_err(|e| format!("cannot connect to the X server: {e}"))?;
    conn.set_input_focus(InputFocus::PARENT, window, x11rb::CURRENT_TIME)
        .map_err(|e| e.to_string())?
        .check()
        .map_err(|e| format!("XSetInputFocus: {e:?}"))?;
    conn.flush().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub fn take_focus(_frame: &eframe::Frame) -> Result<(), String> {
    Ok(())
}
