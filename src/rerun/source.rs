//! Source lines from the guest's DWARF: the innermost frame of a backtrace that is the
//! workflow's own code, skipping the standard library, dependencies and the glue `wit-bindgen`
//! generates (import wrappers, `_export_*_cabi` shims, `ns:pkg/iface#fn` trampolines).

use std::sync::Arc;

use serde::Serialize;
use wasmtime::WasmBacktrace;

use super::symbols::{Symbol, Symbolizer};

/// A place in the workflow's source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceLine {
    /// The path DWARF records (the build machine's), e.g. `/build/workflow/src/lib.rs`.
    pub file: String,
    pub line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The function, as the name section spells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub func: Option<String>,
}

/// A Rust symbol (legacy `_ZN…` or v0 `_R…`) as source spells it, without the hash; other
/// names as they are.
pub fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// One frame of a trap's backtrace, innermost first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrapFrame {
    pub func: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// True for the workflow's own code (not std, dependencies or bindings glue).
    pub user_code: bool,
}

/// Tells the workflow's code from glue, knowing the component's imports, and finds the source
/// lines of frames in the component's DWARF.
#[derive(Clone)]
pub struct GlueFilter {
    /// `::ns::pkg::iface::` module paths `wit-bindgen` generates for each imported interface.
    import_modules: Vec<String>,
    symbols: Option<Arc<Symbolizer>>,
}

impl GlueFilter {
    /// From the component's import names (`demo:activity/ops`, `obelisk:log/log@1.0.0`).
    pub fn new<'a>(imports: impl IntoIterator<Item = &'a str>, symbols: Option<Arc<Symbolizer>>) -> GlueFilter {
        let import_modules = imports
            .into_iter()
            .filter_map(|name| {
                let name = name.split('@').next()?;
                let (ns, rest) = name.split_once(':')?;
                let (pkg, iface) = rest.split_once('/')?;
                let m = |s: &str| s.replace('-', "_");
                Some(format!("::{}::{}::{}::", m(ns), m(pkg), m(iface)))
            })
            .collect();
        GlueFilter { import_modules, symbols }
    }

    /// The symbols of one frame, innermost inlined function first.
    fn symbols(&self, frame: &wasmtime::FrameInfo) -> Arc<[Symbol]> {
        match (&self.symbols, frame.module().name(), frame.module_offset()) {
            (Some(s), Some(module), Some(offset)) => s.lookup(module, offset as u64),
            _ => Arc::new([]),
        }
    }

    fn is_library_file(file: &str) -> bool {
        file.starts_with("/rustc/")
            || file.starts_with("wasisdk:")
            || file.contains("/wasi-libc/")
            || file.contains("/.cargo/registry/")
            || file.contains("/cargo/registry/")
            || file.contains("/.cargo/git/")
            || file.contains("/rustlib/")
    }

    fn is_glue_function(&self, func: &str) -> bool {
        func.contains("_cabi")
            || func.contains('#')
            || func.contains("wit_bindgen")
            // Trait impls (`<Component as …::Guest>::f`) are the user's; free functions in the
            // generated import modules are wrappers.
            || (!func.starts_with('<') && self.import_modules.iter().any(|m| func.contains(m.as_str())))
    }

    /// True for a symbol in the workflow's own code.
    pub fn is_user(&self, file: Option<&str>, func: Option<&str>) -> bool {
        file.is_some_and(|f| !Self::is_library_file(f)) && !func.is_some_and(|f| self.is_glue_function(f))
    }

    /// The innermost user-code line of `backtrace`.
    pub fn innermost(&self, backtrace: &WasmBacktrace) -> Option<SourceLine> {
        backtrace.frames().iter().find_map(|frame| {
            self.symbols(frame).iter().find_map(|symbol| {
                let (file, line) = (symbol.file.as_deref()?, symbol.line?);
                let func = symbol.name.as_deref().or(frame.func_name()).map(demangle);
                self.is_user(Some(file), func.as_deref()).then(|| SourceLine {
                    file: file.to_owned(),
                    line,
                    column: symbol.column,
                    func,
                })
            })
        })
    }

    /// Every frame of `backtrace` (inlined symbols as their own frames), innermost first.
    pub fn frames(&self, backtrace: &WasmBacktrace) -> Vec<TrapFrame> {
        let mut out = Vec::new();
        for frame in backtrace.frames() {
            let frame_func = frame.func_name().unwrap_or("<unknown>");
            let symbols = self.symbols(frame);
            if symbols.is_empty() {
                out.push(TrapFrame { func: demangle(frame_func), file: None, line: None, user_code: false });
            }
            for symbol in symbols.iter() {
                let func = demangle(symbol.name.as_deref().unwrap_or(frame_func));
                let user_code = self.is_user(symbol.file.as_deref(), Some(&func));
                out.push(TrapFrame { func, file: symbol.file.clone(), line: symbol.line, user_code });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_user_code_from_glue_by_the_names_in_the_demo_trap() {
        let filter = GlueFilter::new(["demo:activity/ops", "obelisk:workflow/workflow-support@6.0.0"], None);
        let lib = Some("/tmp/fxwork/demo41/workflow/src/lib.rs");
        assert!(filter.is_user(
            lib,
            Some("<demo_workflow::Component as demo_workflow::exports::demo::workflow::wf::Guest>::panicky::h1f747fdf90861285")
        ));
        assert!(
            !filter.is_user(
                lib,
                Some("demo_workflow::exports::demo::workflow::wf::_export_panicky_cabi::h109b9e8f64c61b78")
            )
        );
        assert!(!filter.is_user(lib, Some("demo:workflow/wf#panicky")));
        assert!(!filter.is_user(lib, Some("demo_workflow::demo::activity::ops::add::h0123")));
        assert!(!filter.is_user(lib, Some("demo_workflow::obelisk::workflow::workflow_support::join_next::h0")));
        assert!(!filter.is_user(
            Some("/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/panicking.rs"),
            Some("core::panicking::panic_fmt")
        ));
        assert!(filter.is_user(lib, Some("demo_workflow::parse_u32::h42")));
        let wasi_libc = "wasisdk://v30.0/build/sysroot/wasi-libc-wasm32-wasip2-build-prefix/src/wasi-libc-wasm32-wasip2-build-build/wasisdk://v30.0/src/wasi-libc/libc-bottom-half/sources/abort.c";
        assert!(!filter.is_user(Some(wasi_libc), Some("abort")));
        assert_eq!(
            demangle(
                "_ZN94_$LT$demo_workflow..Component$u20$as$u20$demo_workflow..exports..demo..workflow..wf..Guest$GT$7panicky17h1f747fdf90861285E"
            ),
            "<demo_workflow::Component as demo_workflow::exports::demo::workflow::wf::Guest>::panicky"
        );
        assert_eq!(demangle("_RNvNtCs9pv848UzQwQ_4core9panicking9panic_fmt"), "core::panicking::panic_fmt");
    }
}
